/**
 * `daybook status [--json]` against live servers (`bin/daybook.js serve`):
 * beside a SQLite server (read-only), and on PostgreSQL, where it reads the
 * projections' leases: healthy (exit 0) with the head, every projection, the
 * webhook backlog and the last seal while a server runs; unhealthy (exit 69)
 * naming the projections no worker holds once the server is killed and its
 * leases have lapsed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfConcurrentPostgres, type TestDatabase } from '../../test/support/postgres.ts';
import { type DaybookProcess, killAllDaybooks, runDaybook, spawnDaybook, until } from '../../test/support/daybookProcess.ts';
import { builtinProjections } from '../projections/builtin/index.ts';

const ADMIN = `sk_test_${'StatusE2eAdminKey012345678'}`;
const LISTENING = /^Daybook listening on (http:\/\/\S+) /m;
const NAMES = builtinProjections().map((projection) => projection.name).sort();

const dirs: string[] = [];
afterAll(() => {
  killAllDaybooks();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-status-'));
  dirs.push(dir);
  return dir;
}

async function write(url: string): Promise<void> {
  const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
  for (const id of ['bank', 'alice']) expect((await fetch(`${url}/v1/accounts`, { method: 'POST', headers, body: JSON.stringify({ id, currency: 'USD' }) })).status).toBe(200);
  expect((await fetch(`${url}/v1/transfers`, { method: 'POST', headers, body: JSON.stringify({ id: 't1', debit_account_id: 'bank', credit_account_id: 'alice', amount: '100' }) })).status).toBe(200);
}

type Report = { backend: string; head: string; healthy: boolean; problems: string[]; projections: Array<{ name: string; state: string }>; webhooks: { pending: number; failed: number }; lastSeal: { sequence: number } | null; deadLetters: { parked: number } };

describe('daybook status on SQLite', () => {
  it('runs beside the live server and reports it healthy', async () => {
    const dir = tempDir();
    const env = { DAYBOOK_DATA_DIR: dir, DAYBOOK_DATABASE_URL: '', PORT: '0', DAYBOOK_API_KEY: ADMIN, LOG_LEVEL: 'warn', DAYBOOK_SEAL_EVERY_MS: '200' };
    const server = await spawnDaybook(['serve'], env, LISTENING);
    await write(server.match[1]!);
    let report: Report | undefined;
    await until('a seal and the projections caught up', async () => {
      const result = await runDaybook(['status', '--json'], env);
      report = JSON.parse(result.stdout) as Report;
      return result.code === 0 && report.lastSeal !== null;
    });
    expect(report).toMatchObject({ backend: 'sqlite', healthy: true, problems: [], webhooks: { pending: 0, failed: 0 }, deadLetters: { parked: 0 } });
    expect(BigInt(report!.head)).toBeGreaterThan(0n);
    expect(report!.projections.map((p) => p.name).sort()).toEqual(NAMES);
    const text = await runDaybook(['status'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^store: sqlite, head at position \d+$/m);
    expect(text.stdout).toMatch(/^last seal: #\d+ through position \d+/m);
    expect(text.stdout).toMatch(/^status: healthy$/m);
    server.child.kill('SIGTERM');
    await server.exited;
  }, 120_000);

  it('says plainly when there is no store', async () => {
    const result = await runDaybook(['status'], { DAYBOOK_DATA_DIR: tempDir(), DAYBOOK_DATABASE_URL: '' });
    expect(result.code).toBe(69);
    expect(result.stderr).toMatch(/no store at .*daybook\.db/);
  }, 30_000);
});

describeIfConcurrentPostgres('daybook status on PostgreSQL', () => {
  let db: TestDatabase;
  let server: DaybookProcess;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { DAYBOOK_DATA_DIR: tempDir(), DAYBOOK_DATABASE_URL: db.url, PORT: '0', DAYBOOK_API_KEY: ADMIN, LOG_LEVEL: 'warn', DAYBOOK_SEAL_EVERY_MS: '200', DAYBOOK_API_KEY_PEPPER: 's'.repeat(32) };
    server = await spawnDaybook(['serve'], env, LISTENING);
  }, 60_000);

  afterAll(async () => {
    killAllDaybooks();
    await server?.exited;
    await db?.drop();
  });

  it('reports the projections the server runs, then the ones no worker holds after kill -9', async () => {
    await write(server.match[1]!);
    // Healthy with a seal, every projection live (under load a projection may still be catching up at first).
    await until('healthy with a seal', async () => {
      const result = await runDaybook(['status', '--json'], env);
      const report = JSON.parse(result.stdout) as Report;
      return result.code === 0 && report.lastSeal !== null && report.projections.every((p) => p.state === 'live');
    });
    const healthy = JSON.parse((await runDaybook(['status', '--json'], env)).stdout) as Report;
    expect(healthy).toMatchObject({ backend: 'postgres', healthy: true });
    expect(healthy.projections.every((p) => p.state === 'live')).toBe(true);
    server.child.kill('SIGKILL');
    await server.exited;
    let result = { code: 0 as number | null, stdout: '', stderr: '' };
    // Unhealthy may come first for another reason (lag): wait until every lease has lapsed.
    await until('the leases to lapse', async () => {
      result = await runDaybook(['status'], env);
      return result.code === 69 && NAMES.every((name) => result.stdout.includes(`projection ${name} (partition 0): no worker holds this partition`));
    });
    expect(result.stdout).toMatch(/^status: UNHEALTHY$/m);
    for (const name of NAMES) expect(result.stdout).toContain(`projection ${name} (partition 0): no worker holds this partition`);
  }, 120_000);
});
