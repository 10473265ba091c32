import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { EXIT, sqlitePathOf } from '../../edge/index.ts';
import type { ChainBreak, VerifyReport } from '../../eventstore/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';
import { databaseUrlOption, storeUrlFrom } from '../storeUrlOption.ts';

/**
 * `daybook verify`: recomputes every hash chain and reports the first break.
 * SQLite is opened read-only (no writer lock), so it runs beside a live server;
 * nothing is migrated. Exit 0 when intact, 65 (EX_DATAERR) when broken.
 */
export function registerVerify(program: Command, run: CliRun): void {
  program
    .command('verify')
    .description('recompute every hash chain and report the first break (exit 65 when broken)')
    .addOption(databaseUrlOption())
    .option('--json', 'print the report as JSON')
    .action(async (options: { databaseUrl?: string; json?: boolean }) => {
      const url = storeUrlFrom(options, run.io);
      const sqlitePath = sqlitePathOf(url);
      // Read-only opening never creates a store; say so plainly instead of passing on the driver's message.
      if (sqlitePath !== null && !existsSync(sqlitePath)) throw new CliError(`no store at ${sqlitePath} (run daybook migrate, or start the server once)`, EXIT.unavailable);
      const store = await openEventStore(url, { readOnly: true, migrate: false });
      let report: VerifyReport;
      try {
        report = await store.verify();
      } finally {
        await store.close();
      }
      run.io.stdout.write(options.json ? `${JSON.stringify(report, (_, value) => (typeof value === 'bigint' ? value.toString() : value))}\n` : describeReport(report));
      if (!report.ok) run.exitCode = EXIT.dataerr;
    });
}

function describeReport(report: VerifyReport): string {
  if (report.firstBreak === null) return `ok: ${report.eventsChecked} events in ${report.streamsChecked} streams\n`;
  return `${describeBreak(report.firstBreak)}\n  expected: ${report.firstBreak.expected}\n  actual:   ${report.firstBreak.actual}\n`;
}

function describeBreak(at: ChainBreak): string {
  // Position gaps and a wrong recorded head belong to the global log, not to one stream.
  if (at.streamId === '') return `broken: global log at position ${at.position}: ${at.reason}`;
  return `broken: stream ${at.streamId} at version ${at.version} (position ${at.position}): ${at.reason}`;
}
