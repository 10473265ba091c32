import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { CliRun } from '../cliIo.ts';
import { projectionRegistry, toJson, withProjections } from '../projectionContext.ts';
import { databaseUrlOption } from '../storeUrlOption.ts';
import { parsePosition } from './stateAt.ts';

/**
 * `daybook replay --projection <name> --to <position> [--into <file>]`: builds
 * the projection as it was at that position into a new scratch SQLite file
 * (default `./<name>-at-<position>.db`), for investigation; the live read
 * model is not touched. Opens the store read-only on SQLite.
 */
export function registerReplay(program: Command, run: CliRun): void {
  program
    .command('replay')
    .description('build a projection as of a past position into a scratch SQLite file')
    .addOption(new Option('--projection <name>', 'the projection to build').makeOptionMandatory())
    .addOption(new Option('--to <position>', 'the last global position to apply').argParser(parsePosition).makeOptionMandatory())
    .option('--into <file>', 'the scratch file to create (must not exist; default ./<name>-at-<position>.db)')
    .option('--json', 'print the result as JSON')
    .addOption(databaseUrlOption())
    .action(async (options: { projection: string; to: bigint; into?: string; json?: boolean; databaseUrl?: string }) => {
      projectionRegistry().get(options.projection);
      const into = resolve(options.into ?? `${options.projection}-at-${options.to}.db`);
      await withProjections(run, options, async ({ engine }) => {
        const result = await engine.replay(options.projection, { toPosition: options.to, into });
        run.io.stdout.write(options.json ? `${toJson(result)}\n` : `replayed ${result.projection} v${result.version} to position ${result.position} into ${result.path} in ${result.durationMs} ms\n`);
      }, { readOnly: true });
    });
}
