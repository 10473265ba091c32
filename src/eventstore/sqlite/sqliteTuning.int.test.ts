import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventStore } from '../createEventStore.ts';
import { openSqliteEngine } from './sqliteEngine.ts';
import { SQLITE_TUNING_DEFAULTS, sqliteTuningFromEnv } from './sqliteTuning.ts';

describe('SQLite tuning', () => {
  const dirs: string[] = [];
  afterEach(() => { for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true }); });

  it('keeps the defaults when nothing is set, and reads each variable', () => {
    expect(sqliteTuningFromEnv({})).toEqual(SQLITE_TUNING_DEFAULTS);
    expect(sqliteTuningFromEnv({ DAYBOOK_SQLITE_CACHE_MB: '512', DAYBOOK_STREAM_HEAD_CACHE: '0', DAYBOOK_SQLITE_PAGE_SIZE: '8192' }))
      .toEqual({ pageCacheMb: 512, streamHeadCacheSize: 0, pageSize: 8192 });
  });

  it.each([
    ['DAYBOOK_SQLITE_CACHE_MB', '1'],
    ['DAYBOOK_SQLITE_CACHE_MB', '64MB'],
    ['DAYBOOK_STREAM_HEAD_CACHE', '-5'],
    ['DAYBOOK_SQLITE_PAGE_SIZE', '3000'],
    ['DAYBOOK_SQLITE_PAGE_SIZE', '131072'],
  ])('refuses %s=%s with a message naming the variable', (name, value) => {
    expect(() => sqliteTuningFromEnv({ [name]: value })).toThrow(name);
  });

  it('decides appends right with a stream-head cache far smaller than the streams written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daybook-tuning-'));
    dirs.push(dir);
    const engine = await openSqliteEngine({ path: join(dir, 'daybook.db'), tuning: { ...SQLITE_TUNING_DEFAULTS, streamHeadCacheSize: 10 } });
    const store = createEventStore(engine);
    try {
      const ids = Array.from({ length: 300 }, (_, i) => `acct-${i}`);
      await Promise.all(ids.map((streamId) => store.append({ streamId, expectedVersion: 'no_stream', events: [{ type: 'Opened', data: {} }] })));
      await Promise.all(ids.map((streamId) => store.append({ streamId, expectedVersion: 1n, events: [{ type: 'Noted', data: {} }] })));
      for (const streamId of ['acct-0', 'acct-150', 'acct-299']) {
        await expect(store.append({ streamId, expectedVersion: 1n, events: [{ type: 'Noted', data: {} }] })).rejects.toMatchObject({ code: 'stream_version_conflict' });
        expect(await store.streamVersion(streamId)).toBe(2n);
      }
      expect(await store.verify()).toMatchObject({ ok: true });
    } finally {
      await store.close();
    }
  });

  it('creates a new store with the page size asked for, and leaves an existing store its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daybook-tuning-'));
    dirs.push(dir);
    const path = join(dir, 'daybook.db');
    const first = await openSqliteEngine({ path, tuning: { ...SQLITE_TUNING_DEFAULTS, pageSize: 8192 } });
    await first.close();
    const second = await openSqliteEngine({ path, tuning: { ...SQLITE_TUNING_DEFAULTS, pageSize: 1024 } });
    await second.close();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('page_size', { simple: true })).toBe(8192);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });
});
