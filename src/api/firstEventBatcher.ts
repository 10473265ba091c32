import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import { READ_BATCH_MAX } from '../kernel/index.ts';

interface Waiter {
  resolve(event: RecordedEvent | undefined): void;
  reject(error: unknown): void;
}

/**
 * A tiny DataLoader for first events: the lookups made within one turn of
 * the event loop are queued and answered by one `readFirstEvents` call
 * (per READ_BATCH_MAX distinct streams). Under many concurrent requests
 * that is one store read, on PostgreSQL one round trip and one statement,
 * where there was one per request.
 *
 * The flush runs on `setImmediate`, not on a microtask: each request
 * arrives in an I/O callback of its own, and microtasks run between
 * callbacks, so a microtask flush would batch one request's lookups only;
 * the check phase comes once the poll phase has run every ready callback.
 *
 * A failed read rejects every waiter of its batch, and only those: the
 * next turn's lookups make a batch of their own. Nothing is cached here;
 * each batch reads afresh.
 *
 * @example
 * const firsts = new FirstEventBatcher(store);
 * const [a, b] = await Promise.all([firsts.load('idempotency-a1'), firsts.load('idempotency-b2')]); // one read
 */
export class FirstEventBatcher {
  private queued = new Map<string, Waiter[]>();
  private flushScheduled = false;

  constructor(private readonly store: Pick<EventStore, 'readFirstEvents'>) {}

  /** The first event of the stream, or undefined when it does not exist; answered with the other loads of this turn. */
  load(streamId: string): Promise<RecordedEvent | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.queued.get(streamId);
      if (waiters === undefined) this.queued.set(streamId, [{ resolve, reject }]);
      else waiters.push({ resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queued;
    this.queued = new Map();
    const streamIds = [...batch.keys()];
    for (let start = 0; start < streamIds.length; start += READ_BATCH_MAX) {
      void this.answer(batch, streamIds.slice(start, start + READ_BATCH_MAX));
    }
  }

  private async answer(batch: ReadonlyMap<string, Waiter[]>, streamIds: string[]): Promise<void> {
    let found: Map<string, RecordedEvent>;
    try {
      found = await this.store.readFirstEvents(streamIds);
    } catch (error) {
      for (const streamId of streamIds) for (const waiter of batch.get(streamId)!) waiter.reject(error);
      return;
    }
    for (const streamId of streamIds) {
      const event = found.get(streamId);
      for (const waiter of batch.get(streamId)!) waiter.resolve(event);
    }
  }
}
