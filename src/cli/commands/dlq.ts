import { type Command, InvalidArgumentError, Option } from 'commander';
import type { DeadLetter, DeadLetterStatus } from '../../projections/index.ts';
import type { CliRun } from '../cliIo.ts';
import { toJson, withProjections } from '../projectionContext.ts';
import { databaseUrlOption } from '../storeUrlOption.ts';

const STATUSES = ['parked', 'blocking', 'retried', 'skipped', 'superseded', 'all'] as const;

/** A dead-letter id: a positive integer, checked while parsing (exit 64). */
function parseId(value: string): string {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError('a dead-letter id is a positive integer (see daybook dlq list).');
  return value;
}

function parseLimit(value: string): number {
  const limit = Number(value);
  if (!/^[0-9]+$/.test(value) || limit < 1 || limit > 1000) throw new InvalidArgumentError('use an integer from 1 to 1000.');
  return limit;
}

/**
 * `daybook dlq list [--projection <name>] [--status <status>] [--json]`,
 * `daybook dlq retry <id>`, `daybook dlq skip <id>`: the projections' poison
 * events. `list` prints one line per unresolved letter (nothing when there are
 * none); `retry` runs the event's handler again now (exit 65 and the letter
 * kept when it throws again); `skip` gives up on the event for good.
 */
export function registerDlq(program: Command, run: CliRun): void {
  const dlq = program.command('dlq').description('list, retry and skip the projections\' dead letters (poison events)');

  dlq.command('list')
    .description('list dead letters, oldest first (default: the unresolved ones)')
    .option('--projection <name>', 'only this projection\'s')
    .addOption(new Option('--status <status>', 'which ones').choices(STATUSES))
    .addOption(new Option('--limit <n>', 'at most this many (1 to 1000)').argParser(parseLimit).default(100))
    .option('--json', 'print the letters as JSON lines')
    .addOption(databaseUrlOption())
    .action(async (options: { projection?: string; status?: DeadLetterStatus | 'all'; limit: number; json?: boolean; databaseUrl?: string }) => {
      await withProjections(run, options, async ({ engine }) => {
        const letters = await engine.listDeadLetters({ projection: options.projection, status: options.status, limit: options.limit });
        for (const letter of letters) run.io.stdout.write(options.json ? `${toJson(letter)}\n` : `${describeLetter(letter)}\n`);
      });
    });

  dlq.command('retry')
    .description('run the dead event\'s handler again now (a stopped projection resumes)')
    .argument('<id>', 'the dead letter\'s id', parseId)
    .addOption(databaseUrlOption())
    .action(async (id: string, options: { databaseUrl?: string }) => {
      await withProjections(run, options, async ({ engine }) => {
        const letter = await engine.retryDeadLetter(id);
        run.io.stdout.write(`retried ${describeLetter(letter)}\n`);
      });
    });

  dlq.command('skip')
    .description('give up on the dead event for good (a stopped projection resumes past it)')
    .argument('<id>', 'the dead letter\'s id', parseId)
    .addOption(databaseUrlOption())
    .action(async (id: string, options: { databaseUrl?: string }) => {
      await withProjections(run, options, async ({ engine }) => {
        const letter = await engine.skipDeadLetter(id);
        run.io.stdout.write(`skipped ${describeLetter(letter)}\n`);
      });
    });
}

function describeLetter(letter: DeadLetter): string {
  return [
    letter.id, letter.status, `${letter.projection}@v${letter.version}`, `position ${letter.position}`, letter.streamId, letter.eventType,
    `${letter.attempts} attempt(s)`, letter.parkedAt.toISOString(), JSON.stringify(letter.error),
  ].join('  ');
}
