/** SQLite read paths use the index they were designed for (STYLE.md §7: plans asserted). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventStore } from '../open.ts';

describe('sqlite query plans', () => {
  const folder = mkdtempSync(join(tmpdir(), 'daybook-plans-'));
  const path = join(folder, 'daybook.db');
  let db: Database.Database;
  beforeAll(async () => {
    const store = await openEventStore(`sqlite:${path}`);
    await store.append({ streamId: 'account-1', events: [{ type: 'Opened', data: {} }] });
    await store.close();
    db = new Database(path, { readonly: true });
  });
  afterAll(() => { db.close(); rmSync(folder, { recursive: true, force: true }); });

  const plan = (sql: string, ...params: unknown[]): string =>
    (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((row) => row.detail).join(' | ');

  it('reads a stream through events_stream_version', () => {
    expect(plan('SELECT * FROM events WHERE stream_id = ? AND version >= ? ORDER BY version ASC LIMIT 100', 'account-1', 1)).toContain('events_stream_version');
  });
  it('reads a category of the log through events_category_position', () => {
    expect(plan('SELECT * FROM events WHERE position > ? AND category = ? ORDER BY position LIMIT 100', 0, 'account')).toContain('events_category_position');
  });
  it('reads the log by the rowid (position), without a sort', () => {
    const detail = plan('SELECT * FROM events WHERE position > ? ORDER BY position LIMIT 100', 0);
    expect(detail).toContain('INTEGER PRIMARY KEY');
    expect(detail).not.toContain('TEMP B-TREE');
  });
  it('lists the streams of a category from events_stream_version alone (a covering index, no event row read, no sort)', () => {
    const detail = plan(
      'SELECT stream_id FROM events WHERE stream_id >= ? AND stream_id < ? AND version = 1 AND (stream_id = ? OR substr(stream_id, 1, ?) = ?) ORDER BY stream_id LIMIT 100',
      'account', 'account.', 'account', 8, 'account-',
    );
    expect(detail).toContain('COVERING INDEX events_stream_version');
    expect(detail).not.toContain('TEMP B-TREE');
  });
  it('finds events by id through events_event_id', () => {
    expect(plan('SELECT * FROM events WHERE event_id IN (?)', Buffer.alloc(16))).toContain('events_event_id');
  });
  it('reads the first events of several streams through events_stream_version', () => {
    expect(plan('SELECT * FROM events WHERE stream_id IN (?, ?) AND version = 1', 'account-1', 'account-2')).toContain('events_stream_version');
  });
});
