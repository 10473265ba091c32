/**
 * Writes access-audit records, one of two ways:
 *
 * - `sync` (the default): `record` resolves once the record is durable, so
 *   the personal data never leaves before its audit record is kept. The
 *   store's group commit folds the records of concurrent reads into one
 *   transaction, which keeps this cheap (see README, "Access audit").
 * - `buffered`: `record` resolves at once; records are appended in batches,
 *   at least every ACCESS_AUDIT_FLUSH_MS and on `close`. At most
 *   ACCESS_AUDIT_BUFFER_MAX wait: past that, `record` waits for the flush.
 *   A crash (kill -9, power loss) loses what is still buffered: up to
 *   ACCESS_AUDIT_FLUSH_MS of records, reads whose answers have left.
 *
 * A failed flush keeps its records for the next one; a reader waiting on a
 * full buffer gets the failure (its read is answered with it).
 */
import type { EventStore, NewEvent } from '../../eventstore/index.ts';
import { ACCESS_AUDIT_BUFFER_MAX, ACCESS_AUDIT_FLUSH_MS, EVENTS_PER_APPEND_MAX } from '../../kernel/index.ts';
import { accessAuditStreamId, PII_ACCESSED, type PiiAccessedData } from './accessAudit.events.ts';

export type AccessAuditWrite = 'sync' | 'buffered';

export class AccessAuditLog {
  private buffer: PiiAccessedData[] = [];
  private flushing: Promise<void> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  constructor(private readonly store: EventStore, readonly write: AccessAuditWrite, private readonly onError: (error: unknown) => void = () => {}) {
    if (write === 'buffered') {
      this.timer = setInterval(() => { this.flush().catch(this.onError); }, ACCESS_AUDIT_FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Keeps one record: durable on return (`sync`), or buffered (see the file's comment). */
  async record(data: PiiAccessedData): Promise<void> {
    if (this.closed) throw new Error('the access audit log is closed');
    if (this.write === 'sync') {
      await this.store.append(writesOf([data]));
      return;
    }
    this.buffer.push(data);
    if (this.buffer.length >= ACCESS_AUDIT_BUFFER_MAX) await this.flush();
  }

  /** Records still waiting to be appended. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Appends what is buffered, a batch at a time; one flush at a time. */
  async flush(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
    if (this.buffer.length === 0) return;
    this.flushing = this.drain().finally(() => { this.flushing = null; });
    await this.flushing;
  }

  /** Stops the timer and appends everything buffered. */
  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
    this.closed = true;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, EVENTS_PER_APPEND_MAX);
      await this.store.append(writesOf(batch));
      // Taken off only once durable: a failed append leaves them for the next flush.
      this.buffer = this.buffer.slice(batch.length);
    }
  }
}

/** One write per day stream, in order; `any`: many processes append to the same day. */
function writesOf(records: readonly PiiAccessedData[]) {
  const byStream = new Map<string, NewEvent[]>();
  for (const data of records) {
    const streamId = accessAuditStreamId(Date.parse(data.at));
    const events = byStream.get(streamId) ?? [];
    events.push({ type: PII_ACCESSED, data, metadata: { actor: data.actor.keyId, ...(data.actor.mode === null ? {} : { mode: data.actor.mode }), ...(data.correlationId === null ? {} : { correlationId: data.correlationId }) } });
    byStream.set(streamId, events);
  }
  return [...byStream].map(([streamId, events]) => ({ streamId, expectedVersion: 'any' as const, events }));
}
