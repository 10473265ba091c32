/**
 * The realistic mix: 64 writers append single events to 10K streams picked
 * with a Zipf distribution (a few hot streams), each with the exact version
 * it believes current; on a conflict it reads the stream's version and
 * retries (at most COMMAND_RETRIES_MAX times). Meanwhile 4 catch-up
 * subscribers follow the log; their lag is recorded-at to received.
 */
import { COMMAND_RETRIES_MAX } from '../../src/kernel/limits.ts';
import type { EventStore, Subscription } from '../../src/index.ts';
import type { Backend, BenchContext } from '../support/bench.ts';
import { LatencyRecorder } from '../support/latency.ts';
import { Budget, measure, round, roundMs, runConcurrently } from '../support/measure.ts';
import { seededRandom, ZipfSampler } from '../support/zipf.ts';
import { newEvents } from './payload.ts';
import { RAW_64 } from './raw.ts';
import type { Sizes } from './sizes.ts';
import { freshStore, isVersionConflict } from './stores.ts';

export const MIX = 'mix zipf 10k-streams c64 + 4 subscribers';
const STREAMS = 10_000;
const ZIPF_S = 1.1;
const WRITERS = 64;
const SUBSCRIBERS = 4;
const SEED = 20_240_601;
const CATCH_UP_TIMEOUT_MS = 60_000;

export async function mixWorkload(ctx: BenchContext, backend: Backend, sizes: Sizes): Promise<void> {
  const fresh = await freshStore(ctx, backend, 'mix');
  const store = fresh.store;
  const lag = new LatencyRecorder();
  const subscribers: Array<{ subscription: Subscription; received: number; last: bigint; done: Promise<void> }> = [];
  try {
    const startHead = await store.headPosition();
    for (let i = 0; i < SUBSCRIBERS; i++) subscribers.push(follow(store, startHead, lag));
    const zipf = new ZipfSampler(STREAMS, ZIPF_S, seededRandom(SEED));
    // What the writers believe each stream's version is (a shared cache, as a service would keep).
    const known = new Array<bigint>(STREAMS).fill(0n);
    let conflicts = 0;
    let gaveUp = 0;
    let written = 0;
    let commands = 0;
    const row = await measure({ workload: MIX, backend, baseline: RAW_64 }, async ({ latency }) => {
      const budget = new Budget(sizes.mixEvents, sizes.mixMs);
      await runConcurrently(WRITERS, async () => {
        while (budget.take(1)) {
          commands += 1;
          const rank = zipf.next();
          const streamId = `acct-mix${rank}`;
          for (let attempt = 0; ; attempt++) {
            const started = performance.now();
            try {
              const result = await store.append({ streamId, expectedVersion: known[rank]!, events: newEvents(1) });
              latency.record(performance.now() - started);
              const version = result.streams[0]!.version;
              if (version > known[rank]!) known[rank] = version;
              written += 1;
              break;
            } catch (error) {
              latency.record(performance.now() - started);
              if (!isVersionConflict(error)) throw error;
              conflicts += 1;
              if (attempt >= COMMAND_RETRIES_MAX) { gaveUp += 1; break; }
              known[rank] = await store.streamVersion(streamId);
            }
          }
        }
      });
      return { count: written };
    });
    const seconds = row.seconds as number;
    // The subscribers must see every event before the lag is final.
    const head = await store.headPosition();
    await waitForSubscribers(subscribers, head);
    const { p50_ms, p99_ms, p999_ms } = lag.summary();
    ctx.record({
      ...row,
      conflicts_per_s: Math.round(conflicts / seconds),
      conflicts,
      commands,
      retries_max: COMMAND_RETRIES_MAX,
      retries_exhausted: gaveUp,
      lag_p50_ms: roundMs(p50_ms),
      lag_p99_ms: roundMs(p99_ms),
      lag_p999_ms: roundMs(p999_ms),
      subscribers: SUBSCRIBERS,
      subscriber_events: subscribers.map((s) => s.received),
      zipf_s: ZIPF_S,
      streams: STREAMS,
      writers: WRITERS,
      hottest_stream_share: round(zipf.probability(0), 3),
      latency_unit: 'append call (conflicts included)',
    });
  } finally {
    for (const subscriber of subscribers) subscriber.subscription.close();
    await Promise.allSettled(subscribers.map((subscriber) => subscriber.done));
    await fresh.dispose();
  }
}

function follow(store: EventStore, after: bigint, lag: LatencyRecorder) {
  const subscription = store.subscribe({ after });
  const state = { subscription, received: 0, last: after, done: Promise.resolve() };
  state.done = (async () => {
    for await (const event of subscription) {
      lag.record(Date.now() - event.recordedAt.getTime());
      if (event.position !== state.last + 1n) throw new Error(`subscriber skipped from ${state.last} to ${event.position}`);
      state.last = event.position;
      state.received += 1;
    }
  })();
  // A failure surfaces in waitForSubscribers; keep it from being unhandled meanwhile.
  state.done.catch(() => {});
  return state;
}

async function waitForSubscribers(subscribers: ReadonlyArray<{ last: bigint; done: Promise<void> }>, head: bigint): Promise<void> {
  const deadline = performance.now() + CATCH_UP_TIMEOUT_MS;
  while (subscribers.some((subscriber) => subscriber.last < head)) {
    if (performance.now() > deadline) throw new Error(`subscribers did not reach head ${head} within ${CATCH_UP_TIMEOUT_MS} ms`);
    // A subscriber that failed ends its promise: surface the failure now.
    await Promise.race([...subscribers.map((subscriber) => subscriber.done.then(() => { throw new Error('a subscriber ended early'); })), sleep(20)]);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
