/**
 * `npm run bench -- verify [--events N] [--backend sqlite|postgres]`: tamper
 * evidence over a store of N events (default 1M; 20K with --quick), per backend.
 * Workloads, each over the whole store:
 * - `verify chains <N>`: `store.verify()`, every hash chain recomputed (baseline).
 * - `seal <N>`: one seal over the whole log (digest over every stored hash,
 *   each event's hash checked on the way, Ed25519 signature, one append).
 * - `verify chains+seals <N>`: what `daybook verify` does: the chains, then the seals.
 * - `seal 10K tail`: the routine cost: sealing 10,000 new events after the first seal.
 * - `export bundle <N>` / `verify bundle <N>`: writing an audit bundle, and verifying it with no database.
 * Rates are events per second of the log covered.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { loadLocalTrustedKeys, openLocalKeyProvider, Sealer, exportBundle, verifyBundle, verifyStoreAudit } from '../../src/audit/index.ts';
import { openEventStore, type EventStore } from '../../src/index.ts';
import { systemClock } from '../../src/kernel/index.ts';
import type { Backend, BenchArea, BenchContext, BenchRow, TargetCheck } from '../support/bench.ts';
import { measure, round } from '../support/measure.ts';
import { findRow } from '../support/results.ts';
import { formatShortRate } from '../support/table.ts';
import { CATEGORY, formatCount, newEvents } from '../eventstore/payload.ts';

const STREAMS = 1000;
const EVENTS_PER_STREAM_WRITE = 10;
const STREAMS_PER_APPEND = 100;
const APPENDS_IN_FLIGHT = 8;
const TAIL = 10_000;

function eventCount(ctx: BenchContext): number {
  const flag = process.argv.indexOf('--events');
  const count = flag === -1 ? (ctx.quick ? 20_000 : 1_000_000) : Number(process.argv[flag + 1]);
  if (!Number.isSafeInteger(count) || count < 1000) throw new Error('--events takes a whole number of at least 1000');
  return count;
}

/** N events over STREAMS streams, 1000 events an append, a few appends in flight so group commit can batch them. */
async function fill(ctx: BenchContext, store: EventStore, count: number): Promise<void> {
  let written = 0;
  let round = 0;
  const appendOne = async (): Promise<void> => {
    while (written < count) {
      const size = Math.min(EVENTS_PER_STREAM_WRITE * STREAMS_PER_APPEND, count - written);
      written += size;
      const first = (round += 1) * STREAMS_PER_APPEND;
      const writes = [];
      for (let offset = 0; offset * EVENTS_PER_STREAM_WRITE < size; offset += 1) {
        writes.push({ streamId: `${CATEGORY}-${(first + offset) % STREAMS}`, expectedVersion: 'any' as const, events: newEvents(Math.min(EVENTS_PER_STREAM_WRITE, size - offset * EVENTS_PER_STREAM_WRITE)) });
      }
      await store.append(writes);
      if (written % 200_000 < size) ctx.log(`  filled ${written.toLocaleString('en-US')} events`);
    }
  };
  await Promise.all(Array.from({ length: APPENDS_IN_FLIGHT }, appendOne));
}

async function runBackend(ctx: BenchContext, backend: Backend, count: number): Promise<void> {
  const dir = await ctx.tempDir(`verify-${backend}`);
  let url = `sqlite:${path.join(dir.path, 'daybook.db')}`;
  let drop = async (): Promise<void> => {};
  if (backend === 'postgres') {
    const database = await ctx.postgres.database();
    url = database.url;
    drop = () => database.drop();
  }
  const store = await openEventStore(url);
  const keysDir = path.join(dir.path, 'keys');
  const keys = openLocalKeyProvider({ dir: keysDir });
  const label = formatCount(count);
  const baseline = `verify chains ${label}`;
  try {
    ctx.log(`${backend}: filling ${count.toLocaleString('en-US')} events`);
    await fill(ctx, store, count);
    const rows: BenchRow[] = [];
    const record = (row: BenchRow): void => { rows.push(row); ctx.record(row); };
    if (ctx.wants(baseline)) {
      record(await measure({ workload: baseline, backend, baseline: null }, async () => {
        const report = await store.verify();
        if (!report.ok) throw new Error(`the filled store does not verify: ${JSON.stringify(report.firstBreak, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
        return { count: report.eventsChecked, extra: { events: count } };
      }));
    }
    record(await measure({ workload: `seal ${label}`, backend, baseline }, async () => {
      const outcome = await new Sealer({ store, keys, clock: systemClock }).sealNow();
      if (!outcome.sealed) throw new Error(`not sealed: ${outcome.reason}`);
      return { count: Number(outcome.seal.eventCount), extra: { events: count } };
    }));
    if (ctx.wants('verify chains+seals')) {
      record(await measure({ workload: `verify chains+seals ${label}`, backend, baseline }, async () => {
        const report = await verifyStoreAudit(store, loadLocalTrustedKeys(keysDir));
        if (!report.ok) throw new Error('the sealed store does not verify');
        return { count: report.eventsChecked, extra: { seals: report.seals.sealsChecked } };
      }));
    }
    if (ctx.wants('seal 10K tail')) {
      await fill(ctx, store, TAIL);
      record(await measure({ workload: 'seal 10K tail', backend, baseline }, async () => {
        const outcome = await new Sealer({ store, keys, clock: systemClock }).sealNow();
        if (!outcome.sealed) throw new Error(`not sealed: ${outcome.reason}`);
        return { count: Number(outcome.seal.eventCount) };
      }));
    }
    if (ctx.wants('bundle')) await bundles(ctx, store, backend, keysDir, path.join(dir.path, 'audit.jsonl'), label, baseline, record);
  } finally {
    await store.close().catch(() => {});
    await drop();
    await dir.remove();
  }
}

async function bundles(ctx: BenchContext, store: EventStore, backend: Backend, keysDir: string, file: string, label: string, baseline: string, record: (row: BenchRow) => void): Promise<void> {
  record(await measure({ workload: `export bundle ${label}`, backend, baseline }, async () => {
    const summary = await exportBundle(store, file, { keys: loadLocalTrustedKeys(keysDir), clock: systemClock });
    return { count: Number(summary.eventCount), extra: { disk_mb: round(statSync(file).size / 1024 / 1024, 1) } };
  }));
  record(await measure({ workload: `verify bundle ${label}`, backend, baseline }, async () => {
    const report = await verifyBundle(file, { keys: loadLocalTrustedKeys(keysDir) });
    if (!report.ok) throw new Error(`the bundle does not verify: ${report.firstBreak?.reason ?? report.seals.firstBreak?.reason}`);
    return { count: report.eventsChecked, extra: { seals: report.seals.sealsChecked } };
  }));
  ctx.log(`  ${backend}: bundle verified`);
}

const area: BenchArea = {
  async run(ctx) {
    const count = eventCount(ctx);
    for (const backend of ctx.backends) await ctx.step(`verify ${backend}`, () => runBackend(ctx, backend, count));
  },
  targets(rows: readonly BenchRow[], ctx: BenchContext): TargetCheck[] {
    const label = formatCount(eventCount(ctx));
    const checks: TargetCheck[] = [];
    for (const backend of ctx.backends) {
      const verify = findRow(rows, backend, `verify chains+seals ${label}`);
      const seal = findRow(rows, backend, 'seal 10K tail');
      checks.push({ label: `${backend}: daybook verify over ${label} events`, pass: null, info: true, actual: verify ? `${formatShortRate(verify.events_per_s)} ev/s, ${verify.seconds as number} s` : 'not measured' });
      checks.push({ label: `${backend}: sealing 10K new events`, pass: null, info: true, actual: seal ? `${round((seal.seconds as number) * 1000, 1)} ms` : 'not measured' });
    }
    return checks;
  },
};

export default area;
