/**
 * `daybook serve --role api|projections` as separate processes on one
 * PostgreSQL database: two `api` processes (HTTP, no projection workers) and
 * two `projections` processes (workers, webhook delivery, sealer; health and
 * metrics on DAYBOOK_HEALTH_PORT). Writes go through both API processes and
 * reads through the other one see them (the API waits on checkpoints in the
 * database); each projection partition is held by exactly one projections
 * process and never by an API process; balances show every deposit applied
 * exactly once; after kill -9 of a projections process holding partitions,
 * the other takes them over and later writes are read back, still exactly
 * once. On SQLite the split roles are refused with a clear message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfConcurrentPostgres, type TestDatabase } from '../test/support/postgres.ts';
import { type DaybookProcess, killAllDaybooks, runDaybook, spawnDaybook, until } from '../test/support/daybookProcess.ts';
import { builtinProjections } from './projections/builtin/index.ts';

const ADMIN = `sk_test_${'RolesE2eAdminKey0123456789'}`;
const LISTENING = /^Daybook listening on (http:\/\/\S+) /m;
const WORKER = /^Health and metrics on (http:\/\/\S+)$/m;
const PARTITIONS = builtinProjections().length;

const dirs: string[] = [];
afterAll(() => {
  killAllDaybooks();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('split roles on SQLite', () => {
  it('are refused with a clear message (the embedded store admits one process)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daybook-roles-'));
    dirs.push(dir);
    const refused = await runDaybook(['serve', '--role', 'api'], { DAYBOOK_DATA_DIR: dir, DAYBOOK_DATABASE_URL: '', PORT: '0' });
    expect(refused.code).toBe(78);
    expect(refused.stderr).toMatch(/--role api needs PostgreSQL .*use all/);
    const byEnv = await runDaybook(['serve'], { DAYBOOK_DATA_DIR: dir, DAYBOOK_DATABASE_URL: '', DAYBOOK_ROLE: 'projections', PORT: '0' });
    expect(byEnv.code).toBe(78);
    expect(byEnv.stderr).toMatch(/DAYBOOK_ROLE projections needs PostgreSQL/);
  }, 60_000);
});

describeIfConcurrentPostgres('two api and two projections processes on one PostgreSQL', () => {
  let db: TestDatabase;
  let keysDir: string;
  const apis: Array<{ process: DaybookProcess; url: string }> = [];
  const workers: Array<{ process: DaybookProcess; url: string }> = [];

  const env = (role: string): NodeJS.ProcessEnv => {
    const dir = mkdtempSync(join(tmpdir(), `daybook-${role}-`));
    dirs.push(dir);
    return {
      PORT: '0', DAYBOOK_HOST: '127.0.0.1', DAYBOOK_DATA_DIR: dir, DAYBOOK_DATABASE_URL: db.url, DAYBOOK_AUDIT_KEYS_DIR: keysDir, LOG_LEVEL: 'warn',
      DAYBOOK_API_KEY: ADMIN, DAYBOOK_API_KEY_PEPPER: 'r'.repeat(32), DAYBOOK_RATE_LIMIT_PER_S: '0', DAYBOOK_HEALTH_PORT: '0', DAYBOOK_SEAL_EVERY_MS: '1000',
    };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    keysDir = mkdtempSync(join(tmpdir(), 'daybook-roles-keys-'));
    dirs.push(keysDir);
    // The first API process migrates and registers the key; the others start together.
    const first = await spawnDaybook(['serve', '--role', 'api'], env('api'), LISTENING);
    apis.push({ process: first, url: first.match[1]! });
    const rest = await Promise.all([
      spawnDaybook(['serve', '--role', 'api'], env('api'), LISTENING),
      spawnDaybook(['serve', '--role', 'projections'], env('projections'), WORKER),
      spawnDaybook(['serve'], { ...env('projections'), DAYBOOK_ROLE: 'projections' }, WORKER),
    ]);
    apis.push({ process: rest[0], url: rest[0].match[1]! });
    workers.push(...rest.slice(1).map((process) => ({ process, url: process.match[1]! })));
  }, 120_000);

  afterAll(async () => {
    killAllDaybooks();
    await Promise.all([...apis, ...workers].map(({ process }) => process.exited));
    await db?.drop();
  });

  const call = async (url: string, method: 'GET' | 'POST', path: string, body?: object) => {
    const response = await fetch(`${url}${path}`, {
      method, headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, body: await response.json() as Record<string, any> };
  };

  /** Who holds each projection partition's live lease: the pid in the owner name (`host:pid:random`). */
  async function leaseHolders(): Promise<number[]> {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ owner: string }>(
        'SELECT owner FROM daybook.projection_leases WHERE expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint ORDER BY name, partition');
      return rows.map((row) => Number(row.owner.split(':').at(-2)));
    } finally {
      await client.end();
    }
  }

  it('serve HTTP from api processes, project in projections processes exactly once, and fail over on kill -9', async () => {
    const workerPids = workers.map(({ process }) => process.child.pid!);
    await until('every partition held by a projections process', async () => {
      const holders = await leaseHolders();
      return holders.length === PARTITIONS && holders.every((pid) => workerPids.includes(pid));
    });
    // The API processes run no worker: none of them ever holds a lease, and their /readyz reads the state from the database.
    for (const { url } of apis) {
      await until('the api process to be ready', async () => (await call(url, 'GET', '/readyz')).status === 200);
      const ready = (await call(url, 'GET', '/readyz')).body;
      expect(ready.projections.map((p: { name: string }) => p.name).sort()).toEqual(builtinProjections().map((p) => p.name).sort());
    }
    const [a, b] = [apis[0]!, apis[1]!];
    expect((await call(a.url, 'POST', '/v1/customers', { id: 'ada', full_name: 'Ada Lovelace', email: 'ada@example.com' })).status).toBe(200);
    expect((await call(b.url, 'POST', '/v1/bank_accounts', { id: 'chk', customer_id: 'ada', type: 'checking', currency: 'USD', regulatory_tier: 'retail' })).status).toBe(200);
    let expected = 0;
    for (let n = 1; n <= 10; n++) {
      const [writer, reader] = n % 2 === 0 ? [a, b] : [b, a];
      expect((await call(writer.url, 'POST', '/v1/deposits', { account_id: 'chk', amount: String(n) })).status).toBe(200);
      expected += n;
      // Read-your-writes through the other API process: it waits for the checkpoint a projections process commits.
      expect((await call(reader.url, 'GET', '/v1/bank_accounts/chk/balance')).body).toMatchObject({ posted: String(expected) });
    }
    const holders = await leaseHolders();
    const victim = workers.find(({ process }) => holders.includes(process.child.pid!))!;
    const survivor = workers.find((worker) => worker !== victim)!;
    victim.process.child.kill('SIGKILL');
    expect(await victim.process.exited).toBe('SIGKILL');
    expect((await call(a.url, 'POST', '/v1/deposits', { account_id: 'chk', amount: '1000' })).status).toBe(200);
    expected += 1000;
    await until('the survivor to take every partition over', async () => {
      const now = await leaseHolders();
      return now.length === PARTITIONS && now.every((pid) => pid === survivor.process.child.pid);
    });
    await until('the deposit after the kill to be read back', async () =>
      (await call(b.url, 'GET', '/v1/bank_accounts/chk/balance')).body.posted === String(expected));
    // Exactly once: the balance is the sum of the deposits, nothing applied twice across the takeover.
    expect((await call(a.url, 'GET', '/v1/bank_accounts/chk/balance')).body).toMatchObject({ posted: String(expected), available: String(expected) });
    const survivorReady = await fetch(`${survivor.url}/readyz`);
    expect(survivorReady.status).toBe(200);
    expect(await (await fetch(`${survivor.url}/metrics`)).text()).toMatch(/daybook_audit_last_seal_ok 1/);
  }, 180_000);
});
