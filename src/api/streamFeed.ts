import { setImmediate as nextTurn } from 'node:timers/promises';
import { categoryOf, type EventStore, type RecordedEvent } from '../eventstore/index.ts';
import { STREAM_CATCH_UP_PAGE } from '../kernel/index.ts';
import { type LogReader, sharedLog } from '../projections/index.ts';

export interface StreamFilter {
  category?: string | undefined;
  types?: readonly string[] | undefined;
}

/**
 * The events of one `/v1/stream` connection: first a catch-up from its
 * position to the head as it was on connecting, read in bounded pages with
 * the store's own filters (a turn of the event loop between pages, so one
 * `?after=0` cannot hold the process), then the process's shared live log
 * (projections/sharedLog.ts), filtered here. The shared log reads each
 * commit once, whatever the number of streams open: a stream reads the
 * store again only while it is behind the log's window of recent events.
 *
 * @example
 * const feed = new StreamFeed(store, 0n, { category: 'ledger' });
 * for await (const event of feed.events()) send(event); // ends once feed.close() is called
 */
export class StreamFeed {
  private reader: LogReader | null = null;
  private closed = false;

  constructor(private readonly store: EventStore, private readonly after: bigint, private readonly filter: StreamFilter) {}

  async *events(): AsyncGenerator<RecordedEvent> {
    try {
      const position = yield* this.catchUp();
      if (this.closed) return;
      this.reader = sharedLog(this.store).reader(position);
      for (;;) {
        const events = await this.reader.next(STREAM_CATCH_UP_PAGE);
        if (events === null) return;
        for (const event of events) if (this.matches(event)) yield event;
      }
    } finally {
      this.close();
    }
  }

  /** Pages up to the head as of now; returns the position the live tail continues after. */
  private async *catchUp(): AsyncGenerator<RecordedEvent, bigint> {
    const target = await this.store.headPosition();
    let position = this.after;
    const types = this.filter.types?.length ? this.filter.types : undefined;
    while (!this.closed && position < target) {
      const page = await this.store.readAll({ after: position, category: this.filter.category, types, limit: STREAM_CATCH_UP_PAGE, asOfPosition: target });
      for (const event of page) yield event;
      // A short page ends the catch-up: nothing up to the target is left that the filter takes.
      position = page.length < STREAM_CATCH_UP_PAGE ? target : page[page.length - 1]!.position;
      await nextTurn();
    }
    return position;
  }

  private matches(event: RecordedEvent): boolean {
    const { category, types } = this.filter;
    if (category !== undefined && categoryOf(event.streamId) !== category) return false;
    return types === undefined || types.length === 0 || types.includes(event.type);
  }

  /** Ends the feed: a waiting read returns and the generator finishes. */
  close(): void {
    this.closed = true;
    this.reader?.close();
  }
}
