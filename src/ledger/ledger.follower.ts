import type { EventStore, Subscription } from '../eventstore/index.ts';
import { isDaybookError } from '../kernel/errors.ts';

/**
 * Follows the store's log for one ledger partition's events (PostgreSQL:
 * woken by LISTEN/NOTIFY, with the store's polling as a fallback) and
 * announces each new version of the partition stream. It only announces:
 * the engine reads and applies the events from the stream itself while no
 * batch of its own is in flight (an event of its own batch arrives before
 * the batch completes and must not be applied twice; a foreign one makes the
 * batch conflict, and the retry catches up). A lost connection ends the
 * subscription: following starts again from the last event seen.
 *
 * @example
 * const follower = PartitionFollower.start(store, 'ledger-usd', head, (version) => console.log('now at', version));
 * follower.close();
 */
export class PartitionFollower {
  private subscription: Subscription | null = null;
  private restart: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(private readonly store: EventStore, private readonly streamId: string, private readonly announce: (version: bigint) => void) {}

  static start(store: EventStore, streamId: string, after: bigint, announce: (version: bigint) => void): PartitionFollower {
    const follower = new PartitionFollower(store, streamId, announce);
    follower.follow(after);
    return follower;
  }

  close(): void {
    this.closed = true;
    this.subscription?.close();
    if (this.restart) clearTimeout(this.restart);
  }

  private follow(after: bigint): void {
    let subscription: Subscription;
    try {
      // This process's own partition writes are its engines' own: only other processes' are announced news.
      subscription = this.store.subscribe({ after, category: 'ledger', othersOnly: true });
    } catch {
      return; // The store was closed under the engine: nothing left to follow.
    }
    this.subscription = subscription;
    let seen = after;
    void (async () => {
      try {
        for await (const event of subscription) {
          seen = event.position;
          if (event.streamId === this.streamId) this.announce(event.version);
        }
      } catch (error) {
        if (this.closed || isDaybookError(error, 'store_closed')) return;
        this.restart = setTimeout(() => { this.restart = null; if (!this.closed) this.follow(seen); }, 1000);
        this.restart.unref();
      }
    })();
  }
}
