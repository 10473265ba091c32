/**
 * The read-model store on SQLite: two connections of its own to the event
 * store's file (WAL lets readers and one writer at a time share it). The
 * event store's writer thread writes only the events and head tables; our
 * write connection writes the read models, the checkpoints and the dead
 * letters, each transaction opened with `BEGIN IMMEDIATE` so it takes the write
 * lock up front (waiting out the writer thread's commit under a busy timeout)
 * instead of failing half-way. Queries use the read connection: a snapshot
 * that never sees an open transaction's writes.
 *
 * The write lock is taken without blocking: the write connection's busy
 * timeout is 0 once it is open, and a `BEGIN IMMEDIATE` that finds the file
 * locked (the store's writer thread is committing) is tried again after a
 * timer, up to the busy timeout. better-sqlite3 would otherwise wait on the
 * main thread, sleeping SQLite's backoff steps (1, 2, 5, 10… ms) past the
 * moment the lock is free, while that same thread is the one that prepares
 * the store's next batch and hears of its commits.
 *
 * The write connection runs with `synchronous = NORMAL` (unless
 * `durableCommits`): a commit reaches the WAL (and survives a crash of the
 * process) without its own fsync; after a power loss the read models and
 * their checkpoints fall back together to an earlier consistent point and are
 * caught up again from the log.
 */
import Database from 'better-sqlite3';
import { DaybookError } from '../../kernel/index.ts';
import { ensurePrivateFile } from '../../kernel/privateFiles.ts';
import { loadMigrations } from '../migrations.ts';
import { Mutex } from '../mutex.ts';
import { type OpenReadModelStoreOptions, type ReadModelStore, toSqliteParameters, type WriteTx } from '../readModelStore.ts';

const STATEMENT_CACHE_MAX = 500;

/**
 * Connections shared by every read-model store of this process on one file.
 * better-sqlite3 waits for a lock synchronously, on the main thread: a second
 * write connection in the same process waiting for the first would block the
 * very thread that has to finish the first's transaction. One write
 * connection (and one mutex) per file per process avoids that; other
 * processes wait on the file lock as usual.
 */
interface SharedConnections {
  writer: Database.Database;
  reader: Database.Database;
  writeLock: Mutex;
  readLock: Mutex;
  writeStatements: StatementCache;
  readStatements: StatementCache;
  /** How long a write waits for the file lock before `store_unavailable`. */
  busyTimeoutMs: number;
  users: number;
}

/** Between two tries of the write lock while the store's writer holds it. */
const LOCK_RETRY_MS = 1;

const shared = new Map<string, SharedConnections>();

export async function openSqliteReadModelStore(path: string, options: OpenReadModelStoreOptions = {}): Promise<ReadModelStore> {
  let connections = shared.get(path);
  if (!connections) {
    connections = openConnections(path, options);
    shared.set(path, connections);
  }
  connections.users += 1;
  return new SqliteReadModelStore(path, connections);
}

function openConnections(path: string, options: OpenReadModelStoreOptions): SharedConnections {
  ensurePrivateFile(path);
  const timeout = options.busyTimeoutMs ?? 5000;
  let writer: Database.Database | null = null;
  let reader: Database.Database | null = null;
  try {
    writer = new Database(path, { timeout });
    writer.pragma('journal_mode = WAL');
    writer.pragma(options.durableCommits ? 'synchronous = FULL' : 'synchronous = NORMAL');
    // The event store's writer thread checkpoints the WAL; a checkpoint run here would block the main thread.
    writer.pragma('wal_autocheckpoint = 0');
    writer.defaultSafeIntegers(true);
    if (options.migrate !== false) migrate(writer);
    // From here on a locked file is waited for asynchronously (see beginImmediate).
    writer.pragma('busy_timeout = 0');
    reader = new Database(path, { timeout });
    reader.pragma('query_only = ON');
    reader.defaultSafeIntegers(true);
  } catch (error) {
    writer?.close();
    reader?.close();
    if (error instanceof DaybookError) throw error;
    throw new DaybookError('store_unavailable', `cannot open the read-model store at ${path}: ${(error as Error).message}`, { path });
  }
  return {
    writer, reader, writeLock: new Mutex(), readLock: new Mutex(),
    writeStatements: new StatementCache(writer), readStatements: new StatementCache(reader), busyTimeoutMs: timeout, users: 0,
  };
}

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS projection_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM projection_migrations').all() as Array<{ version: bigint }>).map((row) => Number(row.version)));
  for (const migration of loadMigrations(new URL('./migrations/', import.meta.url))) {
    if (applied.has(migration.version)) continue;
    try {
      db.transaction(() => {
        db.exec(migration.sql);
        db.prepare('INSERT OR IGNORE INTO projection_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, Date.now());
      }).immediate();
    } catch (error) {
      throw new DaybookError('migration_failed', `projection migration ${migration.name} failed: ${(error as Error).message}`, { migration: migration.name });
    }
  }
}

/** Prepared statements by SQL text, with their parameter order. */
class StatementCache {
  private readonly cache = new Map<string, { statement: Database.Statement; order: number[] }>();

  constructor(private readonly db: Database.Database) {}

  get(sql: string): { statement: Database.Statement; order: number[] } {
    let entry = this.cache.get(sql);
    if (!entry) {
      const { text, order } = toSqliteParameters(sql);
      entry = { statement: this.db.prepare(text), order };
      if (this.cache.size >= STATEMENT_CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(sql, entry);
    }
    return entry;
  }

  clear(): void {
    this.cache.clear();
  }
}

function bind(order: number[], params: readonly unknown[]): unknown[] {
  return order.map((index) => {
    const value = params[index];
    if (typeof value === 'boolean') return value ? 1 : 0;
    return value === undefined ? null : value;
  });
}

function executor(cache: StatementCache): WriteTx {
  return {
    dialect: 'sqlite',
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const { statement, order } = cache.get(sql);
      if (!statement.reader) {
        statement.run(...bind(order, params));
        return [] as Row[];
      }
      return statement.all(...bind(order, params)) as Row[];
    },
    async execute(sql: string, params: readonly unknown[] = []) {
      const { statement, order } = cache.get(sql);
      if (statement.reader) return statement.all(...bind(order, params)).length;
      return statement.run(...bind(order, params)).changes;
    },
    lockProjection: async () => {},
  };
}

class SqliteReadModelStore implements ReadModelStore {
  readonly backend = 'sqlite' as const;
  private closed = false;

  constructor(private readonly path: string, private readonly connections: SharedConnections) {}

  transaction<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    const { writer, writeLock, writeStatements } = this.connections;
    return writeLock.run(async () => {
      this.ensureOpen();
      await this.beginImmediate();
      try {
        const result = await fn(executor(writeStatements));
        writer.exec('COMMIT');
        return result;
      } catch (error) {
        if (writer.inTransaction) writer.exec('ROLLBACK');
        // DDL inside a rolled-back transaction can leave cached statements pointing at tables that no longer exist.
        writeStatements.clear();
        throw error;
      }
    });
  }

  /** Takes the write lock, trying again on a timer while another connection holds it. */
  private async beginImmediate(): Promise<void> {
    const { writer, busyTimeoutMs } = this.connections;
    const deadline = Date.now() + busyTimeoutMs;
    for (;;) {
      try {
        writer.exec('BEGIN IMMEDIATE');
        return;
      } catch (error) {
        if (!(error as { code?: string }).code?.startsWith('SQLITE_BUSY')) throw error;
        // The file stayed locked for the whole busy timeout: the database's state, not the batch's fault.
        if (Date.now() >= deadline) throw new DaybookError('store_unavailable', `the read-model store stayed locked: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
      this.ensureOpen();
    }
  }

  read<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    const { reader, readLock, readStatements } = this.connections;
    return readLock.run(async () => {
      this.ensureOpen();
      reader.exec('BEGIN');
      try {
        return await fn(executor(readStatements));
      } finally {
        if (reader.inTransaction) reader.exec('COMMIT');
      }
    });
  }

  /** One statement in its own transaction (the lock taken as every write takes it). */
  executeLight(sql: string, params: readonly unknown[] = []): Promise<number> {
    return this.transaction((tx) => tx.execute(sql, params));
  }

  async ping(): Promise<void> {
    this.ensureOpen();
    try {
      this.connections.reader.prepare('SELECT 1').get();
    } catch (error) {
      throw new DaybookError('store_unavailable', `the read-model store does not answer: ${(error as Error).message}`);
    }
  }

  async existingTables(names: readonly string[]): Promise<Set<string>> {
    const { reader, readLock } = this.connections;
    return readLock.run(async () => {
      this.ensureOpen();
      const rows = reader.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>;
      const wanted = new Set(names);
      return new Set(rows.map((row) => row.name).filter((name) => wanted.has(name)));
    });
  }

  private ensureOpen(): void {
    if (this.closed) throw new DaybookError('store_closed', 'the read-model store is closed');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const connections = this.connections;
    // Let the transactions in flight finish first.
    await connections.writeLock.run(async () => {});
    await connections.readLock.run(async () => {});
    this.closed = true;
    connections.users -= 1;
    if (connections.users > 0) return;
    shared.delete(this.path);
    connections.writer.close();
    connections.reader.close();
  }
}
