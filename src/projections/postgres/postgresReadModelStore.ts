/**
 * The read-model store on PostgreSQL: a pool of its own on the event store's
 * database. Read-model tables live in schema `daybook` beside the events
 * (every connection's search path starts with it, so handlers write plain
 * table names). Write transactions are READ COMMITTED; queries run in a
 * REPEATABLE READ, READ ONLY transaction, one snapshot for all their statements.
 */
import pg from 'pg';
import { DaybookError } from '../../kernel/index.ts';
import { loadMigrations } from '../migrations.ts';
import type { OpenReadModelStoreOptions, ReadModelStore, WriteTx } from '../readModelStore.ts';

const INT8_OID = 20;
/** int8 as bigint (as the event store reads it), everything else as pg parses it. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => BigInt(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** First key of the advisory locks on projections (the second is a hash of the name). */
const PROJECTION_LOCK_SPACE = 0x0dab_0001;
/** Serializes the projection migrations across processes that start together. */
const MIGRATION_LOCK = 7_356_101;

export async function openPostgresReadModelStore(url: string, options: OpenReadModelStoreOptions = {}): Promise<ReadModelStore> {
  // Queued before anything the pool's user sends on the new connection.
  const configure = (durable: boolean) => (client: pg.PoolClient): void => {
    // A connection that dies while checked out would otherwise throw its error out of the event loop; the query in flight rejects anyway.
    client.on('error', () => {});
    client.query(`SET search_path TO daybook, public; SET synchronous_commit TO ${durable ? 'on' : 'off'}`).catch(() => {});
  };
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 4, types });
  // The attempt counter's connection never waits for the WAL flush (see ReadModelStore.executeLight).
  const light = new pg.Pool({ connectionString: url, max: 1, types });
  pool.on('connect', configure(options.durableCommits === true));
  light.on('connect', configure(false));
  // An idle connection that drops must not take the process down.
  pool.on('error', () => {});
  light.on('error', () => {});
  try {
    if (options.migrate !== false) await migrate(pool);
  } catch (error) {
    await Promise.allSettled([pool.end(), light.end()]);
    if (error instanceof DaybookError) throw error;
    throw new DaybookError('store_unavailable', `cannot open the PostgreSQL read-model store: ${(error as Error).message}`);
  }
  return new PostgresReadModelStore(pool, light);
}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE SCHEMA IF NOT EXISTS daybook');
    await client.query('CREATE TABLE IF NOT EXISTS daybook.projection_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const applied = new Set((await client.query<{ version: number }>('SELECT version FROM daybook.projection_migrations')).rows.map((row) => Number(row.version)));
    for (const migration of loadMigrations(new URL('./migrations/', import.meta.url))) {
      if (applied.has(migration.version)) continue;
      try {
        await client.query('BEGIN');
        await client.query(migration.sql);
        await client.query('INSERT INTO daybook.projection_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw new DaybookError('migration_failed', `projection migration ${migration.name} failed: ${(error as Error).message}`, { migration: migration.name });
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
    client.release();
  }
}

/** FNV-1a, 32 bits, as a signed int4: the second key of a projection's advisory lock. */
function nameKey(name: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(name, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

/** Distinct statement texts given a name (prepared once per connection); past it, statements go unnamed. */
const NAMED_STATEMENTS_MAX = 1000;
const statementNames = new Map<string, string>();
const DML = /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b/i;

/**
 * The query config for `sql`: a data statement gets a name, so each pooled
 * connection parses and plans it once and then only binds and executes it (a
 * batch runs the same dozen statements every time). DDL stays unnamed.
 */
function statement(sql: string, params: readonly unknown[]): pg.QueryConfig {
  let name = statementNames.get(sql);
  if (name === undefined && statementNames.size < NAMED_STATEMENTS_MAX && DML.test(sql)) {
    name = `daybook_rm_${statementNames.size + 1}`;
    statementNames.set(sql, name);
  }
  return name === undefined ? { text: sql, values: params as unknown[] } : { name, text: sql, values: params as unknown[] };
}

function executor(client: pg.ClientBase): WriteTx {
  return {
    dialect: 'postgres',
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      return (await client.query(statement(sql, params))).rows as Row[];
    },
    async execute(sql: string, params: readonly unknown[] = []) {
      return (await client.query(statement(sql, params))).rowCount ?? 0;
    },
    async lockProjection(name: string, mode: 'shared' | 'exclusive') {
      const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
      await client.query(`SELECT ${fn}($1::int4, $2::int4)`, [PROJECTION_LOCK_SPACE | 0, nameKey(name)]);
    },
  };
}

class PostgresReadModelStore implements ReadModelStore {
  readonly backend = 'postgres' as const;
  private closed = false;

  constructor(private readonly pool: pg.Pool, private readonly light: pg.Pool) {}

  transaction<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN', fn);
  }

  read<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);
  }

  private async inTransaction<T>(begin: string, fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    this.ensureOpen();
    const client = await this.connect(this.pool);
    let broken: Error | undefined;
    try {
      try {
        await client.query(begin);
        const result = await fn(executor(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => { broken = rollbackError; });
        throw error;
      }
    } finally {
      // A connection that could not even roll back is in an unknown state: thrown away, not reused.
      client.release(broken);
    }
  }

  async executeLight(sql: string, params: readonly unknown[] = []): Promise<number> {
    this.ensureOpen();
    const client = await this.connect(this.light);
    let broken: Error | undefined;
    try {
      return (await client.query(statement(sql, params))).rowCount ?? 0;
    } catch (error) {
      broken = isConnectionError(error) ? (error as Error) : undefined;
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async ping(): Promise<void> {
    this.ensureOpen();
    try {
      await this.pool.query('SELECT 1');
    } catch (error) {
      throw new DaybookError('store_unavailable', `PostgreSQL does not answer: ${(error as Error).message}`);
    }
  }

  async existingTables(names: readonly string[]): Promise<Set<string>> {
    this.ensureOpen();
    const result = await this.pool.query<{ table_name: string }>(
      "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'daybook' AND table_name = ANY($1::text[])",
      [names as string[]],
    );
    return new Set(result.rows.map((row) => row.table_name));
  }

  private async connect(pool: pg.Pool): Promise<pg.PoolClient> {
    try {
      return await pool.connect();
    } catch (error) {
      throw new DaybookError('store_unavailable', `cannot reach PostgreSQL for the read models: ${(error as Error).message}`);
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw new DaybookError('store_closed', 'the read-model store is closed');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.pool.end(), this.light.end()]);
  }
}

/** Errors of the connection itself (no SQLSTATE): the client cannot be trusted afterwards. */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code !== 'string' || code.length !== 5;
}
