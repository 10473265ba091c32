/**
 * `npm run bench -- ledgerscale [--transfers N]`: the ledger engine as its
 * history grows (issue 15), per backend. One partition, 1,000 accounts, the
 * default transfer cache (50K). The history is filled with 1,000-transfer
 * batches; at each size (0, 1M, 3M, 10M by default; `--transfers` sets the
 * largest, `--quick` 20K/60K/200K) the run measures:
 *
 * - `transfers c64 at <size>`: 64 callers, one new transfer each per call,
 *   for a few seconds (the row at 0 is the baseline of the others);
 * - `memory at <size>`: the heap after a forced GC and the RSS (extras
 *   `heap_mb`, `rss_mb`, `held_transfers`), and the store's size on disk.
 *
 * At the largest size: `open after a clean stop` and `open after a crash`
 * (a second engine on the partition while the first was never closed: the
 * latest periodic snapshot plus the tail, as after kill -9), and `retry of a
 * transfer made half the history ago` (an idempotent retry that the cache
 * cannot answer: found in the log, answered the same, its latency).
 */
import { statSync } from 'node:fs';
import pg from 'pg';
import type { EventStore } from '../../src/eventstore/index.ts';
import { LedgerEngine } from '../../src/ledger/ledger.service.ts';
import type { LedgerMaps } from '../../src/ledger/ledger.state.ts';
import type { BenchArea, BenchContext, BenchRow, TargetCheck } from '../support/bench.ts';
import { Budget, measure, round, runConcurrently } from '../support/measure.ts';
import { collectGarbage } from '../support/rss.ts';
import { freshStore, type FreshStore } from '../eventstore/stores.ts';

const ACCOUNTS = 1_000;
const CALLERS = 64;
const FILL_BATCH = 1_000;
/** Batches in flight while filling: enough to keep the engine's two flights full. */
const FILL_CONCURRENCY = 4;
const MB = 1024 * 1024;

function sizesOf(ctx: BenchContext): number[] {
  const flag = process.argv.indexOf('--transfers');
  const largest = flag === -1 ? (ctx.quick ? 200_000 : 10_000_000) : Number(process.argv[flag + 1]);
  if (!Number.isSafeInteger(largest) || largest < 1000) throw new Error('--transfers takes a whole number of at least 1000');
  return [0, Math.round(largest / 10), Math.round(largest * 0.3), largest];
}

const transferAt = (n: number) => ({
  type: 'CreateTransfer' as const,
  data: { transferId: `t${n}`, debitAccountId: `a${n % ACCOUNTS}`, creditAccountId: `a${(n * 7 + 1) % ACCOUNTS}`, amountMinor: 1n + BigInt(n % 97), ledger: 'usd' },
});

class Filler {
  next = 0;
  constructor(private readonly engine: LedgerEngine) {}

  async fillTo(target: number, log: (line: string) => void): Promise<void> {
    const started = performance.now();
    const from = this.next;
    await runConcurrently(FILL_CONCURRENCY, async () => {
      while (this.next < target) {
        const start = this.next;
        this.next = Math.min(target, start + FILL_BATCH);
        const outcomes = await this.engine.executeAll(Array.from({ length: this.next - start }, (_, i) => transferAt(start + i)));
        if (!outcomes.every((o) => o.ok || o.rejection.code === 'accounts_must_be_different')) throw new Error('filling the partition failed');
        if (this.next % 500_000 < FILL_BATCH) log(`  filled ${this.next.toLocaleString('en-US')} transfers`);
      }
    });
    const seconds = (performance.now() - started) / 1000;
    if (target > from) log(`  filled ${from}..${target} at ${Math.round((target - from) / seconds)}/s`);
  }
}

async function diskMb(fresh: FreshStore): Promise<number> {
  if (fresh.sqlitePath !== null) {
    let bytes = 0;
    for (const suffix of ['', '-wal']) {
      try { bytes += statSync(fresh.sqlitePath + suffix).size; } catch { /* absent */ }
    }
    return round(bytes / MB, 1);
  }
  const client = new pg.Client({ connectionString: fresh.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ size: string }>('SELECT pg_database_size(current_database())::text AS size');
    return round(Number(rows[0]!.size) / MB, 1);
  } finally {
    await client.end();
  }
}

async function transfersC64(ctx: BenchContext, backend: 'sqlite' | 'postgres', engine: LedgerEngine, filler: Filler, size: number, baseline: string | null): Promise<BenchRow> {
  return measure({ workload: `transfers c64 at ${label(size)}`, backend, baseline, unit: 'ops' }, async ({ latency }) => {
    const budget = new Budget(ctx.quick ? 10_000 : 100_000, ctx.quick ? 2_000 : 6_000);
    let done = 0;
    await runConcurrently(CALLERS, async () => {
      while (budget.take(1)) {
        const n = filler.next++;
        const started = performance.now();
        await engine.execute(transferAt(n));
        latency.record(performance.now() - started);
        done += 1;
      }
    });
    return { count: done, extra: { history_transfers: size, callers: CALLERS } };
  });
}

async function memoryRow(backend: 'sqlite' | 'postgres', engine: LedgerEngine, fresh: FreshStore, size: number): Promise<BenchRow> {
  collectGarbage();
  collectGarbage();
  const { heapUsed, rss } = process.memoryUsage();
  const state = engine.state as LedgerMaps;
  return {
    workload: `memory at ${label(size)}`, backend, events_per_s: null, p50_ms: null, p99_ms: null, p999_ms: null, peak_rss_mb: round(rss / MB, 1), baseline: null, ratio: null,
    heap_mb: round(heapUsed / MB, 1), rss_mb: round(rss / MB, 1), held_transfers: state.transfers.size + state.pendings.size, held_entries: state.entries.size,
    disk_mb: await diskMb(fresh), history_transfers: size,
  };
}

async function openRows(backend: 'sqlite' | 'postgres', store: EventStore, writer: LedgerEngine, size: number): Promise<BenchRow[]> {
  const open = (workload: string) => measure({ workload, backend, baseline: null }, async ({ latency }) => {
    const started = performance.now();
    const engine = await LedgerEngine.open(store, { partition: 'scale', follow: false });
    const openMs = performance.now() - started;
    latency.record(openMs);
    const { snapshotVersion, replayedEvents } = engine.openedFrom;
    await engine.close();
    return { count: 1, extra: { history_transfers: size, open_ms: Math.round(openMs), snapshot_version: snapshotVersion === null ? null : Number(snapshotVersion), replayed_events: Number(replayedEvents) } };
  });
  // The writer is never closed first: its last periodic snapshot and the tail after it, as a restart after kill -9 finds them.
  const crash = await open(`open after a crash at ${label(size)}`);
  await writer.close();
  const clean = await open(`open after a clean stop at ${label(size)}`);
  return [crash, clean];
}

async function retryRow(backend: 'sqlite' | 'postgres', store: EventStore, size: number): Promise<BenchRow> {
  const engine = await LedgerEngine.open(store, { partition: 'scale', follow: false });
  try {
    const n = Math.floor(size / 2);
    return await measure({ workload: `retry of a transfer made ${label(size - n)} transfers ago`, backend, baseline: null, unit: 'ops' }, async ({ latency }) => {
      if ((engine.state as LedgerMaps).transfer(`t${n}`) !== undefined) throw new Error('the retried transfer should not be in memory');
      const first = await engine.lookupTransfer(`t${n}`);
      const started = performance.now();
      const outcome = await engine.execute(transferAt(n));
      latency.record(performance.now() - started);
      const same = outcome.ok && outcome.replayed && first?.status === 'applied' && outcome.result.kind === 'transfer' && outcome.result.amountMinor === first.amountMinor;
      if (!same) throw new Error(`the retry was not answered with the first result: ${JSON.stringify(outcome, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
      return { count: 1, extra: { replayed: true } };
    });
  } finally {
    await engine.close();
  }
}

function label(size: number): string {
  return size >= 1_000_000 ? `${size / 1_000_000}M` : size >= 1000 ? `${size / 1000}K` : String(size);
}

async function runBackend(ctx: BenchContext, backend: 'sqlite' | 'postgres'): Promise<void> {
  const fresh = await freshStore(ctx, backend, 'ledgerscale');
  try {
    const engine = await LedgerEngine.open(fresh.store, { partition: 'scale', follow: false });
    const opened = await engine.executeAll(Array.from({ length: ACCOUNTS }, (_, i) => ({ type: 'OpenAccount' as const, data: { accountId: `a${i}`, ledger: 'usd', currency: 'USD' as const } })));
    if (!opened.every((o) => o.ok)) throw new Error('opening accounts failed');
    const filler = new Filler(engine);
    const sizes = sizesOf(ctx);
    for (const size of sizes) {
      await filler.fillTo(Math.max(size, filler.next), (line) => ctx.log(line));
      ctx.log(`${backend}: measuring at ${label(size)} transfers`);
      ctx.record(await transfersC64(ctx, backend, engine, filler, size, size === 0 ? null : `transfers c64 at ${label(0)}`));
      ctx.record(await memoryRow(backend, engine, fresh, size));
    }
    const largest = sizes.at(-1)!;
    for (const row of await openRows(backend, fresh.store, engine, largest)) ctx.record(row);
    ctx.record(await retryRow(backend, fresh.store, filler.next));
  } finally {
    await fresh.dispose();
  }
}

const area: BenchArea = {
  async run(ctx) {
    for (const backend of ctx.backends) await ctx.step(`ledgerscale ${backend}`, () => runBackend(ctx, backend));
  },
  targets(rows, ctx) {
    const checks: TargetCheck[] = [];
    const sizes = sizesOf(ctx);
    for (const backend of ctx.backends) {
      const largest = rows.find((r) => r.backend === backend && r.workload === `transfers c64 at ${label(sizes.at(-1)!)}`);
      checks.push({ label: `${backend}: transfers/s at ${label(sizes.at(-1)!)} >= 0.8x the empty store`, pass: largest?.ratio == null ? null : largest.ratio >= 0.8, actual: largest?.ratio == null ? 'not run' : `${largest.ratio}x` });
      const memories = sizes.slice(1).map((size) => rows.find((r) => r.backend === backend && r.workload === `memory at ${label(size)}`)?.heap_mb as number | undefined);
      if (memories.every((m) => m !== undefined)) {
        const [first, ...rest] = memories as number[];
        const worst = Math.max(...rest.map((m) => m / first!));
        checks.push({ label: `${backend}: heap flat within 10% from ${label(sizes[1]!)} to ${label(sizes.at(-1)!)}`, pass: worst <= 1.1, actual: `${memories.join(' / ')} MB (${round(worst, 2)}x)` });
      }
      for (const kind of ['crash', 'clean stop']) {
        const row = rows.find((r) => r.backend === backend && r.workload.startsWith(`open after a ${kind}`));
        checks.push({ label: `${backend}: open after a ${kind} at ${label(sizes.at(-1)!)} <= 2 s`, pass: row ? (row.open_ms as number) <= 2000 : null, actual: row ? `${row.open_ms} ms` : 'not run' });
      }
    }
    return checks;
  },
};

export default area;
