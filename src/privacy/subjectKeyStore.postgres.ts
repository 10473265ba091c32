import pg from 'pg';
import { DaybookError } from '../kernel/index.ts';
import { SUBJECT_KEYS_TABLE, type SubjectKeyRow, type SubjectKeyStore } from './subjectKeyStore.ts';

/** In the database's `public` schema on purpose: not among the event tables (`daybook` schema), which backups of the log copy. */
const TABLE = `public.${SUBJECT_KEYS_TABLE}`;

type Row = { subject: string; wrapped_key: Buffer | null; created_at_ms: string; erased_at_ms: string | null };

/** The PostgreSQL key store (see SubjectKeyStore): one table, created if missing. */
export async function openPostgresSubjectKeyStore(url: string): Promise<SubjectKeyStore> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {});
  try {
    await pool.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (
      subject TEXT PRIMARY KEY, wrapped_key BYTEA, created_at_ms BIGINT NOT NULL, erased_at_ms BIGINT,
      CHECK ((wrapped_key IS NULL) = (erased_at_ms IS NOT NULL)))`);
  } catch (error) {
    await pool.end();
    throw new DaybookError('store_unavailable', `cannot prepare the subject key store: ${(error as Error).message}`);
  }
  const rowOf = (row: Row | undefined): SubjectKeyRow | null => row === undefined ? null : {
    subject: row.subject, wrappedKey: row.wrapped_key, createdAtMs: Number(row.created_at_ms), erasedAtMs: row.erased_at_ms === null ? null : Number(row.erased_at_ms),
  };
  const read = async (subject: string): Promise<SubjectKeyRow | null> =>
    rowOf((await pool.query<Row>(`SELECT subject, wrapped_key, created_at_ms, erased_at_ms FROM ${TABLE} WHERE subject = $1`, [subject])).rows[0]);
  const vacuum = async (): Promise<void> => {
    // MVCC keeps the old row version (with the key) until a vacuum; best effort, the key is unreachable already.
    try { await pool.query(`VACUUM ${TABLE}`); } catch { /* autovacuum gets to it */ }
  };
  // The inserts asked for in one turn of the event loop go as one statement (one commit), then one read of what is stored.
  let pending: Array<{ subject: string; wrappedKey: Buffer; atMs: number; resolve(row: SubjectKeyRow): void; reject(error: unknown): void }> = [];
  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    try {
      const inserted = await pool.query<Row>(
        `INSERT INTO ${TABLE} (subject, wrapped_key, created_at_ms) SELECT * FROM unnest($1::text[], $2::bytea[], $3::bigint[]) ON CONFLICT (subject) DO NOTHING
         RETURNING subject, wrapped_key, created_at_ms, erased_at_ms`,
        [batch.map((item) => item.subject), batch.map((item) => item.wrappedKey), batch.map((item) => item.atMs)],
      );
      const bySubject = new Map(inserted.rows.map((row) => [row.subject, rowOf(row)!]));
      // A subject that had a row already (another process's key, or a tombstone): the stored row is the answer.
      const others = batch.map((item) => item.subject).filter((subject) => !bySubject.has(subject));
      if (others.length > 0) {
        const { rows } = await pool.query<Row>(`SELECT subject, wrapped_key, created_at_ms, erased_at_ms FROM ${TABLE} WHERE subject = ANY($1::text[])`, [others]);
        for (const row of rows) bySubject.set(row.subject, rowOf(row)!);
      }
      for (const item of batch) item.resolve(bySubject.get(item.subject)!);
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  };
  return {
    location: `${TABLE} (PostgreSQL)`,
    insertKey: (subject, wrappedKey, atMs) => new Promise<SubjectKeyRow>((resolve, reject) => {
      if (pending.length === 0) setImmediate(() => { void flush(); });
      pending.push({ subject, wrappedKey, atMs, resolve, reject });
    }),
    read,
    erase: async (subject, atMs) => {
      const updated = await pool.query(`UPDATE ${TABLE} SET wrapped_key = NULL, erased_at_ms = $2 WHERE subject = $1 AND erased_at_ms IS NULL`, [subject, atMs]);
      if (updated.rowCount === 1) {
        await vacuum();
        return 'erased';
      }
      return (await read(subject)) === null ? 'unknown' : 'already_erased';
    },
    putTombstone: async ({ subject, erasedAtMs }) => {
      const written = await pool.query(`INSERT INTO ${TABLE} (subject, wrapped_key, created_at_ms, erased_at_ms) VALUES ($1, NULL, $2, $2)
        ON CONFLICT (subject) DO UPDATE SET wrapped_key = NULL, erased_at_ms = excluded.erased_at_ms WHERE ${TABLE}.erased_at_ms IS NULL`, [subject, erasedAtMs]);
      if (written.rowCount === 1) await vacuum();
    },
    tombstones: async () => (await pool.query<{ subject: string; erased_at_ms: string }>(
      `SELECT subject, erased_at_ms FROM ${TABLE} WHERE erased_at_ms IS NOT NULL ORDER BY erased_at_ms, subject`,
    )).rows.map((row) => ({ subject: row.subject, erasedAtMs: Number(row.erased_at_ms) })),
    close: async () => {
      if (pending.length > 0) await flush();
      await pool.end();
    },
  };
}
