/**
 * Backup and point-in-time restore of the embedded store, on real SQLite:
 * a backup taken while a writer appends is one consistent, verified snapshot
 * with a true manifest; restores to a position and to a time keep exactly the
 * events up to it, verify, and rebuild projections (their read models count
 * only kept events); and every refusal (non-empty folder, past the head,
 * truncated or tampered file) leaves nothing behind.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openEventStore } from '../eventstore/open.ts';
import { fixedClock } from '../kernel/index.ts';
import { streamStatsProjection } from '../projections/conformance/streamStats.projection.ts';
import { createProjectionEngine, openReadModelStore, waitForPosition } from '../projections/index.ts';
import { backupSqliteStore, manifestPathOf, readManifest, restoreSqliteBackup } from './index.ts';
import { sha256File } from './files.ts';
import { openTempStore, type TempStore } from './opsTestkit.ts';

const stats = () => streamStatsProjection({ name: 'acct_stats' });
let temp: TempStore | undefined;
afterEach(async () => {
  await temp?.cleanup();
  temp = undefined;
});

/** Sum of the per-stream counts in the stats read model, and its checkpoint. */
async function statsOf(dataDir: string): Promise<{ counted: number; checkpoint: bigint }> {
  const db = new Database(join(dataDir, 'daybook.db'), { readonly: true });
  try {
    const active = db.prepare("SELECT version FROM projection_active WHERE name = 'acct_stats'").get() as { version: number };
    const { counted } = db.prepare(`SELECT coalesce(sum(events), 0) AS counted FROM acct_stats_v${active.version}`).get() as { counted: number };
    const { position } = db.prepare("SELECT position FROM projection_checkpoints WHERE name = 'acct_stats' AND version = ?").get(active.version) as { position: number };
    return { counted, checkpoint: BigInt(position) };
  } finally {
    db.close();
  }
}

async function verifyRestored(dataDir: string): Promise<{ ok: boolean; head: bigint; events: number }> {
  const store = await openEventStore(`sqlite:${join(dataDir, 'daybook.db')}`, { readOnly: true, migrate: false });
  try {
    const report = await store.verify();
    return { ok: report.ok, head: report.headPosition, events: report.eventsChecked };
  } finally {
    await store.close();
  }
}

/** The live store with its stats projection caught up to the head, so the backup holds a read model to cut. */
async function liveWithProjection(events: number, clock?: ReturnType<typeof fixedClock>): Promise<TempStore> {
  temp = await openTempStore(clock ? { clock } : {});
  await temp.fill(events);
  const readModels = await openReadModelStore(temp.url);
  const engine = createProjectionEngine({ store: temp.store, readModels, projections: [stats()] });
  await engine.start();
  await waitForPosition(readModels, 'acct_stats', await temp.store.headPosition(), 20_000);
  await engine.stop();
  await readModels.close();
  return temp;
}

describe('backup while a writer appends', () => {
  it('copies one consistent snapshot that verifies, with a true manifest, and leaves no partial file', async () => {
    temp = await openTempStore();
    await temp.fill(20_000, 200);
    const before = await temp.store.headPosition();
    let writing = true;
    let appended = 0;
    const writer = (async () => {
      while (writing) {
        await temp!.store.append({ streamId: `busy-${appended % 5}`, events: [{ type: 'Busy', data: { appended } }] });
        appended += 1;
      }
    })();
    const file = join(temp.dir, 'backups', 'b1.db');
    const report = await backupSqliteStore({ storePath: temp.storePath, file });
    writing = false;
    await writer;
    const after = await temp.store.headPosition();

    expect(report.headPosition).toBeGreaterThanOrEqual(before);
    expect(report.headPosition).toBeLessThanOrEqual(after);
    expect(report.eventCount).toBe(Number(report.headPosition));
    expect(readdirSync(join(temp.dir, 'backups')).sort()).toEqual(['b1.db', 'b1.db.manifest.json']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(manifestPathOf(file)).mode & 0o777).toBe(0o600);
    const manifest = (await readManifest(file))!;
    expect(manifest.sha256).toBe(await sha256File(file));
    expect(manifest.headPosition).toBe(report.headPosition.toString());
    expect(manifest.headHash).toBe(report.headHash);
    const [live] = await temp.store.readAll({ after: report.headPosition - 1n, limit: 1 });
    expect(live!.hash).toBe(report.headHash);
    // The live store is untouched and still verifies.
    expect((await temp.store.verify()).ok).toBe(true);
  });

  it('refuses to overwrite an existing file', async () => {
    temp = await openTempStore();
    await temp.fill(10);
    const file = join(temp.dir, 'exists.db');
    writeFileSync(file, 'keep me');
    await expect(backupSqliteStore({ storePath: temp.storePath, file })).rejects.toMatchObject({ code: 'validation_failed' });
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });
});

describe('restore', () => {
  it('to a position: keeps exactly the events up to it, verifies, and rebuilds projections from them', async () => {
    await liveWithProjection(3000);
    const file = join(temp!.dir, 'b.db');
    await backupSqliteStore({ storePath: temp!.storePath, file });
    const target = join(temp!.dir, 'restored');
    const report = await restoreSqliteBackup({ backupFile: file, dataDir: target, toPosition: 1234n, projections: [stats()] });

    expect(report).toMatchObject({ headPosition: 1234n, eventsKept: 1234, eventsCut: 3000 - 1234, projectionsRebuilt: ['acct_stats'] });
    expect(await verifyRestored(target)).toEqual({ ok: true, head: 1234n, events: 1234 });
    expect(statSync(target).mode & 0o777).toBe(0o700);
    expect(statSync(join(target, 'daybook.db')).mode & 0o777).toBe(0o600);
    expect(await statsOf(target)).toEqual({ counted: 1234, checkpoint: 1234n });
    // Appends continue from the cut, chained onto the kept events.
    const reopened = await openEventStore(`sqlite:${join(target, 'daybook.db')}`);
    const result = await reopened.append({ streamId: 'acct-0', events: [{ type: 'After', data: {} }] });
    expect(result.position).toBe(1235n);
    expect((await reopened.verify()).ok).toBe(true);
    await reopened.close();
    expect(readdirSync(temp!.dir).filter((name) => name.includes('restoring'))).toEqual([]);
  });

  it('to a time: keeps the events recorded at or before it', async () => {
    const clock = fixedClock(Date.parse('2024-03-01T00:00:00Z'));
    temp = await openTempStore({ clock });
    await temp.fill(100, 10);
    clock.advance(60_000);
    await temp.fill(50, 10);
    const file = join(temp.dir, 'b.db');
    await backupSqliteStore({ storePath: temp.storePath, file });
    const target = join(temp.dir, 'restored');
    const report = await restoreSqliteBackup({ backupFile: file, dataDir: target, toTimeMs: Date.parse('2024-03-01T00:00:30Z'), projections: [stats()] });
    expect(report.headPosition).toBe(100n);
    expect(await verifyRestored(target)).toEqual({ ok: true, head: 100n, events: 100 });
    expect(await statsOf(target)).toEqual({ counted: 100, checkpoint: 100n });
  });

  describe('refuses', () => {
    async function backedUp(): Promise<string> {
      temp = await openTempStore();
      await temp.fill(500);
      const file = join(temp.dir, 'b.db');
      await backupSqliteStore({ storePath: temp.storePath, file });
      return file;
    }
    const leftovers = () => readdirSync(temp!.dir).filter((name) => name.includes('restoring') || name === 'restored');

    it('a folder that is not empty', async () => {
      const file = await backedUp();
      const target = join(temp!.dir, 'live');
      await expect(restoreSqliteBackup({ backupFile: file, dataDir: target, projections: [] })).rejects.toMatchObject({ code: 'restore_target_not_empty' });
      expect((await temp!.store.verify()).ok).toBe(true);
    });

    it('a position past the backup\'s head, naming both', async () => {
      const file = await backedUp();
      const restore = restoreSqliteBackup({ backupFile: file, dataDir: join(temp!.dir, 'restored'), toPosition: 501n, projections: [] });
      await expect(restore).rejects.toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/position 501 is past the backup's head 500/) });
      expect(leftovers()).toEqual([]);
    });

    it('a truncated backup, by its manifest', async () => {
      const file = await backedUp();
      truncateSync(file, 8192);
      const restore = restoreSqliteBackup({ backupFile: file, dataDir: join(temp!.dir, 'restored'), projections: [] });
      await expect(restore).rejects.toMatchObject({ code: 'backup_invalid', message: expect.stringMatching(/truncated/) });
      expect(leftovers()).toEqual([]);
    });

    it('a truncated backup without a manifest, as not a database', async () => {
      const file = await backedUp();
      writeFileSync(file, readFileSync(file).subarray(0, 50));
      rmSync(manifestPathOf(file));
      const restore = restoreSqliteBackup({ backupFile: file, dataDir: join(temp!.dir, 'restored'), projections: [] });
      await expect(restore).rejects.toMatchObject({ code: 'backup_invalid', message: expect.stringMatching(/not a SQLite database|damaged/) });
      expect(leftovers()).toEqual([]);
    });

    it('a tampered backup: by its manifest, and without one by its hash chains', async () => {
      const file = await backedUp();
      const db = new Database(file);
      db.prepare("UPDATE events SET data = '{\"n\":999999}' WHERE position = 42").run();
      db.close();
      const target = join(temp!.dir, 'restored');
      await expect(restoreSqliteBackup({ backupFile: file, dataDir: target, projections: [] }))
        .rejects.toMatchObject({ code: 'backup_invalid', message: expect.stringMatching(/does not match its manifest/) });
      rmSync(manifestPathOf(file));
      await expect(restoreSqliteBackup({ backupFile: file, dataDir: target, projections: [] }))
        .rejects.toMatchObject({ code: 'backup_invalid', message: expect.stringMatching(/fails verification.*hash_mismatch at position 42/) });
      expect(leftovers()).toEqual([]);
      expect(existsSync(target)).toBe(false);
    });
  });
});
