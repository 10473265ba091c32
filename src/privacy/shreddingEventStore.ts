import type {
  AppendResult, EventStore, ListStreamsOptions, NewEvent, RawEvent, ReadAllOptions, ReadRawLogOptions, ReadStreamOptions, RecordedEvent, Snapshot,
  SnapshotText, StreamWrite, SubscribeOptions, Subscription, VerifyReport,
} from '../eventstore/index.ts';
import { DaybookError, isDaybookError } from '../kernel/index.ts';
import {
  eraseFields, hasPlainFields, hasSealedFields, linkedCustomerSubject, openFields, piiTarget, sealFields, WRITTEN_ERASED_AFTER_ERASURE,
} from './piiFields.ts';
import { eraseLinkedSubject } from './erasure.ts';
import type { SubjectKeyring } from './subjectKeyring.ts';
import { parseSubject, subjectOfStream } from './subjects.ts';

/** Streams whose subject gets a key only once personal data is written to it (customers and accounts get one when made). */
const KEY_ON_DEMAND = /^(?:pmethod|pintent|ppayout)-/;

/**
 * Crypto-shredding around any event store: personal-data fields (see
 * PII_FIELDS) are sealed under their subject's data key before `append`, so
 * the log, its hashes and its seals hold only ciphertext; every read
 * (`readStream`, `readAll`, `readEventsById`, `readFirstEvents`, `streamAll`, `subscribe`)
 * opens them again, or reads an erased subject's values as placeholders.
 * `readRawLog` gives the stored text, ciphertext and all: what audits hash.
 * Events written before encryption (no `$enc` envelope) read as they are.
 *
 * Services keep folded states in memory (StreamStates); after an erasure
 * `invalidate(streamId)` tells them, through `onStreamInvalidated`, to read
 * the stream afresh.
 *
 * @example
 * const store = withPiiEncryption(await openEventStore(url), new SubjectKeyring(keyStore, keyProvider, systemClock));
 */
export class ShreddingEventStore implements EventStore {
  private readonly invalidationListeners = new Set<(streamId: string) => void>();

  constructor(readonly inner: EventStore, readonly keyring: SubjectKeyring) {}

  get backend(): EventStore['backend'] {
    return this.inner.backend;
  }

  async append(writes: StreamWrite | readonly StreamWrite[]): Promise<AppendResult> {
    const list: readonly StreamWrite[] = Array.isArray(writes) ? writes : [writes as StreamWrite];
    const concerned = (streamId: string, event: NewEvent): boolean => piiTarget(streamId, event.type) !== null || linkedCustomerSubject(streamId, event.type, event.data) !== null;
    if (!list.some((write) => write.events.some((event) => concerned(write.streamId, event)))) return this.inner.append(writes);
    const sealed: StreamWrite[] = [];
    const writtenErased = new Set<string>();
    const links = new Map<string, { streamId: string; customer: string }>();
    for (const write of list) {
      const onLink = (customer: string): void => { links.set(`${write.streamId}\n${customer}`, { streamId: write.streamId, customer }); };
      sealed.push({ ...write, events: await this.sealEvents(write.streamId, write.events, () => writtenErased.add(write.streamId), onLink) });
    }
    const result = await this.inner.append(Array.isArray(writes) ? sealed : sealed[0]!);
    // The writer folded what it decided, personal data included; what was stored holds placeholders: it must read the stream afresh.
    for (const streamId of writtenErased) this.invalidate(streamId);
    await this.closeLinksToErased(links);
    return result;
  }

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.openAll(await this.inner.readStream(streamId, options));
  }

  async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.openAll(await this.inner.readAll(options));
  }

  async readEventsById(eventIds: readonly string[]): Promise<RecordedEvent[]> {
    return this.openAll(await this.inner.readEventsById(eventIds));
  }

  async readFirstEvents(streamIds: readonly string[]): Promise<Map<string, RecordedEvent>> {
    const found = await this.inner.readFirstEvents(streamIds);
    const opened = new Map<string, RecordedEvent>();
    for (const event of await this.openAll([...found.values()])) opened.set(event.streamId, event);
    return opened;
  }

  readRawLog(options?: ReadRawLogOptions): Promise<RawEvent[]> {
    return this.inner.readRawLog(options);
  }

  async *streamAll(options?: Omit<ReadAllOptions, 'limit'>): AsyncIterable<RecordedEvent> {
    for await (const event of this.inner.streamAll(options)) yield await this.openEvent(event);
  }

  subscribe(options?: SubscribeOptions): Subscription {
    const inner = this.inner.subscribe(options);
    const open = (event: RecordedEvent): Promise<RecordedEvent> => this.openEvent(event);
    return {
      close: () => inner.close(),
      async *[Symbol.asyncIterator]() {
        for await (const event of inner) yield await open(event);
      },
    };
  }

  headPosition(): Promise<bigint> { return this.inner.headPosition(); }
  streamVersion(streamId: string): Promise<bigint> { return this.inner.streamVersion(streamId); }
  listStreams(options: ListStreamsOptions): Promise<string[]> { return this.inner.listStreams(options); }
  verify(): Promise<VerifyReport> { return this.inner.verify(); }
  lock<T>(name: string, run: () => Promise<T>): Promise<T> { return this.inner.lock(name, run); }
  saveSnapshot(snapshot: Snapshot | SnapshotText): Promise<void> { return this.inner.saveSnapshot(snapshot); }
  loadSnapshot<State = unknown>(streamId: string, schemaVersion: number): Promise<Snapshot<State> | null> { return this.inner.loadSnapshot(streamId, schemaVersion); }
  loadSnapshotText(streamId: string, schemaVersion: number): Promise<SnapshotText | null> { return this.inner.loadSnapshotText(streamId, schemaVersion); }
  onAppended(listener: (info: { events: number; durationMs: number }) => void): () => void { return this.inner.onAppended(listener); }
  close(): Promise<void> { return this.inner.close(); }

  onStreamInvalidated(listener: (streamId: string) => void): () => void {
    this.invalidationListeners.add(listener);
    return () => { this.invalidationListeners.delete(listener); };
  }

  /** Tells every holder of folded states that what they read of this stream is stale (its subject was erased). */
  invalidate(streamId: string): void {
    for (const listener of this.invalidationListeners) listener(streamId);
  }

  private async sealEvents(streamId: string, events: readonly NewEvent[], onErased: () => void, onLink: (customer: string) => void): Promise<NewEvent[]> {
    const sealed: NewEvent[] = [];
    for (const event of events) {
      const customer = await this.refuseLinkToErased(streamId, event);
      if (customer !== null) onLink(customer);
      const target = piiTarget(streamId, event.type);
      // A payment object with nothing personal to seal (no description, empty metadata) gets no key: most payments carry none.
      if (target === null || (KEY_ON_DEMAND.test(streamId) && !hasPlainFields(event.data, target.paths))) {
        sealed.push(event);
        continue;
      }
      const key = await this.keyForWrite(target.subject, event.type);
      if (key === null) onErased();
      sealed.push({ ...event, data: key === null ? eraseFields(event.data, target.paths) : sealFields(event.data, target.paths, target.subject, key) });
    }
    return sealed;
  }

  /**
   * A payment method or intent is not linked to an erased customer: the customer's erasure could not have found it.
   * Returns the customer the event links to (checked again after the append, see closeLinksToErased), or null.
   */
  private async refuseLinkToErased(streamId: string, event: NewEvent): Promise<string | null> {
    const customer = linkedCustomerSubject(streamId, event.type, event.data);
    if (customer === null || (await this.keyring.keyForRead(customer)) !== null) return customer;
    throw linkRefused(customer);
  }

  /**
   * The check before the append read the customer's key through the cache
   * and apart from the append: the customer may have been erased meanwhile
   * (by another process, or while this one kept its key), and that
   * erasure's last scan of the links may have run before this write was in
   * the log. So once the write is in, each linked customer's row is read
   * again from the key store itself. Erased: the payment method or intent
   * the write linked to it is erased at once, with the customer (key or
   * tombstone, erasure event), and the write is refused. An erasure that
   * destroys the customer's key after this read finds the link in its own
   * last scan, as the write was in the log before it.
   */
  private async closeLinksToErased(links: ReadonlyMap<string, { streamId: string; customer: string }>): Promise<void> {
    let refused: string | null = null;
    for (const { streamId, customer } of links.values()) {
      const row = await this.keyring.keyStore.read(customer);
      if (row === null || row.erasedAtMs === null) continue;
      this.keyring.forget(customer);
      this.invalidate(parseSubject(customer).streamId);
      await eraseLinkedSubject(this, parseSubject(subjectOfStream(streamId)), row.erasedAtMs, null);
      refused ??= customer;
    }
    if (refused !== null) throw linkRefused(refused);
  }

  /** The subject's key; null for an erased subject when this type is still written (its personal data as placeholders). */
  private async keyForWrite(subject: string, type: string): Promise<Buffer | null> {
    try {
      return await this.keyring.keyForWrite(subject);
    } catch (error) {
      if (isDaybookError(error, 'subject_already_erased') && WRITTEN_ERASED_AFTER_ERASURE.has(type)) return null;
      throw error;
    }
  }

  private async openAll(events: RecordedEvent[]): Promise<RecordedEvent[]> {
    const opened: RecordedEvent[] = [];
    for (const event of events) opened.push(await this.openEvent(event));
    return opened;
  }

  private async openEvent(event: RecordedEvent): Promise<RecordedEvent> {
    const target = piiTarget(event.streamId, event.type);
    if (target === null || !hasSealedFields(event.data, target.paths)) return event;
    // A subject without a row (a key store lost or replaced) reads as erased: the ciphertext cannot be opened either way.
    const key = (await this.keyring.keyForRead(target.subject)) ?? null;
    return { ...event, data: openFields(event.data, target.paths, target.subject, key) };
  }
}

function linkRefused(customer: string): DaybookError {
  return new DaybookError('subject_already_erased', `the personal data of ${customer} was erased; no payment method or intent is linked to it any more`, { subject: customer }, 'customer');
}

/** Wraps a store so that personal data is sealed on the way in and opened on the way out (see ShreddingEventStore). */
export function withPiiEncryption(store: EventStore, keyring: SubjectKeyring): ShreddingEventStore {
  return new ShreddingEventStore(store, keyring);
}
