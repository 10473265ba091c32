import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The data folder holds the event log, API key hashes and the pepper: the
 * owner's alone, whatever the umask. Folders are made 0700 and files 0600
 * when we create them; files that exist keep the mode their operator gave
 * them. Not exported from `kernel/index.ts`: the domain touches no files.
 *
 * @example
 * ensurePrivateFile('/srv/daybook/data/daybook.db'); // folders 0700, an empty file 0600 unless it exists
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Makes the folder, and each missing one above it, 0700. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Creates the file empty, 0600, unless it exists (its folder 0700). For a
 * SQLite database this is the whole fix: SQLite gives the -wal, -shm and
 * -journal files it makes the database file's own mode, and takes an empty
 * file for an empty database.
 */
export function ensurePrivateFile(path: string): void {
  ensurePrivateDir(dirname(path));
  try {
    // `wx`: never truncates, and of two processes at once one creates and the other finds it made.
    closeSync(openSync(path, 'wx', PRIVATE_FILE_MODE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
