import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { assert } from '../../kernel/assert.ts';
import { type Clock, systemClock } from '../../kernel/clock.ts';
import { DaybookError } from '../../kernel/errors.ts';
import { uuidToBytes } from '../../kernel/ids.ts';
import { type AppendResult, categoryOf } from '../eventStore.ts';
import { GroupCommitQueue, type Pending } from '../groupCommit.ts';
import { eventHash } from '../hashChain.ts';
import { duplicateOutcome, meetsExpectation, type PreparedAppend, versionConflict } from '../prepareAppend.ts';
import type { StorageEngine } from '../storageEngine.ts';
import type { StoredRow } from '../storedRow.ts';
import { acquireWriterLock, type WriterLock } from './writerLock.ts';
import { migrateSqlite, pendingSqliteMigrations } from './migrate.ts';
import { SqliteReader } from './sqliteReader.ts';

export interface SqliteEngineOptions {
  path: string;
  clock?: Clock;
  /** Open for reading only: no writer lock, no migrations, appends refused. Other processes may read while a server writes. */
  readOnly?: boolean;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** Most streams whose head (version, hash) is kept in memory. */
  streamCacheSize?: number;
}

interface StreamHead {
  version: number;
  hash: string;
  /** Position of the stream's last event: an entry newer than the committed head is never evicted. */
  position: number;
}

type Item = PreparedAppend;
type Batch = Pending<Item, AppendResult>[];

interface InFlight {
  id: number;
  batch: Batch;
  results: AppendResult[];
  lastPosition: number;
  lastRecordedAt: number;
  events: number;
  eventIds: string[];
}

/**
 * SQLite backend. One process writes (a lock file enforces it); inside it the
 * main thread decides each batch against an in-memory cache of stream heads
 * (exact, since nobody else writes), assigns positions, versions and hashes,
 * and hands the rows to a writer thread that commits them durably
 * (WAL, synchronous=FULL). Two batches may be in flight: while one is being
 * fsynced the next is prepared.
 */
export async function openSqliteEngine(options: SqliteEngineOptions): Promise<StorageEngine> {
  const path = options.path;
  const clock = options.clock ?? systemClock;
  if (!options.readOnly) mkdirSync(dirname(path), { recursive: true });
  const lock = options.readOnly ? null : acquireWriterLock(path);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: false, fileMustExist: options.readOnly === true, timeout: 5000 });
    db.pragma('journal_mode = WAL');
    if (!options.readOnly && options.migrate !== false) migrateSqlite(db);
    const pending = pendingSqliteMigrations(db);
    if (pending.length > 0) {
      throw new DaybookError('migration_failed', `store at ${path} has ${pending.length} pending migration(s): run \`daybook migrate\``, { pending: pending.map((m) => m.name) });
    }
    db.pragma('query_only = ON');
  } catch (error) {
    lock?.release();
    if ((error as { code?: string }).code === 'SQLITE_CANTOPEN') {
      throw new DaybookError('store_unavailable', `cannot open SQLite store at ${path}`, { path });
    }
    throw error;
  }
  const reader = new SqliteReader(db);
  if (options.readOnly) return readOnlyEngine(reader, db);
  const worker = await startWriter(path, lock!, db);
  return new SqliteWriterEngine(reader, db, worker, lock!, clock, options.streamCacheSize ?? 100_000);
}

async function startWriter(path: string, lock: WriterLock, db: Database.Database): Promise<Worker> {
  const worker = new Worker(new URL('./sqliteWriter.worker.mjs', import.meta.url), { workerData: { path } });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
  } catch (error) {
    db.close();
    lock.release();
    throw new DaybookError('store_unavailable', `SQLite writer thread failed to start: ${(error as Error).message}`);
  }
  return worker;
}

function readOnlyEngine(reader: SqliteReader, db: Database.Database): StorageEngine {
  const refuse = (): never => { throw new DaybookError('validation_failed', 'this store was opened read-only'); };
  return {
    backend: 'sqlite',
    append: async () => refuse(),
    ...reader.methods(),
    headPosition: async () => reader.maxPosition(),
    saveSnapshot: async () => refuse(),
    onCommitted: () => () => {},
    onBatch: () => () => {},
    close: async () => { db.close(); },
  };
}

class SqliteWriterEngine implements StorageEngine {
  readonly backend = 'sqlite' as const;
  private readonly queue: GroupCommitQueue<Item, AppendResult>;
  private readonly streamHeads = new Map<string, StreamHead>();
  private readonly inFlight = new Map<number, InFlight>();
  private readonly inFlightIds = new Set<string>();
  private readonly committedListeners = new Set<(head: bigint) => void>();
  private readonly batchListeners = new Set<(info: { events: number; durationMs: number }) => void>();
  private nextBatchId = 1;
  private committedPosition: number;
  private assignedPosition: number;
  private lastRecordedAt: number;
  private closed = false;

  constructor(
    private readonly reader: SqliteReader,
    private readonly db: Database.Database,
    private readonly worker: Worker,
    private readonly lock: WriterLock,
    private readonly clock: Clock,
    private readonly streamCacheSize: number,
  ) {
    const head = reader.recordedHead();
    this.committedPosition = head.position;
    this.assignedPosition = head.position;
    this.lastRecordedAt = head.recordedAt;
    this.queue = new GroupCommitQueue((batch) => this.runBatch(batch), 2);
    worker.on('message', (message: WorkerReply) => this.onWorkerMessage(message));
    worker.on('error', (error) => this.failAll(`writer thread crashed: ${error.message}`));
  }

  append(append: PreparedAppend): Promise<AppendResult> {
    return this.queue.submit(append, append.eventCount);
  }

  /** Decides one batch synchronously (so batches are prepared in order) and sends it to the writer. */
  private runBatch(batch: Batch): Promise<void> {
    const rows = new BatchRows(this.assignedPosition + 1);
    const accepted: Batch = [];
    const results: AppendResult[] = [];
    const deferred: Batch = [];
    const known = this.lookupCallerIds(batch);
    const batchIds = new Set<string>();
    const recordedAt = Math.max(this.clock.nowMs(), this.lastRecordedAt);
    for (const pending of batch) {
      const append = pending.item;
      if (append.hasCallerIds && this.mustWait(append, batchIds)) { deferred.push(pending); continue; }
      if (append.hasCallerIds && append.writes.some((w) => w.events.some((e) => known.has(e.eventId)))) {
        const outcome = duplicateOutcome(append, known);
        if (outcome instanceof DaybookError) pending.reject(outcome);
        else pending.resolve(outcome);
        continue;
      }
      const conflict = this.checkExpectations(append);
      if (conflict) { pending.reject(conflict); continue; }
      results.push(this.assign(append, rows, recordedAt, batchIds));
      accepted.push(pending);
    }
    if (deferred.length > 0) this.queue.requeue(deferred);
    if (accepted.length === 0) return Promise.resolve();
    return this.send(accepted, results, rows, recordedAt, [...batchIds]);
  }

  private send(accepted: Batch, results: AppendResult[], rows: BatchRows, recordedAt: number, eventIds: string[]): Promise<void> {
    const id = this.nextBatchId++;
    this.assignedPosition = rows.lastPosition;
    this.lastRecordedAt = recordedAt;
    for (const eventId of eventIds) this.inFlightIds.add(eventId);
    return new Promise<void>((resolve) => {
      const entry: InFlight = { id, batch: accepted, results, lastPosition: rows.lastPosition, lastRecordedAt: recordedAt, events: rows.count, eventIds };
      this.inFlight.set(id, entry);
      (entry as InFlight & { done?: () => void }).done = resolve;
      this.worker.postMessage({ kind: 'commit', id, batch: rows.toMessage() });
    });
  }

  /** An id in flight or already used in this batch must wait for that commit to be readable. */
  private mustWait(append: PreparedAppend, batchIds: Set<string>): boolean {
    return append.writes.some((w) => w.events.some((e) => e.callerSuppliedId && (this.inFlightIds.has(e.eventId) || batchIds.has(e.eventId))));
  }

  private lookupCallerIds(batch: Batch): Map<string, StoredRow> {
    const ids: string[] = [];
    for (const { item } of batch) {
      if (!item.hasCallerIds) continue;
      for (const write of item.writes) for (const event of write.events) if (event.callerSuppliedId) ids.push(event.eventId);
    }
    return ids.length === 0 ? new Map() : this.reader.rowsByEventIds(ids);
  }

  private checkExpectations(append: PreparedAppend): DaybookError | null {
    for (const write of append.writes) {
      if (write.expected === 'any') continue;
      const actual = BigInt(this.headOf(write.streamId)?.version ?? 0);
      if (!meetsExpectation(write.expected, actual)) return versionConflict(write.streamId, write.expected, actual);
    }
    return null;
  }

  private headOf(streamId: string): StreamHead | undefined {
    const cached = this.streamHeads.get(streamId);
    if (cached) return cached;
    const stored = this.reader.streamHead(streamId);
    if (stored) this.remember(streamId, stored);
    return stored ?? undefined;
  }

  private remember(streamId: string, head: StreamHead): void {
    this.streamHeads.delete(streamId);
    this.streamHeads.set(streamId, head);
    if (this.streamHeads.size <= this.streamCacheSize) return;
    // Evict the least recently used heads, except those of batches not yet committed.
    for (const [key, value] of this.streamHeads) {
      if (this.streamHeads.size <= this.streamCacheSize) break;
      if (value.position <= this.committedPosition) this.streamHeads.delete(key);
    }
  }

  private assign(append: PreparedAppend, rows: BatchRows, recordedAt: number, batchIds: Set<string>): AppendResult {
    const result: AppendResult = { position: 0n, streams: [], events: [], duplicate: false };
    for (const write of append.writes) {
      const head = this.headOf(write.streamId);
      let version = head?.version ?? 0;
      let previousHash = head?.hash ?? '';
      const category = categoryOf(write.streamId);
      for (const event of write.events) {
        version += 1;
        const position = rows.nextPosition;
        const hash = eventHash({
          eventId: event.eventId, streamId: write.streamId, version, position, type: event.type, schemaVersion: event.schemaVersion,
          recordedAtMs: recordedAt, dataJson: event.dataJson, metadataJson: event.metadataJson, previousHash,
        });
        rows.push(event.eventId, write.streamId, version, category, event.type, event.schemaVersion, event.dataJson, event.metadataJson, recordedAt, hash, previousHash);
        if (event.callerSuppliedId) batchIds.add(event.eventId);
        result.events.push({ eventId: event.eventId, streamId: write.streamId, version: BigInt(version), position: BigInt(position) });
        previousHash = hash;
      }
      this.remember(write.streamId, { version, hash: previousHash, position: rows.lastPosition });
      result.streams.push({ streamId: write.streamId, version: BigInt(version) });
    }
    result.position = BigInt(rows.lastPosition);
    return result;
  }

  private onWorkerMessage(message: WorkerReply): void {
    if (message.kind === 'ready' || message.kind === 'closed') return;
    const entry = this.inFlight.get(message.id) as (InFlight & { done: () => void }) | undefined;
    assert(entry, `writer replied for unknown batch ${message.id}`);
    this.inFlight.delete(message.id);
    for (const eventId of entry.eventIds) this.inFlightIds.delete(eventId);
    if (message.kind === 'committed') {
      assert(entry.lastPosition > this.committedPosition, 'batches commit in order');
      this.committedPosition = entry.lastPosition;
      entry.batch.forEach((pending, index) => pending.resolve(entry.results[index]!));
      entry.done();
      for (const listener of this.batchListeners) listener({ events: entry.events, durationMs: message.durationMs });
      for (const listener of this.committedListeners) listener(BigInt(this.committedPosition));
      return;
    }
    this.resetAfterFailure();
    const error = new DaybookError('store_unavailable', `append failed, nothing of it was written: ${message.error}`);
    for (const pending of entry.batch) pending.reject(error);
    entry.done();
  }

  /** A failed batch invalidates every later prepared one: forget the optimistic view and start again from what is durable. */
  private resetAfterFailure(): void {
    this.streamHeads.clear();
    this.assignedPosition = this.committedPosition;
    this.worker.postMessage({ kind: 'reset' });
  }

  private failAll(reason: string): void {
    const error = new DaybookError('store_unavailable', reason);
    for (const entry of this.inFlight.values()) {
      for (const pending of entry.batch) pending.reject(error);
      (entry as InFlight & { done: () => void }).done();
    }
    this.inFlight.clear();
    this.inFlightIds.clear();
    this.streamHeads.clear();
  }

  readStreamRows: StorageEngine['readStreamRows'] = (streamId, query) => this.reader.methods().readStreamRows(streamId, query);
  readAllRows: StorageEngine['readAllRows'] = (query) => this.reader.methods().readAllRows(query);
  readChainRows: StorageEngine['readChainRows'] = (after, limit) => this.reader.methods().readChainRows(after, limit);
  findPositionGap: StorageEngine['findPositionGap'] = () => this.reader.methods().findPositionGap();
  heads: StorageEngine['heads'] = () => this.reader.methods().heads();
  recordedAtOf: StorageEngine['recordedAtOf'] = (position) => this.reader.methods().recordedAtOf(position);
  loadSnapshot: StorageEngine['loadSnapshot'] = (streamId, schemaVersion) => this.reader.methods().loadSnapshot(streamId, schemaVersion);

  async headPosition(): Promise<bigint> {
    return BigInt(this.committedPosition);
  }

  async streamVersion(streamId: string): Promise<bigint> {
    return this.reader.methods().streamVersion(streamId);
  }

  async saveSnapshot(snapshot: { streamId: string; version: bigint; schemaVersion: number; stateJson: string }): Promise<void> {
    this.reader.saveSnapshot(snapshot, this.clock.nowMs());
  }

  onCommitted(listener: (head: bigint) => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  onBatch(listener: (info: { events: number; durationMs: number }) => void): () => void {
    this.batchListeners.add(listener);
    return () => this.batchListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.drain();
    await new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.once('message', () => { void this.worker.terminate(); });
      this.worker.postMessage({ kind: 'close' });
    });
    this.db.close();
    this.lock.release();
  }
}

type WorkerReply =
  | { kind: 'ready' }
  | { kind: 'closed' }
  | { kind: 'committed'; id: number; durationMs: number }
  | { kind: 'failed'; id: number; error: string };

/** A batch's rows in columns, in the shape the writer thread inserts. */
class BatchRows {
  count = 0;
  private readonly streamIds: string[] = [];
  private readonly versions: number[] = [];
  private readonly categories: string[] = [];
  private readonly types: string[] = [];
  private readonly schemaVersions: number[] = [];
  private readonly data: string[] = [];
  private readonly metadata: string[] = [];
  private readonly recordedAt: number[] = [];
  private readonly eventIds: string[] = [];
  private readonly hashes: string[] = [];
  private readonly previousHashes: string[] = [];

  constructor(readonly firstPosition: number) {}

  get nextPosition(): number {
    return this.firstPosition + this.count;
  }

  get lastPosition(): number {
    return this.firstPosition + this.count - 1;
  }

  push(eventId: string, streamId: string, version: number, category: string, type: string, schemaVersion: number, dataJson: string, metadataJson: string, recordedAt: number, hash: string, previousHash: string): void {
    this.eventIds.push(eventId);
    this.streamIds.push(streamId);
    this.versions.push(version);
    this.categories.push(category);
    this.types.push(type);
    this.schemaVersions.push(schemaVersion);
    this.data.push(dataJson);
    this.metadata.push(metadataJson);
    this.recordedAt.push(recordedAt);
    this.hashes.push(hash);
    this.previousHashes.push(previousHash);
    this.count += 1;
  }

  toMessage(): Record<string, unknown> {
    // Unpooled buffers: cloning a pooled one would copy the whole pool.
    const eventIds = Buffer.alloc(this.count * 16);
    const hashes = Buffer.alloc(this.count * 32);
    const previousHashes = Buffer.alloc(this.count * 32);
    for (let i = 0; i < this.count; i += 1) {
      uuidToBytes(this.eventIds[i]!).copy(eventIds, i * 16);
      hashes.write(this.hashes[i]!, i * 32, 'hex');
      if (this.previousHashes[i]) previousHashes.write(this.previousHashes[i]!, i * 32, 'hex');
    }
    return {
      count: this.count, firstPosition: this.firstPosition, eventIds, streamIds: this.streamIds, versions: this.versions,
      categories: this.categories, types: this.types, schemaVersions: this.schemaVersions, data: this.data, metadata: this.metadata,
      recordedAt: this.recordedAt, hashes, previousHashes,
    };
  }
}
