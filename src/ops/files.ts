/**
 * File steps every backup and restore shares: durable writes (fsync of the
 * file, then of its folder, so a rename survives a power cut), a streaming
 * SHA-256, and the "is this folder empty" test restores start with.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Flushes a file's data and metadata to the disk. */
export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a folder's entries (a rename or a new file in it) to the disk. */
export async function fsyncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems refuse fsync on a folder; the data itself was synced.
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
  } finally {
    await handle.close();
  }
}

/** Renames `from` to `to` durably: both files' data was synced by the caller; this syncs the folder. */
export async function durableRename(from: string, to: string): Promise<void> {
  await rename(from, to);
  await fsyncDir(dirname(to));
}

/** Hex SHA-256 of a file, read as a stream (memory stays flat for any size). */
export async function sha256File(path: string): Promise<string> {
  const digest = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) digest.update(chunk as Buffer);
  return digest.digest('hex');
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

/** 'missing', 'empty' (a folder with nothing in it), 'not_empty', or 'not_a_folder'. */
export async function folderState(path: string): Promise<'missing' | 'empty' | 'not_empty' | 'not_a_folder'> {
  try {
    const info = await stat(path);
    if (!info.isDirectory()) return 'not_a_folder';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  return (await readdir(path)).length === 0 ? 'empty' : 'not_empty';
}

/** Removes files (or folders) that may or may not exist; never throws for a missing one. */
export async function removeQuietly(...paths: string[]): Promise<void> {
  await Promise.all(paths.map((path) => rm(path, { recursive: true, force: true }).catch(() => {})));
}
