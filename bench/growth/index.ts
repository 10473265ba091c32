/**
 * `npm run bench -- growth [--events N] [--backend sqlite|postgres]`: the event
 * store as it grows. One store per backend is grown to N events (default 10M;
 * `--quick` 60K) and measured at 0, N/10, 3N/10 and N:
 * - `append c64 daybook-ids @ <size>`: 64 callers, one ~180-byte event to a new
 *   stream per append, ids made by Daybook (UUIDv7). Baseline: the same row on
 *   the empty store of this run.
 * - `append c64 caller-uuidv4 @ <size>`: the same with a random UUIDv4 id sent
 *   by the caller. Baseline: the Daybook-ids row at the same size.
 * - `read stream 1000 @ <size>`: one 1000-event stream written at the start,
 *   read whole. Baseline: the same read on the empty store.
 * - `read category 10K @ <size>`: 10,000 events of one category from a
 *   position in the middle of the log. Baseline: the same read when empty.
 * Each row carries the process's RSS after a full GC and the database's size
 * on disk. Between sizes the store is filled through the public API in
 * 100-event appends (10 new streams of 10 events), 8 in flight, half of them
 * with caller-sent UUIDv4 ids, so that both kinds of id are in the indexes as
 * in a store whose clients mix them.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { EventStore, NewEvent, StreamWrite } from '../../src/index.ts';
import { uuidv7 } from '../../src/kernel/ids.ts';
import type { Backend, BenchArea, BenchContext, BenchRow, TargetCheck } from '../support/bench.ts';
import { Budget, measure, round, runConcurrently } from '../support/measure.ts';
import { collectGarbage } from '../support/rss.ts';
import { findRow } from '../support/results.ts';
import { formatMs, formatShortRate } from '../support/table.ts';
import { formatCount, newEvents } from '../eventstore/payload.ts';
import { freshStore, type FreshStore } from '../eventstore/stores.ts';

const CONCURRENCY = 64;
const APPEND_MS = 6000;
const QUICK_APPEND_MS = 1000;
const READ_MS = 3000;
const STREAM_EVENTS = 1000;
const CATEGORY_READ = 10_000;
const FILL_STREAMS_PER_APPEND = 10;
const FILL_EVENTS_PER_STREAM = 10;
const FILL_IN_FLIGHT = 8;
/** Categories of the fill, so that a category read is a slice of the log, not all of it. */
const FILL_CATEGORIES = ['acct', 'txn', 'pay', 'cust'] as const;
const MB = 1024 * 1024;

export const appendName = (ids: 'daybook-ids' | 'caller-uuidv4', size: number) => `append c${CONCURRENCY} ${ids} @ ${formatCount(size)}`;
export const streamReadName = (size: number) => `read stream ${STREAM_EVENTS} @ ${formatCount(size)}`;
export const categoryReadName = (size: number) => `read category ${formatCount(CATEGORY_READ)} @ ${formatCount(size)}`;
export const fillName = (from: number, to: number) => `fill ${formatCount(from)}..${formatCount(to)} (100-event appends, half caller ids)`;

function sizesWanted(ctx: BenchContext): number[] {
  const flag = process.argv.indexOf('--events');
  const largest = flag === -1 ? (ctx.quick ? 60_000 : 10_000_000) : Number(process.argv[flag + 1]);
  if (!Number.isSafeInteger(largest) || largest < 10_000) throw new Error('--events must be a whole number ≥ 10000');
  return [0, largest / 10, (3 * largest) / 10, largest].map((n) => Math.round(n));
}

async function run(ctx: BenchContext): Promise<void> {
  const sizes = sizesWanted(ctx);
  for (const backend of ctx.backends) {
    await ctx.step(`${backend} growth`, () => growBackend(ctx, backend, sizes));
  }
}

async function growBackend(ctx: BenchContext, backend: Backend, sizes: readonly number[]): Promise<void> {
  const fresh = await freshStore(ctx, backend, 'growth');
  try {
    const store = fresh.store;
    const readStreamId = `acct-${uuidv7()}`;
    await store.append({ streamId: readStreamId, expectedVersion: 'no_stream', events: newEvents(STREAM_EVENTS) });
    let written = STREAM_EVENTS;
    for (const size of sizes) {
      if (size > written) {
        ctx.log(`${backend}: filling ${formatCount(written)} -> ${formatCount(size)}`);
        const from = written;
        ctx.record(await measure({ workload: fillName(from, size), backend, baseline: null }, async () => {
          const count = await fill(store, size - written);
          return { count, extra: { latency_unit: 'none' } };
        }));
        written = size;
      }
      await settle(fresh);
      const at = await footprint(fresh, backend);
      const extra = { store_events: Number(await store.headPosition()), ...at };
      const ms = ctx.quick ? QUICK_APPEND_MS : APPEND_MS;
      ctx.log(`${backend} @ ${formatCount(size)}: ${JSON.stringify(at)}`);
      for (const ids of ['daybook-ids', 'caller-uuidv4'] as const) {
        const workload = appendName(ids, size);
        if (!ctx.wants(workload)) continue;
        const baseline = ids === 'caller-uuidv4' ? appendName('daybook-ids', size) : size === sizes[0] ? null : appendName('daybook-ids', sizes[0]!);
        const row = await appendRun(store, ids, ms, { workload, backend, baseline });
        written += row.count as number;
        ctx.record({ ...row, ...extra });
      }
      if (ctx.wants(streamReadName(size))) {
        ctx.record({ ...(await streamRead(store, readStreamId, { workload: streamReadName(size), backend, baseline: size === sizes[0] ? null : streamReadName(sizes[0]!) })), ...extra });
      }
      if (ctx.wants(categoryReadName(size))) {
        ctx.record({ ...(await categoryRead(store, { workload: categoryReadName(size), backend, baseline: size === sizes[0] ? null : categoryReadName(sizes[0]!) })), ...extra });
      }
    }
  } finally {
    await fresh.dispose();
  }
}

/**
 * Lets the store write back what the fill left before a measurement starts in
 * its wake: SQLite waits (at most 30 s) until the checkpointer has copied the
 * fill's WAL frames; PostgreSQL, with DAYBOOK_BENCH_PG_SETTLE=1, runs a
 * CHECKPOINT (without it, the first reads after a fill evict the fill's dirty
 * buffers and write them first; see the issue 17 note).
 */
async function settle(fresh: FreshStore): Promise<void> {
  if (fresh.sqlitePath === null) {
    if (process.env.DAYBOOK_BENCH_PG_SETTLE !== '1') return;
    const client = new pg.Client({ connectionString: fresh.url });
    await client.connect();
    try {
      await client.query('CHECKPOINT');
    } finally {
      await client.end();
    }
    return;
  }
  const side = new Database(fresh.sqlitePath);
  try {
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline) {
      const [state] = side.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
      if (state === undefined || state.log === state.checkpointed) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    side.close();
  }
}

/** The process's RSS and heap after a full GC, and the database's size on disk. */
async function footprint(fresh: FreshStore, backend: Backend): Promise<{ rss_after_gc_mb: number; heap_used_mb: number; disk_mb: number }> {
  collectGarbage();
  const memory = process.memoryUsage();
  let disk = 0;
  if (backend === 'sqlite') {
    for (const suffix of ['', '-wal']) disk += await stat(`${fresh.sqlitePath}${suffix}`).then((s) => s.size, () => 0);
  } else {
    const client = new pg.Client({ connectionString: fresh.url });
    await client.connect();
    try {
      disk = Number((await client.query<{ size: string }>('SELECT pg_database_size(current_database()) AS size')).rows[0]!.size);
    } finally {
      await client.end();
    }
  }
  return { rss_after_gc_mb: round(memory.rss / MB, 1), heap_used_mb: round(memory.heapUsed / MB, 1), disk_mb: round(disk / MB, 1) };
}

function callerIds(events: NewEvent[]): NewEvent[] {
  return events.map((event) => ({ ...event, eventId: randomUUID() }));
}

/** Grows the store by `events` in 100-event appends, 8 in flight, every other append with caller ids. */
async function fill(store: EventStore, events: number): Promise<number> {
  const perAppend = FILL_STREAMS_PER_APPEND * FILL_EVENTS_PER_STREAM;
  const appends = Math.ceil(events / perAppend);
  let next = 0;
  await runConcurrently(FILL_IN_FLIGHT, async () => {
    for (let n = next++; n < appends; n = next++) {
      const category = FILL_CATEGORIES[n % FILL_CATEGORIES.length]!;
      const withCallerIds = n % 2 === 1;
      const writes: StreamWrite[] = Array.from({ length: FILL_STREAMS_PER_APPEND }, () => {
        const events = newEvents(FILL_EVENTS_PER_STREAM);
        return { streamId: `${category}-${uuidv7()}`, expectedVersion: 'no_stream', events: withCallerIds ? callerIds(events) : events };
      });
      await store.append(writes);
    }
  });
  return appends * perAppend;
}

async function appendRun(store: EventStore, ids: 'daybook-ids' | 'caller-uuidv4', ms: number, spec: { workload: string; backend: Backend; baseline: string | null }): Promise<BenchRow> {
  const once = async (budget: Budget, record: (ms: number) => void) => {
    let count = 0;
    await runConcurrently(CONCURRENCY, async () => {
      while (budget.take(1)) {
        const events = ids === 'caller-uuidv4' ? callerIds(newEvents(1)) : newEvents(1);
        const started = performance.now();
        await store.append({ streamId: `acct-${uuidv7()}`, expectedVersion: 'no_stream', events });
        record(performance.now() - started);
        count += 1;
      }
    });
    return count;
  };
  await once(new Budget(Number.MAX_SAFE_INTEGER, Math.min(1000, ms / 4)), () => {});
  return measure(spec, async ({ latency }) => ({
    count: await once(new Budget(Number.MAX_SAFE_INTEGER, ms), (t) => latency.record(t)),
    extra: { concurrency: CONCURRENCY, latency_unit: 'append call' },
  }));
}

async function streamRead(store: EventStore, streamId: string, spec: { workload: string; backend: Backend; baseline: string | null }): Promise<BenchRow> {
  for (let i = 0; i < 3; i++) await store.readStream(streamId, { limit: STREAM_EVENTS });
  return measure(spec, async ({ latency }) => {
    const deadline = performance.now() + READ_MS;
    let count = 0;
    while (performance.now() < deadline) {
      const started = performance.now();
      const got = (await store.readStream(streamId, { limit: STREAM_EVENTS })).length;
      latency.record(performance.now() - started);
      if (got !== STREAM_EVENTS) throw new Error(`read ${got} of the stream's ${STREAM_EVENTS} events`);
      count += got;
    }
    return { count, extra: { latency_unit: `readStream call (${STREAM_EVENTS} events)` } };
  });
}

/** 10K events of category `acct` after positions spread over the log (a different start each read, so the cache is not always warm). */
async function categoryRead(store: EventStore, spec: { workload: string; backend: Backend; baseline: string | null }): Promise<BenchRow> {
  const head = Number(await store.headPosition());
  let k = 0;
  const readOnce = async () => {
    k += 1;
    const after = BigInt(Math.floor((head / 2) * ((k * 0.618034) % 1)));
    let got = 0;
    let cursor = after;
    while (got < CATEGORY_READ) {
      const page = await store.readAll({ after: cursor, category: 'acct', limit: Math.min(1000, CATEGORY_READ - got) });
      if (page.length === 0) break;
      got += page.length;
      cursor = page.at(-1)!.position;
    }
    return got;
  };
  await readOnce();
  return measure(spec, async ({ latency }) => {
    const deadline = performance.now() + READ_MS;
    let count = 0;
    while (performance.now() < deadline) {
      const started = performance.now();
      count += await readOnce();
      latency.record(performance.now() - started);
    }
    return { count, extra: { latency_unit: `${formatCount(CATEGORY_READ)} events of one category, pages of 1000` } };
  });
}

function targets(rows: readonly BenchRow[], ctx: BenchContext): TargetCheck[] {
  const sizes = sizesWanted(ctx);
  const largest = sizes.at(-1)!;
  const checks: TargetCheck[] = [];
  for (const backend of ctx.backends) {
    const own = findRow(rows, backend, appendName('daybook-ids', largest));
    checks.push({
      label: `${backend} ${appendName('daybook-ids', largest)} ≥ 0.8x the empty store's`,
      pass: own ? (own.ratio ?? 0) >= 0.8 : null,
      actual: own ? `${own.ratio?.toFixed(2) ?? '?'}x, ${formatShortRate(own.events_per_s)} ev/s, p99 ${formatMs(own.p99_ms)} ms` : 'no row',
    });
    const ratios = sizes.map((size) => ({ size, row: findRow(rows, backend, appendName('caller-uuidv4', size)) }));
    const measured = ratios.filter((entry) => entry.row !== undefined);
    checks.push({
      label: `${backend} caller UUIDv4 ids ≥ 0.7x Daybook's ids at every size`,
      pass: measured.length === sizes.length ? measured.every((entry) => (entry.row!.ratio ?? 0) >= 0.7) : null,
      actual: measured.map((entry) => `${formatCount(entry.size)}: ${entry.row!.ratio?.toFixed(2) ?? '?'}x`).join(', ') || 'no rows',
    });
    for (const name of [streamReadName, categoryReadName]) {
      const row = findRow(rows, backend, name(largest));
      checks.push({
        label: `${backend} ${name(largest)} unchanged (≥ 0.8x empty)`,
        pass: row ? (row.ratio ?? 0) >= 0.8 : null,
        actual: row ? `${row.ratio?.toFixed(2) ?? '?'}x, p99 ${formatMs(row.p99_ms)} ms` : 'no row',
      });
    }
    const memory = sizes.map((size) => findRow(rows, backend, appendName('daybook-ids', size))).filter((row): row is BenchRow => row !== undefined);
    checks.push({
      label: `${backend} memory and disk as the store grows (RSS after GC / heap / disk)`,
      pass: null,
      info: true,
      actual: memory.map((row) => `${String(row.workload).split('@ ')[1]} (${formatCount(row.store_events as number)} events): ${row.rss_after_gc_mb}/${row.heap_used_mb}/${row.disk_mb} MB`).join(', '),
    });
  }
  return checks;
}

/**
 * The settings the README recommends for a write-heavy store, used on the
 * private server this run starts (DAYBOOK_BENCH_PG_DEFAULTS=1 runs with the
 * harness's defaults instead, to compare).
 */
export const RECOMMENDED_POSTGRES_SETTINGS = [
  'shared_buffers=1GB',
  'wal_compression=lz4',
  'max_wal_size=8GB',
  'checkpoint_timeout=15min',
  'checkpoint_completion_target=0.9',
] as const;

const area: BenchArea = {
  run,
  targets,
  postgresSettings: process.env.DAYBOOK_BENCH_PG_DEFAULTS === '1' ? [] : RECOMMENDED_POSTGRES_SETTINGS,
};
export default area;
