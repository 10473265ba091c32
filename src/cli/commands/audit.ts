import { type Command, InvalidArgumentError, Option } from 'commander';
import { type AccessRecord, queryAccessAudit } from '../../compliance/accessAudit/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { PAGE_SIZE_MAX } from '../../kernel/index.ts';
import type { CliRun } from '../cliIo.ts';
import { requireExistingStore } from '../projectionContext.ts';
import { databaseUrlOption, storeUrlFrom } from '../storeUrlOption.ts';

interface AccessOptions {
  subject?: string;
  actor?: string;
  from?: number;
  to?: number;
  limit: number;
  json?: boolean;
  databaseUrl?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function timeArgument(name: string) {
  return (value: string): number => {
    const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
    if (!/^\d+$/.test(value) && !/^\d{4}-\d{2}-\d{2}/.test(value)) throw new InvalidArgumentError(`${name}: use an ISO 8601 time (2025-06-01T00:00:00Z) or Unix seconds.`);
    if (!Number.isSafeInteger(ms)) throw new InvalidArgumentError(`${name}: use an ISO 8601 time (2025-06-01T00:00:00Z) or Unix seconds.`);
    return ms;
  };
}

function limitArgument(value: string): number {
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > 100_000) throw new InvalidArgumentError('a count from 1 to 100000.');
  return limit;
}

/**
 * `daybook audit access [--subject <id>] [--actor <key>] [--from <time>] [--to <time>] [--json]`:
 * the access audit (who read whose personal data, when, why), oldest first,
 * of both modes; the last 30 days unless told. Prints ids and purposes,
 * never personal data. Opens SQLite read-only: it runs beside a live server.
 */
export function registerAudit(program: Command, run: CliRun): void {
  const audit = program.command('audit').description('query the audit trails');
  audit.command('access')
    .description('who read which personal data, when and why (the access audit), oldest first')
    .option('--subject <id>', 'only reads of this data subject (customer or connected account id)')
    .option('--actor <key>', 'only reads by this API key id')
    .addOption(new Option('--from <time>', 'from this time (ISO 8601 or Unix seconds; default 30 days before --to)').argParser(timeArgument('--from')))
    .addOption(new Option('--to <time>', 'up to this time (default now)').argParser(timeArgument('--to')))
    .addOption(new Option('--limit <n>', 'print at most this many records').argParser(limitArgument).default(1000))
    .option('--json', 'print one JSON object a line')
    .addOption(databaseUrlOption())
    .action(async (options: AccessOptions) => {
      const url = storeUrlFrom(options, run.io);
      requireExistingStore(url);
      const toMs = options.to ?? Date.now();
      const fromMs = options.from ?? toMs - 30 * DAY_MS;
      const store = await openEventStore(url, { readOnly: true, migrate: false });
      try {
        let cursor: string | undefined;
        let printed = 0;
        do {
          const page = await queryAccessAudit(store, { fromMs, toMs, subject: options.subject, actor: options.actor, limit: Math.min(PAGE_SIZE_MAX, options.limit - printed), cursor });
          for (const record of page.items) run.io.stdout.write(`${options.json ? JSON.stringify(record) : describe(record)}\n`);
          printed += page.items.length;
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined && printed < options.limit);
        if (printed === 0 && !options.json) run.io.stderr.write('no reads of personal data recorded in that period\n');
      } finally {
        await store.close();
      }
    });
}

function describe(record: AccessRecord): string {
  const mode = record.actor.mode ?? '-';
  return [record.at, `${record.actor.keyId}(${record.actor.role},${mode})`, record.channel, `${record.method} ${record.route}`, record.subjects.join(','), JSON.stringify(record.purpose)].join('  ');
}
