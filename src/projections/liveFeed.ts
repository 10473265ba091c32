/**
 * The live half of a runner: a store subscription pumped into a bounded
 * buffer, taken out in batches. Whatever arrived while the previous batch was
 * committing goes into the next one, so batches grow with the load.
 */
import type { EventStore, RecordedEvent, Subscription } from '../eventstore/index.ts';

export class LiveFeed {
  private readonly buffer: RecordedEvent[] = [];
  private readonly subscription: Subscription;
  private wakeTaker: (() => void) | null = null;
  private wakeProducer: (() => void) | null = null;
  private ended = false;
  private failure: unknown = null;
  private woken = false;
  readonly done: Promise<void>;

  constructor(store: EventStore, after: bigint, private readonly highWater: number) {
    this.subscription = store.subscribe({ after });
    this.done = this.pump();
  }

  private async pump(): Promise<void> {
    try {
      for await (const event of this.subscription) {
        this.buffer.push(event);
        this.signalTaker();
        while (this.buffer.length >= this.highWater && !this.ended) {
          await new Promise<void>((resolve) => { this.wakeProducer = resolve; });
        }
        if (this.ended) break;
      }
    } catch (error) {
      this.failure = error;
    } finally {
      this.ended = true;
      this.signalTaker();
    }
  }

  /** Events waiting to be taken. */
  get buffered(): number {
    return this.buffer.length;
  }

  /**
   * Up to `max` events, waiting for at least one (and, until
   * `lingerUntilMs`, for `max`). Resolves to an empty list when woken without
   * events (see `wake`) and to null once the feed ended.
   */
  async take(max: number, lingerUntilMs = 0): Promise<RecordedEvent[] | null> {
    // Under load, wait a little for a fuller batch: fewer, larger transactions.
    while (this.buffer.length > 0 && this.buffer.length < max && !this.ended && !this.woken && Date.now() < lingerUntilMs) {
      const timer = setTimeout(() => this.signalTaker(), Math.max(1, lingerUntilMs - Date.now()));
      await new Promise<void>((resolve) => { this.wakeTaker = resolve; });
      clearTimeout(timer);
    }
    while (this.buffer.length === 0) {
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      if (this.woken) { this.woken = false; return []; }
      await new Promise<void>((resolve) => { this.wakeTaker = resolve; });
    }
    this.woken = false;
    const taken = this.buffer.splice(0, max);
    const resume = this.wakeProducer;
    this.wakeProducer = null;
    resume?.();
    return taken;
  }

  /** Makes a waiting (or the next) `take` return, with no events if none arrived. */
  wake(): void {
    this.woken = true;
    this.signalTaker();
  }

  private signalTaker(): void {
    const resolve = this.wakeTaker;
    this.wakeTaker = null;
    resolve?.();
  }

  close(): void {
    this.ended = true;
    this.subscription.close();
    const resume = this.wakeProducer;
    this.wakeProducer = null;
    resume?.();
    this.signalTaker();
  }
}
