import pg from 'pg';
import { DaybookError } from '../../kernel/errors.ts';
import { type AppendResult, categoryOf, type ExpectedVersion } from '../eventStore.ts';
import { GroupCommitQueue, type Pending } from '../groupCommit.ts';
import { duplicateOutcome, type PreparedAppend, versionConflict } from '../prepareAppend.ts';
import { type BatchInfo, Listeners } from '../listeners.ts';
import type { CommittedBatch, StorageEngine } from '../storageEngine.ts';
import type { StoredRow } from '../storedRow.ts';
import { migratePostgres, pendingPostgresMigrations } from './migrate.ts';
import { PostgresReader } from './postgresReader.ts';

export interface PostgresEngineOptions {
  url: string;
  migrate?: boolean;
  poolSize?: number;
  /** Connections that carry batches; batches on different connections overlap their round trips (default 2). */
  writerConnections?: number;
}

type Batch = Pending<PreparedAppend, AppendResult>[];

const INT8_OID = 20;
/** int8 as bigint, everything else as pg parses it. */
export const bigintTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => BigInt(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

interface BatchRow {
  append_idx: number;
  status: 'ok' | 'conflict' | 'existing';
  event_id: string | null;
  stream_id: string;
  version: bigint | null;
  position: bigint | null;
  type: string | null;
  schema_version: number | null;
  data: string | null;
  actual: bigint | null;
}

/** First key of the store's named locks (the second is `hashtext(name)`); other advisory locks of Daybook use other spaces. */
const LOCK_SPACE = 0x0dab_0002;
/** Connections that may hold named locks at once; more holders wait for one. */
const LOCK_CONNECTIONS_MAX = 4;

/**
 * Session settings of the read pool. Every read of the log is a keyset page
 * (`position > $1 … ORDER BY position LIMIT n`, by stream or by category) that
 * an ordered index scan answers by reading n rows. The log only grows, so the
 * planner's statistics always lag behind its newest positions; with them, it
 * estimates a few hundred rows after a recent position and prefers a bitmap
 * scan of every matching row plus a sort (measured: 21 ms instead of 0.4 ms for
 * 1000 rows of a category at 280K events, more as the log grows).
 */
const READER_SETTINGS: ReadonlyArray<readonly [string, string]> = [['enable_bitmapscan', 'off']];
/** Given to each read connection at start-up (a url that sets `options` itself keeps its own). */
const READER_STARTUP_OPTIONS = READER_SETTINGS.map(([name, value]) => `-c ${name}=${value}`).join(' ');
/** The same as SET statements, for tests that plan a query as the read pool would. */
export const READER_SESSION_SETTINGS: readonly string[] = READER_SETTINGS.map(([name, value]) => `SET ${name} = ${value}`);

/**
 * PostgreSQL backend: many processes may append at once. Each process groups
 * its concurrent appends into batches; a batch is one call of
 * `daybook.append_batch` (one round trip, one transaction, synchronous commit),
 * which takes the head row's lock first, so batches of all processes commit
 * in position order (see the migration for why that makes the log gapless).
 */
export async function openPostgresEngine(options: PostgresEngineOptions): Promise<StorageEngine> {
  const readers = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10, types: bigintTypes, options: READER_STARTUP_OPTIONS });
  const writers = new pg.Pool({ connectionString: options.url, max: options.writerConnections ?? 1, types: bigintTypes });
  // An idle connection that drops must not take the process down.
  readers.on('error', () => {});
  writers.on('error', () => {});
  try {
    if (options.migrate !== false) await migratePostgres(readers);
    const pending = await pendingPostgresMigrations(readers);
    if (pending.length > 0) {
      throw new DaybookError('migration_failed', `database has ${pending.length} pending migration(s): run \`daybook migrate\``, { pending: pending.map((m) => m.name) });
    }
  } catch (error) {
    await Promise.allSettled([readers.end(), writers.end()]);
    if (error instanceof DaybookError) throw error;
    throw new DaybookError('store_unavailable', `cannot open PostgreSQL store: ${(error as Error).message}`);
  }
  const engine = new PostgresEngine(options.url, readers, writers, options.writerConnections ?? 1);
  await engine.listen();
  return engine;
}

class PostgresEngine implements StorageEngine {
  readonly backend = 'postgres' as const;
  private readonly queue: GroupCommitQueue<PreparedAppend, AppendResult>;
  private readonly reader: PostgresReader;
  private readonly committedListeners = new Listeners<{ head: bigint; batch?: CommittedBatch }>();
  private readonly batchListeners = new Listeners<BatchInfo>();
  private listener: pg.Client | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private lockPool: pg.Pool | null = null;
  private readonly lockClients = new Set<pg.PoolClient>();
  private closed = false;

  constructor(private readonly url: string, private readonly readers: pg.Pool, private readonly writers: pg.Pool, writerConnections: number) {
    this.reader = new PostgresReader(readers);
    this.queue = new GroupCommitQueue((batch) => this.runBatch(batch), writerConnections);
  }

  append(append: PreparedAppend): Promise<AppendResult> {
    return this.queue.submit(append, append.eventCount);
  }

  private async runBatch(batch: Batch): Promise<void> {
    const { included, deferred } = splitRepeatedIds(batch);
    if (deferred.length > 0) this.queue.requeue(deferred);
    const args = batchArguments(included);
    const started = performance.now();
    let rows: BatchRow[];
    try {
      const result = await this.writers.query<BatchRow>(
        'SELECT r_append AS append_idx, r_status AS status, r_event_id AS event_id, r_stream_id AS stream_id, r_version AS version, r_position AS position, r_type AS type, r_schema_version AS schema_version, r_data AS data, r_actual AS actual FROM daybook.append_batch($1::int[], $2::text[], $3::bigint[], $4::uuid[], $5::boolean[], $6::text[], $7::int[], $8::text[], $9::text[])',
        args,
      );
      rows = result.rows;
    } catch (error) {
      // The outcome of a batch whose connection broke is unknown: retrying with the same event ids is safe.
      const failure = new DaybookError('store_unavailable', `append failed or its outcome is unknown (retry with the same event ids): ${(error as Error).message}`);
      for (const pending of included) pending.reject(failure);
      return;
    }
    const durationMs = performance.now() - started;
    settle(included, rows);
    const written = rows.filter((row) => row.status === 'ok');
    if (written.length > 0) {
      this.batchListeners.emit({ events: written.length, durationMs });
      let from = written[0]!.position!;
      let head = from;
      const categories = new Set<string>();
      for (const row of written) {
        if (row.position! < from) from = row.position!;
        if (row.position! > head) head = row.position!;
        categories.add(categoryOf(row.stream_id));
      }
      // Positions are taken under the head row's lock, so one call's are contiguous; should they not be, nothing is claimed of them.
      this.committedListeners.emit({ head, batch: head - from + 1n === BigInt(written.length) ? { from, categories } : undefined });
    }
  }

  /** LISTEN for commits of every process; on a lost connection, retry while subscriptions fall back to polling. */
  async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (message) => {
      if (!message.payload) return;
      const head = BigInt(message.payload);
      this.committedListeners.emit({ head });
    });
    client.on('error', () => this.scheduleReconnect(client));
    client.on('end', () => this.scheduleReconnect(client));
    try {
      await client.connect();
      await client.query('LISTEN daybook_events');
      this.listener = client;
    } catch {
      this.scheduleReconnect(client);
    }
  }

  private scheduleReconnect(client: pg.Client): void {
    if (this.closed || this.reconnectTimer) return;
    if (this.listener === client) this.listener = null;
    client.end().catch(() => {});
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.listen();
    }, 1000);
    this.reconnectTimer.unref();
  }

  readStreamRows: StorageEngine['readStreamRows'] = (streamId, query) => this.reader.readStreamRows(streamId, query);
  readAllRows: StorageEngine['readAllRows'] = (query) => this.reader.readAllRows(query);
  readRowsByEventIds: StorageEngine['readRowsByEventIds'] = (eventIds) => this.reader.readRowsByEventIds(eventIds);
  readFirstRows: StorageEngine['readFirstRows'] = (streamIds) => this.reader.readFirstRows(streamIds);
  readChainRows: StorageEngine['readChainRows'] = (after, limit) => this.reader.readChainRows(after, limit);
  findPositionGap: StorageEngine['findPositionGap'] = () => this.reader.findPositionGap();
  heads: StorageEngine['heads'] = () => this.reader.heads();
  headPosition: StorageEngine['headPosition'] = () => this.reader.headPosition();
  recordedAtOf: StorageEngine['recordedAtOf'] = (position) => this.reader.recordedAtOf(position);
  streamVersion: StorageEngine['streamVersion'] = (streamId) => this.reader.streamVersion(streamId);
  listStreams: StorageEngine['listStreams'] = (category, after, limit) => this.reader.listStreams(category, after, limit);
  saveSnapshot: StorageEngine['saveSnapshot'] = (snapshot) => this.reader.saveSnapshot(snapshot);
  loadSnapshot: StorageEngine['loadSnapshot'] = (streamId, schemaVersion) => this.reader.loadSnapshot(streamId, schemaVersion);

  onCommitted(listener: (head: bigint, batch?: CommittedBatch) => void): () => void {
    return this.committedListeners.add(({ head, batch }) => listener(head, batch));
  }

  onBatch(listener: (info: BatchInfo) => void): () => void {
    return this.batchListeners.add(listener);
  }

  /**
   * A session advisory lock (in Daybook's key space, on a hash of the name;
   * a collision only serialises two names) held on a connection of a small
   * pool of its own, so that holders never starve the readers and writers
   * their work needs. If that connection drops, the server releases the lock.
   */
  async crossProcessLock<T>(name: string, run: () => Promise<T>): Promise<T> {
    this.lockPool ??= this.newLockPool();
    const client = await this.lockPool.connect().catch((error: unknown) => {
      throw new DaybookError('store_unavailable', `cannot take the lock ${name}: ${(error as Error).message}`);
    });
    let broken = false;
    // A holder's connection may die (server restart, terminated backend): the lock is gone with it; the error must not escape.
    const onError = (): void => { broken = true; };
    client.on('error', onError);
    this.lockClients.add(client);
    try {
      await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_SPACE, name]);
      try {
        return await run();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_SPACE, name]).catch(() => { broken = true; });
      }
    } catch (error) {
      broken = true;
      throw error;
    } finally {
      this.lockClients.delete(client);
      client.off('error', onError);
      // A connection whose unlock failed is closed, which releases whatever it held.
      try { client.release(broken); } catch { /* closed with the store already */ }
    }
  }

  private newLockPool(): pg.Pool {
    const pool = new pg.Pool({ connectionString: this.url, max: LOCK_CONNECTIONS_MAX });
    pool.on('error', () => {});
    return pool;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.drain();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    // Locks still held when the store closes are let go: their connections close (pool.end would wait for their holders).
    for (const client of this.lockClients) client.release(true);
    this.lockClients.clear();
    await Promise.allSettled([this.listener?.end(), this.readers.end(), this.writers.end(), this.lockPool?.end()]);
  }
}

/** Two appends of one batch may not share a caller-supplied id: the later waits for the next batch, where the first is visible. */
function splitRepeatedIds(batch: Batch): { included: Batch; deferred: Batch } {
  const seen = new Set<string>();
  const included: Batch = [];
  const deferred: Batch = [];
  for (const pending of batch) {
    const append = pending.item;
    if (!append.hasCallerIds) { included.push(pending); continue; }
    const ids = append.writes.flatMap((write) => write.events.filter((e) => e.callerSuppliedId).map((e) => e.eventId));
    if (ids.some((id) => seen.has(id))) { deferred.push(pending); continue; }
    for (const id of ids) seen.add(id);
    included.push(pending);
  }
  return { included, deferred };
}

function encodeExpected(expected: ExpectedVersion): string {
  if (expected === 'any') return '-1';
  if (expected === 'exists') return '-2';
  if (expected === 'no_stream') return '0';
  return expected.toString();
}

function batchArguments(batch: Batch): unknown[] {
  const appendIdx: number[] = [];
  const streams: string[] = [];
  const expected: string[] = [];
  const ids: string[] = [];
  const caller: boolean[] = [];
  const types: string[] = [];
  const schemas: number[] = [];
  const data: string[] = [];
  const metadata: string[] = [];
  batch.forEach((pending, index) => {
    for (const write of pending.item.writes) {
      const encoded = encodeExpected(write.expected);
      for (const event of write.events) {
        appendIdx.push(index);
        streams.push(write.streamId);
        expected.push(encoded);
        ids.push(event.eventId);
        caller.push(event.callerSuppliedId);
        types.push(event.type);
        schemas.push(event.schemaVersion);
        data.push(event.dataJson);
        metadata.push(event.metadataJson);
      }
    }
  });
  return [appendIdx, streams, expected, ids, caller, types, schemas, data, metadata];
}

/** Resolves or rejects each append of the batch from the function's rows. */
function settle(batch: Batch, rows: BatchRow[]): void {
  const byAppend = new Map<number, BatchRow[]>();
  for (const row of rows) {
    let list = byAppend.get(row.append_idx);
    if (!list) byAppend.set(row.append_idx, (list = []));
    list.push(row);
  }
  batch.forEach((pending, index) => {
    const own = byAppend.get(index) ?? [];
    const first = own[0];
    if (!first) { pending.reject(new DaybookError('store_unavailable', 'append batch returned no outcome for an append')); return; }
    if (first.status === 'conflict') {
      const expected = pending.item.writes.find((w) => w.streamId === first.stream_id)?.expected ?? 'any';
      pending.reject(versionConflict(first.stream_id, expected, first.actual ?? 0n));
      return;
    }
    if (first.status === 'existing') {
      const outcome = duplicateOutcome(pending.item, new Map(own.map((row) => [row.event_id!, existingRow(row)])));
      if (outcome instanceof DaybookError) pending.reject(outcome);
      else pending.resolve(outcome);
      return;
    }
    pending.resolve(writtenResult(own));
  });
}

function existingRow(row: BatchRow): StoredRow {
  return {
    eventId: row.event_id!, streamId: row.stream_id, version: row.version!, position: row.position!, type: row.type!,
    schemaVersion: row.schema_version!, dataJson: row.data!, metadataJson: '{}', recordedAtMs: 0, hash: '', previousHash: '',
  };
}

function writtenResult(rows: BatchRow[]): AppendResult {
  const events = rows.map((row) => ({ eventId: row.event_id!, streamId: row.stream_id, version: row.version!, position: row.position! }));
  const streams = new Map<string, bigint>();
  for (const event of events) streams.set(event.streamId, event.version);
  return {
    position: events[events.length - 1]!.position,
    streams: [...streams].map(([streamId, version]) => ({ streamId, version })),
    events,
    duplicate: false,
  };
}
