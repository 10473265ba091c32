import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { EXIT } from '../../edge/index.ts';
import type { CliRun } from '../cliIo.ts';
import { CliError } from '../failure.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BENCH_ENTRY = 'bench/run.ts';

/**
 * `daybook bench <area> [args…]`: runs `bench/run.ts <area> [args…]` through
 * tsx from the project folder (as `npm run bench -- <area>` does), with the
 * terminal inherited, and exits with its exit code.
 */
export function registerBench(program: Command, run: CliRun): void {
  program
    .command('bench')
    .description('run a benchmark (e.g. eventstore); results go to bench/results/<area>.json')
    .argument('<area>', 'which benchmark, e.g. eventstore')
    .argument('[args...]', 'passed to bench/run.ts unchanged')
    .allowUnknownOption()
    .passThroughOptions()
    .action(async (area: string, args: string[]) => {
      // `daybook bench eventstore -- --flag` and `daybook bench eventstore --flag` mean the same.
      run.exitCode = await runBench(area, args[0] === '--' ? args.slice(1) : args);
    });
}

async function runBench(area: string, args: readonly string[]): Promise<number> {
  if (!existsSync(new URL(BENCH_ENTRY, `file://${PROJECT_ROOT}`))) {
    throw new CliError(`${BENCH_ENTRY} not found in ${PROJECT_ROOT}`, EXIT.unavailable);
  }
  const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
  const child = spawn(process.execPath, [tsxCli, BENCH_ENTRY, area, ...args], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  // Ctrl-C reaches the whole process group; a SIGTERM sent to us alone is passed on.
  const forward = (signal: NodeJS.Signals): void => { child.kill(signal); };
  process.on('SIGTERM', forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
    });
  } finally {
    process.off('SIGTERM', forward);
  }
}
