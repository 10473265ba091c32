/**
 * `npm run bench -- compliance`: fraud scoring and sanctions screening, in
 * process (no store: the backend column says `memory`). Each workload runs
 * twice over the same inputs: a throughput phase (calls in batches, the
 * clock read once per batch) gives ops/s, then a latency phase times every
 * call on its own (performance.now() around it) for p50/p99/p99.9.
 *
 * - `fraud rules-only` (baseline): the rules and verdict without a model.
 * - `fraud model+rules`: the demo XGBoost model (30 trees, depth 4) plus
 *   the rules: features built, scored, verdict made, as a payment would be.
 * - `xgboost predict`: the model alone on prebuilt feature vectors.
 * - `sanctions brute-force 10K` (baseline): one name scored against every
 *   name of a generated 10,000-entry list (~13K names with aliases).
 * - `sanctions screen 10K`: the same through the index (token prefix and
 *   phonetic buckets); `index_build_ms` is the index's one-off cost.
 *
 * Targets: fraud model+rules ≥ 50K scores/s in process with p99 ≤ 5 ms.
 */
import { buildSanctionsScreener, createFraudChecker, demoFraudModel, fraudFeatures, nameSimilarity, normalizeName, predict, rulesOnlyVerdict } from '../../src/compliance/index.ts';
import type { BenchArea, BenchContext, BenchRow, TargetCheck } from '../support/bench.ts';
import { LatencyRecorder } from '../support/latency.ts';
import { round, roundMs } from '../support/measure.ts';
import { findRow } from '../support/results.ts';
import { RssSampler } from '../support/rss.ts';
import { fraudInputs, generatedSanctionsList, screenedNames } from './workloads.ts';

const RULES = 'fraud rules-only';
const MODEL = 'fraud model+rules';
const PREDICT = 'xgboost predict';
const BRUTE = 'sanctions brute-force 10K';
const SCREEN = 'sanctions screen 10K';
const LIST_SIZE = 10_000;
const BATCH = 64;

/** Keeps results alive so the optimiser cannot drop the calls. */
let sink = 0;

function measureCalls(ctx: BenchContext, workload: string, baseline: string | null, inputs: number, call: (i: number) => number, extra: Record<string, unknown> = {}): BenchRow {
  const phaseMs = ctx.quick ? 500 : 5000;
  const rss = new RssSampler();
  rss.start();
  const warmUpStarted = performance.now();
  for (let i = 0; i < inputs && performance.now() - warmUpStarted < phaseMs / 5; i++) sink += call(i);
  let count = 0;
  const started = performance.now();
  let now = started;
  while (now - started < phaseMs) {
    for (let j = 0; j < BATCH; j++) sink += call((count + j) % inputs);
    count += BATCH;
    now = performance.now();
  }
  const seconds = (now - started) / 1000;
  const latency = new LatencyRecorder();
  const latencyStarted = performance.now();
  for (let i = 0; performance.now() - latencyStarted < phaseMs; i++) {
    const before = performance.now();
    sink += call(i % inputs);
    latency.record(performance.now() - before);
  }
  const memory = rss.stop();
  const { p50_ms, p99_ms, p999_ms } = latency.summary();
  return {
    workload, backend: 'memory', events_per_s: null, ops_per_s: Math.round(count / seconds), p50_ms: roundMs(p50_ms), p99_ms: roundMs(p99_ms), p999_ms: roundMs(p999_ms),
    peak_rss_mb: round(memory.peakMb, 1), baseline, ratio: null, count, seconds: round(seconds, 3), latency_samples: latency.count, rss_start_mb: round(memory.startMb, 1),
    latency_unit: 'call', ...extra,
  };
}

async function fraud(ctx: BenchContext): Promise<void> {
  const inputs = fraudInputs(10_000);
  const model = demoFraudModel();
  const checker = createFraudChecker({ model });
  const rank = { allow: 0, review: 1, block: 2 } as const;
  if (ctx.wants(RULES)) await ctx.step(RULES, async () => ctx.record(measureCalls(ctx, RULES, null, inputs.length, (i) => rank[rulesOnlyVerdict(inputs[i]!).decision])));
  if (ctx.wants(MODEL)) await ctx.step(MODEL, async () => ctx.record(measureCalls(ctx, MODEL, RULES, inputs.length, (i) => checker.check(inputs[i]!).score, { trees: model.trees })));
  if (ctx.wants(PREDICT)) {
    await ctx.step(PREDICT, async () => {
      const vectors = inputs.map((input) => fraudFeatures(input));
      ctx.record(measureCalls(ctx, PREDICT, RULES, vectors.length, (i) => predict(model, vectors[i]!), { trees: model.trees }));
    });
  }
}

async function sanctions(ctx: BenchContext): Promise<void> {
  const list = generatedSanctionsList(LIST_SIZE);
  const names = screenedNames(list, 3000);
  const extra = { entries: list.entries.length, names: list.entries.reduce((sum, entry) => sum + 1 + entry.aliases.length, 0) };
  if (ctx.wants(BRUTE)) {
    await ctx.step(BRUTE, async () => {
      const indexed = list.entries.flatMap((entry) => [entry.name, ...entry.aliases.map((alias) => alias.name)].map(normalizeName));
      const brute = (i: number) => {
        const query = normalizeName(names[i]!);
        let hits = 0;
        for (const candidate of indexed) if (nameSimilarity(query, candidate) >= 0.88) hits++;
        return hits;
      };
      ctx.record(measureCalls(ctx, BRUTE, null, names.length, brute, extra));
    });
  }
  if (ctx.wants(SCREEN)) {
    await ctx.step(SCREEN, async () => {
      const built = performance.now();
      const screener = buildSanctionsScreener(list);
      const indexBuildMs = round(performance.now() - built, 1);
      const sample = names.slice(0, 300);
      const hitRate = sample.filter((name) => screener.screen(name).hits.length > 0).length / sample.length;
      ctx.record(measureCalls(ctx, SCREEN, BRUTE, names.length, (i) => screener.screen(names[i]!).hits.length, { ...extra, index_build_ms: indexBuildMs, hit_rate: round(hitRate, 3) }));
    });
  }
}

async function run(ctx: BenchContext): Promise<void> {
  ctx.log(`compliance: in process, ${ctx.quick ? 'quick (0.5 s phases)' : '5 s phases'}`);
  await fraud(ctx);
  await sanctions(ctx);
  if (sink === Number.MIN_SAFE_INTEGER) ctx.log('unreachable');
}

function targets(rows: readonly BenchRow[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const model = findRow(rows, 'memory', MODEL);
  if (model) {
    const rate = model.ops_per_s ?? 0;
    checks.push({ label: `${MODEL} ≥ 50K scores/s, p99 ≤ 5 ms`, pass: rate >= 50_000 && (model.p99_ms ?? Infinity) <= 5, actual: `${rate}/s, p99 ${model.p99_ms} ms` });
  }
  const screen = findRow(rows, 'memory', SCREEN);
  if (screen) {
    checks.push({ label: `${SCREEN}: one name against ${LIST_SIZE} entries`, pass: null, info: true, actual: `p50 ${screen.p50_ms} ms, p99 ${screen.p99_ms} ms, ${screen.ops_per_s}/s, index built in ${screen.index_build_ms} ms` });
  }
  return checks;
}

const area: BenchArea = { run, targets };
export default area;
