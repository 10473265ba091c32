/** PostgreSQL read paths use the index they were designed for (STYLE.md §7: plans asserted). */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeIfPostgres, type TestDatabase } from '../../../test/support/postgres.ts';
import { openEventStore } from '../open.ts';
import { READER_SESSION_SETTINGS } from './postgresEngine.ts';

describeIfPostgres('postgres query plans', () => {
  let database: TestDatabase;
  let client: pg.Client;
  beforeAll(async () => {
    database = await createTestDatabase();
    const store = await openEventStore(database.url, { poolSize: 2 });
    await store.append({ streamId: 'account-1', events: [{ type: 'Opened', data: {} }] });
    await store.close();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    // A table this small would be scanned; the plans are for a large log.
    await client.query('SET enable_seqscan = off');
    await client.query('SET enable_bitmapscan = off');
  });
  afterAll(async () => { await client.end(); await database.drop(); });

  const plan = async (sql: string, params: unknown[]): Promise<string> =>
    (await client.query(`EXPLAIN ${sql}`, params)).rows.map((row: Record<string, string>) => row['QUERY PLAN']).join(' | ');

  it('reads a stream through events_stream_version', async () => {
    expect(await plan('SELECT * FROM daybook.events WHERE stream_id = $1 AND version >= $2 ORDER BY version LIMIT 100', ['account-1', 1])).toContain('events_stream_version');
  });
  it('reads a category of the log through events_category_position', async () => {
    expect(await plan('SELECT * FROM daybook.events WHERE position > $1 AND category = $2 ORDER BY position LIMIT 100', [0, 'account'])).toContain('events_category_position');
  });
  it('reads the log through the primary key, without a sort', async () => {
    const detail = await plan('SELECT * FROM daybook.events WHERE position > $1 ORDER BY position LIMIT 100', [0]);
    expect(detail).toContain('events_pkey');
    expect(detail).not.toContain('Sort');
  });
  it('lists the streams of a category through events_stream_version, without a sort', async () => {
    const detail = await plan(
      'SELECT stream_id FROM daybook.events WHERE stream_id >= $1 AND stream_id < $2 AND version = 1 AND (stream_id = $3 OR left(stream_id, $4) = $5) ORDER BY stream_id LIMIT 100',
      ['account', 'account.', 'account', 8, 'account-'],
    );
    expect(detail).toContain('events_stream_version');
    expect(detail).not.toContain('Sort');
  });
  it('pages a category without a bitmap scan and a sort even when the statistics lag behind a growing log', async () => {
    const stale = await createTestDatabase();
    const store = await openEventStore(stale.url, { poolSize: 2 });
    const other = new pg.Client({ connectionString: stale.url });
    await other.connect();
    try {
      // 99 streams of `acct` and one of `rare` per append: a common category and a rare one.
      const page = (n: number) => Array.from({ length: 100 }, (_, s) => ({
        streamId: `${s === 0 ? 'rare' : 'acct'}-${n}x${s}`, expectedVersion: 'no_stream' as const, events: [{ type: 'Opened', data: { n } }],
      }));
      for (let n = 0; n < 10; n++) await store.append(page(n));
      // Statistics taken now, then the log grows past them (autovacuum is far slower than an append burst).
      await other.query('ANALYZE daybook.events');
      for (let n = 10; n < 200; n++) await store.append(page(n));
      for (const sql of READER_SESSION_SETTINGS) await other.query(sql);
      const planOf = async (category: string) => (await other.query(
        `EXPLAIN SELECT * FROM daybook.events WHERE position > 10000 AND category = '${category}' ORDER BY position LIMIT 1000`,
      )).rows.map((row: Record<string, string>) => row['QUERY PLAN']).join(' | ');
      for (const category of ['acct', 'rare']) {
        const detail = await planOf(category);
        expect(detail).not.toContain('Bitmap');
        expect(detail).not.toContain('Sort');
      }
      expect(await planOf('rare')).toContain('Index Scan using events_category_position');
    } finally {
      await other.end();
      await store.close();
      await stale.drop();
    }
  });
  it('finds events by id through events_event_id', async () => {
    expect(await plan('SELECT * FROM daybook.events WHERE event_id = ANY ($1::uuid[])', [['01900000-0000-7000-8000-000000000001']])).toContain('events_event_id');
  });
  it('reads the first events of several streams through events_stream_version', async () => {
    expect(await plan('SELECT * FROM daybook.events WHERE stream_id = ANY ($1::text[]) AND version = 1', [['account-1', 'account-2']])).toContain('events_stream_version');
  });
});
