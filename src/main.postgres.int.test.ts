/**
 * Two servers (`startServer`, over real HTTP) on one PostgreSQL database, as
 * two `npm start` with the same DAYBOOK_DATABASE_URL: the built-in
 * projections run as worker groups, each partition held by exactly one of
 * them; a bank account written through one server is read back at once
 * through the other (it waits for the projection another process runs); when
 * the server holding the projections shuts down gracefully, the other takes
 * them over and stays ready.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeIfConcurrentPostgres, type TestDatabase } from '../test/support/postgres.ts';
import { createLogger, loadConfig } from './edge/index.ts';
import { type RunningServer, startServer } from './main.ts';
import { builtinProjections } from './projections/builtin/index.ts';

const SECRET = `sk_test_${'a1B2c3D4e5F6g7H8'.repeat(2)}`;
const WAIT_MS = 30_000;
const BUILTIN = builtinProjections().map((projection) => projection.name).sort();

type Readiness = { status: string; projections: Array<{ name: string; partition: number; ready: boolean }> };

describeIfConcurrentPostgres('two servers on one PostgreSQL store', () => {
  let db: TestDatabase;
  let dir: string;
  const servers: RunningServer[] = [];

  async function start(): Promise<RunningServer> {
    const config = loadConfig({
      PORT: '0', DAYBOOK_DATA_DIR: dir, DAYBOOK_DATABASE_URL: db.url, DAYBOOK_API_KEY: SECRET, DAYBOOK_API_KEY_PEPPER: 'p'.repeat(32), LOG_LEVEL: 'silent',
    });
    const server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
    servers.push(server);
    return server;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'daybook-main-pg-'));
    await start();
    await start();
  });

  afterAll(async () => {
    for (const server of servers) await server.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (server: RunningServer, method: 'GET' | 'POST', path: string, body?: object) => {
    const response = await fetch(`${server.url}${path}`, {
      method, headers: { authorization: `Bearer ${SECRET}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: await response.json() as Record<string, unknown> };
  };
  const readyz = async (server: RunningServer) => (await call(server, 'GET', '/readyz')).body as unknown as Readiness;

  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('share the projections, read each other\'s writes, and hand the projections over on shutdown', async () => {
    const [a, b] = servers as [RunningServer, RunningServer];
    // Each built-in projection's one partition runs in exactly one of the two.
    await until('every projection held by one server', async () => {
      const held = [...(await readyz(a)).projections, ...(await readyz(b)).projections].map((projection) => projection.name).sort();
      return JSON.stringify(held) === JSON.stringify(BUILTIN);
    });
    for (const server of [a, b]) expect(await readyz(server)).toMatchObject({ status: 'ready' });

    expect((await call(a, 'POST', '/v1/customers', { id: 'ada', full_name: 'Ada Lovelace', email: 'ada@example.com' })).status).toBe(200);
    expect((await call(a, 'POST', '/v1/bank_accounts', { id: 'chk', customer_id: 'ada', type: 'checking', currency: 'USD', regulatory_tier: 'retail', initial_balance: '2500' })).status).toBe(200);
    // b answers from the projection whichever process runs it, after waiting for it to reach the head.
    expect((await call(b, 'GET', '/v1/bank_accounts/chk/balance')).body).toMatchObject({ posted: '2500', available: '2500' });

    const holder = (await readyz(a)).projections.length > 0 ? a : b;
    const other = holder === a ? b : a;
    await holder.close();
    await until('the other server to take every projection over', async () => (await readyz(other)).projections.map((projection) => projection.name).sort().join() === BUILTIN.join());
    await until('the other server to be ready', async () => (await readyz(other)).status === 'ready');
    expect((await call(other, 'POST', '/v1/deposits', { account_id: 'chk', amount: '500' })).status).toBe(200);
    expect((await call(other, 'GET', '/v1/bank_accounts/chk/balance')).body).toMatchObject({ posted: '3000' });
  }, 120_000);
});
