import { DaybookError } from '../kernel/errors.ts';
import { APPEND_QUEUE_MAX, GROUP_COMMIT_EVENTS_MAX } from '../kernel/limits.ts';

export interface Pending<Item, Result> {
  item: Item;
  weight: number;
  resolve(result: Result): void;
  reject(error: unknown): void;
}

/**
 * Group commit: appends that arrive while a batch is being made durable wait
 * together and go out as the next batch, in one transaction. The first append
 * on an idle store leaves at once, so a lone writer pays no added latency.
 * `maxInFlight` > 1 pipelines: the next batch is prepared while the previous
 * one is still being committed.
 */
export class GroupCommitQueue<Item, Result> {
  private readonly queue: Pending<Item, Result>[] = [];
  private queuedWeight = 0;
  private inFlight = 0;
  private closed = false;

  constructor(
    private readonly runBatch: (batch: Pending<Item, Result>[]) => Promise<void>,
    private readonly maxInFlight: number,
    private readonly maxBatchWeight = GROUP_COMMIT_EVENTS_MAX,
  ) {}

  submit(item: Item, weight: number): Promise<Result> {
    if (this.closed) return Promise.reject(new DaybookError('store_closed', 'the event store is closed'));
    if (this.queuedWeight + weight > APPEND_QUEUE_MAX) {
      return Promise.reject(new DaybookError('limit_exceeded', `append queue is full (${APPEND_QUEUE_MAX} events waiting); retry later`, { limit: APPEND_QUEUE_MAX }));
    }
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ item, weight, resolve, reject });
      this.queuedWeight += weight;
      this.pump();
    });
  }

  /** Puts items back at the head of the queue, to go out in the next batch. */
  requeue(pending: Pending<Item, Result>[]): void {
    this.queue.unshift(...pending);
    for (const entry of pending) this.queuedWeight += entry.weight;
  }

  get idle(): boolean {
    return this.inFlight === 0 && this.queue.length === 0;
  }

  /** Refuses new appends; resolves when everything queued has been committed or failed. */
  async drain(): Promise<void> {
    this.closed = true;
    while (!this.idle) await new Promise((resolve) => setTimeout(resolve, 2));
  }

  pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.takeBatch();
      this.inFlight += 1;
      this.runBatch(batch)
        .catch((error: unknown) => { for (const entry of batch) entry.reject(error); })
        .finally(() => { this.inFlight -= 1; this.pump(); });
    }
  }

  private takeBatch(): Pending<Item, Result>[] {
    const batch: Pending<Item, Result>[] = [];
    let weight = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (batch.length > 0 && weight + next.weight > this.maxBatchWeight) break;
      this.queue.shift();
      this.queuedWeight -= next.weight;
      weight += next.weight;
      batch.push(next);
    }
    return batch;
  }
}
