/**
 * The event store conformance suite on PostgreSQL. One database per file;
 * each test gets it emptied (faster than a database per test), then a fresh
 * store on it.
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfPostgres, postgresAvailability, type TestDatabase } from '../../../test/support/postgres.ts';
import { describeEventStoreConformance } from '../conformance/index.ts';
import { mostHoldersAtOnce } from '../conformance/lockConformance.ts';
import { openEventStore } from '../open.ts';

let database: Promise<TestDatabase> | null = null;

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

describeIfPostgres('postgres event store', () => {
  afterAll(async () => {
    if (database) await (await database).drop();
  });

  describeEventStoreConformance('postgres', async (options) => {
    database ??= createTestDatabase();
    const { url } = await database;
    await withClient(url, async (client) => {
      const present = await client.query("SELECT to_regclass('daybook.events') IS NOT NULL AS present");
      if (present.rows[0].present) {
        await client.query('TRUNCATE daybook.events, daybook.snapshots');
        await client.query('UPDATE daybook.head SET position = 0, recorded_at = 0');
      }
    });
    // PGlite's socket server takes at most 8 connections: a smaller read pool keeps the store under it.
    const poolSize = postgresAvailability().kind === 'pglite' ? 4 : undefined;
    const store = await openEventStore(url, { ...options, poolSize });
    return {
      store,
      tamper: (sql, params = []) => withClient(url, async (client) => {
        await client.query('SET search_path TO daybook');
        await client.query(sql, params);
      }),
      teardown: () => store.close(),
    };
  });
});

describeIfPostgres('postgres named locks across processes', () => {
  it('excludes holders of one name across stores (as across processes), and a holder whose connection dies lets go', async () => {
    const shared = await createTestDatabase();
    const stores = await Promise.all([openEventStore(shared.url, { poolSize: 2 }), openEventStore(shared.url, { poolSize: 2 })]);
    try {
      expect(await mostHoldersAtOnce(stores, 'close:acct-9', 12)).toBe(1);
      // The first store holds the lock and never lets go; its lock connection then dies, as with a killed process.
      const stuck = stores[0]!.lock('close:acct-9', () => new Promise<never>(() => {}));
      stuck.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 100));
      let second = false;
      const waiting = stores[1]!.lock('close:acct-9', async () => { second = true; });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(second).toBe(false);
      await withClient(shared.url, (client) => client.query(
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1", [0x0dab_0002],
      ));
      await waiting;
      expect(second).toBe(true);
    } finally {
      await Promise.allSettled(stores.map((store) => store.close()));
      await shared.drop();
    }
  });
});
