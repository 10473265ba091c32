/**
 * A restore drill: proves a backup can be restored, and that it agrees with
 * the live store. The backup is restored (verified, projections rebuilt) into
 * a scratch folder that is removed afterwards; then the event at the
 * backup's head is read from the live store and compared, position and hash.
 * The hash covers the previous hash of its stream, so agreement at the head
 * vouches for the stream's whole chain, and the position for the global order.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEventStore } from '../eventstore/open.ts';
import { DaybookError } from '../kernel/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import type { ProjectionDefinition } from '../projections/index.ts';
import { removeQuietly } from './files.ts';
import type { BackupManifest } from './manifest.ts';
import { type RestoreReport, restoreSqliteBackup } from './restore.ts';

export interface DrillOptions {
  backupFile: string;
  /** The live store to compare with (any backend; opened read-only). */
  liveUrl: string;
  projections: readonly ProjectionDefinition[] | ((store: EventStore) => readonly ProjectionDefinition[]);
  /** Where the scratch folder goes (default the system's temp folder). */
  scratchParent?: string;
  nowMs?: () => number;
}

export interface DrillReport {
  backupFile: string;
  restore: RestoreReport;
  live: { headPosition: bigint; hashAtBackupHead: string | null };
  ok: boolean;
  /** Why it failed; null when ok. */
  difference: string | null;
  seconds: number;
}

export async function drillBackup(options: DrillOptions): Promise<DrillReport> {
  const now = options.nowMs ?? Date.now;
  const startedMs = now();
  const scratch = await mkdtemp(join(options.scratchParent ?? tmpdir(), 'daybook-drill-'));
  try {
    const restore = await restoreSqliteBackup({ backupFile: options.backupFile, dataDir: join(scratch, 'data'), projections: options.projections, nowMs: now });
    const live = await liveEventAt(options.liveUrl, restore.headPosition);
    const difference = differenceOf(restore, live);
    return { backupFile: options.backupFile, restore, live, ok: difference === null, difference, seconds: (now() - startedMs) / 1000 };
  } finally {
    await removeQuietly(scratch);
  }
}

async function liveEventAt(url: string, position: bigint): Promise<DrillReport['live']> {
  const store = await openEventStore(url, { readOnly: true, migrate: false });
  try {
    const headPosition = await store.headPosition();
    if (position === 0n) return { headPosition, hashAtBackupHead: '' };
    const [event] = await store.readAll({ after: position - 1n, limit: 1 });
    return { headPosition, hashAtBackupHead: event?.position === position ? event.hash : null };
  } finally {
    await store.close();
  }
}

function differenceOf(restore: RestoreReport, live: DrillReport['live']): string | null {
  if (live.hashAtBackupHead === null) return `the live store has no event at the backup's head position ${restore.headPosition} (its head is ${live.headPosition})`;
  if (live.hashAtBackupHead !== restore.headHash) {
    return `the event at position ${restore.headPosition} differs: backup hash ${restore.headHash}, live hash ${live.hashAtBackupHead}`;
  }
  return null;
}

/** The newest complete backup in a folder (by its manifest's creation time), or `not_found`. */
export async function latestBackup(dir: string): Promise<string> {
  const names = existsSync(dir) ? await readdir(dir) : [];
  let best: { file: string; createdAt: string } | null = null;
  for (const name of names.filter((entry) => entry.endsWith('.manifest.json'))) {
    const file = join(dir, name.slice(0, -'.manifest.json'.length));
    if (!existsSync(file)) continue;
    let manifest: Partial<BackupManifest>;
    try {
      manifest = JSON.parse(await readFile(join(dir, name), 'utf8')) as Partial<BackupManifest>;
    } catch {
      continue;
    }
    const createdAt = typeof manifest.createdAt === 'string' ? manifest.createdAt : '';
    if (best === null || createdAt > best.createdAt) best = { file, createdAt };
  }
  if (best === null) throw new DaybookError('not_found', `no backup with a manifest in ${dir}`, { dir }, 'backup');
  return best.file;
}
