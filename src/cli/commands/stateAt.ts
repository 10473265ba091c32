import { type Command, InvalidArgumentError } from 'commander';
import { stateAt, type StatePoint } from '../../projections/index.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';
import { EXIT } from '../../edge/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { requireExistingStore, toJson } from '../projectionContext.ts';
import { databaseUrlOption, storeUrlFrom } from '../storeUrlOption.ts';

export function parsePosition(value: string): bigint {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError('a position is a non-negative integer.');
  return BigInt(value);
}

function parseTime(value: string): Date {
  const time = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(time.getTime())) throw new InvalidArgumentError('use an ISO 8601 time, e.g. 2025-01-31T23:59:59Z.');
  return time;
}

/**
 * `daybook state-at <stream> --position N | --time <ISO>`: the stream as it
 * was at that global position or time, printed as JSON. No decider is
 * registered with the CLI yet, so the state is the stream's raw events up to
 * that point. Opens SQLite read-only: it runs beside a live server.
 */
export function registerStateAt(program: Command, run: CliRun): void {
  program
    .command('state-at')
    .description('print a stream\'s state (its events so far) at a past position or time, as JSON')
    .argument('<stream>', 'the stream id')
    .option('--position <n>', 'as of this global position', parsePosition)
    .option('--time <iso>', 'as of this time (ISO 8601)', parseTime)
    .addOption(databaseUrlOption())
    .action(async (streamId: string, options: { position?: bigint; time?: Date; databaseUrl?: string }) => {
      if ((options.position === undefined) === (options.time === undefined)) throw new CliError('state-at needs exactly one of --position <n> and --time <iso> (see daybook state-at --help)', EXIT.usage);
      if (streamId.trim() === '') throw new CliError('state-at needs a stream id', EXIT.usage);
      const at: StatePoint = options.position !== undefined ? { position: options.position } : { time: options.time! };
      const url = storeUrlFrom(options, run.io);
      requireExistingStore(url);
      const store = await openEventStore(url, { readOnly: true, migrate: false });
      try {
        const result = await stateAt(store, streamId, at);
        run.io.stdout.write(`${toJson(result, 2)}\n`);
      } finally {
        await store.close();
      }
    });
}
