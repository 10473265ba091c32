/**
 * Point-in-time restore. The embedded store: a backup (plus, optionally,
 * shipped log segments) is restored into a new data folder. PostgreSQL: a
 * database the operator already restored (pg_basebackup + WAL replay, see
 * docs/operations.md) has its log cut in place.
 *
 * Either way the log is cut after a global position, or after the last event
 * recorded at or before a time (cutLog.ts says what else is cut with it), the
 * store is verified, and every projection is rebuilt from the kept log.
 * An embedded restore is built in a temporary folder beside the target and
 * renamed into place only when all of that succeeded: the target is either
 * absent or complete.
 */
import { DATA_SUBJECT_ERASED, type DataSubjectErasedData, openSubjectKeyStore, PRIVACY_ERASURES_STREAM, readErasureJournal, reapplyErasures, recordMissingErasures, SUBJECT_KEYS_FILE, type Tombstone } from '../privacy/index.ts';
import { subjectKeysBackupPath } from './backup.ts';
import { chmod, copyFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { openEventStore } from '../eventstore/open.ts';
import type { EventStore } from '../eventstore/index.ts';
import { DaybookError } from '../kernel/index.ts';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../kernel/privateFiles.ts';
import { createProjectionEngine, openReadModelStore, type ProjectionDefinition, type ReadModelStore } from '../projections/index.ts';
import { applyShipped } from './applyShipped.ts';
import { type CutResult, cutLogAfter, positionAtOrBefore, storedHead } from './cutLog.ts';
import { durableRename, fileSize, folderState, fsyncDir, fsyncFile, removeQuietly, sha256File } from './files.ts';
import { checkSqliteFile } from './inspect.ts';
import { type BackupManifest, readManifest } from './manifest.ts';
import { applyShippedKeys, SHIPPED_KEYS_FILE, subjectsWithoutKeys } from './shippedKeys.ts';

export interface RestorePoint {
  /** Keep events up to this global position (inclusive). */
  toPosition?: bigint;
  /** Keep events recorded at or before this time (ms since the epoch). */
  toTimeMs?: number;
}

export interface RestoreReport {
  /** The data folder restored into, or the PostgreSQL store cut in place (printable, no password). */
  target: string;
  /** Head of the backup (after any shipped segments). */
  availableHead: bigint;
  shippedApplied: number;
  headPosition: bigint;
  headHash: string;
  eventsKept: number;
  eventsCut: number;
  cut: CutResult;
  projectionsRebuilt: string[];
  /** Generations in the store that no definition here knows: their checkpoints were moved back, their tables not rebuilt. */
  projectionsUnknown: string[];
  seconds: number;
  /** Erasures of the journal applied again (keys destroyed, events recorded), when a journal was given. */
  erasures?: { reapplied: string[]; recorded: number };
}

export interface SqliteRestoreOptions extends RestorePoint {
  backupFile: string;
  /** The new data folder: must not exist, or be empty. */
  dataDir: string;
  /** A folder of shipped log segments to replay after the backup's head. */
  segmentsDir?: string;
  /**
   * The key folder whose erasure journal is applied to the restored store
   * before it takes its place (see restoreErasures): a restored folder never
   * shows, even for a moment, personal data erased since the backup.
   */
  erasureJournalDir?: string;
  /** The projections to rebuild (a function: made for the restored store). */
  projections: readonly ProjectionDefinition[] | ((store: EventStore) => readonly ProjectionDefinition[]);
  nowMs?: () => number;
}

export const STORE_FILE = 'daybook.db';

export async function restoreSqliteBackup(options: SqliteRestoreOptions): Promise<RestoreReport> {
  const now = options.nowMs ?? Date.now;
  const startedMs = now();
  const dataDir = resolve(options.dataDir);
  const state = await folderState(dataDir);
  if (state === 'not_empty' || state === 'not_a_folder') {
    throw new DaybookError('restore_target_not_empty', `${dataDir} is ${state === 'not_empty' ? 'not empty' : 'not a folder'}: restore into a new or empty folder`, { dataDir }, 'data');
  }
  await checkBackupFile(options.backupFile);
  const work = join(dirname(dataDir), `.${basename(dataDir)}.restoring-${randomBytes(4).toString('hex')}`);
  try {
    ensurePrivateDir(work);
    const storePath = join(work, STORE_FILE);
    await copyFile(options.backupFile, storePath);
    await chmod(storePath, PRIVATE_FILE_MODE);
    const label = `the backup ${options.backupFile}`;
    checkSqliteFile(storePath, label);
    const backupHead = rawHead(storePath);
    let shippedApplied = 0;
    if (options.segmentsDir !== undefined) shippedApplied = (await applyShipped(storePath, options.segmentsDir, options.toPosition ?? null)).applied;
    const availableHead = backupHead + BigInt(shippedApplied);
    if (options.toPosition !== undefined && options.toPosition > availableHead) {
      const what = options.segmentsDir === undefined ? `the backup's head ${availableHead} (${options.backupFile})` : `the last shipped position ${availableHead} (backup head ${backupHead}, ${options.segmentsDir})`;
      throw new DaybookError('validation_failed', `position ${options.toPosition} is past ${what}`, { toPosition: options.toPosition.toString(), head: availableHead.toString() }, 'to_position');
    }
    await restoreSubjectKeys(options, work, storePath, backupHead);
    const result = await cutAndRebuild(`sqlite:${storePath}`, options, label);
    const erasures = await restoreErasures(`sqlite:${storePath}`, options.erasureJournalDir);
    await fsyncFile(storePath);
    await fsyncDir(work);
    if (state === 'empty') await removeQuietly(dataDir);
    await durableRename(work, dataDir);
    return { ...result, target: dataDir, availableHead, shippedApplied, erasures, seconds: (now() - startedMs) / 1000 };
  } catch (error) {
    await removeQuietly(work);
    throw error;
  }
}

/** The backup exists, matches its manifest when it has one (its key copy too), and is a SQLite file at all (checked again on the copy). */
async function checkBackupFile(file: string): Promise<void> {
  if (!existsSync(file)) throw new DaybookError('not_found', `no backup at ${file}`, { file }, 'file');
  const manifest = await readManifest(file);
  if (manifest === null) return;
  const [sha, bytes] = await Promise.all([sha256File(file), fileSize(file)]);
  if (sha !== manifest.sha256) {
    const how = bytes < manifest.bytes ? `truncated: ${bytes} bytes, the manifest says ${manifest.bytes}` : `changed since it was taken (${bytes} bytes, manifest ${manifest.bytes})`;
    throw new DaybookError('backup_invalid', `the backup ${file} does not match its manifest's sha256 (${how}): do not restore it`, { file, sha256: sha, expected: manifest.sha256 });
  }
  await checkSubjectKeysCopy(file, manifest);
}

/**
 * The key copy against the manifest: a manifest that names one needs it
 * present and unchanged; one that says there was none refuses a copy that
 * appeared since. A manifest from before key copies were hashed says
 * nothing, and the copy is taken as it is.
 */
async function checkSubjectKeysCopy(file: string, manifest: BackupManifest): Promise<void> {
  if (manifest.subjectKeys === undefined) return;
  const copy = subjectKeysBackupPath(file);
  const present = existsSync(copy);
  if (manifest.subjectKeys === null) {
    if (present) throw new DaybookError('backup_invalid', `the subject key copy ${copy} is not in the backup's manifest (the backup had none): it was put there since; move it away`, { file: copy });
    return;
  }
  if (!present) throw new DaybookError('backup_invalid', `the subject key copy ${copy} is missing, and the manifest lists it: without it the backup's personal data is unreadable`, { file: copy });
  const sha = await sha256File(copy);
  if (sha !== manifest.subjectKeys.sha256) {
    throw new DaybookError('backup_invalid', `the subject key copy ${copy} does not match the manifest's sha256 (changed or replaced since the backup): do not restore it`, { file: copy, sha256: sha, expected: manifest.subjectKeys.sha256 });
  }
}

/**
 * Puts the subject keys (crypto-shredding) in the restored folder: the
 * backup's copy, then the keys and tombstones shipped with the segments
 * (shippedKeys.ts), so the personal data of subjects created after the
 * backup reads back. A shipped event sealed under a key found in neither is
 * refused, naming the subjects: the restore would lose their data. Erasures
 * made since are applied again by the caller (restoreErasures).
 */
async function restoreSubjectKeys(options: SqliteRestoreOptions, work: string, storePath: string, backupHead: bigint): Promise<void> {
  const keysCopy = subjectKeysBackupPath(options.backupFile);
  const keyStorePath = join(work, SUBJECT_KEYS_FILE);
  if (existsSync(keysCopy)) {
    await copyFile(keysCopy, keyStorePath);
    await chmod(keyStorePath, PRIVATE_FILE_MODE);
  }
  if (options.segmentsDir === undefined) return;
  await applyShippedKeys(keyStorePath, options.segmentsDir);
  const missing = subjectsWithoutKeys(storePath, keyStorePath, backupHead);
  if (missing.length > 0) {
    const named = missing.slice(0, 5).join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : '');
    throw new DaybookError('backup_invalid',
      `the shipped segments in ${options.segmentsDir} hold personal data of ${missing.length} subject(s) whose keys are neither in the backup's key copy nor shipped (${SHIPPED_KEYS_FILE}): ${named}; `
      + 'restoring would make it unreadable for good. Restore without --segments, or from segments shipped with their keys', { dir: options.segmentsDir, missing: missing.length });
  }
}

function rawHead(path: string): bigint {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return BigInt((db.prepare('SELECT coalesce(max(position), 0) AS head FROM events').get() as { head: number }).head);
  } finally {
    db.close();
  }
}

type CutAndRebuild = Omit<RestoreReport, 'target' | 'availableHead' | 'shippedApplied' | 'seconds'>;

/** Resolves the restore point, cuts the log there, verifies every chain, then rebuilds every projection. */
export async function cutAndRebuild(url: string, options: RestorePoint & { projections: readonly ProjectionDefinition[] | ((store: EventStore) => readonly ProjectionDefinition[]) }, label: string): Promise<CutAndRebuild> {
  const readModels = await openReadModelStore(url, { durableCommits: true });
  try {
    const position = await resolvePoint(readModels, options);
    const cut = await cutLogAfter(readModels, position);
    const store = await openEventStore(url, { readOnly: true, migrate: false });
    try {
      const verify = await store.verify();
      if (!verify.ok) {
        const at = verify.firstBreak!;
        throw new DaybookError('backup_invalid', `${label} fails verification after the cut: ${at.reason} at position ${at.position}${at.streamId ? ` (stream ${at.streamId} version ${at.version})` : ''}`, { position: at.position.toString() });
      }
      const [last] = position === 0n ? [] : await store.readAll({ after: position - 1n, limit: 1 });
      const engine = createProjectionEngine({ store, readModels, projections: [...(typeof options.projections === 'function' ? options.projections(store) : options.projections)] });
      const projectionsRebuilt: string[] = [];
      for (const name of engine.registry.names()) {
        await engine.rebuild(name);
        projectionsRebuilt.push(name);
      }
      const active = await readModels.read((tx) => tx.query<{ name: string }>('SELECT name FROM projection_active ORDER BY name'));
      const projectionsUnknown = active.map((row) => row.name).filter((name) => !projectionsRebuilt.includes(name));
      return { headPosition: position, headHash: last?.hash ?? '', eventsKept: verify.eventsChecked, eventsCut: cut.eventsCut, cut, projectionsRebuilt, projectionsUnknown };
    } finally {
      await store.close();
    }
  } finally {
    await readModels.close();
  }
}

async function resolvePoint(readModels: ReadModelStore, point: RestorePoint): Promise<bigint> {
  if (point.toPosition !== undefined && point.toTimeMs !== undefined) throw new DaybookError('validation_failed', 'give a position or a time, not both', {}, 'to_position');
  return readModels.read(async (tx) => {
    const head = await storedHead(tx);
    if (point.toPosition !== undefined) {
      if (point.toPosition < 0n) throw new DaybookError('validation_failed', 'the position must not be negative', {}, 'to_position');
      if (point.toPosition > head) throw new DaybookError('validation_failed', `position ${point.toPosition} is past the store's head ${head}`, { head: head.toString() }, 'to_position');
      return point.toPosition;
    }
    if (point.toTimeMs !== undefined) return positionAtOrBefore(tx, point.toTimeMs);
    return head;
  });
}

export interface PostgresCutOptions extends RestorePoint {
  url: string;
  /** Printable form of the url (no password). */
  description: string;
  /** The projections to rebuild (a function: made for the restored store). */
  projections: readonly ProjectionDefinition[] | ((store: EventStore) => readonly ProjectionDefinition[]);
  nowMs?: () => number;
}

/**
 * Cuts an already-restored PostgreSQL store in place. Stop every server on it
 * first: a running one keeps stream heads and projections in memory.
 */
export async function cutPostgresStore(options: PostgresCutOptions): Promise<RestoreReport> {
  const now = options.nowMs ?? Date.now;
  const startedMs = now();
  if (options.toPosition === undefined && options.toTimeMs === undefined) {
    throw new DaybookError('validation_failed', 'cutting a PostgreSQL store in place needs a position or a time', {}, 'to_position');
  }
  const result = await cutAndRebuild(options.url, options, `the store ${options.description}`);
  return { ...result, target: options.description, availableHead: result.headPosition + BigInt(result.eventsCut), shippedApplied: 0, seconds: (now() - startedMs) / 1000 };
}

/**
 * Carries every erasure of the erasure journal (in the key folder, apart
 * from any backup) over a restore: the restored key store's key of each
 * erased subject is destroyed again, and the restored log gets the
 * `DataSubjectErased` events it lacks. Returns the subjects whose keys were
 * destroyed again and the events appended.
 */
export async function restoreErasures(storeUrl: string, keysDir: string | undefined): Promise<{ reapplied: string[]; recorded: number }> {
  // The restored log's own erasure events count too: without a journal (lost with its key folder, or not given), a key copy
  // older than an erasure the log still records would otherwise bring the key back.
  const journal = keysDir === undefined ? [] : readErasureJournal(keysDir);
  const tombstones = [...journal, ...await erasuresInLog(storeUrl)];
  if (tombstones.length === 0) return { reapplied: [], recorded: 0 };
  const keyStore = await openSubjectKeyStore(storeUrl);
  let reapplied: string[];
  try {
    reapplied = await reapplyErasures(keyStore, tombstones);
  } finally {
    await keyStore.close();
  }
  const store = await openEventStore(storeUrl);
  try {
    return { reapplied, recorded: await recordMissingErasures(store, journal) };
  } finally {
    await store.close();
  }
}

/** The erasures the store's own log records (`DataSubjectErased` in `privacy-erasures`). */
async function erasuresInLog(storeUrl: string): Promise<Tombstone[]> {
  const store = await openEventStore(storeUrl, { readOnly: storeUrl.startsWith('sqlite:'), migrate: false });
  try {
    const found: Tombstone[] = [];
    for await (const event of store.streamAll({ category: 'privacy', types: [DATA_SUBJECT_ERASED] })) {
      const data = event.data as Partial<DataSubjectErasedData>;
      if (event.streamId !== PRIVACY_ERASURES_STREAM || typeof data.subject !== 'string') continue;
      const at = typeof data.erasedAt === 'string' ? Date.parse(data.erasedAt) : Number.NaN;
      found.push({ subject: data.subject, erasedAtMs: Number.isNaN(at) ? event.recordedAt.getTime() : at });
    }
    return found;
  } finally {
    await store.close();
  }
}
