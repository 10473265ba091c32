/**
 * The failover drill, shared by its e2e test and the `ops` bench area: a
 * primary with a synchronous standby (see postgresCluster.ts), a Daybook
 * server (`bin/daybook.js serve`) on the primary taking transfers from
 * concurrent clients that record every acknowledged one, kill -9 of the
 * primary's postmaster once enough are acknowledged, `pg_ctl promote` of the
 * standby, and a new server on it; timed from the kill to the first write
 * the new server accepts. The caller checks the writes and calls `stop()`.
 *
 * @example
 * const drill = await runFailoverDrill({ clients: 8, acksBeforeKill: 200 });
 * for (const n of drill.acknowledged) await fetch(`${drill.serverUrl}/v1/transfers/t-${n}`, { headers: drill.headers });
 * await drill.stop();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DaybookProcess, spawnDaybook } from './daybookProcess.ts';
import { startReplicatedPostgres } from './postgresCluster.ts';

const ADMIN = `sk_test_${'FailoverDrillAdminKey01234'}`;
const LISTENING = /^Daybook listening on (http:\/\/\S+) /m;
const ACCOUNTS = 4;
/** How long the clients keep trying after the kill (their failures are expected). */
const DRAIN_MS = 500;

export interface FailoverDrill {
  /** The server on the promoted standby. */
  serverUrl: string;
  headers: Record<string, string>;
  acknowledged: ReadonlySet<number>;
  /** Tried before the kill and not acknowledged: the caller may retry them. */
  unacknowledged: number[];
  killToFirstWriteMs: number;
  promoteMs: number;
  postTransfer(n: number): Promise<Response>;
  stop(): Promise<void>;
}

export async function runFailoverDrill(options: { clients: number; acksBeforeKill: number }): Promise<FailoverDrill> {
  const cluster = await startReplicatedPostgres();
  const dataDir = mkdtempSync(join(tmpdir(), 'daybook-failover-'));
  const servers: DaybookProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const server of servers) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    await Promise.all(servers.map((server) => server.exited));
    await cluster.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    return await drill(options, cluster, dataDir, servers, stop);
  } catch (error) {
    await stop();
    throw error;
  }
}

const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };

function postTransferTo(url: string, n: number): Promise<Response> {
  return fetch(`${url}/v1/transfers`, {
    method: 'POST', headers: { ...headers, 'idempotency-key': `k-${n}` }, signal: AbortSignal.timeout(10_000),
    body: JSON.stringify({ id: `t-${n}`, debit_account_id: 'bank', credit_account_id: `acc-${n % ACCOUNTS}`, amount: String(1 + (n % 7)) }),
  });
}

async function drill(
  options: { clients: number; acksBeforeKill: number }, cluster: Awaited<ReturnType<typeof startReplicatedPostgres>>, dataDir: string, servers: DaybookProcess[], stop: () => Promise<void>,
): Promise<FailoverDrill> {
  const primaryUrl = await cluster.createDatabase('daybook');
  const env = (databaseUrl: string): NodeJS.ProcessEnv => ({
    PORT: '0', DAYBOOK_HOST: '127.0.0.1', DAYBOOK_DATA_DIR: dataDir, DAYBOOK_DATABASE_URL: databaseUrl, LOG_LEVEL: 'error',
    DAYBOOK_API_KEY: ADMIN, DAYBOOK_API_KEY_PEPPER: 'f'.repeat(32), DAYBOOK_RATE_LIMIT_PER_S: '0', DAYBOOK_ROLE: 'all',
  });
  const first = await spawnDaybook(['serve'], env(primaryUrl), LISTENING);
  servers.push(first);
  const firstUrl = first.match[1]!;
  for (const id of ['bank', ...Array.from({ length: ACCOUNTS }, (_, i) => `acc-${i}`)]) {
    const response = await fetch(`${firstUrl}/v1/accounts`, { method: 'POST', headers, body: JSON.stringify({ id, currency: 'USD' }) });
    if (response.status !== 200) throw new Error(`cannot open account ${id}: ${response.status} ${await response.text()}`);
  }
  const acknowledged = new Set<number>();
  const attempted = new Set<number>();
  let next = 0;
  let killedAt = 0;
  const client = async (): Promise<void> => {
    while (killedAt === 0 || performance.now() - killedAt < DRAIN_MS) {
      const n = next++;
      attempted.add(n);
      try {
        const response = await postTransferTo(firstUrl, n);
        const body = await response.text();
        if (response.status === 200) acknowledged.add(n);
        else if (killedAt === 0) throw new Error(`status ${response.status} before the kill: ${body}`);
      } catch (error) {
        if (killedAt === 0) throw error;
        return;
      }
      if (acknowledged.size >= options.acksBeforeKill && killedAt === 0) {
        killedAt = performance.now();
        cluster.primary.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, client));
  const promoteStarted = performance.now();
  await cluster.standby.promote();
  const promoteMs = performance.now() - promoteStarted;
  first.child.kill('SIGKILL');
  await first.exited;
  const second = await spawnDaybook(['serve'], env(cluster.onStandby(primaryUrl)), LISTENING);
  servers.push(second);
  const serverUrl = second.match[1]!;
  // The first write the new server accepts: a transfer never tried before.
  const probe = next++;
  for (;;) {
    const response = await postTransferTo(serverUrl, probe).catch(() => null);
    if (response?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    serverUrl, headers, acknowledged, unacknowledged: [...attempted].filter((n) => !acknowledged.has(n)),
    killToFirstWriteMs: performance.now() - killedAt, promoteMs, postTransfer: (n) => postTransferTo(serverUrl, n), stop,
  };
}
