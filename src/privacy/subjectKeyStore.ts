import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { DaybookError } from '../kernel/index.ts';
import { ensurePrivateFile } from '../kernel/privateFiles.ts';

/** A subject's row: its wrapped data key, or (erased) no key and when it was erased. */
export interface SubjectKeyRow {
  subject: string;
  /** The data key wrapped by the KeyProvider's master key; null once erased. */
  wrappedKey: Buffer | null;
  createdAtMs: number;
  erasedAtMs: number | null;
}

/** What is left of an erased subject: its id and when. No key, no personal data. */
export interface Tombstone {
  subject: string;
  erasedAtMs: number;
}

/**
 * Per-subject data keys, kept apart from the event log (so that neither a
 * copy of the log nor a backup of it holds them): on SQLite the file
 * `subject-keys.db` beside the store (0600), on PostgreSQL the table
 * `public.daybook_subject_keys` of the same database, outside the `daybook`
 * schema of the event tables. One row per subject; erasing overwrites the
 * wrapped key with NULL and stamps `erased_at_ms` (the tombstone), in one
 * statement, and a tombstoned row never takes a key again.
 *
 * @example
 * const keys = openSubjectKeyStore('sqlite:/srv/daybook/data/daybook.db'); // → /srv/daybook/data/subject-keys.db
 * await keys.insertKey('bankcustomer:test.c1', wrapped, Date.now());
 */
export interface SubjectKeyStore {
  readonly location: string;
  /** Inserts a key unless the subject has a row (a key, or a tombstone); returns the row now stored. */
  insertKey(subject: string, wrappedKey: Buffer, atMs: number): Promise<SubjectKeyRow>;
  read(subject: string): Promise<SubjectKeyRow | null>;
  /** Destroys the key: `erased`, or `already_erased` (a tombstone was there), or `unknown` (no row: nothing written). */
  erase(subject: string, atMs: number): Promise<'erased' | 'already_erased' | 'unknown'>;
  /** Writes a tombstone whatever the row held (restoring an older key store over erasures made since); an existing tombstone is kept. */
  putTombstone(tombstone: Tombstone): Promise<void>;
  /** Every tombstone, oldest erasure first. */
  tombstones(): Promise<Tombstone[]>;
  close(): Promise<void>;
}

export const SUBJECT_KEYS_FILE = 'subject-keys.db';
export const SUBJECT_KEYS_TABLE = 'daybook_subject_keys';

/** The key store of an event store url: the SQLite file beside it, or the table in the same PostgreSQL database. */
export async function openSubjectKeyStore(storeUrl: string): Promise<SubjectKeyStore> {
  if (storeUrl.startsWith('postgres://') || storeUrl.startsWith('postgresql://')) {
    const { openPostgresSubjectKeyStore } = await import('./subjectKeyStore.postgres.ts');
    return openPostgresSubjectKeyStore(storeUrl);
  }
  if (!storeUrl.startsWith('sqlite:')) throw new DaybookError('validation_failed', 'the key store follows the event store: sqlite:<path> or postgres://…', {});
  return openSqliteSubjectKeyStore(join(dirname(storeUrl.slice('sqlite:'.length)), SUBJECT_KEYS_FILE));
}

export function openSqliteSubjectKeyStore(path: string): SubjectKeyStore {
  ensurePrivateFile(path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  // Deleted content is overwritten with zeros, so an erased key does not linger in free pages.
  db.pragma('secure_delete = ON');
  db.exec(`CREATE TABLE IF NOT EXISTS ${SUBJECT_KEYS_TABLE} (
    subject TEXT PRIMARY KEY, wrapped_key BLOB, created_at_ms INTEGER NOT NULL, erased_at_ms INTEGER,
    CHECK ((wrapped_key IS NULL) = (erased_at_ms IS NOT NULL)))`);
  const select = db.prepare<[string], { subject: string; wrapped_key: Buffer | null; created_at_ms: number; erased_at_ms: number | null }>(
    `SELECT subject, wrapped_key, created_at_ms, erased_at_ms FROM ${SUBJECT_KEYS_TABLE} WHERE subject = ?`,
  );
  const insert = db.prepare(`INSERT INTO ${SUBJECT_KEYS_TABLE} (subject, wrapped_key, created_at_ms) VALUES (?, ?, ?) ON CONFLICT (subject) DO NOTHING`);
  const erase = db.prepare(`UPDATE ${SUBJECT_KEYS_TABLE} SET wrapped_key = NULL, erased_at_ms = ? WHERE subject = ? AND erased_at_ms IS NULL`);
  const tombstone = db.prepare(`INSERT INTO ${SUBJECT_KEYS_TABLE} (subject, wrapped_key, created_at_ms, erased_at_ms) VALUES (?, NULL, ?, ?)
    ON CONFLICT (subject) DO UPDATE SET wrapped_key = NULL, erased_at_ms = excluded.erased_at_ms WHERE ${SUBJECT_KEYS_TABLE}.erased_at_ms IS NULL`);
  const tombstones = db.prepare<[], { subject: string; erased_at_ms: number }>(
    `SELECT subject, erased_at_ms FROM ${SUBJECT_KEYS_TABLE} WHERE erased_at_ms IS NOT NULL ORDER BY erased_at_ms, subject`,
  );
  const rowOf = (subject: string): SubjectKeyRow | null => {
    const row = select.get(subject);
    return row === undefined ? null : { subject: row.subject, wrappedKey: row.wrapped_key, createdAtMs: row.created_at_ms, erasedAtMs: row.erased_at_ms };
  };
  const checkpoint = (): void => {
    // The WAL still holds the page with the key until a checkpoint copies it back and truncates the log.
    try { db.pragma('wal_checkpoint(TRUNCATE)'); } catch { /* a reader holds the WAL: the next checkpoint does it */ }
  };
  // Group commit: the inserts asked for in one turn of the event loop share one transaction (one fsync).
  let pending: Array<{ subject: string; wrappedKey: Buffer; atMs: number; resolve(row: SubjectKeyRow): void; reject(error: unknown): void }> = [];
  const flush = (): void => {
    const batch = pending;
    pending = [];
    try {
      db.transaction(() => { for (const item of batch) insert.run(item.subject, item.wrappedKey, item.atMs); }).immediate();
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    for (const item of batch) item.resolve(rowOf(item.subject)!);
  };
  return {
    location: path,
    insertKey: (subject, wrappedKey, atMs) => new Promise<SubjectKeyRow>((resolve, reject) => {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ subject, wrappedKey, atMs, resolve, reject });
    }),
    read: async (subject) => rowOf(subject),
    erase: async (subject, atMs) => {
      const outcome = db.transaction(() => {
        if (erase.run(atMs, subject).changes === 1) return 'erased' as const;
        return rowOf(subject) === null ? 'unknown' as const : 'already_erased' as const;
      }).immediate();
      if (outcome === 'erased') checkpoint();
      return outcome;
    },
    putTombstone: async ({ subject, erasedAtMs }) => {
      if (tombstone.run(subject, erasedAtMs, erasedAtMs).changes === 1) checkpoint();
    },
    tombstones: async () => tombstones.all().map((row) => ({ subject: row.subject, erasedAtMs: row.erased_at_ms })),
    close: async () => {
      if (pending.length > 0) flush();
      db.close();
    },
  };
}
