/**
 * How much each workload runs: each stops at its count or its time cap,
 * whichever comes first. Full sizes keep `npm run bench -- eventstore` under
 * about 10 minutes on a 2-core machine; --quick only checks that all works.
 */
import { Budget } from '../support/measure.ts';

export interface Sizes {
  /** Daybook append workloads (events, ms). */
  appendEvents: number;
  appendMs: number;
  /** Raw 1-row transactions (events, ms). */
  rawSingleEvents: number;
  rawSingleMs: number;
  /** Raw 64- and 1000-row transactions (events, ms). */
  rawBatchEvents: number;
  rawBatchMs: number;
  /** Unmeasured warm-up before each write workload, as a fraction of its count (at most WARMUP_MAX events). */
  warmupFraction: number;
  /** The Zipf mix (events, ms). */
  mixEvents: number;
  mixMs: number;
  /** Reads of the 1000-event stream (reads, ms). */
  streamReads: number;
  streamReadMs: number;
  /** Events in the log for the whole-log read and the recovery test. */
  logEvents: number;
  /** Restarts after kill -9 that are timed. */
  recoveryRuns: number;
}

export const WARMUP_MAX = 2000;
const WARMUP_TIME_FRACTION = 0.1;

export const FULL: Sizes = {
  appendEvents: 50_000,
  appendMs: 10_000,
  rawSingleEvents: 50_000,
  rawSingleMs: 10_000,
  rawBatchEvents: 200_000,
  rawBatchMs: 10_000,
  warmupFraction: 0.05,
  mixEvents: 50_000,
  mixMs: 15_000,
  streamReads: 300,
  streamReadMs: 10_000,
  logEvents: 1_000_000,
  recoveryRuns: 3,
};

export const QUICK: Sizes = {
  appendEvents: 5_000,
  appendMs: 3_000,
  rawSingleEvents: 5_000,
  rawSingleMs: 3_000,
  rawBatchEvents: 20_000,
  rawBatchMs: 3_000,
  warmupFraction: 0.1,
  mixEvents: 5_000,
  mixMs: 4_000,
  streamReads: 30,
  streamReadMs: 3_000,
  logEvents: 100_000,
  recoveryRuns: 2,
};

/** The unmeasured warm-up before a write workload of `count` events capped at `maxMs`: a tenth of the time at most. */
export function warmupBudget(sizes: Sizes, count: number, maxMs: number): Budget {
  return new Budget(Math.min(WARMUP_MAX, Math.round(count * sizes.warmupFraction)), maxMs * WARMUP_TIME_FRACTION);
}
