import { createHash } from 'node:crypto';
import type { EventMetadata, EventStore, StreamWrite } from '../eventstore/index.ts';
import { type Clock, isDaybookError } from '../kernel/index.ts';
import { READ_BATCH_MAX } from '../kernel/limits.ts';

/**
 * Durable idempotency records: the first response to a POST carrying an
 * `Idempotency-Key`, one stream per (API key, idempotency key)
 * (`idempotency-<sha256>`), written with `expectedVersion: 'no_stream'` so
 * that of two processes racing on one key the first record wins and the
 * other reads it. Records are kept with the log (so at least 24 h, as Stripe
 * promises; archiving old ones is the store's business); a bounded cache of
 * the last 24 h saves the read on retries.
 *
 * Within one process, `acquire` serialises requests with the same scope: a
 * concurrent duplicate waits for the first to finish, then replays its
 * record, so the work runs once.
 *
 * On SQLite this process is the store's only writer, so `open` builds an
 * index of every recorded scope (listed once from the store's stream index,
 * then kept as records are saved): a key the index does not hold has no record, and the lookup of
 * a fresh key (nearly every POST) reads nothing. The index holds a 52-bit
 * prefix of each stream id's hash: a collision only costs a read. On
 * PostgreSQL other processes record keys too, so a cache miss reads the store.
 */
export const IDEMPOTENCY_CATEGORY = 'idempotency';
export const IDEMPOTENCY_RECORD_EVENT = 'IdempotentResponseRecorded';
/** How long a record stays in the cache; records themselves are never dropped before the log is archived. */
export const IDEMPOTENCY_CACHE_TTL_MS = 24 * 60 * 60 * 1000;
export const IDEMPOTENCY_CACHE_ENTRIES_MAX = 100_000;
/** The cache also stays under this many characters of stored bodies (a batch answer can be large). */
export const IDEMPOTENCY_CACHE_CHARS_MAX = 32 * 1024 * 1024;

const WINNER_READ_ATTEMPTS = 100;
const WINNER_READ_INTERVAL_MS = 10;

export interface StoredResponse {
  /** SHA-256 of the request (method, route, params, query, body), canonical JSON. */
  fingerprint: string;
  statusCode: number;
  contentType: string;
  body: string;
  recordedAtMs: number;
}

export interface IdempotencyRecordInput extends StoredResponse {
  keyId: string;
  idempotencyKey: string;
  method: string;
  route: string;
}

/** Hex digits of a record stream's hash kept in the index: 13 of them fit a double exactly. */
const INDEX_HEX_DIGITS = 13;

export class IdempotencyStore {
  private readonly cache = new Map<string, { response: StoredResponse; expiresAtMs: number }>();
  private readonly locks = new Map<string, Promise<void>>();
  private cachedChars = 0;

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly cacheEntriesMax = IDEMPOTENCY_CACHE_ENTRIES_MAX,
    /** Every scope recorded in the store (as index entries), when this process is its only writer; null: unknown. */
    private readonly recorded: Set<number> | null = null,
  ) {}

  /**
   * Opens the records of a store. On SQLite (one writing process) it reads the
   * idempotency category once to index every recorded scope.
   *
   * @example
   * const records = await IdempotencyStore.open(store, systemClock);
   * await records.lookup(IdempotencyStore.scopeOf(keyId, 'order-17')); // undefined: never recorded
   */
  static async open(store: EventStore, clock: Clock, cacheEntriesMax = IDEMPOTENCY_CACHE_ENTRIES_MAX): Promise<IdempotencyStore> {
    if (store.backend !== 'sqlite') return new IdempotencyStore(store, clock, cacheEntriesMax, null);
    const recorded = new Set<number>();
    // The stream index alone: one id per record, no record read.
    for (let after: string | undefined; ;) {
      const page = await store.listStreams({ category: IDEMPOTENCY_CATEGORY, after, limit: READ_BATCH_MAX });
      for (const streamId of page) recorded.add(indexEntryOf(streamId));
      if (page.length < READ_BATCH_MAX) break;
      after = page.at(-1);
    }
    return new IdempotencyStore(store, clock, cacheEntriesMax, recorded);
  }

  /** The scope of a key: idempotency keys are per API key, so one client can neither collide with nor read another's. */
  static scopeOf(keyId: string, idempotencyKey: string): string {
    return `${keyId}\u0000${idempotencyKey}`;
  }

  static streamIdOf(scope: string): string {
    return `${IDEMPOTENCY_CATEGORY}-${createHash('sha256').update(scope, 'utf8').digest('hex').slice(0, 48)}`;
  }

  /** Waits until no other request of this process holds the scope, then holds it. The returned release is idempotent. */
  async acquire(scope: string): Promise<() => void> {
    for (let held = this.locks.get(scope); held !== undefined; held = this.locks.get(scope)) await held;
    let unlock!: () => void;
    const lock = new Promise<void>((resolve) => { unlock = resolve; });
    this.locks.set(scope, lock);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (this.locks.get(scope) === lock) this.locks.delete(scope);
      unlock();
    };
  }

  async lookup(scope: string): Promise<StoredResponse | undefined> {
    const cached = this.cache.get(scope);
    if (cached !== undefined && cached.expiresAtMs > this.clock.nowMs()) return cached.response;
    const streamId = IdempotencyStore.streamIdOf(scope);
    if (this.recorded !== null && !this.recorded.has(indexEntryOf(streamId))) return undefined;
    const [event] = await this.store.readStream(streamId, { limit: 1 });
    if (event === undefined) return undefined;
    const response = toStoredResponse(event.data);
    this.remember(scope, response);
    return response;
  }

  /** Records the first response; if another process recorded one first, returns that one instead. */
  async save(scope: string, record: IdempotencyRecordInput, metadata: EventMetadata): Promise<StoredResponse> {
    const streamId = IdempotencyStore.streamIdOf(scope);
    // Indexed before it is durable: if the append fails, the entry only costs a read that finds nothing.
    this.recorded?.add(indexEntryOf(streamId));
    try {
      await this.store.append({
        streamId,
        expectedVersion: 'no_stream',
        events: [{ type: IDEMPOTENCY_RECORD_EVENT, data: record, metadata }],
      });
    } catch (error) {
      if (!isDaybookError(error, 'stream_version_conflict')) throw error;
      this.forget(scope);
      // The winner may share our group commit: its record becomes readable when that batch is durable, a moment later.
      for (let attempt = 0; attempt < WINNER_READ_ATTEMPTS; attempt += 1) {
        const winner = await this.lookup(scope);
        if (winner !== undefined) return winner;
        await new Promise((resolve) => setTimeout(resolve, WINNER_READ_INTERVAL_MS));
      }
      throw error;
    }
    const response = toStoredResponse(record);
    this.remember(scope, response);
    return response;
  }

  /**
   * The record as a write to commit with the effect it answers (the ledger
   * engine's attachment), so that one durable append holds both. Expected
   * version `any`: a conflict would fail the effect too; should two processes
   * record one key at once, the first record in the stream is the one
   * `lookup` answers. Call `recordedWith` once the write is durable.
   */
  attachment(scope: string, record: IdempotencyRecordInput, metadata: EventMetadata): StreamWrite {
    const streamId = IdempotencyStore.streamIdOf(scope);
    this.recorded?.add(indexEntryOf(streamId));
    return { streamId, expectedVersion: 'any', events: [{ type: IDEMPOTENCY_RECORD_EVENT, data: record, metadata }] };
  }

  /**
   * An attached record is durable: resolves with the key's first record,
   * which later lookups answer from memory. With this process the store's
   * only writer (SQLite), `acquire` made it this one. Otherwise another
   * process may have attached or saved a record of the key first (both
   * requests looked before either recorded): the first in the stream is
   * read back, at the cost of one read per attached record.
   */
  async recordedWith(scope: string, record: IdempotencyRecordInput): Promise<StoredResponse> {
    const own = toStoredResponse(record);
    if (this.recorded === null) {
      this.forget(scope);
      // A failed read leaves this answer standing (as before the check): the effect is durable, and so is its record.
      const first = await this.lookup(scope).catch(() => undefined);
      if (first !== undefined) return first;
    }
    this.remember(scope, own);
    return own;
  }

  private remember(scope: string, response: StoredResponse): void {
    this.forget(scope);
    this.cache.set(scope, { response, expiresAtMs: this.clock.nowMs() + IDEMPOTENCY_CACHE_TTL_MS });
    this.cachedChars += response.body.length;
    // Maps iterate in insertion order: the first key is the oldest.
    while (this.cache.size > this.cacheEntriesMax || (this.cachedChars > IDEMPOTENCY_CACHE_CHARS_MAX && this.cache.size > 1)) {
      this.forget(this.cache.keys().next().value!);
    }
  }

  private forget(scope: string): void {
    const cached = this.cache.get(scope);
    if (cached === undefined) return;
    this.cachedChars -= cached.response.body.length;
    this.cache.delete(scope);
  }
}

function indexEntryOf(streamId: string): number {
  const start = IDEMPOTENCY_CATEGORY.length + 1;
  return Number.parseInt(streamId.slice(start, start + INDEX_HEX_DIGITS), 16);
}

function toStoredResponse(data: unknown): StoredResponse {
  const record = data as StoredResponse;
  return {
    fingerprint: String(record.fingerprint),
    statusCode: Number(record.statusCode),
    contentType: String(record.contentType),
    body: String(record.body),
    recordedAtMs: Number(record.recordedAtMs),
  };
}
