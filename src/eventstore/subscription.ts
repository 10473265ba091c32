import { READ_PAGE_SIZE } from '../kernel/limits.ts';
import type { RecordedEvent, SubscribeOptions, Subscription } from './eventStore.ts';
import type { StorageEngine } from './storageEngine.ts';
import { toRecordedEvent } from './storedRow.ts';
import type { Upcasters } from './upcasters.ts';

/**
 * Catch-up then live. Each round reads the durable head first and then the
 * (filtered) log up to it: since no position above the head can be visible
 * before the ones below it, a short page means everything up to the head was
 * seen, so the cursor can jump to the head even when the filter matched
 * nothing. Woken on commit, with the head that commit announced (no read of
 * it: on PostgreSQL that was a statement per commit per subscription); a
 * poll asks the store, and covers a missed notification.
 */
export function createSubscription(engine: StorageEngine, upcasters: Upcasters, options: SubscribeOptions, pollMs: number): Subscription {
  let closed = false;
  let wake: (() => void) | null = null;
  let dirty = true;
  // The head a commit announced (every position up to it is visible once it is: appends commit in position order), and whether
  // the store must be asked instead: at the start and on each poll, which stands in for a missed announcement.
  let announced = 0n;
  let askHead = true;
  /** Every position up to here was read (or passed over); the generator below advances it. */
  let after = options.after ?? 0n;
  /** True while the generator waits for a wake, with everything up to the head it last used read. */
  let idle = false;
  const category = options.category ?? null;
  const signal = (): void => {
    dirty = true;
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  const unsubscribe = engine.onCommitted((head, batch) => {
    if (head > announced) announced = head;
    if (idle && !dirty) {
      // A batch of this process right after what was read, holding no stream of this subscription's category (or of no interest to
      // a follower of other processes' writes): passed over without a read. The API key registry watches a category most commits
      // never touch; a ledger follower only needs what other processes wrote.
      if (batch !== undefined && batch.from <= after + 1n && (options.othersOnly === true || (category !== null && !batch.categories.has(category)))) {
        if (head > after) after = head;
        return;
      }
      // Nothing after what was read (PostgreSQL announces this process's own commits a second time, by notification).
      if (head <= after) return;
    }
    signal();
  });
  const timer = setInterval(() => {
    askHead = true;
    signal();
  }, pollMs);
  timer.unref();
  const stop = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearInterval(timer);
    signal();
  };

  async function* events(): AsyncGenerator<RecordedEvent> {
    try {
      while (!closed) {
        if (!dirty) {
          idle = true;
          await new Promise<void>((resolve) => { wake = resolve; });
          idle = false;
        }
        if (closed) return;
        dirty = false;
        let head = announced;
        if (askHead) {
          askHead = false;
          const stored = await engine.headPosition();
          if (stored > head) head = stored;
        }
        while (!closed && after < head) {
          const rows = await engine.readAllRows({
            after, category, types: options.types?.length ? options.types : null, limit: READ_PAGE_SIZE, maxPosition: head,
          });
          for (const row of rows) {
            if (closed) return;
            yield toRecordedEvent(row, upcasters);
            after = row.position;
          }
          if (rows.length < READ_PAGE_SIZE) after = head;
        }
      }
    } finally {
      stop();
    }
  }

  const iterator = events();
  return {
    close: stop,
    [Symbol.asyncIterator]: () => iterator,
  };
}
