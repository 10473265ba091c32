/**
 * Online backup of the embedded (SQLite) store while a server keeps writing.
 *
 * `VACUUM INTO` on a read-only connection of its own copies one consistent
 * snapshot of the database (events, head, snapshots, read models as of one
 * commit). In WAL mode a reader never blocks the writer and takes no writer
 * lock; the only cost to the server is that checkpoints cannot pass the
 * snapshot while the copy runs (the WAL grows meanwhile). SQLite's page-by-page
 * backup API would restart at every commit of the server, so it may never end
 * under load.
 *
 * The copy goes to `<file>.partial`; it is checked (SQLite's page check, every
 * hash chain, head and count), made a single file, synced, hashed, and only
 * then renamed to `<file>`, after its manifest. A failure removes the partial
 * file: a file named `<file>` is always a complete, verified backup.
 *
 * @example
 * const report = await backupSqliteStore({ storePath: '/srv/daybook/data/daybook.db', file: '/backups/2024-06-01.db' });
 * // { file, bytes, eventCount, headPosition, headHash, sha256, seconds, mbPerSecond }
 */
import { SUBJECT_KEYS_FILE } from '../privacy/index.ts';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DaybookError } from '../kernel/index.ts';
import { ensurePrivateDir, ensurePrivateFile } from '../kernel/privateFiles.ts';
import { durableRename, fileSize, fsyncFile, removeQuietly, sha256File } from './files.ts';
import { checkSqliteFile, leaveWalMode, storeFacts } from './inspect.ts';
import { type BackupManifest, MANIFEST_FORMAT, manifestPathOf, manifestText } from './manifest.ts';

export interface BackupOptions {
  /** The live store's file (`<data dir>/daybook.db`). */
  storePath: string;
  /** Where the backup goes; must not exist. */
  file: string;
  /** Wall clock for the manifest and the timing (injected for tests; default Date.now). */
  nowMs?: () => number;
}

export interface BackupReport {
  file: string;
  manifestFile: string;
  bytes: number;
  eventCount: number;
  headPosition: bigint;
  headHash: string;
  sha256: string;
  /** Copy and verification, wall-clock. */
  seconds: number;
  /** Bytes of the backup per second of the whole run, in MB (10^6 bytes). */
  mbPerSecond: number;
}

export async function backupSqliteStore(options: BackupOptions): Promise<BackupReport> {
  const now = options.nowMs ?? Date.now;
  const startedMs = now();
  const { storePath, file } = options;
  if (!existsSync(storePath)) throw new DaybookError('store_unavailable', `no store at ${storePath}`, { path: storePath });
  if (existsSync(file)) throw new DaybookError('validation_failed', `${file} exists already: a backup never overwrites a file`, { file }, 'file');
  ensurePrivateDir(dirname(file));
  const partial = `${file}.partial`;
  const manifestFile = manifestPathOf(file);
  const manifestPartial = `${manifestFile}.partial`;
  // A partial file of an earlier failed run is garbage by definition.
  await removeQuietly(partial, `${partial}-wal`, `${partial}-shm`, manifestPartial);
  try {
    // The copy holds everything the store does: 0600 from the start (VACUUM INTO fills an empty file it is given).
    ensurePrivateFile(partial);
    await vacuumInto(storePath, partial);
    const label = `the backup copy ${partial}`;
    const facts = await storeFacts(partial, label);
    leaveWalMode(partial);
    checkSqliteFile(partial, label, 'full');
    await fsyncFile(partial);
    const bytes = await fileSize(partial);
    const sha256 = await sha256File(partial);
    // The key copy is taken after the store's: it holds every key the copied events were sealed under (a key is stored before its events).
    const subjectKeys = await copySubjectKeys(storePath, file);
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT, file: basename(file), bytes, sha256,
      headPosition: facts.headPosition.toString(), headHash: facts.headHash, eventCount: facts.eventCount, createdAt: new Date(now()).toISOString(),
      subjectKeys: subjectKeys === null ? null : { file: basename(subjectKeysBackupPath(file)), bytes: subjectKeys.bytes, sha256: subjectKeys.sha256 },
    };
    await writeFile(manifestPartial, manifestText(manifest), { mode: 0o600 });
    await fsyncFile(manifestPartial);
    // The manifest first: a manifest without its backup is plainly incomplete, a backup without one would not be.
    await durableRename(manifestPartial, manifestFile);
    if (subjectKeys !== null) await durableRename(subjectKeys.partial, subjectKeysBackupPath(file));
    await durableRename(partial, file);
    const seconds = (now() - startedMs) / 1000;
    return {
      file, manifestFile, bytes, eventCount: facts.eventCount, headPosition: facts.headPosition, headHash: facts.headHash, sha256,
      seconds, mbPerSecond: seconds > 0 ? bytes / 1e6 / seconds : bytes / 1e6,
    };
  } catch (error) {
    await removeQuietly(partial, `${partial}-wal`, `${partial}-shm`, `${partial}-journal`, manifestPartial, `${subjectKeysBackupPath(file)}.partial`);
    if (!existsSync(file)) await removeQuietly(manifestFile, subjectKeysBackupPath(file));
    throw asBackupError(error, file);
  }
}

/** The key store's copy beside a backup (`<backup>.subject-keys.db`): the wrapped data keys of the personal data the backup holds. */
export function subjectKeysBackupPath(file: string): string {
  return `${file}.subject-keys.db`;
}

/**
 * Copies the subject key store beside the store (crypto-shredding, see
 * src/privacy) next to the backup, if there is one: without it the backup's
 * personal data could never be read again. The keys are wrapped by the
 * master key, which stays in the key folder, never in a backup; erasures
 * made after the backup are applied again on restore from the key folder's
 * erasure journal. The copy is left at `<copy>.partial`, synced and hashed
 * (its hash goes in the manifest); the caller renames it into place.
 */
async function copySubjectKeys(storePath: string, file: string): Promise<{ partial: string; bytes: number; sha256: string } | null> {
  const source = join(dirname(storePath), SUBJECT_KEYS_FILE);
  if (!existsSync(source)) return null;
  const target = subjectKeysBackupPath(file);
  const partial = `${target}.partial`;
  await removeQuietly(partial, target);
  try {
    ensurePrivateFile(partial);
    await vacuumInto(source, partial);
    leaveWalMode(partial);
    await fsyncFile(partial);
    return { partial, bytes: await fileSize(partial), sha256: await sha256File(partial) };
  } catch (error) {
    await removeQuietly(partial, `${partial}-wal`, `${partial}-shm`);
    throw error;
  }
}

/**
 * Disk full and other I/O failures become `backup_failed` with the reason; our
 * own errors pass as they are. SQLite reports a write refused for a file size
 * limit as a plain I/O error, so the message says what the usual causes are.
 */
function asBackupError(error: unknown, file: string): unknown {
  if ((error as { name?: string }).name === 'DaybookError') return error;
  const code = (error as { code?: string | null }).code ?? '';
  const message = (error as Error).message;
  let reason = message;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EFBIG') reason = `no space left for it (${message})`;
  else if (code.startsWith('SQLITE_IOERR')) reason = `could not write the copy (SQLite: ${message}): is the disk full, or a file size limit (ulimit -f) reached?`;
  return new DaybookError('backup_failed', `backup to ${file} failed: ${reason}; nothing was left behind and the live store is untouched`, { file, cause: code });
}

function vacuumInto(source: string, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./vacuumInto.worker.mjs', import.meta.url), { workerData: { source, target } });
    let answered = false;
    worker.once('message', (reply: { ok: boolean; message?: string; code?: string | null }) => {
      answered = true;
      if (reply.ok) resolve();
      else reject(Object.assign(new Error(reply.message ?? 'VACUUM INTO failed'), { code: reply.code ?? undefined }));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`the backup thread stopped (exit ${code}) before it finished`));
    });
  });
}
