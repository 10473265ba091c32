/**
 * `npm run bench -- api`: the real server (startServer, as `npm start` runs it)
 * and autocannon in the same process run, autocannon on a worker thread of
 * its own (loadWorker.mjs) so that it does not take the server's event-loop
 * turns. Baseline: a bare Fastify hello-world route served from this
 * process, loaded the same way. Workloads: `POST transfer c64` (durable
 * transfers between 1,000 accounts, 64 connections, a fresh Idempotency-Key
 * per request), the same onto one hot account (every transfer credits it),
 * batches of 100 transfers per request (`POST /v1/transfers/batch`, its rate
 * counted in transfers, as batching clients see it) and `GET balance c64`;
 * then the server's start-up time after that load and a clean stop, against
 * its start on the empty store. Targets (issue 12): POST ≥ 0.2x hello-world
 * on SQLite and ≥ 0.12x on PostgreSQL with p99 ≤ 20 ms; GET ≥ 0.6x, p99 ≤ 5 ms.
 */
import { Worker } from 'node:worker_threads';
import Fastify from 'fastify';
import { loadConfig } from '../../src/edge/config.ts';
import { startServer } from '../../src/main.ts';
import type { Backend, BenchArea, BenchContext, BenchRow, TargetCheck } from '../support/bench.ts';
import { findRow } from '../support/results.ts';
import { spawnDaybook, type DaybookProcess } from '../../test/support/daybookProcess.ts';

const HELLO = 'hello-world';
const POST_TRANSFER = 'POST transfer c64';
const POST_HOT = 'POST transfer c64 one hot account';
const POST_BATCH = 'POST transfers/batch of 100 c16';
const ONE_PROCESS = 'POST transfer c64, 1 server process';
const TWO_PROCESSES = 'POST transfer c64, 2 server processes';
const LISTENING = /^Daybook listening on (http:\/\/\S+) /m;
const BATCH_SIZE = 100;
const BATCH_CONNECTIONS = 16;
const GET_BALANCE = 'GET balance c64';
const START_EMPTY = 'server start, empty store';
const RESTART = 'server restart after the load';
const KEY = `sk_test_${'b'.repeat(40)}`;
const ACCOUNTS = 1000;
const CONNECTIONS = 64;

interface Load { requestsPerS: number; p50: number; p99: number; p999: number; errors: number; non2xx: number }

type Workload = 'hello' | 'post-transfer' | 'post-transfer-hot' | 'post-batch' | 'get-balance';

/** Runs one workload's load on its own thread and returns autocannon's figures. */
function load(workload: Workload, url: string, seconds: number, connections = CONNECTIONS): Promise<Load> {
  const worker = new Worker(new URL('./loadWorker.mjs', import.meta.url), {
    workerData: { workload, url, seconds, connections, secret: KEY, accounts: ACCOUNTS, batchSize: BATCH_SIZE },
  });
  return new Promise<Load>((resolve, reject) => {
    worker.once('message', (measured: Load) => resolve(measured));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`load worker exited with ${code} before reporting`)));
  });
}

function row(workload: string, backend: Backend, measured: Load, baseline: string | null, rss: number): BenchRow {
  return {
    workload, backend, events_per_s: null, ops_per_s: measured.requestsPerS, p50_ms: measured.p50, p99_ms: measured.p99, p999_ms: measured.p999,
    peak_rss_mb: rss, baseline, ratio: null, connections: CONNECTIONS, errors: measured.errors, non_2xx: measured.non2xx,
  };
}

async function helloWorld(ctx: BenchContext, backend: Backend, seconds: number): Promise<void> {
  const app = Fastify({ logger: false });
  app.get('/hello', async () => ({ hello: 'world' }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const measured = await load('hello', url, seconds);
    ctx.record(row(HELLO, backend, measured, null, rssMb()));
  } finally {
    await app.close();
  }
}

function startRow(workload: string, backend: Backend, ms: number, baseline: string | null, events: number): BenchRow {
  const rounded = Math.round(ms);
  return {
    workload, backend, events_per_s: null, ops_per_s: null, p50_ms: rounded, p99_ms: rounded, p999_ms: rounded,
    peak_rss_mb: rssMb(), baseline, ratio: null, start_ms: rounded, store_events: events,
  };
}

function rssMb(): number {
  return Math.round(process.memoryUsage().rss / (1024 * 1024));
}

async function daybook(ctx: BenchContext, backend: Backend, seconds: number): Promise<void> {
  const dir = await ctx.tempDir('api');
  const database = backend === 'postgres' ? await ctx.postgres.database() : null;
  const env = {
    PORT: '0', DAYBOOK_HOST: '127.0.0.1', DAYBOOK_DATA_DIR: dir.path, LOG_LEVEL: 'silent', DAYBOOK_API_KEY: KEY,
    DAYBOOK_API_KEY_PEPPER: 'bench-pepper-'.repeat(3), DAYBOOK_RATE_LIMIT_PER_S: '0',
    ...(database ? { DAYBOOK_DATABASE_URL: database.url } : {}),
  };
  const startedAt = performance.now();
  let server = await startServer(loadConfig(env));
  const emptyStartMs = performance.now() - startedAt;
  const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
  try {
    for (let i = 0; i < ACCOUNTS; i += 1) {
      const response = await fetch(`${server.url}/v1/accounts`, { method: 'POST', headers, body: JSON.stringify({ id: `acct${i}`, currency: 'USD' }) });
      if (!response.ok) throw new Error(`opening an account failed: ${response.status} ${await response.text()}`);
    }
    const transfers = await load('post-transfer', server.url, seconds);
    ctx.record(row(POST_TRANSFER, backend, transfers, HELLO, rssMb()));
    const hot = await load('post-transfer-hot', server.url, seconds);
    ctx.record(row(POST_HOT, backend, hot, HELLO, rssMb()));
    const batches = await load('post-batch', server.url, seconds, BATCH_CONNECTIONS);
    ctx.record({
      ...row(POST_BATCH, backend, batches, HELLO, rssMb()), ops_per_s: batches.requestsPerS * BATCH_SIZE,
      requests_per_s: batches.requestsPerS, transfers_per_request: BATCH_SIZE, connections: BATCH_CONNECTIONS,
    });
    const balances = await load('get-balance', server.url, seconds);
    ctx.record(row(GET_BALANCE, backend, balances, HELLO, rssMb()));
    // Start-up: on the empty store (baseline), then after the load above and a clean stop (SIGTERM's path).
    const events = Number(await server.store.headPosition());
    await server.close();
    const restartedAt = performance.now();
    server = await startServer(loadConfig(env));
    const restartMs = performance.now() - restartedAt;
    ctx.record(startRow(START_EMPTY, backend, emptyStartMs, null, 0));
    ctx.record(startRow(RESTART, backend, restartMs, START_EMPTY, events));
  } finally {
    await server.close();
    await database?.drop();
    await dir.remove();
  }
}

/**
 * Several API processes on one PostgreSQL store, each a real `daybook serve`
 * (its own process, as a deployment runs them): the same POST load, on one
 * process, then split over two (half the connections each, at once). The
 * load generator stays in this process, so neither row shares its process
 * with autocannon, unlike the rows above.
 */
async function processes(ctx: BenchContext, seconds: number): Promise<void> {
  const database = await ctx.postgres.database();
  const dirs = [await ctx.tempDir('api-proc-a'), await ctx.tempDir('api-proc-b')];
  const env = (dir: string): NodeJS.ProcessEnv => ({
    PORT: '0', DAYBOOK_HOST: '127.0.0.1', DAYBOOK_DATA_DIR: dir, LOG_LEVEL: 'silent', DAYBOOK_API_KEY: KEY, DAYBOOK_API_KEY_PEPPER: 'bench-pepper-'.repeat(3),
    DAYBOOK_RATE_LIMIT_PER_S: '0', DAYBOOK_DATABASE_URL: database.url, DAYBOOK_STRIPE_PORT: '0',
  });
  const running: DaybookProcess[] = [];
  try {
    running.push(await spawnDaybook(['serve'], env(dirs[0]!.path), LISTENING));
    const first = running[0]!.match[1]!;
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    for (let i = 0; i < ACCOUNTS; i += 1) {
      const response = await fetch(`${first}/v1/accounts`, { method: 'POST', headers, body: JSON.stringify({ id: `acct${i}`, currency: 'USD' }) });
      if (!response.ok) throw new Error(`opening an account failed: ${response.status} ${await response.text()}`);
    }
    const alone = await load('post-transfer', first, seconds);
    ctx.record({ ...row(ONE_PROCESS, 'postgres', alone, null, rssMb()), processes: 1 });
    running.push(await spawnDaybook(['serve'], env(dirs[1]!.path), LISTENING));
    const second = running[1]!.match[1]!;
    const [a, b] = await Promise.all([load('post-transfer', first, seconds, CONNECTIONS / 2), load('post-transfer', second, seconds, CONNECTIONS / 2)]);
    const both: Load = {
      requestsPerS: a.requestsPerS + b.requestsPerS, p50: Math.max(a.p50, b.p50), p99: Math.max(a.p99, b.p99), p999: Math.max(a.p999, b.p999),
      errors: a.errors + b.errors, non2xx: a.non2xx + b.non2xx,
    };
    ctx.record({ ...row(TWO_PROCESSES, 'postgres', both, ONE_PROCESS, rssMb()), processes: 2 });
  } finally {
    for (const server of running) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await database.drop();
    for (const dir of dirs) await dir.remove();
  }
}

async function run(ctx: BenchContext): Promise<void> {
  const seconds = ctx.quick ? 3 : 10;
  for (const backend of ctx.backends) {
    await ctx.step(`${backend} ${HELLO}`, () => helloWorld(ctx, backend, seconds));
    await ctx.step(`${backend} daybook api`, () => daybook(ctx, backend, seconds));
    if (backend === 'postgres') await ctx.step('postgres api processes', () => processes(ctx, seconds));
  }
}

/** The POST ratio each backend is held to (issue 12): SQLite commits in-process, PostgreSQL over a socket. */
const POST_RATIO: Record<Backend, number> = { sqlite: 0.2, postgres: 0.12 };

function targets(rows: readonly BenchRow[], ctx: BenchContext): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const backend of ctx.backends) {
    for (const workload of [POST_TRANSFER, POST_HOT]) {
      const post = findRow(rows, backend, workload);
      if (!post) continue;
      checks.push({
        label: `${backend} ${workload} ≥ ${POST_RATIO[backend]}x hello-world, p99 ≤ 20 ms, no errors`,
        pass: (post.ratio ?? 0) >= POST_RATIO[backend] && (post.p99_ms ?? Infinity) <= 20 && post.errors === 0 && post.non_2xx === 0,
        actual: `${post.ratio?.toFixed(2)}x, ${post.ops_per_s}/s, p99 ${post.p99_ms} ms, ${post.errors} errors, ${post.non_2xx} non-2xx`,
      });
    }
    const batch = findRow(rows, backend, POST_BATCH);
    if (batch) {
      checks.push({
        label: `${backend} ${POST_BATCH}: transfers/s`, pass: null, info: true,
        actual: `${batch.ops_per_s} transfers/s (${batch.requests_per_s} requests/s), p99 ${batch.p99_ms} ms per request, ${batch.errors} errors, ${batch.non_2xx} non-2xx`,
      });
    }
    const get = findRow(rows, backend, GET_BALANCE);
    if (get) {
      checks.push({
        label: `${backend} ${GET_BALANCE} ≥ 0.6x hello-world, p99 ≤ 5 ms`,
        pass: (get.ratio ?? 0) >= 0.6 && (get.p99_ms ?? Infinity) <= 5 && get.non_2xx === 0,
        actual: `${get.ratio?.toFixed(2)}x, ${get.ops_per_s}/s, p99 ${get.p99_ms} ms, ${get.non_2xx} non-2xx`,
      });
    }
    const two = findRow(rows, backend, TWO_PROCESSES);
    if (two) {
      checks.push({
        label: `${backend} ${TWO_PROCESSES} vs 1`, pass: null, info: true,
        actual: `${two.ratio?.toFixed(2)}x (${two.ops_per_s}/s vs ${findRow(rows, backend, ONE_PROCESS)?.ops_per_s}/s), p99 ${two.p99_ms} ms, ${two.errors} errors, ${two.non_2xx} non-2xx`,
      });
    }
    const empty = findRow(rows, backend, START_EMPTY);
    const restart = findRow(rows, backend, RESTART);
    if (empty && restart) {
      checks.push({ label: `${backend} ${RESTART}`, pass: null, info: true, actual: `${restart.start_ms} ms with ${restart.store_events} events in the store, vs ${empty.start_ms} ms empty` });
    }
  }
  return checks;
}

const area: BenchArea = { run, targets };
export default area;
