import type { EventStore, RecordedEvent } from '../eventstore/index.ts';

/** Progress is reported at most once per this many events (and at the end). */
const PROGRESS_EVERY_EVENTS = 1_000;

export type LogScan = { readonly head: bigint; events(): AsyncIterable<RecordedEvent> };

/**
 * The (filtered) log as it is now: the head is read once, and every read of
 * this scan stops there, so a report sees one moment even while appends go
 * on. `until` stops earlier, at a time (the log as it was then).
 */
export async function scanLog(
  store: EventStore,
  filter: { category?: string; types?: readonly string[]; until?: Date },
  onProgress?: (position: bigint, head: bigint) => void,
): Promise<LogScan> {
  const head = await store.headPosition();
  return {
    head,
    async *events() {
      let seen = 0;
      let last = 0n;
      for await (const event of store.streamAll({ category: filter.category, types: filter.types, asOfPosition: head, asOfTime: filter.until })) {
        seen += 1;
        last = event.position;
        if (onProgress !== undefined && seen % PROGRESS_EVERY_EVENTS === 0) onProgress(last, head);
        yield event;
      }
      onProgress?.(head, head);
    },
  };
}
