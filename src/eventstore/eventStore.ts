/**
 * The event store port: the one interface every backend implements and every
 * module uses. Backends live in `sqlite/` and `postgres/`; `openEventStore(url)`
 * (in `open.ts`, re-exported from the package root) picks one.
 *
 * @example
 * const store = await openEventStore('sqlite:./data/daybook.db');
 * await store.append({ streamId: 'account-42', expectedVersion: 'no_stream',
 *   events: [{ type: 'AccountOpened', data: { currency: 'USD' } }] });
 * for await (const event of store.streamAll({ after: 0n })) console.log(event.position, event.type);
 */

/** `any`: no check; `no_stream`: the stream must not exist; `exists`: it must; a bigint: its last version must be exactly this (0n = no stream). */
export type ExpectedVersion = 'any' | 'no_stream' | 'exists' | bigint;

/** Metadata carried by every event. Known keys are typed; others are kept as given. */
export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  actor?: string;
  tenant?: string;
  /** W3C trace context (`traceparent`). */
  traceparent?: string;
  tracestate?: string;
  [key: string]: unknown;
}

/** An event as the caller hands it to `append`. */
export interface NewEvent {
  /** UUIDv7 (or any UUID) chosen by the caller for idempotency; generated when absent. */
  id?: string;
  type: string;
  /** Schema version of `data`; defaults to 1. */
  schemaVersion?: number;
  data: unknown;
  metadata?: EventMetadata;
}

export interface StreamWrite {
  streamId: string;
  expectedVersion?: ExpectedVersion;
  events: readonly NewEvent[];
}

/** The stored envelope, as read back (after upcasting). */
export interface RecordedEvent<Data = unknown> {
  eventId: string;
  streamId: string;
  /** 1 for the first event of a stream, contiguous. */
  version: bigint;
  /** Global position: 1 for the first event of the store, contiguous and strictly increasing. */
  position: bigint;
  type: string;
  schemaVersion: number;
  data: Data;
  metadata: EventMetadata;
  recordedAt: Date;
  /** Hex SHA-256 over the canonical envelope and `previousHash`. */
  hash: string;
  /** Hash of the previous event of the same stream; empty for version 1. */
  previousHash: string;
}

/**
 * An event exactly as stored and hashed: data and metadata as the JSON text
 * the hash covers, no upcasting. What audits and exports need to recompute
 * hashes away from the store (see `canonicalEnvelope`).
 */
export interface RawEvent {
  eventId: string;
  streamId: string;
  version: bigint;
  position: bigint;
  type: string;
  schemaVersion: number;
  dataJson: string;
  metadataJson: string;
  recordedAtMs: number;
  hash: string;
  previousHash: string;
}

export interface ReadRawLogOptions {
  /** Events with a position strictly greater than this (default 0n). */
  after?: bigint;
  /** At most this many (default READ_PAGE_SIZE, maximum READ_BATCH_MAX). */
  limit?: number;
  /** Stop at this global position (inclusive). */
  asOfPosition?: bigint;
  /** Only streams of this category. */
  category?: string;
}

export interface AppendedEvent {
  eventId: string;
  streamId: string;
  version: bigint;
  position: bigint;
}

export interface AppendResult {
  /** Global position of the last event of this append. */
  position: bigint;
  /** Each stream written, with its version after the append. */
  streams: Array<{ streamId: string; version: bigint }>;
  events: AppendedEvent[];
  /** True when every event id already existed with the same content: nothing was written. */
  duplicate: boolean;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** First version to return (inclusive); defaults to the start (forwards) or the end (backwards). */
  fromVersion?: bigint;
  /** At most this many events (default and maximum: READ_BATCH_MAX). */
  limit?: number;
  /** Read the stream as it was when the log ended at this global position. */
  asOfPosition?: bigint;
  /** Read the stream as it was at this time (events recorded at or before it). */
  asOfTime?: Date;
}

export interface ReadAllOptions {
  /** Return events with a position strictly greater than this (default 0n: from the start). */
  after?: bigint;
  /** Only streams of this category (the stream id's prefix before the first `-`). */
  category?: string;
  /** Only these event types. */
  types?: readonly string[];
  /** At most this many events per call (default READ_PAGE_SIZE, maximum READ_BATCH_MAX). */
  limit?: number;
  /** Stop at this global position (inclusive): the log as of that position. */
  asOfPosition?: bigint;
  /** Stop at this time: the log as it was at that instant. */
  asOfTime?: Date;
  /**
   * Start at the first event recorded at or after this time (with `after`,
   * whichever is later). Found by a binary search over positions on their
   * recorded-at times (which never decrease along the log), so a read of a
   * late period does not walk the log's beginning.
   */
  sinceTime?: Date;
}

export interface SubscribeOptions {
  /** Deliver events with a position strictly greater than this. */
  after?: bigint;
  category?: string;
  types?: readonly string[];
  /**
   * Only what other processes append is wanted (a follower of their writes):
   * commits of this process are passed over once live, without a read.
   * Catch-up, and any read that a commit of another process prompts, may
   * still deliver events of this process.
   */
  othersOnly?: boolean;
}

/** A live subscription: an async iterable that catches up and then follows the log. */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  /** Stops the subscription; the iterator then ends. */
  close(): void;
}

export interface ChainBreak {
  streamId: string;
  version: bigint;
  position: bigint;
  reason: 'hash_mismatch' | 'previous_hash_mismatch' | 'version_gap' | 'position_gap' | 'head_mismatch';
  expected: string;
  actual: string;
}

export interface VerifyReport {
  ok: boolean;
  eventsChecked: number;
  streamsChecked: number;
  headPosition: bigint;
  /** The first break found, in (stream id, version) order; then position gaps. */
  firstBreak: ChainBreak | null;
}

export interface ListStreamsOptions {
  /** A stream's category is its id before the first `-` (the whole id when it has none). */
  category: string;
  /** Only ids after this one (byte order); the last id of the previous page. */
  after?: string;
  /** At most this many ids (default READ_PAGE_SIZE, at most READ_BATCH_MAX). */
  limit?: number;
}

/**
 * A snapshot whose state the caller has already serialized (a large state
 * can then be encoded a slice at a time without blocking): `stateJson` must
 * be one JSON value; `loadSnapshot` gives it back parsed, as `state`.
 */
export interface SnapshotText {
  streamId: string;
  version: bigint;
  schemaVersion: number;
  stateJson: string;
}

export interface Snapshot<State = unknown> {
  streamId: string;
  /** Stream version the snapshot reflects. */
  version: bigint;
  /** Schema version of the state; a snapshot of another schema version is ignored on load. */
  schemaVersion: number;
  state: State;
}

export interface EventStore {
  /** Appends atomically: all writes of the call or none. Resolves once durable. */
  append(writes: StreamWrite | readonly StreamWrite[]): Promise<AppendResult>;
  /** One page of a stream. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** One page of the global log. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * The events with these ids (at most READ_BATCH_MAX), in position order;
   * ids not stored are absent. A lookup through the store's unique event-id
   * index: with ids derived from a business key (a name-based UUID), the log
   * itself answers "was this recorded, and how" without a copy in memory.
   */
  readEventsById(eventIds: readonly string[]): Promise<RecordedEvent[]>;
  /**
   * The first event (version 1) of each of these streams, in one read (at
   * most READ_BATCH_MAX ids; a repeated id counts once), keyed by stream id;
   * streams that do not exist are absent. For callers that ask "was this
   * recorded" of many single-event streams at once (idempotency records):
   * one round trip instead of one `readStream` each.
   *
   * @example
   * const found = await store.readFirstEvents(['idempotency-a1', 'idempotency-b2']);
   * found.get('idempotency-a1')?.data; // undefined when never recorded
   */
  readFirstEvents(streamIds: readonly string[]): Promise<Map<string, RecordedEvent>>;
  /** One page of the global log as stored (JSON text as hashed, not upcast), in position order: for audits and exports. */
  readRawLog(options?: ReadRawLogOptions): Promise<RawEvent[]>;
  /** The whole (filtered) global log, paged underneath so memory stays flat. */
  streamAll(options?: Omit<ReadAllOptions, 'limit'>): AsyncIterable<RecordedEvent>;
  /** Catch up from `after`, then follow live; never skips, never duplicates. */
  subscribe(options?: SubscribeOptions): Subscription;
  /** Global position of the newest durable event (0n when empty). */
  headPosition(): Promise<bigint>;
  /** Current version of a stream (0n when it does not exist). */
  streamVersion(streamId: string): Promise<bigint>;
  /**
   * One page of the ids of a category's streams, in byte order, after a
   * cursor (the last id of the previous page): reads the stream index
   * only, no event, so listing a large category stays cheap.
   */
  listStreams(options: ListStreamsOptions): Promise<string[]>;
  /** Recomputes every hash chain; reports the first break. */
  verify(): Promise<VerifyReport>;
  /**
   * Runs `run` while holding the named lock, against every other holder of
   * the same name in every process using this store (PostgreSQL: an advisory
   * lock on a connection of its own; SQLite has one writing process, so a
   * lock within it). For work of several steps that must not interleave with
   * another's (closing an account while it is frozen, say); the log's
   * expected versions remain what keeps each single write consistent.
   * Released when `run` settles, or when the process dies. Do not take one
   * lock inside another's `run`: on PostgreSQL a process holds at most a few
   * lock connections, and nested holders could wait on each other for one.
   */
  lock<T>(name: string, run: () => Promise<T>): Promise<T>;
  /** Keeps the newest snapshot per (stream, schema version): an older version never replaces a newer one. */
  saveSnapshot(snapshot: Snapshot | SnapshotText): Promise<void>;
  /** The snapshot of this stream at this schema version, or null (also when only other schema versions exist). */
  loadSnapshot<State = unknown>(streamId: string, schemaVersion: number): Promise<Snapshot<State> | null>;
  /** The same, with the state as the JSON text that was saved (to check it against a digest, say). */
  loadSnapshotText(streamId: string, schemaVersion: number): Promise<SnapshotText | null>;
  /**
   * Optional: a store that changes what reads of a stream return after the
   * fact (crypto-shredding: an erased subject's personal data reads as
   * placeholders) calls `listener` with the stream id, so that holders of
   * states folded from earlier reads drop them. Backends leave it out.
   */
  onStreamInvalidated?(listener: (streamId: string) => void): () => void;
  /** Observers for metrics: called after each durable batch. */
  onAppended(listener: (info: { events: number; durationMs: number }) => void): () => void;
  close(): Promise<void>;
  readonly backend: 'sqlite' | 'postgres';
}

/** Category of a stream id: its prefix before the first `-` (the whole id when it has none). */
export function categoryOf(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash === -1 ? streamId : streamId.slice(0, dash);
}
