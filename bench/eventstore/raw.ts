/**
 * Raw baselines: the floor set by the disk and the driver. One table of
 * Daybook's row shape and size, no secondary index, rows inserted with the
 * plain driver: better-sqlite3 (WAL, synchronous=FULL, one connection) and
 * pg (synchronous_commit=on).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import type { Backend, BenchContext } from '../support/bench.ts';
import { Breather, Budget, measure, runConcurrently, type WorkloadSpec } from '../support/measure.ts';
import { CATEGORY, EVENT_TYPE, eventData, eventMetadata } from './payload.ts';
import { warmupBudget, type Sizes } from './sizes.ts';

export const RAW_SINGLE = 'raw 1-row txn';
export const RAW_64 = 'raw 64-row txn';
export const RAW_1000 = 'raw 1000-row txn';
/** Connections of the raw PostgreSQL 1-row baseline (the "raw pg about 19K ev/s with 16 connections"). */
export const PG_SINGLE_CONNECTIONS = 16;

const COLUMNS = 'position, event_id, stream_id, version, category, type, schema_version, data, metadata, recorded_at, hash, previous_hash';
const COLUMN_COUNT = 12;

const SQLITE_TABLE = `CREATE TABLE events (
  position INTEGER PRIMARY KEY, event_id BLOB NOT NULL, stream_id TEXT NOT NULL, version INTEGER NOT NULL,
  category TEXT NOT NULL, type TEXT NOT NULL, schema_version INTEGER NOT NULL, data TEXT NOT NULL,
  metadata TEXT NOT NULL, recorded_at INTEGER NOT NULL, hash BLOB NOT NULL, previous_hash BLOB NOT NULL)`;

const POSTGRES_TABLE = `CREATE TABLE events (
  position bigint PRIMARY KEY, event_id uuid NOT NULL, stream_id text COLLATE "C" NOT NULL, version bigint NOT NULL,
  category text COLLATE "C" NOT NULL, type text COLLATE "C" NOT NULL, schema_version integer NOT NULL, data text NOT NULL,
  metadata text NOT NULL, recorded_at bigint NOT NULL, hash bytea NOT NULL, previous_hash bytea NOT NULL)`;

/** Rows as a client would build them: a UUIDv7, the JSON payload, 32-byte hashes (from a pool: hashing is not the driver's cost). */
class RawRows {
  private position = 0;
  private readonly hashes = Array.from({ length: 256 }, () => randomBytes(32));

  /** One row's parameters; `binaryIds` for SQLite's 16-byte BLOB ids, else the UUID text for pg. */
  next(binaryIds: boolean): unknown[] {
    const position = ++this.position;
    const id = uuidv7();
    return [
      position,
      binaryIds ? Buffer.from(id.replaceAll('-', ''), 'hex') : id,
      `${CATEGORY}-raw${position}`,
      1,
      CATEGORY,
      EVENT_TYPE,
      1,
      JSON.stringify(eventData(position)),
      JSON.stringify(eventMetadata(position)),
      Date.now(),
      this.hashes[position & 255]!,
      this.hashes[(position + 1) & 255]!,
    ];
  }

  batch(count: number, binaryIds: boolean): unknown[][] {
    return Array.from({ length: count }, () => this.next(binaryIds));
  }
}

export function rawWorkloadName(rowsPerTxn: number): string {
  return rowsPerTxn === 1 ? RAW_SINGLE : `raw ${rowsPerTxn}-row txn`;
}

export async function rawSqlite(ctx: BenchContext, sizes: Sizes, rowsPerTxn: number): Promise<void> {
  const dir = await ctx.tempDir('raw-sqlite');
  const db = new Database(path.join(dir.path, 'raw.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SQLITE_TABLE);
    const insert = db.prepare(`INSERT INTO events (${COLUMNS}) VALUES (${Array(COLUMN_COUNT).fill('?').join(', ')})`);
    const commit = db.transaction((rows: unknown[][]) => {
      for (const row of rows) insert.run(row);
    });
    const source = new RawRows();
    const single = rowsPerTxn === 1;
    const total = single ? sizes.rawSingleEvents : sizes.rawBatchEvents;
    const maxMs = single ? sizes.rawSingleMs : sizes.rawBatchMs;
    const loop = async (budget: Budget, record: (ms: number) => void) => {
      const breather = new Breather();
      let count = 0;
      while (budget.take(rowsPerTxn)) {
        const rows = source.batch(rowsPerTxn, true);
        const started = performance.now();
        commit(rows);
        record(performance.now() - started);
        count += rowsPerTxn;
        await breather.maybe();
      }
      return count;
    };
    await loop(warmupBudget(sizes, total, maxMs), () => {});
    const spec: WorkloadSpec = { workload: rawWorkloadName(rowsPerTxn), backend: 'sqlite', baseline: null };
    ctx.record(await measure(spec, async ({ latency }) => ({
      count: await loop(new Budget(total, maxMs), (ms) => latency.record(ms)),
      extra: { rows_per_txn: rowsPerTxn, connections: 1, latency_unit: 'transaction' },
    })));
  } finally {
    db.close();
    await dir.remove();
  }
}

export async function rawPostgres(ctx: BenchContext, sizes: Sizes, rowsPerTxn: number): Promise<void> {
  const database = await ctx.postgres.database();
  const single = rowsPerTxn === 1;
  const connections = single ? PG_SINGLE_CONNECTIONS : 1;
  const clients = Array.from({ length: connections }, () => new pg.Client({ connectionString: database.url }));
  try {
    await Promise.all(clients.map(async (client) => {
      client.on('error', () => {});
      await client.connect();
      await client.query('SET synchronous_commit = on');
    }));
    await clients[0]!.query(POSTGRES_TABLE);
    // One statement is one transaction (autocommit); a multi-row VALUES list for batches.
    const values = Array.from({ length: rowsPerTxn }, (_, row) =>
      `(${Array.from({ length: COLUMN_COUNT }, (_, column) => `$${row * COLUMN_COUNT + column + 1}`).join(', ')})`).join(', ');
    const text = `INSERT INTO events (${COLUMNS}) VALUES ${values}`;
    const name = `raw_insert_${rowsPerTxn}`;
    const source = new RawRows();
    const total = single ? sizes.rawSingleEvents : sizes.rawBatchEvents;
    const maxMs = single ? sizes.rawSingleMs : sizes.rawBatchMs;
    const run = async (budget: Budget, record: (ms: number) => void) => {
      let count = 0;
      await runConcurrently(connections, async (index) => {
        const client = clients[index]!;
        while (budget.take(rowsPerTxn)) {
          const params = source.batch(rowsPerTxn, false).flat();
          const started = performance.now();
          await client.query({ name, text, values: params });
          record(performance.now() - started);
          count += rowsPerTxn;
        }
      });
      return count;
    };
    await run(warmupBudget(sizes, total, maxMs), () => {});
    const spec: WorkloadSpec = { workload: rawWorkloadName(rowsPerTxn), backend: 'postgres', baseline: null };
    ctx.record(await measure(spec, async ({ latency }) => ({
      count: await run(new Budget(total, maxMs), (ms) => latency.record(ms)),
      extra: { rows_per_txn: rowsPerTxn, connections, latency_unit: 'transaction' },
    })));
  } finally {
    await Promise.allSettled(clients.map((client) => client.end()));
    await database.drop();
  }
}

export async function rawBaseline(ctx: BenchContext, backend: Backend, sizes: Sizes, rowsPerTxn: number): Promise<void> {
  return backend === 'sqlite' ? rawSqlite(ctx, sizes, rowsPerTxn) : rawPostgres(ctx, sizes, rowsPerTxn);
}
