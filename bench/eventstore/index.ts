/**
 * `npm run bench -- eventstore`: raw baselines and Daybook side by side on
 * SQLite and PostgreSQL, each workload on a fresh store (temp folder or new
 * database), and the targets of issue 4 judged on the rows of the run.
 */
import type { BenchArea, BenchContext, BenchRow, TargetCheck } from '../support/bench.ts';
import { findRow } from '../support/results.ts';
import { formatMs, formatShortRate } from '../support/table.ts';
import { APPEND_SHAPES, appendWorkload, appendWorkloadName } from './append.ts';
import { MIX, mixWorkload } from './mix.ts';
import { RAW_64, rawBaseline, rawWorkloadName } from './raw.ts';
import { READ_STREAM, readAllName, readAllWorkloads, readStreamWorkloads } from './reads.ts';
import { recoveryName, recoveryWorkload } from './recovery.ts';
import { FULL, QUICK, type Sizes } from './sizes.ts';

async function run(ctx: BenchContext): Promise<void> {
  const sizes = ctx.quick ? QUICK : FULL;
  for (const backend of ctx.backends) {
    const step = (workload: string, fn: () => Promise<void>) =>
      ctx.wants(workload) ? ctx.step(`${backend} ${workload}`, () => { ctx.log(`${backend} ${workload}`); return fn(); }) : Promise.resolve();
    for (const rows of [1, 64, 1000]) await step(rawWorkloadName(rows), () => rawBaseline(ctx, backend, sizes, rows));
    for (const shape of APPEND_SHAPES) await step(appendWorkloadName(shape), () => appendWorkload(ctx, backend, sizes, shape));
    await step(MIX, () => mixWorkload(ctx, backend, sizes));
    await step('read stream', () => readStreamWorkloads(ctx, backend, sizes));
    await step('read all / recovery', () => readAllWorkloads(ctx, backend, sizes, async (url) => {
      if (ctx.wants(recoveryName(sizes.logEvents))) await recoveryWorkload(ctx, backend, sizes, url);
    }));
  }
}

/** Growth of RSS over a whole-log read that still counts as flat. */
const FLAT_RSS_GROWTH_MB = 64;

function targets(rows: readonly BenchRow[], ctx: BenchContext): TargetCheck[] {
  const sizes: Sizes = ctx.quick ? QUICK : FULL;
  const checks: TargetCheck[] = [];
  const floors = { sqlite: 50_000, postgres: 20_000 } as const;
  for (const backend of ctx.backends) {
    for (const streams of ['new', 'existing'] as const) {
      const workload = appendWorkloadName({ concurrency: 64, eventsPerAppend: 1, streams });
      const row = findRow(rows, backend, workload);
      const floor = floors[backend];
      checks.push({
        label: `${backend} ${workload} ≥ 0.5x ${RAW_64} and ≥ ${formatShortRate(floor)} ev/s, p99 ≤ 10 ms`,
        pass: row ? (row.ratio ?? 0) >= 0.5 && (row.events_per_s ?? 0) >= floor && (row.p99_ms ?? Infinity) <= 10 : null,
        actual: row ? `${row.ratio?.toFixed(2) ?? '?'}x, ${formatShortRate(row.events_per_s)}, p99 ${formatMs(row.p99_ms)} ms` : 'no row',
      });
    }
    const stream = findRow(rows, backend, READ_STREAM);
    checks.push({
      label: `${backend} ${READ_STREAM} ≥ 0.8x raw keyset read stream`,
      pass: stream ? (stream.ratio ?? 0) >= 0.8 : null,
      actual: stream ? `${stream.ratio?.toFixed(2) ?? '?'}x, ${formatShortRate(stream.events_per_s)} ev/s` : 'no row',
    });
    const all = findRow(rows, backend, readAllName(sizes.logEvents));
    const growth = all?.rss_growth_mb as number | null | undefined;
    checks.push({
      label: `${backend} ${readAllName(sizes.logEvents)} ≥ 0.8x raw keyset read all, RSS flat (growth ≤ ${FLAT_RSS_GROWTH_MB} MB)`,
      pass: all ? (all.ratio ?? 0) >= 0.8 && typeof growth === 'number' && growth <= FLAT_RSS_GROWTH_MB : null,
      actual: all ? `${all.ratio?.toFixed(2) ?? '?'}x, ${formatShortRate(all.events_per_s)} ev/s, RSS ${all.peak_rss_mb} MB peak, +${growth} MB` : 'no row',
    });
  }
  for (const backend of ctx.backends) {
    const recovery = findRow(rows, backend, recoveryName(sizes.logEvents));
    if (!recovery) continue;
    checks.push({
      label: `${backend} ${recovery.workload}, spawn to first accepted append`,
      pass: null,
      info: true,
      actual: `${formatMs(recovery.recovery_ms as number)} ms median of ${recovery.runs}, of which Node + tsx start-up ${formatMs(recovery.child_boot_ms as number)} ms, import + open ${formatMs(recovery.child_open_ms as number)} ms`,
    });
  }
  return checks;
}

const area: BenchArea = { run, targets };
export default area;
