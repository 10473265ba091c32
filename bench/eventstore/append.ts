/**
 * Daybook append workloads: `c` concurrent appenders, each awaiting its
 * append before the next, onto new streams (`no_stream`) or onto streams it
 * created first (exact expected version). Latency is per append call, from
 * the call to its durable resolve.
 */
import type { EventStore, StreamWrite } from '../../src/index.ts';
import type { Backend, BenchContext } from '../support/bench.ts';
import { Budget, measure, runConcurrently } from '../support/measure.ts';
import { CATEGORY, newEvents } from './payload.ts';
import { RAW_64 } from './raw.ts';
import { warmupBudget, type Sizes } from './sizes.ts';
import { freshStore } from './stores.ts';

export interface AppendShape {
  concurrency: number;
  eventsPerAppend: number;
  streams: 'new' | 'existing';
}

/** Streams each appender owns in the existing-streams workloads, written round-robin. */
const STREAMS_PER_APPENDER = 4;

export const APPEND_SHAPES: readonly AppendShape[] = [
  { concurrency: 1, eventsPerAppend: 1, streams: 'new' },
  { concurrency: 16, eventsPerAppend: 1, streams: 'new' },
  { concurrency: 64, eventsPerAppend: 1, streams: 'new' },
  { concurrency: 1, eventsPerAppend: 1, streams: 'existing' },
  { concurrency: 16, eventsPerAppend: 1, streams: 'existing' },
  { concurrency: 64, eventsPerAppend: 1, streams: 'existing' },
  { concurrency: 64, eventsPerAppend: 10, streams: 'new' },
];

export function appendWorkloadName(shape: AppendShape): string {
  return `append ${shape.eventsPerAppend}-event c${shape.concurrency} ${shape.streams}-streams`;
}

export async function appendWorkload(ctx: BenchContext, backend: Backend, sizes: Sizes, shape: AppendShape): Promise<void> {
  const fresh = await freshStore(ctx, backend, 'append');
  try {
    const appenders = await createAppenders(fresh.store, shape);
    const run = async (budget: Budget, tag: string, record: (ms: number) => void) => {
      let count = 0;
      await runConcurrently(shape.concurrency, async (index) => {
        const appender = appenders[index]!;
        for (let i = 0; budget.take(shape.eventsPerAppend); i++) {
          const write = appender.next(tag, i);
          const started = performance.now();
          const result = await fresh.store.append(write);
          record(performance.now() - started);
          appender.done(result.streams[0]!.version);
          count += shape.eventsPerAppend;
        }
      });
      return count;
    };
    await run(warmupBudget(sizes, sizes.appendEvents, sizes.appendMs), 'w', () => {});
    ctx.record(await measure({ workload: appendWorkloadName(shape), backend, baseline: RAW_64 }, async ({ latency }) => ({
      count: await run(new Budget(sizes.appendEvents, sizes.appendMs), 'm', (ms) => latency.record(ms)),
      extra: { concurrency: shape.concurrency, events_per_append: shape.eventsPerAppend, latency_unit: 'append call' },
    })));
  } finally {
    await fresh.dispose();
  }
}

interface Appender {
  /** The write for this appender's i-th append of phase `tag`. */
  next(tag: string, i: number): StreamWrite;
  /** Called with the stream's version after the append resolved. */
  done(version: bigint): void;
}

/** For existing streams, each appender first creates its own streams (not measured). */
async function createAppenders(store: EventStore, shape: AppendShape): Promise<Appender[]> {
  return Promise.all(Array.from({ length: shape.concurrency }, async (_, index): Promise<Appender> => {
    if (shape.streams === 'new') {
      return {
        next: (tag, i) => ({ streamId: `${CATEGORY}-${tag}${index}x${i}`, expectedVersion: 'no_stream', events: newEvents(shape.eventsPerAppend) }),
        done: () => {},
      };
    }
    const streams = Array.from({ length: STREAMS_PER_APPENDER }, (_, k) => `${CATEGORY}-own${index}x${k}`);
    const versions: bigint[] = [];
    for (const streamId of streams) {
      const result = await store.append({ streamId, expectedVersion: 'no_stream', events: newEvents(1) });
      versions.push(result.streams[0]!.version);
    }
    let current = 0;
    return {
      next: (_tag, i) => {
        current = i % STREAMS_PER_APPENDER;
        return { streamId: streams[current]!, expectedVersion: versions[current]!, events: newEvents(shape.eventsPerAppend) };
      },
      done: (version) => { versions[current] = version; },
    };
  }));
}
