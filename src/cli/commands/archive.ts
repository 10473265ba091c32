import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { openLocalKeyProvider } from '../../audit/index.ts';
import { EXIT, loadAuditConfig, loadStoreConfig, sqlitePathOf } from '../../edge/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { systemClock } from '../../kernel/index.ts';
import { archiveStore, type ArchivePeriodUnit, type ArchiveReport } from '../../ops/index.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';
import { toJson } from '../projectionContext.ts';
import { databaseUrlOption, storeUrlFrom } from '../storeUrlOption.ts';

/**
 * `daybook archive --before <date> --out <folder> [--period month|day]`:
 * writes every closed period (UTC, by recorded time) entirely before the
 * date that has no file yet to `daybook-archive-<period>.jsonl.gz` with a
 * signed manifest (keys of DAYBOOK_AUDIT_KEYS_DIR); existing files are
 * checked and skipped, never rewritten. Reads the store read-only (SQLite:
 * beside a live server); deletes nothing from it.
 */
export function registerArchive(program: Command, run: CliRun): void {
  program
    .command('archive')
    .description('write each closed period before a date to a signed gzip file (one per period; existing ones are checked, never rewritten)')
    .requiredOption('--before <date>', 'archive periods that end at or before this ISO date (YYYY-MM-DD is UTC midnight)')
    .requiredOption('--out <folder>', 'the archive folder')
    .addOption(new Option('--period <unit>', 'one file per calendar month or day (UTC)').choices(['month', 'day']).default('month'))
    .option('--json', 'print the report as JSON')
    .addOption(databaseUrlOption())
    .action(async (options: { before: string; out: string; period: ArchivePeriodUnit; json?: boolean; databaseUrl?: string }) => {
      const beforeMs = parseBefore(options.before);
      const url = storeUrlFrom(options, run.io);
      const sqlitePath = sqlitePathOf(url);
      if (sqlitePath !== null && !existsSync(sqlitePath)) throw new CliError(`no store at ${sqlitePath} (run daybook migrate, or start the server once)`, EXIT.unavailable);
      const { keysDir } = loadAuditConfig(run.io.env, loadStoreConfig(run.io.env).dataDir);
      const keys = openLocalKeyProvider({ dir: keysDir });
      const store = await openEventStore(url, { readOnly: true, migrate: false });
      let report: ArchiveReport;
      try {
        report = await archiveStore(store, { beforeMs, outDir: resolve(options.out), period: options.period, keys, clock: systemClock });
      } finally {
        await store.close();
      }
      run.io.stdout.write(options.json ? `${toJson(report)}\n` : describeArchive(report));
    });
}

function parseBefore(text: string): number {
  const ms = Date.parse(text);
  // A time without a zone would be read in the machine's zone: periods are UTC, so the date must say.
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text) || Number.isNaN(ms)) {
    throw new CliError(`--before must be an ISO date (2025-01-01) or a time with its zone (2025-01-01T00:00:00Z), got ${JSON.stringify(text)}`, EXIT.usage);
  }
  return ms;
}

function describeArchive(report: ArchiveReport): string {
  if (report.periods.length === 0) return 'nothing to archive: no closed period before that date\n';
  const lines = report.periods.map((period) => `${period.outcome === 'written' ? 'wrote  ' : 'checked'} ${period.period}: positions ${period.fromPosition}..${period.toPosition} (${period.count} events) ${period.file}`);
  const written = report.periods.filter((period) => period.outcome === 'written').length;
  lines.push(`${written} period(s) written (${report.eventsWritten} events), ${report.periods.length - written} already archived and intact; the store keeps every event`);
  return `${lines.join('\n')}\n`;
}
