/**
 * Failover drill: a PostgreSQL primary with a synchronous standby
 * (`synchronous_commit=remote_apply`), a Daybook server (`bin/daybook.js
 * serve`) on the primary taking transfers from 8 concurrent clients that
 * record every acknowledged one, kill -9 of the primary's postmaster mid-load,
 * `pg_ctl promote` of the standby, a new server pointed at it: every
 * acknowledged transfer is there (posted), every unacknowledged one retried
 * with its Idempotency-Key lands once. Prints the time from the kill to the
 * first write the new server accepted (no assertion on it: machines differ).
 * Needs PostgreSQL's binaries; under CI=true their absence fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeIfPostgresBinaries } from '../test/support/postgres.ts';
import { type ReplicatedPostgres, startReplicatedPostgres } from '../test/support/postgresCluster.ts';
import { killAllDaybooks, spawnDaybook } from '../test/support/daybookProcess.ts';

const ADMIN = `sk_test_${'FailoverDrillAdminKey01234'}`;
const LISTENING = /^Daybook listening on (http:\/\/\S+) /m;
const CLIENTS = 8;
const ACKS_BEFORE_KILL = 200;
const ACCOUNTS = 4;
const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

let cluster: ReplicatedPostgres | undefined;
const dirs: string[] = [];
afterAll(async () => {
  killAllDaybooks();
  await cluster?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function postTransfer(url: string, n: number): Promise<Response> {
  return fetch(`${url}/v1/transfers`, {
    method: 'POST', headers: { ...headers, 'idempotency-key': `k-${n}` }, signal: AbortSignal.timeout(10_000),
    body: JSON.stringify({ id: `t-${n}`, debit_account_id: 'bank', credit_account_id: `acc-${n % ACCOUNTS}`, amount: String(1 + (n % 7)) }),
  });
}

export interface FailoverResult {
  acknowledged: number;
  /** From kill -9 of the primary to the first write the server on the promoted standby accepted. */
  killToFirstWriteMs: number;
  promoteMs: number;
}

describeIfPostgresBinaries('failover drill: synchronous standby promoted after kill -9 of the primary', () => {
  it('keeps every acknowledged write and accepts writes again on the promoted standby', async () => {
    cluster = await startReplicatedPostgres();
    const primaryUrl = await cluster.createDatabase('daybook');
    const dataDir = mkdtempSync(join(tmpdir(), 'daybook-failover-'));
    dirs.push(dataDir);
    const env = (databaseUrl: string): NodeJS.ProcessEnv => ({
      PORT: '0', DAYBOOK_HOST: '127.0.0.1', DAYBOOK_DATA_DIR: dataDir, DAYBOOK_DATABASE_URL: databaseUrl, LOG_LEVEL: 'error',
      DAYBOOK_API_KEY: ADMIN, DAYBOOK_API_KEY_PEPPER: 'f'.repeat(32), DAYBOOK_RATE_LIMIT_PER_S: '0',
    });
    const first = await spawnDaybook(['serve'], env(primaryUrl), LISTENING);
    const firstUrl = first.match[1]!;
    for (const id of ['bank', ...Array.from({ length: ACCOUNTS }, (_, i) => `acc-${i}`)]) {
      expect((await fetch(`${firstUrl}/v1/accounts`, { method: 'POST', headers, body: JSON.stringify({ id, currency: 'USD' }) })).status).toBe(200);
    }

    const acknowledged = new Set<number>();
    const attempted = new Set<number>();
    let next = 0;
    let killedAt = 0;
    const client = async (): Promise<void> => {
      while (killedAt === 0 || performance.now() - killedAt < 500) {
        const n = next++;
        attempted.add(n);
        try {
          const response = await postTransfer(firstUrl, n);
          const body = await response.text();
          if (response.status === 200) acknowledged.add(n);
          else if (killedAt === 0) throw new Error(`status ${response.status} before the kill: ${body}`);
        } catch (error) {
          if (killedAt === 0) throw error;
          return;
        }
        if (acknowledged.size >= ACKS_BEFORE_KILL && killedAt === 0) {
          killedAt = performance.now();
          cluster!.primary.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    expect(acknowledged.size).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);

    const promoteStarted = performance.now();
    await cluster.standby.promote();
    const promoteMs = performance.now() - promoteStarted;
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await spawnDaybook(['serve'], env(cluster.onStandby(primaryUrl)), LISTENING);
    const secondUrl = second.match[1]!;
    // The first write the new server accepts: a transfer never tried before.
    const probe = next++;
    for (;;) {
      const response = await postTransfer(secondUrl, probe).catch(() => null);
      if (response?.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const result: FailoverResult = { acknowledged: acknowledged.size, killToFirstWriteMs: performance.now() - killedAt, promoteMs };
    console.log(`failover: ${result.acknowledged} acknowledged writes kept; kill -9 of the primary → first accepted write ${(result.killToFirstWriteMs / 1000).toFixed(2)} s (promote ${(promoteMs / 1000).toFixed(2)} s)`);

    for (const n of acknowledged) {
      const response = await fetch(`${secondUrl}/v1/transfers/t-${n}`, { headers });
      expect(response.status, `acknowledged transfer t-${n}`).toBe(200);
      expect(((await response.json()) as { status: string }).status).toBe('posted');
    }
    for (const n of [...attempted].filter((m) => !acknowledged.has(m))) expect((await postTransfer(secondUrl, n)).status).toBe(200);
    second.child.kill('SIGTERM');
    await second.exited;
  }, 240_000);
});
