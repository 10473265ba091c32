import { resolve } from 'node:path';
import type { Command } from 'commander';
import { describeStoreUrl, EXIT, loadAuditConfig, loadStoreConfig, sqlitePathOf } from '../../edge/index.ts';
import { cutPostgresStore, type RestorePoint, type RestoreReport, restoreErasures, restoreSqliteBackup } from '../../ops/index.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';
import { builtinProjections, toJson } from '../projectionContext.ts';
import { databaseUrlOption } from '../storeUrlOption.ts';

interface RestoreOptions {
  data?: string;
  toPosition?: string;
  toTime?: string;
  segments?: string;
  databaseUrl?: string;
  yes?: boolean;
  json?: boolean;
  keys?: string;
}

/**
 * `daybook restore <file> --data <new folder> [--to-position N | --to-time ISO] [--segments <folder>]`:
 * restores an embedded-store backup (plus shipped log segments) into a new
 * folder, cut at a point, verified, projections rebuilt (src/ops/restore.ts).
 * `daybook restore --database-url postgres://… --to-position N --yes`: cuts a
 * PostgreSQL database the operator already restored, in place.
 */
export function registerRestore(program: Command, run: CliRun): void {
  program
    .command('restore')
    .description('restore a backup into a new data folder, up to a position or a time; or cut a restored PostgreSQL store in place')
    .argument('[file]', 'the backup file (embedded store)')
    .option('--data <folder>', 'the new data folder (must not exist, or be empty)')
    .option('--to-position <n>', 'keep events up to this global position')
    .option('--to-time <iso>', 'keep events recorded at or before this time (ISO 8601)')
    .option('--segments <folder>', 'shipped log segments (daybook backup --continuous) to replay after the backup')
    .option('--yes', 'PostgreSQL: confirm cutting the log of the database in place')
    .option('--keys <folder>', 'the key folder whose erasure journal is applied to what is restored (default DAYBOOK_AUDIT_KEYS_DIR, or <DAYBOOK_DATA_DIR>/keys)')
    .option('--json', 'print the report as JSON')
    .addOption(databaseUrlOption())
    .action(async (file: string | undefined, options: RestoreOptions) => {
      const point = restorePoint(options);
      const postgresUrl = options.databaseUrl !== undefined && sqlitePathOf(options.databaseUrl) === null ? options.databaseUrl : null;
      // Erasures made after the backup (crypto-shredding) stay made: the key folder's journal destroys those keys again
      // (embedded: in the restored folder before it takes its place; PostgreSQL: right after the cut, in place).
      const keysDir = options.keys === undefined ? loadAuditConfig(run.io.env, loadStoreConfig(run.io.env).dataDir).keysDir : resolve(options.keys);
      const cut = postgresUrl !== null ? await cutPostgres(postgresUrl, file, point, options) : undefined;
      const report = cut === undefined ? await restoreSqlite(file, point, options, keysDir) : { ...cut, erasures: await restoreErasures(postgresUrl!, keysDir) };
      const erasures = report.erasures ?? { reapplied: [], recorded: 0 };
      const full = { ...report, erasuresReapplied: erasures.reapplied, erasuresRecorded: erasures.recorded };
      run.io.stdout.write(options.json ? `${toJson(full)}\n` : `${describeRestore(report, postgresUrl === null)}  erasures applied again: ${erasures.reapplied.length} key(s) destroyed, ${erasures.recorded} erasure event(s) recorded (journal ${keysDir})\n`);
    });
}

function restorePoint(options: RestoreOptions): RestorePoint {
  if (options.toPosition !== undefined && options.toTime !== undefined) throw new CliError('give --to-position or --to-time, not both', EXIT.usage);
  if (options.toPosition !== undefined) {
    if (!/^\d{1,19}$/.test(options.toPosition)) throw new CliError(`--to-position must be a global position, a non-negative integer (got ${JSON.stringify(options.toPosition)})`, EXIT.usage);
    return { toPosition: BigInt(options.toPosition) };
  }
  if (options.toTime !== undefined) {
    const timeMs = /^\d{4}-\d{2}-\d{2}/.test(options.toTime) ? Date.parse(options.toTime) : Number.NaN;
    if (Number.isNaN(timeMs)) throw new CliError(`--to-time must be an ISO 8601 time such as 2024-06-01T12:00:00Z (got ${JSON.stringify(options.toTime)})`, EXIT.usage);
    return { toTimeMs: timeMs };
  }
  return {};
}

async function restoreSqlite(file: string | undefined, point: RestorePoint, options: RestoreOptions, keysDir: string): Promise<RestoreReport> {
  if (file === undefined) throw new CliError('which backup file? daybook restore <file> --data <new folder>', EXIT.usage);
  if (options.data === undefined) throw new CliError('--data <folder> is required: the new data folder to restore into', EXIT.usage);
  if (options.yes) throw new CliError('--yes is for cutting a PostgreSQL store in place; an embedded restore writes only into a new folder', EXIT.usage);
  return restoreSqliteBackup({
    backupFile: resolve(file), dataDir: resolve(options.data), segmentsDir: options.segments === undefined ? undefined : resolve(options.segments),
    projections: builtinProjections, erasureJournalDir: keysDir, ...point,
  });
}

async function cutPostgres(url: string, file: string | undefined, point: RestorePoint, options: RestoreOptions): Promise<RestoreReport> {
  if (file !== undefined || options.data !== undefined || options.segments !== undefined) {
    throw new CliError('a PostgreSQL store is restored with PostgreSQL\'s tools (docs/operations.md); daybook restore --database-url only cuts it in place: no <file>, --data or --segments', EXIT.usage);
  }
  if (point.toPosition === undefined && point.toTimeMs === undefined) throw new CliError('cutting a PostgreSQL store in place needs --to-position or --to-time', EXIT.usage);
  if (!options.yes) {
    throw new CliError(`this deletes every event after the restore point from ${describeStoreUrl(url)}, in place: stop every server on it, then run again with --yes`, EXIT.usage);
  }
  return cutPostgresStore({ url, description: describeStoreUrl(url), projections: builtinProjections, ...point });
}

function describeRestore(report: RestoreReport, embedded: boolean): string {
  const lines = [
    `restored into ${report.target}`,
    `  events kept: ${report.eventsKept}, cut: ${report.eventsCut} (available head ${report.availableHead}${report.shippedApplied > 0 ? `, ${report.shippedApplied} from shipped segments` : ''})`,
    `  head: position ${report.headPosition}, hash ${report.headHash || '-'}`,
    `  also cut: ${report.cut.snapshotsDropped} snapshot(s), ${report.cut.checkpointsMovedBack} projection checkpoint(s) moved back, ${report.cut.deadLettersDropped} dead letter(s)`,
    `  verified; projections rebuilt: ${report.projectionsRebuilt.join(', ') || '-'}`,
  ];
  if (report.projectionsUnknown.length > 0) lines.push(`  not rebuilt (unknown to this build; checkpoints moved back): ${report.projectionsUnknown.join(', ')}`);
  lines.push(`  took ${report.seconds.toFixed(2)} s`);
  if (embedded) lines.push('  note: API key hashes need the old pepper: copy api-key-pepper from the old data folder (or set DAYBOOK_API_KEY_PEPPER)');
  return `${lines.join('\n')}\n`;
}
