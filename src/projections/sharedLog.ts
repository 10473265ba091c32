/**
 * One live read of the log per event store, shared by every runner of the
 * process that follows it. Each runner used to hold its own subscription, so
 * with three projections every event was read, parsed and turned into an
 * envelope three times on the main thread, the thread that also prepares the
 * store's appends. Here one subscription fills a bounded window of recent
 * events; each reader keeps its own position in it. A reader behind the
 * window (it joined late, or fell behind) reads the store directly until it
 * is inside the window again, so a slow projection never holds the others
 * back and the window never grows past its bound.
 *
 * Readers get the same event objects: handlers must treat events as read-only
 * (they are the log's, as they always were).
 *
 * @example
 * const reader = sharedLog(store).reader(checkpoint);
 * const events = await reader.next(500); // waits for at least one event
 * reader.close();
 */
import type { EventStore, RecordedEvent, Subscription } from '../eventstore/index.ts';

/** Events kept for readers that are behind the newest one; older ones are read from the store again. */
const WINDOW_EVENTS_MAX = 20_000;

const logs = new WeakMap<EventStore, SharedLog>();

/** The shared live log of `store` in this process (created on first use, ended when its last reader closes). */
export function sharedLog(store: EventStore): SharedLog {
  let log = logs.get(store);
  if (!log || log.ended) {
    log = new SharedLog(store, () => { if (logs.get(store) === log) logs.delete(store); });
    logs.set(store, log);
  }
  return log;
}

export class SharedLog {
  /** Events after `floor`, in order, with no gap: the window. */
  private window: RecordedEvent[] = [];
  private floor: bigint | null = null;
  private subscription: Subscription | null = null;
  private readonly readers = new Set<LogReader>();
  private failure: unknown = null;
  ended = false;
  private notifyScheduled = false;

  constructor(private readonly store: EventStore, private readonly onEnd: () => void) {}

  /** A reader that gets every event after `after`, in order. */
  reader(after: bigint): LogReader {
    const reader = new LogReader(this, after);
    this.readers.add(reader);
    if (!this.subscription) {
      this.floor = after;
      this.subscription = this.store.subscribe({ after });
      void this.pump(this.subscription);
    }
    return reader;
  }

  /** The newest position in the window (or the floor when empty). */
  get newest(): bigint {
    return this.window.length > 0 ? this.window[this.window.length - 1]!.position : this.floor ?? 0n;
  }

  get error(): unknown {
    return this.failure;
  }

  /** How many events after `after` the window holds; null when `after` is older than the window holds. */
  countAfter(after: bigint): number | null {
    if (this.floor === null || after < this.floor) return null;
    return this.window.length - this.indexAfter(after);
  }

  /** Up to `max` events after `after` from the window; null when `after` is older than the window holds. */
  fromWindow(after: bigint, max: number): RecordedEvent[] | null {
    if (this.floor === null || after < this.floor) return null;
    const start = this.indexAfter(after);
    return this.window.slice(start, start + max);
  }

  /** Index of the first event with a position above `after` (binary search: positions increase). */
  private indexAfter(after: bigint): number {
    let low = 0;
    let high = this.window.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.window[middle]!.position <= after) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Events after `after` straight from the store, for a reader behind the window. */
  readDirect(after: bigint, max: number): Promise<RecordedEvent[]> {
    return this.store.readAll({ after, limit: max });
  }

  private async pump(subscription: Subscription): Promise<void> {
    try {
      for await (const event of subscription) {
        this.window.push(event);
        if (this.window.length > WINDOW_EVENTS_MAX) this.trim();
        this.scheduleNotify();
        if (this.ended) break;
      }
    } catch (error) {
      this.failure = error;
    } finally {
      this.end();
    }
  }

  /**
   * Drops the events every reader has passed (kept events age into the old
   * generation of the heap, where collecting them costs pauses), and past the
   * bound the oldest half regardless: a reader behind them reads the store.
   */
  private trim(): void {
    let slowest: bigint | null = null;
    for (const reader of this.readers) if (slowest === null || reader.position < slowest) slowest = reader.position;
    let drop = slowest === null ? this.window.length : this.indexAfter(slowest);
    if (this.window.length - drop > WINDOW_EVENTS_MAX) drop = this.window.length - WINDOW_EVENTS_MAX / 2;
    if (drop <= 0) return;
    this.floor = this.window[drop - 1]!.position;
    this.window.splice(0, drop);
  }

  /**
   * Readers are woken once per turn of the event loop, not per event: the
   * subscription yields a whole page in one turn, and a reader woken after
   * the first event would take batches of one.
   */
  private scheduleNotify(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      this.trim();
      for (const reader of this.readers) reader.signal();
    });
  }

  /** @internal */
  release(reader: LogReader): void {
    this.readers.delete(reader);
    if (this.readers.size === 0) this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.subscription?.close();
    this.window = [];
    this.onEnd();
    for (const reader of this.readers) reader.signal();
  }
}

/** One reader's position in a {@link SharedLog}. */
export class LogReader {
  private wakeUp: (() => void) | null = null;
  private closed = false;

  constructor(private readonly log: SharedLog, public position: bigint) {}

  /**
   * Up to `max` events after the reader's position: waits for at least one.
   * Resolves to an empty list when `interrupt` is called, and to null once
   * the log or the reader ended; throws what the log's subscription threw.
   */
  async next(max: number): Promise<RecordedEvent[] | null> {
    for (;;) {
      if (this.closed) return null;
      if (this.log.error) throw this.log.error;
      if (this.log.ended) return null;
      const events = this.log.fromWindow(this.position, max) ?? await this.log.readDirect(this.position, max);
      if (events.length > 0) {
        // An interrupt is answered by any return, as by this one with events.
        this.interrupted = false;
        this.position = events[events.length - 1]!.position;
        return events;
      }
      if (this.interrupted) { this.interrupted = false; return []; }
      await new Promise<void>((resolve) => { this.wakeUp = resolve; });
    }
  }

  private interrupted = false;

  /** Events waiting in the window for this reader (0 when it reads the store directly). */
  get available(): number {
    return this.log.countAfter(this.position) ?? 0;
  }

  /** Makes a waiting (or the next) `next` return, with no events if none arrived. */
  interrupt(): void {
    this.interrupted = true;
    this.signal();
  }

  /** @internal */
  signal(): void {
    const resolve = this.wakeUp;
    this.wakeUp = null;
    resolve?.();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.log.release(this);
    this.signal();
  }
}
