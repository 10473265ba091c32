import { existsSync } from 'node:fs';
import { type Command, Option } from 'commander';
import {
  type AuditReport, type BundleReport, exportBundle, loadLocalTrustedKeys, readRevokedFile, type TrustedKeys, trustedKeysFromFiles, verifyBundle, verifyStoreAudit, withRevoked,
} from '../../audit/index.ts';
import { EXIT, loadAuditConfig, loadStoreConfig, sqlitePathOf } from '../../edge/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { verifyArchive } from '../../ops/index.ts';
import { systemClock } from '../../kernel/index.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';
import { databaseUrlOption, storeUrlFrom } from '../storeUrlOption.ts';
import { describeArchiveReport, describeAuditReport, describeBundleReport, toJson } from './verifyReport.ts';

interface VerifyOptions {
  databaseUrl?: string;
  json?: boolean;
  publicKey?: string[];
  revokedKeys?: string;
  export?: string;
  fromPosition?: bigint;
  toPosition?: bigint;
  bundle?: string;
  archive?: string;
}

/**
 * `daybook verify`: recomputes every hash chain and checks every seal (its
 * digest over its range, its signature), and reports the first break of
 * each; events after the last seal are reported as the unsealed tail (not a
 * failure). SQLite is opened read-only (no writer lock), so it runs beside a
 * live server; nothing is migrated. `--export <file>` then writes an audit
 * bundle; `--bundle <file>` verifies one, and `--archive <file>` an archive
 * file (`daybook archive`), with no database. Exit 0 when
 * intact, 65 (EX_DATAERR) when broken.
 */
export function registerVerify(program: Command, run: CliRun): void {
  program
    .command('verify')
    .description('recompute every hash chain and check every seal; report the first break (exit 65 when broken)')
    .addOption(databaseUrlOption())
    .option('--json', 'print the report as JSON')
    .addOption(new Option('--public-key <file>', 'trust this Ed25519 public key (PEM) for seals, instead of the key folder (repeatable: rotated keys)').argParser(collect))
    .option('--revoked-keys <file>', 'key ids not to trust: one a line, optionally with the ISO time from which (seals made since are refused)')
    .option('--export <file>', 'after verifying, write an audit bundle of the log (or of a range) to this new file')
    .addOption(new Option('--from-position <n>', 'first position to export (default 1)').argParser(positionArgument('--from-position')))
    .addOption(new Option('--to-position <n>', 'last position to export (default: the head)').argParser(positionArgument('--to-position')))
    .option('--bundle <file>', 'verify an audit bundle instead of a store (no database needed)')
    .option('--archive <file>', 'verify an archive file (daybook archive) and its signed manifest instead of a store (no database needed)')
    .action(async (options: VerifyOptions) => {
      if (options.archive !== undefined) return verifyArchiveFile(run, options, options.archive);
      if (options.bundle !== undefined) return verifyBundleFile(run, options, options.bundle);
      if ((options.fromPosition !== undefined || options.toPosition !== undefined) && options.export === undefined) {
        throw new CliError('--from-position and --to-position go with --export (see daybook --help)', EXIT.usage);
      }
      return verifyStore(run, options);
    });
}

async function verifyStore(run: CliRun, options: VerifyOptions): Promise<void> {
  const url = storeUrlFrom(options, run.io);
  const sqlitePath = sqlitePathOf(url);
  // Read-only opening never creates a store; say so plainly instead of passing on the driver's message.
  if (sqlitePath !== null && !existsSync(sqlitePath)) throw new CliError(`no store at ${sqlitePath} (run daybook migrate, or start the server once)`, EXIT.unavailable);
  const keys = trustedKeys(run, options);
  const store = await openEventStore(url, { readOnly: true, migrate: false });
  let report: AuditReport;
  let exported = '';
  try {
    report = await verifyStoreAudit(store, keys);
    if (options.export !== undefined) {
      if (existsSync(options.export)) throw new CliError(`${options.export} exists: an audit bundle is never overwritten`, EXIT.usage);
      const summary = await exportBundle(store, options.export, { fromPosition: options.fromPosition, toPosition: options.toPosition, keys, clock: systemClock });
      exported = `exported positions ${summary.fromPosition}..${summary.toPosition} (${summary.eventCount} events, ${summary.sealCount} seals) to ${options.export}\n`;
    }
  } finally {
    await store.close();
  }
  run.io.stdout.write(options.json ? `${toJson(report)}\n` : describeAuditReport(report));
  if (exported !== '') (options.json ? run.io.stderr : run.io.stdout).write(exported);
  if (!report.ok) run.exitCode = EXIT.dataerr;
}

async function verifyBundleFile(run: CliRun, options: VerifyOptions, file: string): Promise<void> {
  if (options.export !== undefined || options.databaseUrl !== undefined || options.fromPosition !== undefined || options.toPosition !== undefined) {
    throw new CliError('--bundle verifies a file alone: it takes no --export, --database-url or positions (see daybook --help)', EXIT.usage);
  }
  if (!existsSync(file)) throw new CliError(`no bundle at ${file}`, EXIT.unavailable);
  const revoked = options.revokedKeys === undefined ? undefined : readRevokedFile(options.revokedKeys);
  const keys = options.publicKey === undefined ? undefined : trustedKeysFromFiles(options.publicKey, options.revokedKeys);
  const report: BundleReport = await verifyBundle(file, { keys, revoked });
  run.io.stdout.write(options.json ? `${toJson(report)}\n` : describeBundleReport(report));
  if (!report.ok) run.exitCode = EXIT.dataerr;
}

async function verifyArchiveFile(run: CliRun, options: VerifyOptions, file: string): Promise<void> {
  if (options.bundle !== undefined || options.export !== undefined || options.databaseUrl !== undefined || options.fromPosition !== undefined || options.toPosition !== undefined) {
    throw new CliError('--archive verifies a file alone: it takes no --bundle, --export, --database-url or positions (see daybook --help)', EXIT.usage);
  }
  if (!existsSync(file)) throw new CliError(`no archive at ${file}`, EXIT.unavailable);
  const keys = options.publicKey === undefined ? undefined : trustedKeysFromFiles(options.publicKey, options.revokedKeys);
  const report = await verifyArchive(file, { keys });
  run.io.stdout.write(options.json ? `${toJson(report)}\n` : describeArchiveReport(report));
  if (!report.ok) run.exitCode = EXIT.dataerr;
}

/** `--public-key` files when given, else the key folder (read only: verify never makes keys); `--revoked-keys` on top. */
function trustedKeys(run: CliRun, options: VerifyOptions): TrustedKeys {
  if (options.publicKey !== undefined) return trustedKeysFromFiles(options.publicKey, options.revokedKeys);
  const { keysDir } = loadAuditConfig(run.io.env, loadStoreConfig(run.io.env).dataDir);
  const keys = loadLocalTrustedKeys(keysDir);
  return options.revokedKeys === undefined ? keys : withRevoked(keys, readRevokedFile(options.revokedKeys));
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function positionArgument(name: string): (value: string) => bigint {
  return (value) => {
    if (!/^[1-9][0-9]{0,18}$/.test(value)) throw new CliError(`${name} must be a positive integer (got ${JSON.stringify(value)}) (see daybook --help)`, EXIT.usage);
    return BigInt(value);
  };
}
