/**
 * Checks a SQLite store file the way a backup or a restore must before it
 * trusts it: SQLite's own page check, then every hash chain through the
 * store's verify, then its head (position and hash) and event count.
 */
import Database from 'better-sqlite3';
import { openEventStore } from '../eventstore/open.ts';
import type { VerifyReport } from '../eventstore/index.ts';
import { DaybookError } from '../kernel/index.ts';

export interface StoreFacts {
  headPosition: bigint;
  /** Hash of the event at the head ('' for an empty store). */
  headHash: string;
  eventCount: number;
  verify: VerifyReport;
}

/**
 * SQLite's page check (`quick_check`, or the slower `integrity_check` that
 * also compares every index with its table) on a file nothing else has open.
 * Throws `backup_invalid` naming `label` when it is not a SQLite database or
 * not a Daybook store, or when a page is damaged.
 */
export function checkSqliteFile(path: string, label: string, check: 'quick' | 'full' = 'quick'): void {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const rows = db.pragma(check === 'full' ? 'integrity_check' : 'quick_check') as Array<Record<string, string>>;
    const problems = rows.map((row) => Object.values(row)[0]).filter((text) => text !== 'ok');
    if (problems.length > 0) throw new DaybookError('backup_invalid', `${label} is damaged: SQLite ${check === 'full' ? 'integrity_check' : 'quick_check'} says ${problems.slice(0, 3).join('; ')}`, { path });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('events', 'head')").all();
    if (tables.length !== 2) throw new DaybookError('backup_invalid', `${label} is a SQLite database but not a Daybook store (no events table)`, { path });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new DaybookError('backup_invalid', `${label} is not a SQLite database or is damaged (${(error as Error).message}): truncated or overwritten?`, { path, sqlite: code });
    }
    throw error;
  } finally {
    db?.close();
  }
}

/**
 * Opens the store read-only and gathers its facts; a broken hash chain is
 * `backup_invalid` naming `label` and the first break. Opening makes the file
 * a WAL database: use it on a copy, or turn WAL off after ({@link leaveWalMode}).
 */
export async function storeFacts(path: string, label: string): Promise<StoreFacts> {
  const store = await openEventStore(`sqlite:${path}`, { readOnly: true, migrate: false });
  try {
    const verify = await store.verify();
    if (!verify.ok) {
      const at = verify.firstBreak!;
      throw new DaybookError('backup_invalid', `${label} fails verification: ${at.reason} at position ${at.position}${at.streamId ? ` (stream ${at.streamId} version ${at.version})` : ''}`, { path });
    }
    const head = verify.headPosition;
    const [last] = head === 0n ? [] : await store.readAll({ after: head - 1n, limit: 1 });
    return { headPosition: head, headHash: last?.hash ?? '', eventCount: verify.eventsChecked, verify };
  } finally {
    await store.close();
  }
}

/** Makes a single-file database again (rollback journal): a backup needs no -wal or -shm beside it. */
export function leaveWalMode(path: string): void {
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
}
