import type { Backend, BenchRow } from './bench.ts';
import { LatencyRecorder } from './latency.ts';
import { RssSampler } from './rss.ts';

export interface WorkloadSpec {
  workload: string;
  backend: Backend;
  baseline: string | null;
  /** What `count` counts: events (default) or operations (`ops_per_s`). */
  unit?: 'events' | 'ops';
}

export interface MeasuredRun {
  /** Events (or operations) done in the measured phase. */
  count: number;
  extra?: Record<string, unknown>;
}

export interface Measurement {
  latency: LatencyRecorder;
  rss: RssSampler;
}

/**
 * Times `body` (the measured phase only: set up before, clean up after) with
 * a fresh latency recorder and RSS sampler, and turns it into a row.
 */
export async function measure(spec: WorkloadSpec, body: (m: Measurement) => Promise<MeasuredRun>): Promise<BenchRow> {
  const latency = new LatencyRecorder();
  const rss = new RssSampler();
  rss.start();
  const started = performance.now();
  let run: MeasuredRun;
  try {
    run = await body({ latency, rss });
  } catch (error) {
    rss.stop();
    throw error;
  }
  const seconds = (performance.now() - started) / 1000;
  const memory = rss.stop();
  const rate = run.count > 0 ? Math.round(run.count / seconds) : 0;
  const { p50_ms, p99_ms, p999_ms } = latency.summary();
  return {
    workload: spec.workload,
    backend: spec.backend,
    events_per_s: spec.unit === 'ops' ? null : rate,
    ...(spec.unit === 'ops' ? { ops_per_s: rate } : {}),
    p50_ms: roundMs(p50_ms),
    p99_ms: roundMs(p99_ms),
    p999_ms: roundMs(p999_ms),
    peak_rss_mb: round(memory.peakMb, 1),
    baseline: spec.baseline,
    ratio: null,
    count: run.count,
    seconds: round(seconds, 3),
    rss_start_mb: round(memory.startMb, 1),
    ...run.extra,
  };
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function roundMs(ms: number | null): number | null {
  return ms === null ? null : round(ms, 3);
}

/**
 * How much of a workload to run: stops at `units` (events or operations) or
 * after `maxMs`, whichever comes first. Workers call `take(n)` before each call.
 */
export class Budget {
  private taken = 0;
  private readonly deadline: number;

  constructor(readonly units: number, maxMs: number) {
    this.deadline = performance.now() + maxMs;
  }

  take(n: number): boolean {
    if (this.taken + n > this.units || performance.now() > this.deadline) return false;
    this.taken += n;
    return true;
  }
}

/** Runs `worker(0..concurrency-1)` at once; rejects with the first failure once all have settled. */
export async function runConcurrently(concurrency: number, worker: (index: number) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(Array.from({ length: concurrency }, (_, index) => worker(index)));
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * For loops that block the event loop (better-sqlite3 is synchronous): lets
 * timers (the RSS sampler) run about every 50 ms.
 */
export class Breather {
  private next = performance.now() + 50;

  async maybe(): Promise<void> {
    if (performance.now() < this.next) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.next = performance.now() + 50;
  }
}
