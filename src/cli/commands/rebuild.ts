import type { Command } from 'commander';
import type { RebuildProgress } from '../../projections/index.ts';
import type { CliRun } from '../cliIo.ts';
import { projectionRegistry, toJson, withProjections } from '../projectionContext.ts';
import { databaseUrlOption } from '../storeUrlOption.ts';

/**
 * `daybook rebuild <projection>`: blue-green rebuild. The next generation is
 * built into new tables while the current one keeps serving, then switched to
 * atomically and the old tables dropped. On a TTY a progress bar with events/s
 * and ETA is redrawn in place; otherwise a plain log line every few seconds.
 * A rebuild already running gives `projection_rebuild_in_progress` (exit 75).
 */
export function registerRebuild(program: Command, run: CliRun): void {
  program
    .command('rebuild')
    .description('rebuild a projection into new tables, then switch to them atomically')
    .argument('<projection>', 'the projection\'s name')
    .option('--json', 'print the result as JSON (progress still goes to stderr)')
    .addOption(databaseUrlOption())
    .action(async (name: string, options: { json?: boolean; databaseUrl?: string }) => {
      projectionRegistry().get(name);
      const progress = progressReporter(run);
      await withProjections(run, options, async ({ engine }) => {
        const result = await engine.rebuild(name, { onProgress: progress.report });
        progress.done();
        run.io.stdout.write(options.json
          ? `${toJson(result)}\n`
          : `rebuilt ${result.projection}: v${result.previousVersion ?? '-'} → v${result.version} at position ${result.position}, ${result.eventsProcessed} events in ${(result.durationMs / 1000).toFixed(1)} s\n`);
      });
    });
}

const BAR_WIDTH = 30;
const LOG_EVERY_MS = 2000;

/** Progress on stderr: a bar redrawn in place on a TTY, else a log line at most every two seconds (and at each phase change). */
function progressReporter(run: CliRun): { report: (progress: RebuildProgress) => void; done: () => void } {
  const stderr = run.io.stderr as { write(text: string): unknown; isTTY?: boolean };
  const tty = stderr.isTTY === true;
  let lastLogMs = 0;
  let lastPhase = '';
  let drawn = false;
  return {
    report(progress) {
      const rate = `${Math.round(progress.eventsPerSecond).toLocaleString('en-US')} ev/s`;
      const eta = progress.etaSeconds === null ? 'ETA --' : `ETA ${formatSeconds(progress.etaSeconds)}`;
      if (tty) {
        const fraction = progress.head === 0n ? 1 : Math.min(1, Number(progress.position) / Number(progress.head));
        const filled = Math.round(fraction * BAR_WIDTH);
        stderr.write(`\r${progress.projection} v${progress.version} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${(fraction * 100).toFixed(1)}% ${progress.position}/${progress.head} ${rate} ${eta} ${progress.phase}\u001b[K`);
        drawn = true;
        return;
      }
      const now = Date.now();
      if (progress.phase === lastPhase && now - lastLogMs < LOG_EVERY_MS) return;
      lastPhase = progress.phase;
      lastLogMs = now;
      stderr.write(`rebuild ${progress.projection} v${progress.version} ${progress.phase}: position ${progress.position}/${progress.head}, ${progress.eventsProcessed} events, ${rate}, ${eta}\n`);
    },
    done() {
      if (drawn) stderr.write('\n');
    },
  };
}

function formatSeconds(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  return total >= 60 ? `${Math.floor(total / 60)}m${String(total % 60).padStart(2, '0')}s` : `${total}s`;
}
