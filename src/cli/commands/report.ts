import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { EXIT, sqlitePathOf } from '../../edge/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import {
  createProgress, isReportName, parseReportTime, REPORT_DESCRIPTIONS, REPORT_FORMATS, REPORT_NAMES, renderReport, runReport, type ProgressStream, type ReportFormat,
} from '../../reports/index.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';
import { databaseUrlOption, storeUrlFrom } from '../storeUrlOption.ts';

type ReportOptions = { databaseUrl?: string; format: ReportFormat; from?: string; to?: string; output?: string; account?: string; mode?: 'test' | 'live' };

/**
 * `daybook report <name>`: runs one report over the log (as of the moment it
 * starts) and prints it, CSV by default, or writes it to `--output` (whole
 * or not at all: written beside it, then renamed). SQLite is opened
 * read-only, so it runs beside a live server. A progress line goes to
 * stderr when stderr is a terminal.
 */
export function registerReport(program: Command, run: CliRun): void {
  program
    .command('report')
    .description(`run a report: ${REPORT_NAMES.join(', ')}`)
    .argument('<name>', 'the report')
    .addOption(new Option('--format <format>', 'csv or json').choices(REPORT_FORMATS).default('csv'))
    .option('--from <time>', 'start of the period, inclusive (ISO-8601: 2024-05-01 or 2024-05-01T00:00:00Z)')
    .option('--to <time>', 'end of the period, exclusive (for trial-balance: the moment of the balances)')
    .option('--output <file>', 'write the report to this file instead of stdout')
    .option('--account <id>', 'the bank account (account-statement)')
    .addOption(new Option('--mode <mode>', 'only test or live data (all by default)').choices(['test', 'live']))
    .addOption(databaseUrlOption())
    .addHelpText('after', `\nReports:\n${REPORT_NAMES.map((name) => `  ${name.padEnd(18)} ${REPORT_DESCRIPTIONS[name]}`).join('\n')}\n`)
    .action(async (name: string, options: ReportOptions) => {
      if (!isReportName(name)) throw new CliError(`unknown report ${JSON.stringify(name)}; reports: ${REPORT_NAMES.join(', ')}`, EXIT.usage);
      const from = options.from === undefined ? undefined : parseReportTime(options.from, 'from');
      const to = options.to === undefined ? undefined : parseReportTime(options.to, 'to');
      if (name === 'account-statement' && options.account === undefined) throw new CliError('account-statement needs --account <id>', EXIT.usage);
      const url = storeUrlFrom(options, run.io);
      const sqlitePath = sqlitePathOf(url);
      if (sqlitePath !== null && !existsSync(sqlitePath)) throw new CliError(`no store at ${sqlitePath} (run daybook migrate, or start the server once)`, EXIT.unavailable);
      const store = await openEventStore(url, { readOnly: true, migrate: false });
      const progress = createProgress(run.io.stderr as ProgressStream, `report ${name}`, () => Date.now());
      let text: string;
      try {
        const report = await runReport({ store }, name, {
          from, to, mode: options.mode, accountId: options.account, onProgress: (position, head) => progress.update(position, head),
        });
        text = renderReport(report, options.format);
      } finally {
        progress.done();
        await store.close();
      }
      if (options.output === undefined) {
        run.io.stdout.write(text);
        return;
      }
      writeWhole(options.output, text);
    });
}

/** Writes the file whole or not at all: a crash or a full disk leaves no half report under its name. */
function writeWhole(path: string, text: string): void {
  const scratch = `${path}.partial-${process.pid}`;
  try {
    writeFileSync(scratch, text, { mode: 0o600 });
    renameSync(scratch, path);
  } catch (error) {
    rmSync(scratch, { force: true });
    throw error;
  }
}
