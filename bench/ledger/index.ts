/**
 * `npm run bench -- ledger`: the ledger engine on a real store, per backend.
 * Workloads: `transfers random c64` (64 callers, transfers between 10K random
 * accounts) and `transfers hot c64` (every transfer credits one account, the
 * debit side guarded by debits_must_not_exceed_credits; flag violations are
 * counted over the final state), against the store's raw 64-row transaction
 * of the same run as the baseline; plus the engine's memory per 1M accounts,
 * and `open 200K transfers`: opening an engine on a partition of 200K
 * transfers from its latest snapshot plus the tail, against a full replay of
 * the same stream in the same run (`open 200K transfers full replay`, the
 * baseline). events_per_s of an open row is the stream's length over the
 * open time, so the ratio is the speedup. `snapshot 200K transfers sliced`
 * against `… at once`: the event-loop pauses while that partition's snapshot
 * is saved (p50/p99/p99.9 of the gaps between 1 ms ticks; longest_pause_ms).
 */
import type { EventStore } from '../../src/eventstore/index.ts';
import { LedgerEngine } from '../../src/ledger/ledger.service.ts';
import { copyLedgerState, encodeLedgerSnapshot, encodeLedgerSnapshotText } from '../../src/ledger/ledger.snapshot.ts';
import type { LedgerMaps } from '../../src/ledger/ledger.state.ts';
import type { BenchArea, BenchContext, BenchRow, TargetCheck } from '../support/bench.ts';
import { Budget, measure, runConcurrently } from '../support/measure.ts';
import { findRow } from '../support/results.ts';
import { collectGarbage } from '../support/rss.ts';
import { RAW_64, rawBaseline } from '../eventstore/raw.ts';
import { FULL, QUICK } from '../eventstore/sizes.ts';
import { freshStore } from '../eventstore/stores.ts';

const RANDOM = 'transfers random c64';
const HOT = 'transfers hot c64';
const MEMORY = 'engine memory per 1M accounts';
const OPEN = 'open 200K transfers';
const OPEN_FULL = 'open 200K transfers full replay';
const SNAPSHOT_AT_ONCE = 'snapshot 200K transfers at once';
const SNAPSHOT_SLICED = 'snapshot 200K transfers sliced';
const ACCOUNTS = 10_000;
const CALLERS = 64;

async function openAccounts(engine: LedgerEngine, count: number, prefix: string, limited: boolean): Promise<void> {
  for (let start = 0; start < count; start += 1000) {
    const ids = Array.from({ length: Math.min(1000, count - start) }, (_, i) => `${prefix}${start + i}`);
    const outcomes = await engine.executeAll(ids.map((accountId) => ({
      type: 'OpenAccount' as const,
      data: { accountId, ledger: 'usd', currency: 'USD' as const, flags: { debitsMustNotExceedCredits: limited } },
    })));
    if (!outcomes.every((o) => o.ok)) throw new Error('opening accounts failed');
  }
}

async function transfers(ctx: BenchContext, backend: 'sqlite' | 'postgres', hot: boolean): Promise<void> {
  const fresh = await freshStore(ctx, backend, 'ledger');
  try {
    const engine = await LedgerEngine.open(fresh.store);
    await openAccounts(engine, ACCOUNTS, 'acct', hot);
    await openAccounts(engine, 2, 'special', false);
    if (hot) {
      // Fund every source account so most debits pass; some will hit the flag and be refused.
      for (let start = 0; start < ACCOUNTS; start += 1000) {
        await engine.executeAll(Array.from({ length: 1000 }, (_, i) => ({
          type: 'CreateTransfer' as const,
          data: { transferId: `fund${start + i}`, debitAccountId: 'special0', creditAccountId: `acct${start + i}`, amountMinor: 1000n, ledger: 'usd' },
        })));
      }
    }
    const count = ctx.quick ? 20_000 : 200_000;
    let refused = 0;
    let next = 0;
    const row = await measure({ workload: hot ? HOT : RANDOM, backend, baseline: RAW_64, unit: 'ops' }, async ({ latency }) => {
      const budget = new Budget(count, ctx.quick ? 5_000 : 20_000);
      let done = 0;
      await runConcurrently(CALLERS, async () => {
        while (budget.take(1)) {
          const n = next++;
          const debit = `acct${(n * 7919) % ACCOUNTS}`;
          const credit = hot ? 'special1' : `acct${(n * 104_729 + 13) % ACCOUNTS}`;
          const started = performance.now();
          const outcome = await engine.execute({
            type: 'CreateTransfer',
            data: { transferId: `t${n}`, debitAccountId: debit, creditAccountId: debit === credit ? 'special1' : credit, amountMinor: 1n + BigInt(n % 50), ledger: 'usd' },
          });
          latency.record(performance.now() - started);
          if (!outcome.ok) refused += 1;
          done += 1;
        }
      });
      return { count: done, extra: { callers: CALLERS, accounts: ACCOUNTS, refused, flag_violations: countViolations(engine) } };
    });
    ctx.record(row);
  } finally {
    await fresh.dispose();
  }
}

/** Accounts whose balances break their own flags: must be 0. */
function countViolations(engine: LedgerEngine): number {
  let violations = 0;
  for (let i = 0; i < ACCOUNTS; i += 1) {
    const account = engine.state.account(`acct${i}`);
    if (!account) continue;
    const b = account.balances;
    if (account.flags.debitsMustNotExceedCredits && b.debitsPosted + b.debitsPending > b.creditsPosted + account.overdraftLimitMinor) violations += 1;
  }
  return violations;
}

/** Opening a long partition: from its snapshot plus the tail, and by a full replay (the baseline). */
async function openLong(ctx: BenchContext, backend: 'sqlite' | 'postgres'): Promise<void> {
  const fresh = await freshStore(ctx, backend, 'ledger-open');
  try {
    const count = ctx.quick ? 20_000 : 200_000;
    // Snapshots every half of the run: the last one lands near the end, as it would in a long-lived partition.
    const writer = await LedgerEngine.open(fresh.store, { partition: 'long', snapshotEveryEvents: count / 2 });
    await openAccounts(writer, 1000, 'o', false);
    for (let start = 0; start < count; start += 1000) {
      const outcomes = await writer.executeAll(Array.from({ length: 1000 }, (_, i) => ({
        type: 'CreateTransfer' as const,
        data: { transferId: `open${start + i}`, debitAccountId: `o${(start + i) % 1000}`, creditAccountId: `o${(start + i * 7 + 1) % 1000}`, amountMinor: 1n + BigInt(i % 97), ledger: 'usd' },
      })));
      if (!outcomes.every((o) => o.ok || o.rejection.code === 'accounts_must_be_different')) throw new Error('writing the long partition failed');
    }
    await writer.close();
    const total = await fresh.store.streamVersion('ledger-long');
    const open = (workload: string, baseline: string | null, useSnapshots: boolean) => measure({ workload, backend, baseline }, async ({ latency }) => {
      collectGarbage();
      const started = performance.now();
      const engine = await LedgerEngine.open(fresh.store, { partition: 'long', useSnapshots, snapshotEveryEvents: 0, follow: false });
      const openMs = performance.now() - started;
      latency.record(openMs);
      const { snapshotVersion, replayedEvents } = engine.openedFrom;
      await engine.close();
      return {
        count: Number(total),
        extra: { open_ms: Math.round(openMs), stream_events: Number(total), snapshot_version: snapshotVersion === null ? null : Number(snapshotVersion), replayed_events: Number(replayedEvents) },
      };
    });
    ctx.record(await open(OPEN_FULL, null, false));
    ctx.record(await open(OPEN, OPEN_FULL, true));
    await snapshotPauses(ctx, backend, fresh.store);
  } finally {
    await fresh.dispose();
  }
}

/**
 * What saving a snapshot of the long partition costs the event loop: the
 * gaps between 1 ms ticks while it is saved, encoded all at once (the
 * baseline, as snapshots were first written) and a slice at a time (as the
 * engine writes them). p99.9 is the longest pause a request would wait.
 */
async function snapshotPauses(ctx: BenchContext, backend: 'sqlite' | 'postgres', store: EventStore): Promise<void> {
  const engine = await LedgerEngine.open(store, { partition: 'long', snapshotEveryEvents: 0, follow: false });
  const transfers = (engine.state as LedgerMaps).transfers.size;
  const save = (workload: string, baseline: string | null, sliced: boolean) => measure({ workload, backend, baseline, unit: 'ops' }, async ({ latency }) => {
    collectGarbage();
    let last = performance.now();
    let longest = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      latency.record(now - last);
      longest = Math.max(longest, now - last);
      last = now;
    }, 1);
    const state = engine.state as LedgerMaps;
    const snapshot = { streamId: 'bench-snapshot', version: 1n, schemaVersion: 1 };
    if (sliced) await store.saveSnapshot({ ...snapshot, stateJson: await encodeLedgerSnapshotText(copyLedgerState(state), 'bench') });
    else await store.saveSnapshot({ ...snapshot, state: encodeLedgerSnapshot(state, 'bench') });
    await new Promise((resolve) => setTimeout(resolve, 5));
    clearInterval(ticker);
    return { count: transfers, extra: { longest_pause_ms: Math.round(longest), transfers } };
  });
  try {
    ctx.record(await save(SNAPSHOT_AT_ONCE, null, false));
    ctx.record(await save(SNAPSHOT_SLICED, SNAPSHOT_AT_ONCE, true));
  } finally {
    await engine.close();
  }
}

/** Heap used by the engine's state for N accounts with balances, scaled to 1M. */
async function memory(ctx: BenchContext): Promise<void> {
  const fresh = await freshStore(ctx, 'sqlite', 'ledger-memory');
  try {
    const engine = await LedgerEngine.open(fresh.store);
    const accounts = ctx.quick ? 50_000 : 200_000;
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    await openAccounts(engine, accounts, 'm', false);
    collectGarbage();
    const after = process.memoryUsage().heapUsed;
    const perMillionMb = ((after - before) / accounts) * 1_000_000 / (1024 * 1024);
    ctx.record({
      workload: MEMORY, backend: 'sqlite', events_per_s: null, ops_per_s: null, p50_ms: null, p99_ms: null, p999_ms: null,
      peak_rss_mb: Math.round(process.memoryUsage().rss / (1024 * 1024)), baseline: null, ratio: null,
      accounts_measured: accounts, heap_mb_per_1m_accounts: Math.round(perMillionMb),
    });
  } finally {
    await fresh.dispose();
  }
}

async function run(ctx: BenchContext): Promise<void> {
  const sizes = ctx.quick ? QUICK : FULL;
  for (const backend of ctx.backends) {
    const step = (workload: string, fn: () => Promise<void>) =>
      ctx.wants(workload) ? ctx.step(`${backend} ${workload}`, () => { ctx.log(`${backend} ${workload}`); return fn(); }) : Promise.resolve();
    await step(RAW_64, () => rawBaseline(ctx, backend, sizes, 64));
    await step(RANDOM, () => transfers(ctx, backend, false));
    await step(HOT, () => transfers(ctx, backend, true));
    await step(OPEN, () => openLong(ctx, backend));
  }
  if (ctx.wants(MEMORY)) await ctx.step('engine memory', () => memory(ctx));
}

function targets(rows: readonly BenchRow[], ctx: BenchContext): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const goals = { sqlite: { random: 20_000, hot: 10_000 }, postgres: { random: 10_000, hot: 10_000 } } as const;
  for (const backend of ctx.backends) {
    const random = findRow(rows, backend, RANDOM);
    const hot = findRow(rows, backend, HOT);
    if (random) {
      const rate = random.ops_per_s ?? 0;
      const p99Goal = backend === 'sqlite' ? ' p99 ≤ 10 ms' : '';
      const pass = rate >= goals[backend].random && (backend !== 'sqlite' || (random.p99_ms ?? Infinity) <= 10);
      checks.push({ label: `${backend} ${RANDOM} ≥ ${goals[backend].random / 1000}K/s${p99Goal}`, pass, actual: `${rate}/s, p99 ${random.p99_ms} ms` });
    }
    if (hot) {
      const rate = hot.ops_per_s ?? 0;
      const violations = Number(hot.flag_violations ?? -1);
      checks.push({ label: `${backend} ${HOT} ≥ ${goals[backend].hot / 1000}K/s, 0 flag violations`, pass: rate >= goals[backend].hot && violations === 0, actual: `${rate}/s, ${violations} violations, p99 ${hot.p99_ms} ms` });
    }
    // Issue 12: the engine against the same run's raw 64-row insert, on both backends.
    for (const row of [random, hot]) {
      if (!row) continue;
      checks.push({
        label: `${backend} ${row.workload} ≥ 0.4x raw 64-row txn, p99 ≤ 10 ms`,
        pass: (row.ratio ?? 0) >= 0.4 && (row.p99_ms ?? Infinity) <= 10,
        actual: `${row.ratio?.toFixed(2)}x, p99 ${row.p99_ms} ms`,
      });
    }
  }
  for (const backend of ctx.backends) {
    const full = findRow(rows, backend, OPEN_FULL);
    const fromSnapshot = findRow(rows, backend, OPEN);
    if (full && fromSnapshot) {
      checks.push({ label: `${backend} ${OPEN}: snapshot vs full replay`, pass: null, info: true, actual: `${fromSnapshot.open_ms} ms vs ${full.open_ms} ms (${fromSnapshot.replayed_events} events replayed after the snapshot)` });
    }
    const atOnce = findRow(rows, backend, SNAPSHOT_AT_ONCE);
    const sliced = findRow(rows, backend, SNAPSHOT_SLICED);
    if (atOnce && sliced) {
      checks.push({ label: `${backend} snapshot of 200K transfers: longest event-loop pause`, pass: null, info: true, actual: `${sliced.longest_pause_ms} ms sliced vs ${atOnce.longest_pause_ms} ms at once` });
    }
  }
  const memoryRow = findRow(rows, "sqlite", MEMORY);
  if (memoryRow) checks.push({ label: MEMORY, pass: null, info: true, actual: `${memoryRow.heap_mb_per_1m_accounts} MB` });
  return checks;
}

const area: BenchArea = { run, targets };
export default area;
