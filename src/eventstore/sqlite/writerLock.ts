import Database from 'better-sqlite3';
import { DaybookError } from '../../kernel/errors.ts';
import { ensurePrivateFile } from '../../kernel/privateFiles.ts';

export interface WriterLock {
  release(): void;
}

/**
 * One writer process per data folder. The lock is an exclusive SQLite lock on
 * a side file, held for the life of the connection: the operating system drops
 * it when the process dies, even by `kill -9`, so a restart never waits on a
 * stale lock, and a second writer gets a clear error instead of corrupting
 * anything. Readers of the store itself are not blocked.
 */
export function acquireWriterLock(storePath: string): WriterLock {
  const lockPath = `${storePath}.lock`;
  ensurePrivateFile(lockPath);
  const connection = new Database(lockPath, { timeout: 0 });
  try {
    connection.pragma('locking_mode = EXCLUSIVE');
    connection.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS writer (pid INTEGER); COMMIT;');
  } catch (error) {
    connection.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new DaybookError('store_locked', `another process is writing to ${storePath}; only one writer may open a data folder`, { path: storePath });
    }
    throw error;
  }
  return { release: () => { if (connection.open) connection.close(); } };
}
