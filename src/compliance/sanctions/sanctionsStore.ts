/**
 * The active sanctions list, kept in the data folder as
 * `sanctions-list.json` where the server reads it. Replacing it is atomic:
 * the new files are read and parsed whole first (a malformed file throws
 * before anything is written), then written to a temporary file beside the
 * target, flushed, and renamed over it, so a reader sees the old list or the
 * new one, never half of either, and a crash leaves the old list in place.
 *
 * @example
 * const stored = replaceActiveSanctionsList(dataDir, readSanctionsFiles('sdn.csv', 'alt.csv'), clock.nowMs());
 * const screener = buildSanctionsScreener(readActiveSanctionsList(dataDir));
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DaybookError } from '../../kernel/errors.ts';
import { SANCTIONS_FILE_BYTES_MAX } from '../../kernel/limits.ts';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../../kernel/privateFiles.ts';
import { parseSdnList, type CsvSource, type SanctionsEntry, type SanctionsList } from './sdnCsv.ts';

export const SANCTIONS_LIST_FILE = 'sanctions-list.json';
const FORMAT = 'daybook-sanctions-list/1';

/** A list as read from its files, with what identifies it. */
export interface SanctionsListUpload {
  readonly list: SanctionsList;
  /** sha256 of the files' bytes (first 16 hex digits): the same files give the same version. */
  readonly listVersion: string;
  readonly sources: { readonly sdn: string; readonly aliases: string | null };
}

export interface StoredSanctionsList extends SanctionsList {
  readonly format: typeof FORMAT;
  readonly listVersion: string;
  readonly loadedAtMs: number;
  readonly sources: SanctionsListUpload['sources'];
}

function readSource(path: string, hash: ReturnType<typeof createHash>): CsvSource {
  const size = statSync(path).size;
  if (size > SANCTIONS_FILE_BYTES_MAX) throw new DaybookError('limit_exceeded', `${path} has ${size} bytes, more than ${SANCTIONS_FILE_BYTES_MAX}`);
  const bytes = readFileSync(path);
  hash.update(bytes);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  return { name: basename(path), text };
}

/** Reads and parses `sdn.csv` (and `alt.csv`): `sanctions_list_invalid` naming file and line when malformed. */
export function readSanctionsFiles(sdnPath: string, aliasesPath?: string): SanctionsListUpload {
  const hash = createHash('sha256');
  const sdn = readSource(sdnPath, hash);
  const aliases = aliasesPath === undefined ? undefined : readSource(aliasesPath, hash.update('\0'));
  const list = parseSdnList(aliases === undefined ? { sdn } : { sdn, aliases });
  return { list, listVersion: hash.digest('hex').slice(0, 16), sources: { sdn: sdn.name, aliases: aliases?.name ?? null } };
}

/** Writes `text` to `path` atomically: a temporary file beside it, flushed, renamed over it, the folder flushed. */
function writeAtomically(path: string, dir: string, text: string): void {
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', PRIVATE_FILE_MODE);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** Replaces the active list with `upload` and returns what was stored. */
export function replaceActiveSanctionsList(dataDir: string, upload: SanctionsListUpload, loadedAtMs: number): StoredSanctionsList {
  ensurePrivateDir(dataDir);
  const stored: StoredSanctionsList = { format: FORMAT, listVersion: upload.listVersion, loadedAtMs, sources: upload.sources, entries: upload.list.entries };
  writeAtomically(join(dataDir, SANCTIONS_LIST_FILE), dataDir, `${JSON.stringify(stored)}\n`);
  return stored;
}

function checkStored(value: unknown, path: string): StoredSanctionsList {
  const stored = value as Partial<StoredSanctionsList> | null;
  const entriesOk = Array.isArray(stored?.entries) && stored.entries.every((entry: Partial<SanctionsEntry>) => typeof entry?.entNum === 'number' && typeof entry.name === 'string' && Array.isArray(entry.aliases));
  if (stored?.format !== FORMAT || typeof stored.listVersion !== 'string' || !entriesOk) {
    throw new DaybookError('sanctions_list_invalid', `${path} is not a sanctions list Daybook wrote (load one again with daybook sanctions load)`);
  }
  return stored as StoredSanctionsList;
}

/** The active list: `sanctions_list_not_loaded` when none was loaded into this data folder. */
export function readActiveSanctionsList(dataDir: string): StoredSanctionsList {
  const path = join(dataDir, SANCTIONS_LIST_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new DaybookError('sanctions_list_not_loaded', `no sanctions list in ${dataDir} (load one with daybook sanctions load <sdn.csv>)`);
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  return checkStored(parsed, path);
}
