/**
 * The live half of a runner: its reader of the process's shared live log
 * (one subscription per store, see sharedLog.ts), taken in batches.
 * Whatever arrived while the previous batch was committing goes into the
 * next one, so batches grow with the load.
 */
import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import { type LogReader, sharedLog } from './sharedLog.ts';

export class LiveFeed {
  private readonly reader: LogReader;
  /** Ends a linger early (a wake or a close). */
  private endLinger: (() => void) | null = null;
  /** Kept for the runner's shutdown, which awaits it; the shared log has no per-feed pump. */
  readonly done: Promise<void> = Promise.resolve();

  constructor(store: EventStore, after: bigint) {
    this.reader = sharedLog(store).reader(after);
  }

  /** Events waiting to be taken. */
  get buffered(): number {
    return this.reader.available;
  }

  /**
   * Up to `max` events, waiting for at least one (and, until
   * `lingerUntilMs`, for `max`). Resolves to an empty list when woken without
   * events (see `wake`) and to null once the feed ended.
   */
  async take(max: number, lingerUntilMs = 0): Promise<RecordedEvent[] | null> {
    // Under load, wait a little for a fuller batch: fewer, larger transactions.
    const waitMs = lingerUntilMs - Date.now();
    if (waitMs > 0) {
      const available = this.reader.available;
      if (available > 0 && available < max) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => this.endLinger?.(), waitMs);
          this.endLinger = () => { clearTimeout(timer); this.endLinger = null; resolve(); };
        });
      }
    }
    return this.reader.next(max);
  }

  /** Makes a waiting (or the next) `take` return, with no events if none arrived. */
  wake(): void {
    this.endLinger?.();
    this.reader.interrupt();
  }

  close(): void {
    this.endLinger?.();
    this.reader.close();
  }
}
