/**
 * The real server process (`node bin/daybook.js serve`, as `npm start` runs
 * it) on a temp data folder (SQLite) or on PostgreSQL, driven over HTTP with
 * plain fetch by 16 concurrent clients making transfers, killed with SIGKILL
 * mid-load, and restarted: every acknowledged transfer is there, exactly
 * once, and every unacknowledged one retried with its Idempotency-Key lands
 * exactly once too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfConcurrentPostgres } from '../../test/support/postgres.ts';

const BIN = fileURLToPath(new URL('../../bin/daybook.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const ADMIN = `sk_test_${'CrashTestAdminKey0123456789'}`;
const CLIENTS = 16;
const ACKS_BEFORE_KILL = 300;
const ACCOUNTS = 8;

const dataDirs: string[] = [];
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

/** Where a server keeps its data: a data folder, and a PostgreSQL url or '' (SQLite in the folder). */
interface Storage { dataDir: string; databaseUrl: string }

function startServer(storage: Storage): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    cwd: tmpdir(),
    env: {
      ...process.env, PORT: '0', DAYBOOK_HOST: '127.0.0.1', DAYBOOK_DATA_DIR: storage.dataDir, DAYBOOK_DATABASE_URL: storage.databaseUrl, LOG_LEVEL: 'warn',
      DAYBOOK_API_KEY: ADMIN, DAYBOOK_RATE_LIMIT_PER_S: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /^Daybook listening on (http:\/\/\S+) /m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}`)); });
  });
}

const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

function transferBody(n: number): string {
  return JSON.stringify({ id: `t-${n}`, debit_account_id: 'bank', credit_account_id: `acc-${n % ACCOUNTS}`, amount: String(1 + (n % 5)) });
}

async function postTransfer(url: string, n: number): Promise<Response> {
  return fetch(`${url}/v1/transfers`, { method: 'POST', headers: { ...headers, 'idempotency-key': `k-${n}` }, body: transferBody(n) });
}

async function killUnderLoad(storage: Storage): Promise<void> {
  const first = await startServer(storage);
  for (const id of ['bank', ...Array.from({ length: ACCOUNTS }, (_, i) => `acc-${i}`)]) {
    const response = await fetch(`${first.url}/v1/accounts`, { method: 'POST', headers, body: JSON.stringify({ id, currency: 'USD' }) });
    expect(response.status).toBe(200);
  }

  const acknowledged = new Set<number>();
  const attempted = new Set<number>();
  let next = 0;
  let killed = false;
  const exited = new Promise((resolve) => first.child.once('exit', resolve));
  const client = async (): Promise<void> => {
    while (!killed) {
      const n = next++;
      attempted.add(n);
      try {
        const response = await postTransfer(first.url, n);
        if (response.status !== 200) throw new Error(`status ${response.status}: ${await response.text()}`);
        await response.json();
        acknowledged.add(n);
      } catch (error) {
        if (!killed) throw error;
        return;
      }
      if (acknowledged.size >= ACKS_BEFORE_KILL && !killed) {
        killed = true;
        first.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  await exited;
  expect(first.child.signalCode).toBe('SIGKILL');
  expect(acknowledged.size).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);

  const second = await startServer(storage);
  for (const n of acknowledged) {
    const response = await fetch(`${second.url}/v1/transfers/t-${n}`, { headers });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe('posted');
  }
  // The ones in flight at the kill: retried with the same key and body, each lands once.
  const unacknowledged = [...attempted].filter((n) => !acknowledged.has(n));
  for (const n of unacknowledged) expect((await postTransfer(second.url, n)).status).toBe(200);
  // Acknowledged ones retried: the same answer, nothing new.
  for (const n of [...acknowledged].slice(0, 20)) {
    const retried = await postTransfer(second.url, n);
    expect(retried.status).toBe(200);
  }

  const posted = new Map<string, number>();
  let after = '0';
  for (;;) {
    const page = await (await fetch(`${second.url}/v1/events?stream=ledger-test&limit=100&after_version=${after}`, { headers })).json() as {
      data: Array<{ type: string; version: string; data: { transferId: string } }>; has_more: boolean;
    };
    for (const event of page.data) if (event.type === 'TransferPosted') posted.set(event.data.transferId, (posted.get(event.data.transferId) ?? 0) + 1);
    if (!page.has_more) break;
    after = page.data.at(-1)!.version;
  }
  expect(posted.size).toBe(attempted.size);
  expect([...posted.values()].every((count) => count === 1)).toBe(true);
  const expectedDebits = [...attempted].reduce((sum, n) => sum + 1 + (n % 5), 0);
  const bank = await (await fetch(`${second.url}/v1/accounts/bank/balance`, { headers })).json() as { debits_posted: string };
  expect(bank.debits_posted).toBe(String(expectedDebits));
  second.child.kill('SIGTERM');
  await new Promise((resolve) => second.child.once('exit', resolve));
}

function freshDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-crash-'));
  dataDirs.push(dir);
  return dir;
}

describe('kill -9 under load on SQLite', () => {
  it('keeps every acknowledged transfer exactly once across a SIGKILL and a restart', async () => {
    await killUnderLoad({ dataDir: freshDataDir(), databaseUrl: '' });
  });
});

describeIfConcurrentPostgres('kill -9 under load on PostgreSQL', () => {
  it('keeps every acknowledged transfer exactly once across a SIGKILL of the server process and a restart', async () => {
    const database = await createTestDatabase();
    try {
      await killUnderLoad({ dataDir: freshDataDir(), databaseUrl: database.url });
    } finally {
      await database.drop();
    }
  });
});
