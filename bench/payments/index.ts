/**
 * `npm run bench -- payments`: the Stripe-compatible listener of the real
 * server (startServer, as `npm start` runs it), loaded by autocannon on a
 * worker thread of its own (loadWorker.mjs), 64 connections, form-encoded
 * bodies and a fresh Idempotency-Key on every POST, as Stripe's clients send.
 * Rows, per backend, all in one run:
 *
 * - `hello-world` (baseline): a GET route on a Fastify app set up as the
 *   Stripe listener is (qs query parser, req_ ids, plain JSON serializer),
 *   served from this process.
 * - `PaymentIntent create+confirm c64`: `POST /v1/payment_intents` with
 *   `payment_method=pm_card_visa&confirm=true`, automatic capture: one
 *   request is the pair; each is durable with its ledger postings (hold,
 *   capture, fee) before it is answered.
 * - `refund c64`: `POST /v1/refunds` of 1 minor unit, round-robin over
 *   intents captured beforehand.
 * - `GET charges c64`: `GET /v1/charges?limit=10` (read-your-writes wait
 *   included).
 * - `stripe-stateful-mock POST /v1/charges c64` (peer): the npm package
 *   stripe-stateful-mock, an in-memory emulator that writes nothing durable,
 *   in a child process, answering `POST /v1/charges` under the same load.
 *   It is not a dependency: install it outside the repository and name its
 *   binary in DAYBOOK_BENCH_STRIPE_MOCK; without it the row is skipped with
 *   a note. Measured in each backend's part of the run, right after
 *   Daybook's rows, so each ratio compares neighbours.
 *
 * Targets: create+confirm at least the mock's charge rate (ratio ≥ 1), p99 ≤ 25 ms.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import Fastify from 'fastify';
import qs from 'qs';
import { loadConfig } from '../../src/edge/config.ts';
import { startServer } from '../../src/main.ts';
import type { Backend, BenchArea, BenchContext, BenchRow, TargetCheck } from '../support/bench.ts';
import { findRow } from '../support/results.ts';

const HELLO = 'hello-world';
const CREATE_CONFIRM = 'PaymentIntent create+confirm c64';
const REFUND = 'refund c64';
const LIST_CHARGES = 'GET charges c64';
const MOCK = 'stripe-stateful-mock POST /v1/charges c64';
const KEY = `sk_test_${'p'.repeat(40)}`;
const CONNECTIONS = 64;
/** Intents captured before the refund load: 64 connections rarely meet on one. */
const REFUND_INTENTS = 256;
const MOCK_ENV = 'DAYBOOK_BENCH_STRIPE_MOCK';

type Workload = 'hello' | 'create-confirm' | 'refund' | 'list-charges' | 'mock-charge';
interface Load { requestsPerS: number; completed: number; p50: number; p99: number; p999: number; errors: number; non2xx: number }

function load(workload: Workload, url: string, seconds: number, extra: { secret?: string; intents?: string[] } = {}): Promise<Load> {
  const worker = new Worker(new URL('./loadWorker.mjs', import.meta.url), {
    workerData: { workload, url, seconds, connections: CONNECTIONS, secret: extra.secret ?? KEY, intents: extra.intents ?? [] },
  });
  return new Promise<Load>((resolve, reject) => {
    worker.once('message', (measured: Load) => resolve(measured));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`load worker exited with ${code} before reporting`)));
  });
}

function row(workload: string, backend: Backend, measured: Load, baseline: string | null, extra: Record<string, unknown> = {}): BenchRow {
  return {
    workload, backend, events_per_s: null, ops_per_s: measured.requestsPerS, p50_ms: measured.p50, p99_ms: measured.p99, p999_ms: measured.p999,
    peak_rss_mb: Math.round(process.memoryUsage().rss / (1024 * 1024)), baseline, ratio: null, connections: CONNECTIONS, requests: measured.completed,
    errors: measured.errors, non_2xx: measured.non2xx, ...extra,
  };
}

/** The baseline: a Fastify app with the Stripe listener's setup and one GET route. */
async function helloWorld(ctx: BenchContext, backend: Backend, seconds: number): Promise<void> {
  let ids = 0;
  const app = Fastify({ logger: false, requestIdHeader: false, genReqId: () => `req_${(ids += 1).toString(36)}`, routerOptions: { querystringParser: (text: string) => qs.parse(text) } });
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.get('/hello', async () => ({ hello: 'world' }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    ctx.record(row(HELLO, backend, await load('hello', url, seconds), null));
  } finally {
    await app.close();
  }
}

/** Creates and confirms (automatic capture) `count` intents of a large amount, 16 at a time; returns their ids. */
async function capturedIntents(url: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  const one = async (index: number): Promise<void> => {
    const response = await fetch(`${url}/v1/payment_intents`, {
      method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': `bench-refund-pool-${index}` },
      body: 'amount=5000000&currency=usd&payment_method=pm_card_visa&confirm=true',
    });
    const body = await response.json() as { id?: string; status?: string };
    if (!response.ok || body.status !== 'succeeded') throw new Error(`capturing an intent for the refund load failed: ${response.status} ${JSON.stringify(body)}`);
    ids.push(body.id!);
  };
  for (let start = 0; start < count; start += 16) await Promise.all(Array.from({ length: Math.min(16, count - start) }, (_, i) => one(start + i)));
  return ids;
}

async function daybook(ctx: BenchContext, backend: Backend, seconds: number): Promise<void> {
  const dir = await ctx.tempDir('payments');
  const database = backend === 'postgres' ? await ctx.postgres.database() : null;
  const server = await startServer(loadConfig({
    PORT: '0', DAYBOOK_STRIPE_PORT: '0', DAYBOOK_HOST: '127.0.0.1', DAYBOOK_DATA_DIR: dir.path, LOG_LEVEL: 'silent', DAYBOOK_API_KEY: KEY,
    DAYBOOK_API_KEY_PEPPER: 'bench-pepper-'.repeat(3), DAYBOOK_RATE_LIMIT_PER_S: '0', ...(database ? { DAYBOOK_DATABASE_URL: database.url } : {}),
  }));
  const url = server.stripe.url;
  try {
    if (ctx.wants(CREATE_CONFIRM)) ctx.record(row(CREATE_CONFIRM, backend, await load('create-confirm', url, seconds), MOCK));
    if (ctx.wants(REFUND)) {
      const intents = await capturedIntents(url, REFUND_INTENTS);
      ctx.record(row(REFUND, backend, await load('refund', url, seconds, { intents }), HELLO));
    }
    if (ctx.wants(LIST_CHARGES)) ctx.record(row(LIST_CHARGES, backend, await load('list-charges', url, seconds), HELLO, { store_events: Number(await server.store.headPosition()) }));
  } finally {
    await server.close();
    await database?.drop();
    await dir.remove();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts the mock and waits (up to 20 s) until it answers a charge. */
async function startMock(bin: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(bin, [], { env: { ...process.env, PORT: String(port), LOG_LEVEL: 'silent' }, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${bin} exited with ${child.exitCode}`);
    const response = await fetch(`${url}/v1/charges`, {
      method: 'POST', headers: { authorization: 'Bearer sk_test_mock', 'content-type': 'application/x-www-form-urlencoded' }, body: 'amount=2000&currency=usd&source=tok_visa',
    }).catch(() => null);
    if (response?.ok) return { url, child };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${bin} did not answer POST /v1/charges within 20 s (last status ${response?.status ?? 'no connection'})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function statefulMock(ctx: BenchContext, backend: Backend, seconds: number): Promise<void> {
  const bin = process.env[MOCK_ENV];
  if (bin === undefined || bin === '' || !existsSync(bin)) {
    ctx.log(`skipping ${MOCK}: ${bin ? `${bin} does not exist` : `${MOCK_ENV} is not set`}; install it outside the repository (mkdir /tmp/ssm && cd /tmp/ssm && npm install stripe-stateful-mock) and set ${MOCK_ENV}=/tmp/ssm/node_modules/.bin/stripe-stateful-mock`);
    return;
  }
  const { url, child } = await startMock(bin);
  try {
    ctx.record(row(MOCK, backend, await load('mock-charge', url, seconds, { secret: 'sk_test_mock' }), HELLO, { peer: 'stripe-stateful-mock, in memory, own process' }));
  } finally {
    child.kill('SIGTERM');
  }
}

async function run(ctx: BenchContext): Promise<void> {
  const seconds = ctx.quick ? 3 : 10;
  for (const backend of ctx.backends) {
    if (ctx.wants(HELLO)) await ctx.step(`${backend} ${HELLO}`, () => helloWorld(ctx, backend, seconds));
    if ([CREATE_CONFIRM, REFUND, LIST_CHARGES].some((name) => ctx.wants(name))) await ctx.step(`${backend} daybook payments`, () => daybook(ctx, backend, seconds));
    if (ctx.wants(MOCK)) await ctx.step(`${backend} ${MOCK}`, () => statefulMock(ctx, backend, seconds));
  }
}

function targets(rows: readonly BenchRow[], ctx: BenchContext): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const backend of ctx.backends) {
    const pair = findRow(rows, backend, CREATE_CONFIRM);
    const mock = findRow(rows, backend, MOCK);
    if (pair) {
      checks.push({
        label: `${backend} ${CREATE_CONFIRM} ≥ 1x stripe-stateful-mock's charge rate, p99 ≤ 25 ms, no errors`,
        pass: mock === undefined ? null : (pair.ratio ?? 0) >= 1 && (pair.p99_ms ?? Infinity) <= 25 && pair.errors === 0 && pair.non_2xx === 0,
        actual: `${pair.ops_per_s}/s vs ${mock ? `${mock.ops_per_s}/s (${pair.ratio?.toFixed(2)}x)` : `no mock row (${MOCK_ENV})`}, p99 ${pair.p99_ms} ms, ${pair.errors} errors, ${pair.non_2xx} non-2xx`,
      });
    }
    for (const name of [REFUND, LIST_CHARGES]) {
      const found = findRow(rows, backend, name);
      // No rate target in the issue; every request must still succeed.
      if (found) checks.push({ label: `${backend} ${name}: no errors`, pass: found.errors === 0 && found.non_2xx === 0, actual: `${found.ops_per_s}/s, p99 ${found.p99_ms} ms, ${found.errors} errors, ${found.non_2xx} non-2xx` });
    }
  }
  return checks;
}

const area: BenchArea = { run, targets };
export default area;
