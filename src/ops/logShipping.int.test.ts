/**
 * Continuous log shipping on real SQLite: the shipper follows a store that
 * keeps being written, segments roll over, a torn last line (a crash in the
 * middle of a write) is cut off on restart without losing or doubling an
 * event, and a base backup plus the segments restores to a position past the
 * backup's head (and refuses one past the last shipped event).
 */
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openEventStore } from '../eventstore/open.ts';
import { backupSqliteStore, listSegments, restoreSqliteBackup, shipLog } from './index.ts';
import { openTempStore, type TempStore } from './opsTestkit.ts';

let temp: TempStore | undefined;
afterEach(async () => {
  await temp?.cleanup();
  temp = undefined;
});

/** Ships until the shipped position reaches `target` (or 30 s pass), then stops; resolves with the last shipped position. */
async function shipUntil(storePath: string, dir: string, target: bigint, segmentEvents?: number): Promise<bigint> {
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(), 30_000);
  try {
    return await shipLog({ storePath, dir, signal: controller.signal, pollMs: 10, segmentEvents, onShipped: (position) => { if (position >= target) controller.abort(); } });
  } finally {
    clearTimeout(deadline);
  }
}

const shippedPositions = (dir: string): bigint[] => readdirSync(dir).sort().flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean))
  .map((line) => BigInt((JSON.parse(line) as { position: string }).position));

describe('log shipping', () => {
  it('ships every event once, in order, across segments and a torn last line', async () => {
    temp = await openTempStore();
    await temp.fill(1200, 40);
    const dir = join(temp.dir, 'ship');
    expect(await shipUntil(temp.storePath, dir, 1200n, 500)).toBe(1200n);
    expect((await listSegments(dir)).length).toBeGreaterThan(1);
    // A crash in the middle of a line: half a JSON object at the end of the newest segment.
    const segments = await listSegments(dir);
    appendFileSync(segments[segments.length - 1]!, '{"position":"1201","eventId":"0190');
    await temp.fill(300, 30);
    expect(await shipUntil(temp.storePath, dir, 1500n, 500)).toBe(1500n);
    expect(shippedPositions(dir)).toEqual(Array.from({ length: 1500 }, (_, i) => BigInt(i + 1)));
  });

  it('restores a base backup plus shipped segments to a position past the backup\'s head', async () => {
    temp = await openTempStore();
    await temp.fill(1000);
    const file = join(temp.dir, 'base.db');
    await backupSqliteStore({ storePath: temp.storePath, file });
    await temp.fill(700);
    const dir = join(temp.dir, 'ship');
    await shipUntil(temp.storePath, dir, 1700n);
    const target = join(temp.dir, 'restored');
    const report = await restoreSqliteBackup({ backupFile: file, dataDir: target, segmentsDir: dir, toPosition: 1650n, projections: [] });
    expect(report).toMatchObject({ headPosition: 1650n, eventsKept: 1650, shippedApplied: 650, eventsCut: 0 });
    const [live] = await temp.store.readAll({ after: 1649n, limit: 1 });
    expect(report.headHash).toBe(live!.hash);
    const restored = await openEventStore(`sqlite:${join(target, 'daybook.db')}`, { readOnly: true, migrate: false });
    expect(await restored.verify()).toMatchObject({ ok: true, headPosition: 1650n, eventsChecked: 1650 });
    await restored.close();

    await expect(restoreSqliteBackup({ backupFile: file, dataDir: join(temp.dir, 'r2'), segmentsDir: dir, toPosition: 1701n, projections: [] }))
      .rejects.toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/position 1701 is past the last shipped position 1700 \(backup head 1000/) });
  });

  it('refuses segments whose events do not match their hashes', async () => {
    temp = await openTempStore();
    await temp.fill(100);
    const file = join(temp.dir, 'base.db');
    await backupSqliteStore({ storePath: temp.storePath, file });
    await temp.fill(100);
    const dir = join(temp.dir, 'ship');
    await shipUntil(temp.storePath, dir, 200n);
    const [segment] = await listSegments(dir);
    writeFileSync(segment!, readFileSync(segment!, 'utf8').replace('{\\"n\\":10}', '{\\"n\\":11}'));
    await expect(restoreSqliteBackup({ backupFile: file, dataDir: join(temp.dir, 'r'), segmentsDir: dir, projections: [] }))
      .rejects.toMatchObject({ code: 'backup_invalid', message: expect.stringMatching(/does not match its hash/) });
  });
});
