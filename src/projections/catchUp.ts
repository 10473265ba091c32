import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import type { ApplyOutcome, BatchProcessor } from './batchProcessor.ts';
import { matchesFilter, type ProjectionDefinition, storeFilter } from './projection.ts';

export interface CatchUpOptions {
  batchSize: number;
  shouldStop(): boolean;
  /** Stop at this position (a replay "as of"); default: follow the head until it is reached. */
  toPosition?: bigint;
  /** Which events of a page to apply (default: those the projection handles). */
  keep?(events: readonly RecordedEvent[]): RecordedEvent[];
  /** After each committed page, with the head it was read against. */
  onPage?(head: bigint): void;
}

/** The events of a page the projection handles (the store filtered what it could; the rest is done here). */
export function handledEvents(definition: ProjectionDefinition, events: readonly RecordedEvent[]): RecordedEvent[] {
  return events.filter((event) => matchesFilter(definition.handles, event));
}

/**
 * Applies the log from the processor's checkpoint up to the head, page by
 * page. Each round reads the head first and pages bounded by it: no position
 * above it can be visible before those below, so a short page means every
 * event up to that head was seen, and the checkpoint moves to the head even
 * when the filter matched nothing. The next page is read while the current
 * one is applied.
 */
export async function catchUp(store: EventStore, processor: BatchProcessor, definition: ProjectionDefinition, options: CatchUpOptions): Promise<ApplyOutcome> {
  const filter = storeFilter(definition.handles);
  const read = (after: bigint, head: bigint) => store.readAll({ ...filter, after, asOfPosition: head, limit: options.batchSize });
  while (!options.shouldStop()) {
    let head = await store.headPosition();
    if (options.toPosition !== undefined && options.toPosition < head) head = options.toPosition;
    if (processor.checkpoint >= head) return { kind: 'done' };
    let page = await read(processor.checkpoint, head);
    for (;;) {
      const full = page.length === options.batchSize;
      const seenTo = full ? page[page.length - 1]!.position : head;
      const next = full ? read(seenTo, head) : null;
      // A rejected prefetch must not go unhandled while the page is applied; it is awaited (and throws) below.
      next?.catch(() => {});
      const outcome = await processor.apply(options.keep ? options.keep(page) : handledEvents(definition, page), seenTo);
      if (outcome.kind !== 'done') return outcome;
      options.onPage?.(head);
      // On SQLite every step above settles without leaving the microtask queue: let timers and I/O in between pages.
      await new Promise((resolve) => setImmediate(resolve));
      if (!next || options.shouldStop()) break;
      page = await next;
    }
  }
  return { kind: 'stopping' };
}
