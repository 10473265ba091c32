import type { Command } from 'commander';
import { ConfigError, EXIT, isStoreUrl, PROJECTION_MAX_LAG_SECONDS_DEFAULT, redactUrlText } from '../../edge/index.ts';
import { systemClock } from '../../kernel/index.ts';
import { collectStatus, describeStatus } from '../../ops/index.ts';
import { ReplicaMonitor } from '../../projections/index.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';
import { toJson, withProjections } from '../projectionContext.ts';
import { databaseUrlOption, storeUrlFrom } from '../storeUrlOption.ts';

interface StatusOptions {
  databaseUrl?: string;
  readDatabaseUrl?: string;
  json?: boolean;
}

/**
 * `daybook status [--json]`: the store's health at a glance, from the
 * database (store head, each projection's checkpoint, lag and worker, dead
 * letters, webhook backlog, last seal, and the read replica's lag when
 * DAYBOOK_READ_DATABASE_URL or `--read-database-url` names one). Runs beside
 * live servers (SQLite opened read-only). Exit 0 when healthy, 69
 * (EX_UNAVAILABLE) when something needs an operator, with the reasons.
 */
export function registerStatus(program: Command, run: CliRun): void {
  program
    .command('status')
    .description('print the health at a glance: head, projections and their lag, dead letters, webhook backlog, last seal, replica lag (exit 69 when unhealthy)')
    .addOption(databaseUrlOption())
    .option('--read-database-url <url>', 'a read replica to measure (default: DAYBOOK_READ_DATABASE_URL)')
    .option('--json', 'print the report as JSON')
    .action(async (options: StatusOptions) => {
      const maxLagSeconds = maxLagFrom(run.io.env.DAYBOOK_PROJECTION_MAX_LAG_SECONDS);
      const readUrl = options.readDatabaseUrl ?? run.io.env.DAYBOOK_READ_DATABASE_URL;
      const url = storeUrlFrom(options, run.io);
      if (readUrl !== undefined && readUrl !== '') {
        if (!isStoreUrl(readUrl) || readUrl.startsWith('sqlite:')) throw new CliError(`the read replica must be a postgres://… url (got ${JSON.stringify(redactUrlText(readUrl))})`, EXIT.usage);
        if (url.startsWith('sqlite:')) throw new CliError('a read replica needs a PostgreSQL store (DAYBOOK_DATABASE_URL or --database-url)', EXIT.usage);
      }
      await withProjections(run, options, async ({ store, readModels }) => {
        const replica = readUrl === undefined || readUrl === '' ? null : new ReplicaMonitor(url, readUrl);
        try {
          await replica?.start();
          const report = await collectStatus({ store, readModels, clock: systemClock, maxLagSeconds, replica });
          run.io.stdout.write(options.json ? `${toJson(report, 2)}\n` : describeStatus(report));
          if (!report.healthy) run.exitCode = EXIT.unavailable;
        } finally {
          await replica?.close();
        }
      }, { readOnly: true });
    });
}

/** Only the variable this command needs: a stray PORT must not break it. */
function maxLagFrom(value: string | undefined): number {
  if (value === undefined || value === '') return PROJECTION_MAX_LAG_SECONDS_DEFAULT;
  if (!/^[1-9][0-9]{0,8}$/.test(value)) throw new ConfigError('DAYBOOK_PROJECTION_MAX_LAG_SECONDS', `DAYBOOK_PROJECTION_MAX_LAG_SECONDS must be a positive integer (got ${JSON.stringify(value)})`);
  return Number(value);
}
