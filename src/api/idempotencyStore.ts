import { createHash } from 'node:crypto';
import type { EventMetadata, EventStore, StreamWrite } from '../eventstore/index.ts';
import { type Clock, isDaybookError } from '../kernel/index.ts';
import { FirstEventBatcher } from './firstEventBatcher.ts';

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
 * A cache miss reads the record's stream (one index probe), batched with
 * the other misses of the same event-loop turn into one `readFirstEvents`
 * (FirstEventBatcher): under 64 concurrent clients, one store read per
 * turn instead of one per request. Memory holds
 * only the bounded cache, and opening reads nothing, so neither grows with
 * the number of keys ever recorded. (An index of every recorded key, built
 * at start, saved that read for fresh keys but grew with history and made
 * start-up as long as the list of keys.) On SQLite this process is the
 * store's only writer, so a record attached to a ledger command is the
 * key's first without reading it back; on PostgreSQL another process may
 * have recorded the key first.
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


export class IdempotencyStore {
  private readonly cache = new Map<string, { response: StoredResponse; expiresAtMs: number }>();
  private readonly locks = new Map<string, Promise<void>>();
  private cachedChars = 0;
  private readonly firstEvents: FirstEventBatcher;

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly cacheEntriesMax = IDEMPOTENCY_CACHE_ENTRIES_MAX,
  ) {
    this.firstEvents = new FirstEventBatcher(store);
  }

  /**
   * Opens the records of a store; reads nothing (see the class comment).
   *
   * @example
   * const records = await IdempotencyStore.open(store, systemClock);
   * await records.lookup(IdempotencyStore.scopeOf(keyId, 'order-17')); // undefined: never recorded
   */
  static async open(store: EventStore, clock: Clock, cacheEntriesMax = IDEMPOTENCY_CACHE_ENTRIES_MAX): Promise<IdempotencyStore> {
    return new IdempotencyStore(store, clock, cacheEntriesMax);
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
    const event = await this.firstEvents.load(IdempotencyStore.streamIdOf(scope));
    if (event === undefined) return undefined;
    const response = toStoredResponse(event.data);
    this.remember(scope, response);
    return response;
  }

  /** Records the first response; if another process recorded one first, returns that one instead. */
  async save(scope: string, record: IdempotencyRecordInput, metadata: EventMetadata): Promise<StoredResponse> {
    const streamId = IdempotencyStore.streamIdOf(scope);
    try {
      await this.store.append({
        streamId,
        expectedVersion: 'no_stream',
        events: [{ type: IDEMPOTENCY_RECORD_EVENT, data: record, metadata }],
      });
    } catch (error) {
      if (!isDaybookError(error, 'stream_version_conflict')) throw error;
      const winner = await this.winnerOf(scope);
      if (winner !== undefined) return winner;
      throw error;
    }
    const response = toStoredResponse(record);
    this.remember(scope, response);
    return response;
  }

  /**
   * The record as a write to commit with the effect it answers (the ledger
   * engine's attachment), so that one durable append holds both. Expected
   * version `no_stream`: should another process have recorded the key
   * first (both requests looked before either recorded; PostgreSQL), the
   * append is refused for this stream and the effect with it, and the
   * request answers as a retry would (`winnerOf`, AttachedRecord). Call
   * `recordedWith` once the write is durable.
   */
  attachment(scope: string, record: IdempotencyRecordInput, metadata: EventMetadata): StreamWrite {
    const streamId = IdempotencyStore.streamIdOf(scope);
    return { streamId, expectedVersion: 'no_stream', events: [{ type: IDEMPOTENCY_RECORD_EVENT, data: record, metadata }] };
  }

  /** An attached record is durable: it is the key's first (the append's expectation made sure), and later lookups answer it from memory. */
  recordedWith(scope: string, record: IdempotencyRecordInput): void {
    this.remember(scope, toStoredResponse(record));
  }

  /** True when `error` refused an attached record because the key has one already (see `attachment`). */
  static lostTo(error: unknown, scope: string): boolean {
    return isDaybookError(error, 'stream_version_conflict') && (error.details as { streamId?: unknown }).streamId === IdempotencyStore.streamIdOf(scope);
  }

  /** The record that won the key; the winner may share a group commit with the loser, so it is waited for a moment. */
  async winnerOf(scope: string): Promise<StoredResponse | undefined> {
    this.forget(scope);
    for (let attempt = 0; attempt < WINNER_READ_ATTEMPTS; attempt += 1) {
      const winner = await this.lookup(scope);
      if (winner !== undefined) return winner;
      await new Promise((resolve) => setTimeout(resolve, WINNER_READ_INTERVAL_MS));
    }
    return undefined;
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
