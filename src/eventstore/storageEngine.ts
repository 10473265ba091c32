import type { AppendResult } from './eventStore.ts';
import type { PreparedAppend } from './prepareAppend.ts';
import type { StoredRow } from './storedRow.ts';

/** What a backend provides; `createEventStore` builds the public port on top. Internal to `eventstore/`. */
export interface StorageEngine {
  readonly backend: 'sqlite' | 'postgres';
  /** Appends one validated call atomically and durably (group-committed underneath). */
  append(append: PreparedAppend): Promise<AppendResult>;
  readStreamRows(streamId: string, query: StreamQuery): Promise<StoredRow[]>;
  readAllRows(query: LogQuery): Promise<StoredRow[]>;
  /** Rows with these event ids (at most READ_BATCH_MAX), in position order; ids not stored are absent. */
  readRowsByEventIds(eventIds: readonly string[]): Promise<StoredRow[]>;
  /** The version-1 row of each of these streams (distinct, valid, at most READ_BATCH_MAX ids), in any order; streams not stored are absent. */
  readFirstRows(streamIds: readonly string[]): Promise<StoredRow[]>;
  /** Rows ordered by (stream id, version), strictly after the cursor. */
  readChainRows(after: { streamId: string; version: bigint } | null, limit: number): Promise<StoredRow[]>;
  /** The first missing global position between 1 and the highest stored one, or null. */
  findPositionGap(): Promise<{ missing: bigint } | null>;
  /** Highest stored position, and the head the store recorded for itself (they must agree). */
  heads(): Promise<{ maxStored: bigint; recorded: bigint }>;
  /** Global position of the newest durable event visible to readers. */
  headPosition(): Promise<bigint>;
  recordedAtOf(position: bigint): Promise<number | null>;
  streamVersion(streamId: string): Promise<bigint>;
  /** Ids of streams whose id is `category` or starts with `category-`, in byte order, strictly after `after`. */
  listStreams(category: string, after: string | null, limit: number): Promise<string[]>;
  saveSnapshot(snapshot: { streamId: string; version: bigint; schemaVersion: number; stateJson: string }): Promise<void>;
  loadSnapshot(streamId: string, schemaVersion: number): Promise<{ version: bigint; stateJson: string } | null>;
  /**
   * Called with the new head after each durable commit (PostgreSQL: also
   * commits of other processes). For a batch this process wrote, `batch`
   * says what the positions from `batch.from` to `head` hold: subscriptions
   * to other categories skip them without a read.
   */
  onCommitted(listener: (head: bigint, batch?: CommittedBatch) => void): () => void;
  /** Called after each durable batch, for metrics. */
  onBatch(listener: (info: { events: number; durationMs: number }) => void): () => void;
  /** Holds a lock that other processes of this store see (backends with several writing processes); absent: one process, in-process locks suffice. */
  crossProcessLock?<T>(name: string, run: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A batch this process committed: every position from `from` to the announced head, and the categories of their streams. */
export interface CommittedBatch {
  from: bigint;
  categories: ReadonlySet<string>;
}

export interface StreamQuery {
  direction: 'forwards' | 'backwards';
  fromVersion: bigint | null;
  limit: number;
  maxPosition: bigint | null;
}

export interface LogQuery {
  after: bigint;
  category: string | null;
  types: readonly string[] | null;
  limit: number;
  maxPosition: bigint | null;
}
