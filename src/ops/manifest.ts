/**
 * `<backup>.manifest.json`: what a backup held when it was taken, and the
 * SHA-256 of the file (and of its subject key copy), so a restore can tell a
 * truncated or changed backup from a good one before it trusts anything in it.
 */
import { readFile } from 'node:fs/promises';
import { DaybookError } from '../kernel/index.ts';

export const MANIFEST_FORMAT = 'daybook-backup/1';

export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  /** The backup's file name (not its path: backups move). */
  file: string;
  bytes: number;
  sha256: string;
  /** Global position of the newest event in the backup (a decimal string: positions are bigints). */
  headPosition: string;
  headHash: string;
  eventCount: number;
  createdAt: string;
  /**
   * The subject key copy beside the backup (`<backup>.subject-keys.db`):
   * its name, size and SHA-256, or null when the store had no key store.
   * Absent in manifests written before it was recorded (such a copy is
   * taken as it is).
   */
  subjectKeys?: { file: string; bytes: number; sha256: string } | null;
}

export function manifestPathOf(backupFile: string): string {
  return `${backupFile}.manifest.json`;
}

export function manifestText(manifest: BackupManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** The manifest beside a backup, or null when there is none; a manifest that is not one is `backup_invalid`. */
export async function readManifest(backupFile: string): Promise<BackupManifest | null> {
  const path = manifestPathOf(backupFile);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let parsed: Partial<BackupManifest>;
  try {
    parsed = JSON.parse(text) as Partial<BackupManifest>;
  } catch {
    throw new DaybookError('backup_invalid', `the manifest ${path} is not JSON: it was damaged; move it away to restore without it`, { path });
  }
  if (parsed.format !== MANIFEST_FORMAT || typeof parsed.sha256 !== 'string' || typeof parsed.headPosition !== 'string' || !/^\d+$/.test(parsed.headPosition)) {
    throw new DaybookError('backup_invalid', `the manifest ${path} is not a ${MANIFEST_FORMAT} manifest`, { path });
  }
  return parsed as BackupManifest;
}
