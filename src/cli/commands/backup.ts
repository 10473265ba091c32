import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EXIT, sqlitePathOf } from '../../edge/index.ts';
import { backupSqliteStore, type BackupReport, shipLog } from '../../ops/index.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';
import { toJson } from '../projectionContext.ts';
import { databaseUrlOption, storeUrlFrom } from '../storeUrlOption.ts';

/**
 * `daybook backup <file>`: an online, verified backup of the embedded store
 * while the server keeps writing (see src/ops/backup.ts), with
 * `<file>.manifest.json` beside it. `daybook backup --continuous <folder>`:
 * ships every committed event to segment files in the folder until stopped
 * (SIGINT/SIGTERM), for restores past the last backup. PostgreSQL stores are
 * backed up with PostgreSQL's own tools (docs/operations.md).
 */
export function registerBackup(program: Command, run: CliRun): void {
  program
    .command('backup')
    .description('back up the embedded store online to <file> (verified, with a manifest), or ship the log continuously to a folder')
    .argument('[file]', 'the backup file to write (must not exist)')
    .option('--continuous <folder>', 'ship every committed event (and the subject keys) to segment files in <folder> until stopped')
    .option('--poll-ms <ms>', 'with --continuous: how often to look for new events when no commit was noticed (it wakes on each commit of the store)', '200')
    .option('--json', 'print the report as JSON')
    .addOption(databaseUrlOption())
    .action(async (file: string | undefined, options: { continuous?: string; pollMs: string; json?: boolean; databaseUrl?: string }) => {
      if ((file === undefined) === (options.continuous === undefined)) throw new CliError('give a backup file, or --continuous <folder>, not both', EXIT.usage);
      const storePath = sqliteStoreOf(storeUrlFrom(options, run.io));
      if (options.continuous !== undefined) {
        await shipContinuously(run, storePath, resolve(options.continuous), options.pollMs);
        return;
      }
      const report = await backupSqliteStore({ storePath, file: resolve(file!) });
      run.io.stdout.write(options.json ? `${toJson(report)}\n` : describeBackup(report));
    });
}

function sqliteStoreOf(url: string): string {
  const storePath = sqlitePathOf(url);
  if (storePath === null) {
    throw new CliError('daybook backup copies the embedded (SQLite) store; back up PostgreSQL with pg_basebackup and WAL archiving (see docs/operations.md)', EXIT.usage);
  }
  if (!existsSync(storePath)) throw new CliError(`no store at ${storePath} (run daybook migrate, or start the server once)`, EXIT.unavailable);
  return storePath;
}

function describeBackup(report: BackupReport): string {
  return [
    `backup: ${report.file}`,
    `  bytes: ${report.bytes} (${(report.bytes / 1e6).toFixed(1)} MB)`,
    `  events: ${report.eventCount}, head position ${report.headPosition}, head hash ${report.headHash || '-'}`,
    `  verified: hash chains, SQLite integrity_check`,
    `  took ${report.seconds.toFixed(2)} s, ${report.mbPerSecond.toFixed(1)} MB/s`,
    `  manifest: ${report.manifestFile}`,
    '',
  ].join('\n');
}

async function shipContinuously(run: CliRun, storePath: string, dir: string, pollMsText: string): Promise<void> {
  if (!/^[1-9]\d{0,5}$/.test(pollMsText)) throw new CliError(`--poll-ms must be a positive integer of milliseconds (got ${JSON.stringify(pollMsText)})`, EXIT.usage);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  run.io.stderr.write(`shipping the log of ${storePath} to ${dir} (Ctrl-C to stop)\n`);
  try {
    let announced = 0n;
    const last = await shipLog({
      storePath, dir, signal: controller.signal, pollMs: Number(pollMsText),
      onShipped: (position) => {
        // A line per 10 000 events at most: enough to see it move, not a flood.
        if (position - announced >= 10_000n) {
          announced = position;
          run.io.stderr.write(`shipped through position ${position}\n`);
        }
      },
    });
    run.io.stdout.write(`stopped: shipped through position ${last} to ${dir}\n`);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
