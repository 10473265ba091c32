/**
 * PostgreSQL's visibility fence (DESIGN.md §3, global order): concurrent
 * transactions commit out of order, so a reader that trusted a sequence could
 * see position N+1 before N and skip N forever. Here many writers append with
 * random delays inside their open transactions while a reader tails the log;
 * the reader must see every position, in order, with no hole that fills later.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeIfConcurrentPostgres, type TestDatabase } from '../../../test/support/postgres.ts';
import type { EventStore } from '../eventStore.ts';
import { openEventStore } from '../open.ts';

const APPEND_SQL = `SELECT * FROM daybook.append_batch($1::int[], $2::text[], $3::bigint[], $4::uuid[], $5::boolean[], $6::text[], $7::int[], $8::text[], $9::text[])`;

function appendArgs(streamId: string, eventId: string): unknown[] {
  return [[0], [streamId], ['-1'], [eventId], [false], ['Tick'], [1], ['{}'], ['{}']];
}

describeIfConcurrentPostgres('postgres visibility fence', () => {
  let database: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = await openEventStore(database.url);
  });
  afterAll(async () => {
    await store.close();
    await database.drop();
  });

  it('a reader tailing the log never skips a position that later appears, under writers that sleep inside their transactions', async () => {
    const writers = 16;
    const perWriter = 25;
    let writing = true;
    const seen: bigint[] = [];
    const reader = (async () => {
      let after = 0n;
      while (writing || after < (await store.headPosition())) {
        const page = await store.readAll({ after, limit: 500 });
        for (const event of page) {
          // Contiguous: the next visible event is always the next position.
          expect(event.position).toBe(after + 1n);
          after = event.position;
          seen.push(event.position);
        }
      }
    })();
    const { randomUUID } = await import('node:crypto');
    const rawWriters = Array.from({ length: writers }, async (_, w) => {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        for (let i = 0; i < perWriter; i += 1) {
          await client.query('BEGIN');
          await client.query(APPEND_SQL, appendArgs(`fence-${w}`, randomUUID()));
          await client.query('SELECT pg_sleep($1)', [Math.random() * 0.01]);
          await client.query('COMMIT');
        }
      } finally {
        await client.end();
      }
    });
    // The store's own group-committed appends race the raw writers.
    const storeWriters = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; i < perWriter; i += 1) await store.append({ streamId: `store-${w}`, events: [{ type: 'Tick', data: { i } }] });
    });
    await Promise.all([...rawWriters, ...storeWriters]);
    writing = false;
    await reader;
    const total = BigInt(writers * perWriter + 8 * perWriter);
    expect(await store.headPosition()).toBe(total);
    expect(seen.length).toBe(Number(total));
    expect((await store.verify()).ok).toBe(true);
  });

  it('while one append transaction is held open, no later append becomes visible before it', async () => {
    const before = await store.headPosition();
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    try {
      const { randomUUID } = await import('node:crypto');
      await holder.query('BEGIN');
      const held = await holder.query(APPEND_SQL, appendArgs('held-1', randomUUID()));
      const heldPosition = BigInt(held.rows[0].r_position);
      expect(heldPosition).toBe(before + 1n);
      // This append queues behind the held transaction's fence.
      const later = store.append({ streamId: 'later-1', events: [{ type: 'Tick', data: {} }] });
      let laterDone = false;
      void later.then(() => { laterDone = true; });
      for (let i = 0; i < 20; i += 1) {
        expect((await store.readAll({ after: before })).length).toBe(0);
        expect(await store.headPosition()).toBe(before);
      }
      expect(laterDone).toBe(false);
      await holder.query('COMMIT');
      const result = await later;
      expect(result.position).toBe(heldPosition + 1n);
      const visible = await store.readAll({ after: before });
      expect(visible.map((e) => e.streamId)).toEqual(['held-1', 'later-1']);
    } finally {
      await holder.end();
    }
  });

  it('a rolled-back append leaves no hole: positions stay contiguous', async () => {
    const before = await store.headPosition();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { randomUUID } = await import('node:crypto');
      await client.query('BEGIN');
      await client.query(APPEND_SQL, appendArgs('rolled-1', randomUUID()));
      await client.query('ROLLBACK');
    } finally {
      await client.end();
    }
    const result = await store.append({ streamId: 'after-rollback-1', events: [{ type: 'Tick', data: {} }] });
    expect(result.position).toBe(before + 1n);
    expect((await store.verify()).ok).toBe(true);
  });
});
