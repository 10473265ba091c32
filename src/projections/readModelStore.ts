/**
 * Read models live in the same database as the events, in their own tables.
 * A read-model store is the projections' connection to that database: one
 * implementation per backend, one interface, so one projection definition runs
 * on both. SQL is written once with `$1`-style parameters; the SQLite
 * implementation rewrites them. Integers of `bigint` columns come back as
 * `bigint` on both backends.
 *
 * @example
 * const readModels = await openReadModelStore('sqlite:./data/daybook.db');
 * await readModels.transaction(async (tx) => {
 *   await tx.execute('UPDATE balances_v1 SET amount = amount + $1 WHERE account = $2', [5n, 'acct-1']);
 * });
 */
import { resolve } from 'node:path';
import { DaybookError } from '../kernel/index.ts';

export type SqlDialect = 'sqlite' | 'postgres';

/** Runs statements: `$1`, `$2`… parameters on both backends. */
export interface SqlExecutor {
  readonly dialect: SqlDialect;
  /** The rows of one statement (a `SELECT`, or a write with `RETURNING`). */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs one statement; resolves to the number of rows it changed. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
}

/** A write transaction; adds the projection lock that orders active-version switches against batches and queries. */
export interface WriteTx extends SqlExecutor {
  /**
   * PostgreSQL: a transaction-scoped advisory lock on the projection, shared
   * (batches, queries) or exclusive (switching the active version). SQLite:
   * nothing to do, since write transactions are serialized and reads are snapshots.
   */
  lockProjection(name: string, mode: 'shared' | 'exclusive'): Promise<void>;
}

export interface ReadModelStore {
  readonly backend: SqlDialect;
  /** Everything `fn` writes commits together, or nothing does (the transaction rolls back when `fn` throws). */
  transaction<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;
  /** A consistent read-only view for queries: they never see another transaction's uncommitted writes. */
  read<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;
  /**
   * One statement in its own small transaction. Used for the durable attempt
   * counter: on PostgreSQL it commits without waiting for the WAL flush, which
   * keeps it through a crash of our process (the case it exists for) at a
   * fraction of the cost.
   */
  executeLight(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Resolves when the database answers; throws `store_unavailable` when it does not. */
  ping(): Promise<void>;
  /** Table names that exist among `names` (lowercase, in the read-model schema). */
  existingTables(names: readonly string[]): Promise<Set<string>>;
  close(): Promise<void>;
}

export interface OpenReadModelStoreOptions {
  /** SQLite: how long a write waits for the event store's writer to let go of the file (default 5000 ms). */
  busyTimeoutMs?: number;
  /** PostgreSQL: connections in the pool (default 4). */
  poolSize?: number;
  /** Create the projections' own tables (checkpoints, dead letters…) when missing (default true). */
  migrate?: boolean;
  /**
   * Wait for each read-model commit to be flushed to disk (default false).
   * Read models are derived from the log: a commit lost to a crash of the
   * database (not of our process) takes its checkpoint with it, atomically,
   * and the runner applies those events again. Not waiting for the flush
   * (PostgreSQL `synchronous_commit = off`, SQLite `synchronous = NORMAL`) is
   * what keeps commits cheap; the events themselves are always durable.
   */
  durableCommits?: boolean;
}

/**
 * Opens the read-model store for an event store URL: `sqlite:<path>` (a
 * separate connection to the same file) or `postgres://…` (a pool; tables in
 * schema `daybook`).
 */
export async function openReadModelStore(url: string, options: OpenReadModelStoreOptions = {}): Promise<ReadModelStore> {
  if (typeof url !== 'string') throw new DaybookError('validation_failed', 'read-model store url must be a string', {}, 'url');
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path.length === 0 || path === ':memory:') throw new DaybookError('validation_failed', 'sqlite url needs a file path, e.g. sqlite:./data/daybook.db', {}, 'url');
    const { openSqliteReadModelStore } = await import('./sqlite/sqliteReadModelStore.ts');
    return openSqliteReadModelStore(resolve(path), options);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { openPostgresReadModelStore } = await import('./postgres/postgresReadModelStore.ts');
    return openPostgresReadModelStore(url, options);
  }
  throw new DaybookError('validation_failed', `unsupported read-model store url ${JSON.stringify(url.split(':')[0])}: use sqlite:<path> or postgres://…`, {}, 'url');
}

/**
 * Rewrites `$n` parameters to SQLite's anonymous `?`, reordering (and
 * repeating) the values to match: `$2 … $1 … $2` takes `[p2, p1, p2]`. Quoted
 * strings and identifiers are left alone.
 */
export function toSqliteParameters(sql: string): { text: string; order: number[] } {
  const order: number[] = [];
  let text = '';
  let index = 0;
  while (index < sql.length) {
    const char = sql[index]!;
    if (char === "'" || char === '"') {
      const end = closingQuote(sql, index);
      text += sql.slice(index, end);
      index = end;
      continue;
    }
    if (char === '$') {
      const match = /^\$(\d+)/.exec(sql.slice(index));
      if (match) {
        order.push(Number(match[1]) - 1);
        text += '?';
        index += match[0].length;
        continue;
      }
    }
    text += char;
    index += 1;
  }
  return { text, order };
}

function closingQuote(sql: string, start: number): number {
  const quote = sql[start]!;
  let index = start + 1;
  while (index < sql.length) {
    if (sql[index] === quote) {
      if (sql[index + 1] === quote) { index += 2; continue; }
      return index + 1;
    }
    index += 1;
  }
  return sql.length;
}
