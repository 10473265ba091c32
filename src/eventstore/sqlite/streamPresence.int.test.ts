import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventStore } from '../createEventStore.ts';
import type { StorageEngine } from '../storageEngine.ts';
import { openSqliteEngine } from './sqliteEngine.ts';
import { SQLITE_TUNING_DEFAULTS } from './sqliteTuning.ts';
import { StreamPresence } from './streamPresence.ts';

type WithPresence = StorageEngine & { presence: StreamPresence };

async function scanned(engine: StorageEngine): Promise<StreamPresence> {
  const { presence } = engine as WithPresence;
  for (let i = 0; i < 500 && !presence.complete; i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(presence.complete).toBe(true);
  return presence;
}

describe('stream presence (SQLite): a stream that cannot exist is answered without a read', () => {
  const dirs: string[] = [];
  afterEach(() => { for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true }); });

  it('never hides a stream: 200K added are all present, and absent ones are mostly told apart (also past the first capacity)', () => {
    const presence = new StreamPresence(1);
    const ids = Array.from({ length: 200_000 }, (_, i) => `idempotency-${i.toString(36)}-${(i * 7919).toString(16)}`);
    for (const id of ids) presence.add(id);
    // Before the scan has finished, everything may exist.
    expect(presence.mayExist('never-written')).toBe(true);
    (presence as unknown as { ready: boolean }).ready = true;
    expect(ids.every((id) => presence.mayExist(id))).toBe(true);
    let maybe = 0;
    for (let i = 0; i < 100_000; i += 1) if (presence.mayExist(`fraudcheck-ledger.test.${i}`)) maybe += 1;
    expect(maybe / 100_000).toBeLessThan(0.03);
    expect(presence.skippedReads).toBe(100_000 - maybe);
  });

  it('after a reopen, knows every stream written before it (in slices) and every one written since; absent ones cost no read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daybook-presence-'));
    dirs.push(dir);
    const path = join(dir, 'daybook.db');
    const first = createEventStore(await openSqliteEngine({ path }));
    const before = Array.from({ length: 5_000 }, (_, i) => `acct-${i}`);
    try {
      await Promise.all(before.map((streamId) => first.append({ streamId, expectedVersion: 'no_stream', events: [{ type: 'Opened', data: { i: streamId } }] })));
      // A long stream: the scan skips its versions in one seek.
      for (let i = 0; i < 20; i += 1) await first.append({ streamId: 'ledger-main', expectedVersion: 'any', events: Array.from({ length: 50 }, () => ({ type: 'Moved', data: {} })) });
    } finally {
      await first.close();
    }
    // A small head cache: the heads of the streams above come from the database or the filter, not from memory.
    const engine = await openSqliteEngine({ path, tuning: { ...SQLITE_TUNING_DEFAULTS, streamHeadCacheSize: 10 } });
    const store = createEventStore(engine);
    try {
      const presence = await scanned(engine);
      for (const streamId of ['acct-0', 'acct-2500', 'acct-4999']) {
        expect(await store.readStream(streamId)).toHaveLength(1);
        await expect(store.append({ streamId, expectedVersion: 'no_stream', events: [{ type: 'Opened', data: {} }] })).rejects.toMatchObject({ code: 'stream_version_conflict' });
      }
      expect(await store.streamVersion('ledger-main')).toBe(1000n);
      const reads = presence.skippedReads;
      const fresh = Array.from({ length: 200 }, (_, i) => `idempotency-new-${i}`);
      for (const streamId of fresh) expect(await store.readStream(streamId)).toEqual([]);
      expect(presence.skippedReads - reads).toBeGreaterThan(190);
      await Promise.all(fresh.map((streamId) => store.append({ streamId, expectedVersion: 'no_stream', events: [{ type: 'Recorded', data: {} }] })));
      for (const streamId of fresh) {
        expect(await store.readStream(streamId)).toHaveLength(1);
        expect(await store.streamVersion(streamId)).toBe(1n);
      }
      await expect(store.append({ streamId: fresh[0]!, expectedVersion: 'no_stream', events: [{ type: 'Recorded', data: {} }] })).rejects.toMatchObject({ code: 'stream_version_conflict' });
      expect(await store.verify()).toMatchObject({ ok: true });
    } finally {
      await store.close();
    }
  });
});
