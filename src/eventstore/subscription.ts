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
 * nothing. Woken on commit; a poll covers a missed notification.
 */
export function createSubscription(engine: StorageEngine, upcasters: Upcasters, options: SubscribeOptions, pollMs: number): Subscription {
  let closed = false;
  let wake: (() => void) | null = null;
  let dirty = true;
  const signal = (): void => {
    dirty = true;
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  const unsubscribe = engine.onCommitted(signal);
  const timer = setInterval(signal, pollMs);
  timer.unref();
  const stop = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearInterval(timer);
    signal();
  };

  async function* events(): AsyncGenerator<RecordedEvent> {
    let after = options.after ?? 0n;
    try {
      while (!closed) {
        if (!dirty) await new Promise<void>((resolve) => { wake = resolve; });
        if (closed) return;
        dirty = false;
        const head = await engine.headPosition();
        while (!closed && after < head) {
          const rows = await engine.readAllRows({
            after, category: options.category ?? null, types: options.types?.length ? options.types : null, limit: READ_PAGE_SIZE, maxPosition: head,
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
