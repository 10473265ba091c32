/**
 * Covers the PostgreSQL test harness itself: the run's server is durable
 * (fsync, synchronous_commit) and hands out databases that drop cleanly; a
 * private server survives a SIGKILL of its postmaster under load and restarts
 * in place with its data.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeIfConcurrentPostgres,
  describeIfPostgres,
  describeIfPostgresBinaries,
  startPostgresServer,
  type PostgresServer,
  type TestDatabase,
} from './postgres.ts';

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

describeIfPostgres('createTestDatabase', () => {
  it('hands out an empty database and drop() leaves nothing behind for the next one', async () => {
    const first = await createTestDatabase();
    await withClient(first.url, (client) =>
      client.query('CREATE SCHEMA daybook; CREATE TABLE daybook.events (id int); CREATE TABLE leftover (id int)'));
    await first.drop();

    const second = await createTestDatabase();
    const tables = await withClient(second.url, (client) => client.query(
      "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('public', 'daybook')"));
    await second.drop();
    expect(tables.rows).toEqual([]);
  });
});

describeIfConcurrentPostgres('the test run PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('is durable: fsync and synchronous_commit are on', async () => {
    await withClient(db.url, async (client) => {
      expect((await client.query('SHOW fsync')).rows[0]).toEqual({ fsync: 'on' });
      expect((await client.query('SHOW synchronous_commit')).rows[0]).toEqual({ synchronous_commit: 'on' });
    });
  });

  it('creates a database of its own and drops it, even with a connection left open', async () => {
    const other = await createTestDatabase();
    const name = new URL(other.url).pathname.slice(1);
    expect(name).toMatch(/^daybook_test_[0-9a-f]+$/);
    const leftOpen = new pg.Client({ connectionString: other.url });
    leftOpen.on('error', () => {});
    await leftOpen.connect();
    await leftOpen.query('CREATE TABLE t (id int)');
    await other.drop();
    await leftOpen.end().catch(() => {});
    const remaining = await withClient(db.url, (client) =>
      client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]));
    expect(remaining.rowCount).toBe(0);
  });
});

describeIfPostgresBinaries('startPostgresServer', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgresServer();
  });
  afterAll(() => server?.stop());

  it('restarts after a SIGKILL of the postmaster under load, with committed data', async () => {
    await withClient(server.url, (client) =>
      client.query('CREATE TABLE acknowledged (id int); INSERT INTO acknowledged VALUES (1)'));
    // Backends busy in a query when the postmaster dies must be gone before it can start again.
    const busy = new pg.Client({ connectionString: server.url });
    busy.on('error', () => {});
    await busy.connect();
    const busyQuery = busy.query('SELECT pg_sleep(60)').then(() => 'finished', () => 'cut off');
    await waitUntil(async () => (await activeSleepers(server.url)) === 1);
    const oldPid = server.pid();

    server.kill('SIGKILL');
    await server.restart();

    expect(await busyQuery).toBe('cut off');
    expect(server.pid()).not.toBe(oldPid);
    const rows = await withClient(server.url, (client) => client.query('SELECT id FROM acknowledged'));
    expect(rows.rows).toEqual([{ id: 1 }]);
  }, 60_000);
});

async function activeSleepers(url: string): Promise<number> {
  const result = await withClient(url, (client) =>
    client.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'"));
  return (result.rows[0] as { n: number }).n;
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() >= deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
