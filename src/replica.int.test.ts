/**
 * DAYBOOK_READ_DATABASE_URL: a server on a PostgreSQL primary with a hot
 * standby as its read replica. Read-model queries go to the replica once it
 * has replayed the primary's position (counted by where they ran), every
 * read right after a write sees it (read-your-writes), `/metrics` reports
 * the replica's lag; with the replica's replay paused (replication made
 * asynchronous first, so the primary does not wait for it) reads fall back
 * to the primary and still see every write; with the replica gone, reads go
 * on against the primary and `daybook_replica_up` says 0.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeIfPostgresBinaries } from '../test/support/postgres.ts';
import { type ReplicatedPostgres, startReplicatedPostgres } from '../test/support/postgresCluster.ts';
import { until } from '../test/support/daybookProcess.ts';
import { createLogger, loadConfig } from './edge/index.ts';
import { type RunningServer, startServer } from './main.ts';

const SECRET = `sk_test_${'ReplicaReadsKey0123456789ab'}`;

describeIfPostgresBinaries('read replica', () => {
  let cluster: ReplicatedPostgres;
  let server: RunningServer;
  let dir: string;
  let primaryUrl: string;

  beforeAll(async () => {
    cluster = await startReplicatedPostgres();
    primaryUrl = await cluster.createDatabase('daybook');
    dir = mkdtempSync(join(tmpdir(), 'daybook-replica-'));
    const config = loadConfig({
      PORT: '0', DAYBOOK_DATA_DIR: dir, DAYBOOK_DATABASE_URL: primaryUrl, DAYBOOK_READ_DATABASE_URL: cluster.onStandby(primaryUrl), DAYBOOK_API_KEY: SECRET, LOG_LEVEL: 'silent',
    });
    server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: 'GET' | 'POST', path: string, body?: object) => {
    const response = await fetch(`${server.url}${path}`, {
      method, headers: { authorization: `Bearer ${SECRET}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: await response.json() as Record<string, any> };
  };
  const sql = async (url: string, text: string): Promise<void> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  let expected = 0;
  const depositAndRead = async (amount: number): Promise<void> => {
    expect((await call('POST', '/v1/deposits', { account_id: 'chk', amount: String(amount) })).status).toBe(200);
    expected += amount;
    expect((await call('GET', '/v1/bank_accounts/chk/balance')).body).toMatchObject({ posted: String(expected) });
  };

  it('reads from the replica when caught up, from the primary right after a write it has not replayed, and reports its lag', async () => {
    expect((await call('POST', '/v1/customers', { id: 'ada', full_name: 'Ada Lovelace', email: 'ada@example.com' })).status).toBe(200);
    expect((await call('POST', '/v1/bank_accounts', { id: 'chk', customer_id: 'ada', type: 'checking', currency: 'USD', regulatory_tier: 'retail' })).status).toBe(200);
    for (let n = 1; n <= 5; n++) await depositAndRead(n);
    // Idle, the replica catches up with the primary's position: queries run there.
    const before = server.replica!.status().reads.replica;
    await until('a query to run on the replica', async () => {
      expect((await call('GET', '/v1/bank_accounts/chk/balance')).body).toMatchObject({ posted: String(expected) });
      return server.replica!.status().reads.replica > before;
    }, 30_000);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^daybook_replica_up 1$/m);
    expect(metrics).toMatch(/^daybook_replica_lag_seconds \d/m);
    expect(metrics).toMatch(/^daybook_replica_reads_total\{target="replica"\} [1-9]/m);
  }, 60_000);

  it('falls back to the primary while the replica is behind, and reads still see every write', async () => {
    // Asynchronous first: with remote_apply the primary would wait for the paused standby.
    await sql(cluster.primary.url, "ALTER SYSTEM SET synchronous_standby_names = ''");
    await sql(cluster.primary.url, 'SELECT pg_reload_conf()');
    await sql(cluster.onStandby(primaryUrl), 'SELECT pg_wal_replay_pause()');
    const onPrimary = server.replica!.status().reads.primary;
    for (let n = 10; n <= 12; n++) await depositAndRead(n);
    expect(server.replica!.status().reads.primary).toBeGreaterThanOrEqual(onPrimary + 3);
    await until('the lag gauge to show the paused replica behind', async () => (server.replica!.status().lagBytes ?? 0n) > 0n, 10_000);
    await sql(cluster.onStandby(primaryUrl), 'SELECT pg_wal_replay_resume()');
  }, 60_000);

  it('goes on against the primary when the replica is gone', async () => {
    cluster.standby.kill('SIGKILL');
    await depositAndRead(100);
    await until('the replica marked down', async () => /^daybook_replica_up 0$/m.test(await (await fetch(`${server.url}/metrics`)).text()), 10_000);
    await depositAndRead(200);
  }, 60_000);
});
