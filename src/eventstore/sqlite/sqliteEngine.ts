import { existsSync, statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { assert } from '../../kernel/assert.ts';
import { type Clock, systemClock } from '../../kernel/clock.ts';
import { DaybookError } from '../../kernel/errors.ts';
import { ensurePrivateFile } from '../../kernel/privateFiles.ts';
import { type AppendResult, categoryOf } from '../eventStore.ts';
import { eventHashBytes } from '../hashChain.ts';
import { duplicateOutcome, meetsExpectation, type PreparedAppend, versionConflict } from '../prepareAppend.ts';
import { type BatchInfo, Listeners } from '../listeners.ts';
import type { CommittedBatch, StorageEngine } from '../storageEngine.ts';
import type { StoredRow } from '../storedRow.ts';
import { acquireWriterLock, type WriterLock } from './writerLock.ts';
import { migrateSqlite, pendingSqliteMigrations } from './migrate.ts';
import { SqliteReader } from './sqliteReader.ts';
import { BatchEncoder } from './batchEncoding.ts';
import { StreamPresence } from './streamPresence.ts';
import { type SqliteTuning, sqliteTuningFromEnv } from './sqliteTuning.ts';
import { APPEND_QUEUE_MAX, GROUP_COMMIT_EVENTS_MAX } from '../../kernel/limits.ts';

export interface SqliteEngineOptions {
  path: string;
  clock?: Clock;
  /** Open for reading only: no writer lock, no migrations, appends refused. Other processes may read while a server writes. */
  readOnly?: boolean;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  /** Page cache, stream-head cache and page size (default: from the environment, see sqliteTuning.ts). */
  tuning?: SqliteTuning;
}

/** What the stream-head cache is cut to once it is over its size (a fraction of it). */
const STREAM_CACHE_EVICT_TO = 0.9;

interface StreamHead {
  version: number;
  hash: string;
  /** Position of the stream's last event: an entry newer than the committed head is never evicted. */
  position: number;
}

interface Waiting {
  append: PreparedAppend;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/** The batch being filled on the main thread, or the one the writer thread is committing. */
interface Batch {
  id: number;
  rows: BatchEncoder;
  waiting: Waiting[];
  results: AppendResult[];
  callerIds: Set<string>;
  /** Categories of the streams the batch writes (announced with its commit, see CommittedBatch). */
  categories: Set<string>;
}

/**
 * SQLite backend. One process writes (a lock file enforces it); inside it the
 * main thread decides each batch against an in-memory cache of stream heads
 * (exact, since nobody else writes), assigns positions, versions and hashes,
 * and hands the rows to a writer thread that commits them durably
 * (WAL, synchronous=FULL). The writer commits one batch at a time; while it
 * does, the main thread keeps deciding new appends into the next batch, which
 * leaves the moment the writer is free: group commit with the preparation
 * of batch N+1 overlapping the fsync of batch N.
 */
export async function openSqliteEngine(options: SqliteEngineOptions): Promise<StorageEngine> {
  const path = options.path;
  const clock = options.clock ?? systemClock;
  if (options.readOnly && !existsSync(path)) throw new DaybookError('store_unavailable', `no SQLite store at ${path}`, { path });
  // The log is the owner's alone: folder 0700, file 0600 (its -wal and -shm follow the file's mode).
  if (!options.readOnly) ensurePrivateFile(path);
  const tuning = options.tuning ?? sqliteTuningFromEnv();
  const lock = options.readOnly ? null : acquireWriterLock(path);
  let db: Database.Database;
  try {
    // ensurePrivateFile made an empty file for a new store: SQLite creates the database in it.
    const creating = !options.readOnly && statSync(path).size === 0;
    db = new Database(path, { readonly: false, fileMustExist: options.readOnly === true, timeout: 5000 });
    // The page size of a new file must be set before it enters WAL mode.
    if (creating) db.pragma(`page_size = ${tuning.pageSize}`);
    db.pragma('journal_mode = WAL');
    db.pragma(`cache_size = ${-tuning.pageCacheMb * 1024}`);
    if (!options.readOnly && options.migrate !== false) migrateSqlite(db);
    const pending = pendingSqliteMigrations(db);
    if (pending.length > 0) {
      throw new DaybookError('migration_failed', `store at ${path} has ${pending.length} pending migration(s): run \`daybook migrate\``, { pending: pending.map((m) => m.name) });
    }
    db.pragma('query_only = ON');
  } catch (error) {
    // `db` is unset when the constructor itself threw.
    if (db! !== undefined && db.open) db.close();
    lock?.release();
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_CANTOPEN') {
      throw new DaybookError('store_unavailable', `cannot open SQLite store at ${path}`, { path });
    }
    if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
      throw new DaybookError('integrity_violation', `the SQLite store at ${path} is damaged or is not a Daybook store (${(error as Error).message}): restore it from a backup`, { path, sqlite: code });
    }
    throw error;
  }
  const reader = new SqliteReader(db);
  if (options.readOnly) return readOnlyEngine(reader, db);
  const worker = await startWriter(path, lock!, db, tuning);
  const checkpointer = await startWriter(path, lock!, db, tuning, './sqliteCheckpointer.worker.mjs');
  return new SqliteWriterEngine(reader, db, worker, checkpointer, lock!, clock, tuning.streamHeadCacheSize);
}

async function startWriter(path: string, lock: WriterLock, db: Database.Database, tuning: SqliteTuning, file = './sqliteWriter.worker.mjs'): Promise<Worker> {
  const worker = new Worker(new URL(file, import.meta.url), { workerData: { path, pageCacheMb: tuning.pageCacheMb } });
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
  private readonly incoming: Waiting[] = [];
  private incomingEvents = 0;
  private readonly streamHeads = new Map<string, StreamHead>();
  /** Which streams may exist: a question about one that cannot is answered without a read (see streamPresence.ts). */
  readonly presence: StreamPresence;
  private readonly committedListeners = new Listeners<{ head: bigint; batch?: CommittedBatch }>();
  private readonly batchListeners = new Listeners<BatchInfo>();
  private filling: Batch | null = null;
  private committing: Batch | null = null;
  private nextBatchId = 1;
  private committedPosition: number;
  private assignedPosition: number;
  private lastRecordedAt: number;
  private prepareScheduled = false;
  private readonly snapshotSaves = new Map<number, { resolve(): void; reject(error: unknown): void }>();
  private nextSnapshotId = 1;
  private closing = false;
  private closed = false;

  constructor(
    private readonly reader: SqliteReader,
    private readonly db: Database.Database,
    private readonly worker: Worker,
    private readonly checkpointer: Worker,
    private readonly lock: WriterLock,
    private readonly clock: Clock,
    private readonly streamCacheSize: number,
  ) {
    const head = reader.recordedHead();
    this.committedPosition = head.position;
    this.assignedPosition = head.position;
    this.lastRecordedAt = head.recordedAt;
    // Every stream this process writes is added from here on (assign); the scan adds those already there. A failed scan leaves it
    // incomplete, and an incomplete one sends every question to the database as before.
    this.presence = new StreamPresence(head.position);
    this.presence.scan(db).catch(() => {});
    worker.on('message', (message: WorkerReply) => this.onWorkerMessage(message));
    checkpointer.on('message', (message: CheckpointerReply) => this.onCheckpointerMessage(message));
    checkpointer.on('error', (error) => {
      for (const waiting of this.snapshotSaves.values()) waiting.reject(new DaybookError('store_unavailable', `the checkpointer thread crashed: ${error.message}`));
      this.snapshotSaves.clear();
    });
    worker.on('error', (error) => this.failEverything(`writer thread crashed: ${error.message}`));
  }

  append(append: PreparedAppend): Promise<AppendResult> {
    if (this.closing) return Promise.reject(new DaybookError('store_closed', 'the event store is closed'));
    if (this.incomingEvents + append.eventCount > APPEND_QUEUE_MAX) {
      return Promise.reject(new DaybookError('limit_exceeded', `append queue is full (${APPEND_QUEUE_MAX} events waiting); retry later`, { limit: APPEND_QUEUE_MAX }));
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.incoming.push({ append, resolve, reject });
      this.incomingEvents += append.eventCount;
      this.schedulePrepare();
    });
  }

  /** Appends arriving in the same turn of the event loop are decided together. */
  private schedulePrepare(): void {
    if (this.prepareScheduled) return;
    this.prepareScheduled = true;
    setImmediate(() => {
      this.prepareScheduled = false;
      this.prepareIncoming();
      this.sendIfIdle();
    });
  }

  /** Decides waiting appends into the filling batch, in arrival order, until it is full. */
  private prepareIncoming(): void {
    if (this.incoming.length === 0) return;
    const taken = this.incoming.splice(0, this.incoming.length);
    this.incomingEvents = 0;
    const known = this.lookupCallerIds(taken);
    const recordedAt = Math.max(this.clock.nowMs(), this.lastRecordedAt);
    this.lastRecordedAt = recordedAt;
    const later: Waiting[] = [];
    for (const waiting of taken) {
      const batch = this.fillingBatch();
      if (later.length > 0 || batch.rows.count + waiting.append.eventCount > GROUP_COMMIT_EVENTS_MAX && batch.rows.count > 0) {
        later.push(waiting);
        continue;
      }
      this.decide(waiting, batch, known, recordedAt, later);
    }
    if (later.length > 0) this.requeue(later);
    if (this.filling && this.filling.rows.count === 0) this.filling = null;
  }

  private decide(waiting: Waiting, batch: Batch, known: Map<string, StoredRow>, recordedAt: number, later: Waiting[]): void {
    const append = waiting.append;
    if (append.hasCallerIds) {
      // An id still on its way to disk is not yet readable: wait for that commit, then compare.
      if (this.idInFlight(append, batch)) { later.push(waiting); return; }
      if (append.writes.some((w) => w.events.some((e) => known.has(e.eventId)))) {
        const outcome = duplicateOutcome(append, known);
        if (outcome instanceof DaybookError) waiting.reject(outcome);
        else waiting.resolve(outcome);
        return;
      }
    }
    const conflict = this.checkExpectations(append);
    if (conflict) {
      // A conflict with a write not yet durable waits for it: if that write failed, this append might not conflict at all.
      if (this.touchesUncommitted(append)) later.push(waiting);
      else waiting.reject(conflict);
      return;
    }
    batch.results.push(this.assign(append, batch, recordedAt));
    batch.waiting.push(waiting);
  }

  private requeue(waiting: Waiting[]): void {
    this.incoming.unshift(...waiting);
    for (const entry of waiting) this.incomingEvents += entry.append.eventCount;
  }

  private fillingBatch(): Batch {
    this.filling ??= { id: this.nextBatchId++, rows: new BatchEncoder(this.assignedPosition + 1), waiting: [], results: [], callerIds: new Set(), categories: new Set() };
    return this.filling;
  }

  private sendIfIdle(): void {
    if (this.committing || !this.filling || this.filling.rows.count === 0) return;
    const batch = this.filling;
    this.filling = null;
    this.committing = batch;
    const payload = batch.rows.finish();
    this.worker.postMessage({ kind: 'commit', id: batch.id, batch: payload }, [payload]);
  }

  private idInFlight(append: PreparedAppend, filling: Batch): boolean {
    const committing = this.committing?.callerIds;
    return append.writes.some((w) => w.events.some((e) => e.callerSuppliedId && (filling.callerIds.has(e.eventId) || committing?.has(e.eventId))));
  }

  private lookupCallerIds(waiting: Waiting[]): Map<string, StoredRow> {
    const ids: string[] = [];
    for (const { append } of waiting) {
      if (!append.hasCallerIds) continue;
      for (const write of append.writes) for (const event of write.events) if (event.callerSuppliedId) ids.push(event.eventId);
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

  private touchesUncommitted(append: PreparedAppend): boolean {
    return append.writes.some((write) => (this.streamHeads.get(write.streamId)?.position ?? 0) > this.committedPosition);
  }

  private headOf(streamId: string): StreamHead | undefined {
    const cached = this.streamHeads.get(streamId);
    if (cached) return cached;
    if (!this.presence.mayExist(streamId)) return undefined;
    const stored = this.reader.streamHead(streamId);
    if (stored) this.remember(streamId, stored);
    return stored ?? undefined;
  }

  private remember(streamId: string, head: StreamHead): void {
    this.streamHeads.delete(streamId);
    this.streamHeads.set(streamId, head);
    if (this.streamHeads.size <= this.streamCacheSize) return;
    // Evict the least recently used tenth in one walk, except heads of batches not yet committed.
    // A walk per insert (evicting one) re-skipped every slot the earlier walks had emptied at the
    // Map's front: once more streams than the cache holds had been written, it took 66% of this
    // thread and appends ran at half their rate.
    const target = Math.floor(this.streamCacheSize * STREAM_CACHE_EVICT_TO);
    for (const [key, value] of this.streamHeads) {
      if (this.streamHeads.size <= target) break;
      if (value.position <= this.committedPosition) this.streamHeads.delete(key);
    }
  }

  private assign(append: PreparedAppend, batch: Batch, recordedAt: number): AppendResult {
    const rows = batch.rows;
    const result: AppendResult = { position: 0n, streams: [], events: [], duplicate: false };
    for (const write of append.writes) {
      const head = this.headOf(write.streamId);
      this.presence.add(write.streamId);
      let version = head?.version ?? 0;
      let previousHash = head?.hash ?? '';
      const category = categoryOf(write.streamId);
      batch.categories.add(category);
      for (const event of write.events) {
        version += 1;
        const position = rows.nextPosition;
        const hash = eventHashBytes({
          eventId: event.eventId, streamId: write.streamId, version, position, type: event.type, schemaVersion: event.schemaVersion,
          recordedAtMs: recordedAt, dataJson: event.dataJson, metadataJson: event.metadataJson, previousHash,
        });
        rows.push({
          eventId: event.eventId, hash, previousHash: previousHash ? Buffer.from(previousHash, 'hex') : null, version, recordedAt,
          schemaVersion: event.schemaVersion, streamId: write.streamId, category, type: event.type, dataJson: event.dataJson, metadataJson: event.metadataJson,
        });
        if (event.callerSuppliedId) batch.callerIds.add(event.eventId);
        result.events.push({ eventId: event.eventId, streamId: write.streamId, version: BigInt(version), position: BigInt(position) });
        previousHash = hash.toString('hex');
      }
      this.remember(write.streamId, { version, hash: previousHash, position: rows.lastPosition });
      result.streams.push({ streamId: write.streamId, version: BigInt(version) });
    }
    this.assignedPosition = rows.lastPosition;
    result.position = BigInt(rows.lastPosition);
    return result;
  }

  private onWorkerMessage(message: WorkerReply): void {
    if (message.kind === 'ready' || message.kind === 'closed') return;
    const batch = this.committing;
    assert(batch && batch.id === message.id, `writer replied for batch ${message.id}, not the one committing`);
    this.committing = null;
    if (message.kind === 'failed') {
      this.recoverFromFailure(batch, message.error);
      return;
    }
    assert(batch.rows.lastPosition > this.committedPosition, 'batches commit in position order');
    const from = BigInt(this.committedPosition + 1);
    this.committedPosition = batch.rows.lastPosition;
    batch.waiting.forEach((waiting, index) => waiting.resolve(batch.results[index]!));
    this.sendIfIdle();
    this.batchListeners.emit({ events: batch.rows.count, durationMs: message.durationMs });
    this.committedListeners.emit({ head: BigInt(this.committedPosition), batch: { from, categories: batch.categories } });
    if (this.incoming.length > 0) this.schedulePrepare();
  }

  /**
   * The failed batch's appends fail; the filling batch was decided on top of
   * it, so its appends go back to the queue to be decided again against what
   * is durable.
   */
  private recoverFromFailure(batch: Batch, reason: string): void {
    const error = new DaybookError('store_unavailable', `append failed, nothing of it was written: ${reason}`);
    for (const waiting of batch.waiting) waiting.reject(error);
    const redo = this.filling?.waiting ?? [];
    this.filling = null;
    this.streamHeads.clear();
    this.assignedPosition = this.committedPosition;
    this.worker.postMessage({ kind: 'reset' });
    if (redo.length > 0) this.requeue(redo);
    if (this.incoming.length > 0) this.schedulePrepare();
  }

  private failEverything(reason: string): void {
    const error = new DaybookError('store_unavailable', reason);
    for (const waiting of [...(this.committing?.waiting ?? []), ...(this.filling?.waiting ?? []), ...this.incoming.splice(0)]) waiting.reject(error);
    this.committing = null;
    this.filling = null;
    this.closing = true;
  }

  readStreamRows: StorageEngine['readStreamRows'] = (streamId, query) => (this.presence.mayExist(streamId) ? this.reader.methods().readStreamRows(streamId, query) : Promise.resolve([]));
  readAllRows: StorageEngine['readAllRows'] = (query) => this.reader.methods().readAllRows(query);
  readRowsByEventIds: StorageEngine['readRowsByEventIds'] = (eventIds) => this.reader.methods().readRowsByEventIds(eventIds);
  /** Ids the presence filter rules out are never looked up; when it rules out all of them, nothing is read. */
  readFirstRows: StorageEngine['readFirstRows'] = (streamIds) => {
    const candidates = streamIds.filter((streamId) => this.presence.mayExist(streamId));
    return candidates.length === 0 ? Promise.resolve([]) : this.reader.methods().readFirstRows(candidates);
  };
  readChainRows: StorageEngine['readChainRows'] = (after, limit) => this.reader.methods().readChainRows(after, limit);
  findPositionGap: StorageEngine['findPositionGap'] = () => this.reader.methods().findPositionGap();
  heads: StorageEngine['heads'] = () => this.reader.methods().heads();
  recordedAtOf: StorageEngine['recordedAtOf'] = (position) => this.reader.methods().recordedAtOf(position);
  loadSnapshot: StorageEngine['loadSnapshot'] = (streamId, schemaVersion) => this.reader.methods().loadSnapshot(streamId, schemaVersion);
  streamVersion: StorageEngine['streamVersion'] = (streamId) => (this.presence.mayExist(streamId) ? this.reader.methods().streamVersion(streamId) : Promise.resolve(0n));
  listStreams: StorageEngine['listStreams'] = (category, after, limit) => this.reader.methods().listStreams(category, after, limit);

  async headPosition(): Promise<bigint> {
    return BigInt(this.committedPosition);
  }

  /** Written by the checkpointer thread (its own connection): a snapshot of tens of megabytes never blocks this thread's event loop. */
  saveSnapshot(snapshot: { streamId: string; version: bigint; schemaVersion: number; stateJson: string }): Promise<void> {
    if (this.closing) return Promise.reject(new DaybookError('store_closed', 'the event store is closed'));
    const id = this.nextSnapshotId++;
    const saved = new Promise<void>((resolve, reject) => this.snapshotSaves.set(id, { resolve, reject }));
    this.checkpointer.postMessage({
      kind: 'snapshot', id, streamId: snapshot.streamId, schemaVersion: snapshot.schemaVersion, version: Number(snapshot.version), state: snapshot.stateJson, savedAt: this.clock.nowMs(),
    });
    return saved;
  }

  private onCheckpointerMessage(message: CheckpointerReply): void {
    if (message.kind !== 'snapshot-saved' && message.kind !== 'snapshot-failed') return;
    const waiting = this.snapshotSaves.get(message.id);
    if (waiting === undefined) return;
    this.snapshotSaves.delete(message.id);
    if (message.kind === 'snapshot-saved') waiting.resolve();
    else waiting.reject(new DaybookError('store_unavailable', `saving a snapshot failed: ${message.error}`));
  }

  onCommitted(listener: (head: bigint, batch?: CommittedBatch) => void): () => void {
    return this.committedListeners.add(({ head, batch }) => listener(head, batch));
  }

  onBatch(listener: (info: BatchInfo) => void): () => void {
    return this.batchListeners.add(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    this.closed = true;
    this.presence.stop();
    // Everything already accepted is committed before the writer stops, snapshots saving included.
    while (this.incoming.length > 0 || this.filling || this.committing || this.snapshotSaves.size > 0) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all([this.worker, this.checkpointer].map((thread) => new Promise<void>((resolve) => {
      thread.once('exit', () => resolve());
      thread.once('message', () => { void thread.terminate(); });
      thread.postMessage({ kind: 'close' });
    })));
    this.db.close();
    this.lock.release();
  }
}

type CheckpointerReply =
  | { kind: 'ready' | 'closed' }
  | { kind: 'snapshot-saved'; id: number }
  | { kind: 'snapshot-failed'; id: number; error: string };

type WorkerReply =
  | { kind: 'ready' }
  | { kind: 'closed' }
  | { kind: 'committed'; id: number; durationMs: number }
  | { kind: 'failed'; id: number; error: string };
