/**
 * `npm run bench -- projections`: the projection engine on a real store, per backend.
 * Workloads:
 * - `lag 10k ev/s`: appends offered at 10K events/s, open loop (2 appends of 50
 *   events every 10 ms, at most 500 in flight), with three projections running
 *   live; p50/p99 are the end-to-end lag (event recorded-at → read model
 *   committed) of every event in every projection; `append_rate` is what the
 *   store actually absorbed.
 * - `rebuild 1M`: blue-green rebuild of one projection over 1M events (100K with
 *   --quick): events/s and peak RSS.
 * - `takeover` (PostgreSQL): three worker processes share a partitioned
 *   projection; one is SIGKILLed; time until the other two hold all its partitions.
 * The projection is the stream-stats sample of the projections conformance kit
 * (per stream: count and last type; per type: count), the only one there is yet.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openEventStore, type EventStore } from '../../src/index.ts';
import { createProjectionEngine, openReadModelStore, type ReadModelStore } from '../../src/projections/index.ts';
import { GROUP_PARTITIONS, streamStatsProjection } from '../../src/projections/conformance/streamStats.projection.ts';
import type { Backend, BenchArea, BenchContext, BenchRow, TargetCheck } from '../support/bench.ts';
import { measure, round, roundMs } from '../support/measure.ts';
import { findRow } from '../support/results.ts';
import { CATEGORY, newEvents } from '../eventstore/payload.ts';

const LAG = 'lag 10k ev/s';
const REBUILD = 'rebuild 1M';
const TAKEOVER = 'takeover';
const RATE = 10_000;
const TICK_MS = 10;
const APPENDS_PER_TICK = 2;
const STREAMS = 1000;
const MAX_IN_FLIGHT = 500;

interface Fresh {
  store: EventStore;
  readModels: ReadModelStore;
  url: string;
  dispose(): Promise<void>;
}

async function fresh(ctx: BenchContext, backend: Backend, label: string): Promise<Fresh> {
  let url: string;
  let remove: () => Promise<void>;
  if (backend === 'sqlite') {
    const dir = await ctx.tempDir(label);
    url = `sqlite:${path.join(dir.path, 'daybook.db')}`;
    remove = () => dir.remove();
  } else {
    const database = await ctx.postgres.database();
    url = database.url;
    remove = () => database.drop();
  }
  const store = await openEventStore(url, { subscriptionPollMs: 20 });
  const readModels = await openReadModelStore(url);
  return {
    store, readModels, url,
    dispose: async () => {
      await readModels.close().catch(() => {});
      await store.close().catch(() => {});
      await remove();
    },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function lag(ctx: BenchContext, backend: Backend): Promise<void> {
  const env = await fresh(ctx, backend, 'projections-lag');
  try {
    const names = ['stats_a', 'stats_b', 'stats_c'];
    const engine = createProjectionEngine({ store: env.store, readModels: env.readModels, projections: names.map((name) => streamStatsProjection({ name })) });
    await engine.start();
    const seconds = ctx.quick ? 3 : 15;
    const warmupMs = ctx.quick ? 500 : 2000;
    let measuring = false;
    const row = await measure({ workload: LAG, backend, baseline: null }, async ({ latency }) => {
      const unsubscribe = engine.onBatchCommitted((batch) => {
        if (measuring) for (const ms of batch.lagsMs) latency.record(ms);
      });
      const started = performance.now();
      const perAppend = RATE * TICK_MS / 1000 / APPENDS_PER_TICK;
      // Open loop: each tick's appends start on schedule whether or not earlier ones have returned
      // (bounded in flight), so a slow commit shows up as lag rather than as a lower offered rate.
      const inFlight = new Set<Promise<void>>();
      let appended = 0;
      let head = 0n;
      let stream = 0;
      for (let tick = 0; ; tick += 1) {
        const elapsed = performance.now() - started;
        if (elapsed >= warmupMs) measuring = true;
        if (elapsed >= warmupMs + seconds * 1000) break;
        const wait = started + tick * TICK_MS - performance.now();
        if (wait > 1) await sleep(wait);
        while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
        for (let index = 0; index < APPENDS_PER_TICK; index += 1) {
          const pending = env.store.append({ streamId: `${CATEGORY}-${(stream++) % STREAMS}`, events: newEvents(perAppend) }).then((result) => {
            if (result.position > head) head = result.position;
            appended += perAppend;
            inFlight.delete(pending);
          });
          inFlight.add(pending);
        }
      }
      await Promise.all(inFlight);
      const appendSeconds = (performance.now() - started) / 1000;
      for (const name of names) await engine.waitForPosition(name, head, 60_000);
      measuring = false;
      unsubscribe();
      return { count: appended, extra: { projections: names.length, append_rate: Math.round(appended / appendSeconds), measured_s: seconds, lag_samples: latency.count } };
    });
    await engine.stop();
    ctx.record({ ...row, lag_p50_ms: row.p50_ms, lag_p99_ms: row.p99_ms });
  } finally {
    await env.dispose();
  }
}

async function rebuild(ctx: BenchContext, backend: Backend): Promise<void> {
  const env = await fresh(ctx, backend, 'projections-rebuild');
  try {
    const total = ctx.quick ? 100_000 : 1_000_000;
    ctx.log(`  loading ${total} events`);
    const perAppend = 1000;
    for (let done = 0; done < total; done += perAppend * 8) {
      await Promise.all(Array.from({ length: Math.min(8, (total - done) / perAppend) }, (_, index) =>
        env.store.append({ streamId: `${CATEGORY}-${(done / perAppend + index) % STREAMS}`, events: newEvents(perAppend) })));
    }
    const engine = createProjectionEngine({ store: env.store, readModels: env.readModels, projections: [streamStatsProjection({ name: 'stats_rebuild' })] });
    let lastLog = 0;
    const row = await measure({ workload: REBUILD, backend, baseline: null }, async ({ rss }) => {
      const result = await engine.rebuild('stats_rebuild', {
        onProgress: (progress) => {
          rss.sample();
          const now = performance.now();
          if (now - lastLog > 2000) {
            lastLog = now;
            ctx.log(`  ${progress.position}/${progress.head} ${Math.round(progress.eventsPerSecond)} ev/s`);
          }
        },
      });
      return { count: result.eventsProcessed, extra: { events_rebuilt: result.eventsProcessed, rebuild_ms: result.durationMs } };
    });
    ctx.record({ ...row, p50_ms: null, p99_ms: null, p999_ms: null });
  } finally {
    await env.dispose();
  }
}

const CHILD = fileURLToPath(new URL('../../src/projections/postgres/groupWorker.child.ts', import.meta.url));

interface Worker {
  owner: string;
  owned: number[];
  child: ChildProcess;
  exited: Promise<void>;
}

function startWorker(url: string, owner: string, leaseMs: number, heartbeatMs: number): Promise<Worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, owner, String(leaseMs), String(heartbeatMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const worker: Worker = { owner, owned: [], child, exited };
  let buffer = '';
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker ${owner} exited (${code}) before it was ready`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line === 'ready') resolve(worker);
        else if (line.startsWith('owned ')) worker.owned = JSON.parse(line.slice('owned '.length)) as number[];
      }
    });
  });
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

async function takeover(ctx: BenchContext): Promise<void> {
  const env = await fresh(ctx, 'postgres', 'projections-takeover');
  const workers: Worker[] = [];
  try {
    // The defaults of the worker group (lease 5 s, heartbeat 1 s); --quick shortens them.
    const leaseMs = ctx.quick ? 2000 : 5000;
    const heartbeatMs = ctx.quick ? 200 : 1000;
    for (const owner of ['w1', 'w2', 'w3']) workers.push(await startWorker(env.url, owner, leaseMs, heartbeatMs));
    const ownedTotal = (list: Worker[]) => list.reduce((sum, worker) => sum + worker.owned.length, 0);
    await waitFor(() => workers.every((worker) => worker.owned.length > 0) && ownedTotal(workers) === GROUP_PARTITIONS, 30_000, 'three workers sharing the partitions');
    const [victim, ...survivors] = workers;
    const orphaned = victim!.owned.length;
    const killedAt = performance.now();
    victim!.child.kill('SIGKILL');
    await victim!.exited;
    await waitFor(() => ownedTotal(survivors) === GROUP_PARTITIONS, leaseMs * 4, 'the survivors taking the partitions over');
    const takeoverMs = performance.now() - killedAt;
    ctx.record({
      workload: TAKEOVER, backend: 'postgres', events_per_s: null, p50_ms: null, p99_ms: null, p999_ms: null, peak_rss_mb: null, baseline: null, ratio: null,
      takeover_ms: roundMs(takeoverMs), lease_ms: leaseMs, heartbeat_ms: heartbeatMs, workers: 3, partitions_taken_over: orphaned, partitions: GROUP_PARTITIONS,
    });
  } finally {
    for (const worker of workers) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) {
        worker.child.kill('SIGTERM');
        await Promise.race([worker.exited, sleep(5000)]);
        if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      }
    }
    await env.dispose();
  }
}

async function run(ctx: BenchContext): Promise<void> {
  for (const backend of ctx.backends) {
    const step = (workload: string, fn: () => Promise<void>) =>
      ctx.wants(workload) ? ctx.step(`${backend} ${workload}`, () => { ctx.log(`${backend} ${workload}`); return fn(); }) : Promise.resolve();
    await step(LAG, () => lag(ctx, backend));
    await step(REBUILD, () => rebuild(ctx, backend));
    if (backend === 'postgres') await step(TAKEOVER, () => takeover(ctx));
  }
}

function targets(rows: readonly BenchRow[], ctx: BenchContext): TargetCheck[] {
  const checks: TargetCheck[] = [];
  for (const backend of ctx.backends) {
    const lagRow = findRow(rows, backend, LAG);
    if (lagRow) checks.push({ label: `${backend} ${LAG}: lag p99 ≤ 50 ms`, pass: (lagRow.p99_ms ?? Infinity) <= 50, actual: `p50 ${lagRow.p50_ms} ms, p99 ${lagRow.p99_ms} ms at ${lagRow.append_rate} ev/s` });
    const rebuildRow = findRow(rows, backend, REBUILD);
    if (rebuildRow) {
      const rate = rebuildRow.events_per_s ?? 0;
      const actual = `${rate} ev/s over ${rebuildRow.events_rebuilt} events, peak RSS ${rebuildRow.peak_rss_mb} MB`;
      checks.push(backend === 'sqlite'
        ? { label: `sqlite ${REBUILD} ≥ 200K ev/s`, pass: rate >= 200_000, actual }
        : { label: `${backend} ${REBUILD}`, pass: null, info: true, actual });
    }
  }
  const takeoverRow = findRow(rows, 'postgres', TAKEOVER);
  if (takeoverRow) {
    const ms = Number(takeoverRow.takeover_ms);
    checks.push({ label: 'postgres takeover ≤ 10 s', pass: ms <= 10_000, actual: `${round(ms, 0)} ms (lease ${takeoverRow.lease_ms} ms, heartbeat ${takeoverRow.heartbeat_ms} ms)` });
  }
  return checks;
}

const area: BenchArea = { run, targets };
export default area;
