/**
 * Recovery after kill -9: a child process opens the filled store and appends
 * under load; it is killed with SIGKILL; then a new child is started and timed
 * from spawn to its first durable append (Node and tsx start-up included).
 * Repeated `recoveryRuns` times, each kill landing mid-load.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Backend, BenchContext } from '../support/bench.ts';
import { LatencyRecorder } from '../support/latency.ts';
import { round, roundMs } from '../support/measure.ts';
import { formatCount } from './payload.ts';
import type { Sizes } from './sizes.ts';

const CHILD = fileURLToPath(new URL('../support/recoveryChild.ts', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LINE_TIMEOUT_MS = 120_000;
/** How long a child appends before it is killed. */
const LOAD_BEFORE_KILL_MS = 500;

export const recoveryName = (events: number) => `recovery after kill -9 (${formatCount(events)} events)`;

interface Child {
  process: ChildProcess;
  /** Resolves with the first stdout line starting with `prefix` (its words after the prefix). */
  line(prefix: string): Promise<string[]>;
  kill(): Promise<void>;
}

function startChild(url: string): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const seen: string[][] = [];
  const waiters: Array<{ prefix: string; resolve(words: string[]): void }> = [];
  let stderr = '';
  let buffered = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const words = line.split(' ');
      seen.push(words);
      for (const waiter of waiters.filter((w) => w.prefix === words[0])) waiter.resolve(words.slice(1));
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    line: (prefix) => new Promise<string[]>((resolve, reject) => {
      const found = seen.find((words) => words[0] === prefix);
      if (found) { resolve(found.slice(1)); return; }
      const timer = setTimeout(() => reject(new Error(`recovery child: no "${prefix}" line within ${LINE_TIMEOUT_MS} ms\n${stderr}`)), LINE_TIMEOUT_MS);
      waiters.push({ prefix, resolve: (words) => { clearTimeout(timer); resolve(words); } });
      void exited.then(() => { clearTimeout(timer); reject(new Error(`recovery child exited before "${prefix}": ${stderr.slice(-2000)}`)); });
    }),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function recoveryWorkload(ctx: BenchContext, backend: Backend, sizes: Sizes, url: string): Promise<void> {
  const recovery = new LatencyRecorder();
  const bootMs: number[] = [];
  const openMs: number[] = [];
  const firstMs: number[] = [];
  const rssMb: number[] = [];
  let child = startChild(url);
  try {
    await child.line('first');
    await sleep(LOAD_BEFORE_KILL_MS);
    await child.kill();
    for (let run = 0; run < sizes.recoveryRuns; run++) {
      const started = performance.now();
      child = startChild(url);
      const boot = await child.line('boot');
      const opened = await child.line('opened');
      const first = await child.line('first');
      recovery.record(performance.now() - started);
      bootMs.push(Number(boot[0]));
      openMs.push(Number(opened[0]) - Number(boot[0]));
      firstMs.push(Number(first[0]));
      rssMb.push(Number(first[1]));
      await sleep(LOAD_BEFORE_KILL_MS);
      await child.kill();
    }
  } finally {
    await child.kill();
  }
  const { p50_ms, p99_ms, p999_ms } = recovery.summary();
  ctx.record({
    workload: recoveryName(sizes.logEvents),
    backend,
    events_per_s: null,
    p50_ms: roundMs(p50_ms),
    p99_ms: roundMs(p99_ms),
    p999_ms: roundMs(p999_ms),
    peak_rss_mb: round(Math.max(...rssMb), 1),
    baseline: null,
    ratio: null,
    recovery_ms: roundMs(p50_ms),
    runs: sizes.recoveryRuns,
    // In the child, ms since its process started: Node + tsx up; then Daybook imported and the store open; then the first append durable.
    child_boot_ms: roundMs(median(bootMs)),
    child_open_ms: roundMs(median(openMs)),
    child_first_append_ms: roundMs(median(firstMs)),
    store_events: sizes.logEvents,
    latency_unit: 'spawn of a new process to its first durable append (includes Node + tsx start-up; peak RSS is the child\'s)',
  });
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
