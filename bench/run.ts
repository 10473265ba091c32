/**
 * Benchmark runner: `npm run bench -- <area> [--quick] [--backend sqlite|postgres] [--only <text>]`.
 * Runs the area's workloads, prints a table and the area's targets, and writes
 * the rows to `bench/results/<area>.json`. Adding an area is one line in AREAS.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BACKENDS, type Backend, type BenchArea, type BenchContext, type BenchRow, type TempDir } from './support/bench.ts';
import { createPostgresProvider } from './support/postgres.ts';
import { fillRatios, writeResults } from './support/results.ts';
import { lifetimeMaxRssMb } from './support/rss.ts';
import { renderTable, renderTargets } from './support/table.ts';

const AREAS: Record<string, () => Promise<{ default: BenchArea }>> = {
  eventstore: () => import('./eventstore/index.ts'),
  ledger: () => import('./ledger/index.ts'),
  api: () => import('./api/index.ts'),
  projections: () => import('./projections/index.ts'),
  ledgerscale: () => import('./ledgerscale/index.ts'),
  payments: () => import('./payments/index.ts'),
  verify: () => import('./verify/index.ts'),
  compliance: () => import('./compliance/index.ts'),
  ops: () => import('./ops/index.ts'),
  erasure: () => import('./erasure/index.ts'),
  growth: () => import('./growth/index.ts'),
};

const USAGE = `usage: npm run bench -- <area> [--quick] [--backend sqlite|postgres] [--only <text>]
  areas: ${Object.keys(AREAS).join(', ')}
  --quick            small counts and short runs (checks that everything works)
  --backend <name>   only this backend (repeatable; default: sqlite and postgres)
  --only <text>      only workloads whose name contains <text> (repeatable)
  --transfers <n>    ledgerscale: the largest history (default 10M; --quick 200K)
  --events <n>       verify: events in the store (default 1M; --quick 20K)
  --events <n>       ops: events in the store backed up and restored (default 1M; --quick 20K)
                     growth: the largest store measured (default 10M; --quick 60K)
  env: DAYBOOK_BENCH_DATABASE_URL (PostgreSQL to use; default: a private server), TMPDIR (SQLite files)`;

function parseCommandLine(argv: string[]): { area: string; quick: boolean; backends: Backend[]; only: string[] } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      backend: { type: 'string', multiple: true },
      only: { type: 'string', multiple: true },
      // ledgerscale: the largest history measured (read by that area).
      transfers: { type: 'string' },
      // verify: the size of the store verified and sealed (read by that area).
      // ops: the store's size (read by that area).
      events: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const [area, ...rest] = positionals;
  if (area === undefined || rest.length > 0) throw new UsageError(area === undefined ? 'which area?' : `unexpected arguments: ${rest.join(' ')}`);
  if (!(area in AREAS)) throw new UsageError(`unknown area ${JSON.stringify(area)}`);
  const backends = (values.backend ?? [...BACKENDS]).map((name) => {
    if (!(BACKENDS as readonly string[]).includes(name)) throw new UsageError(`unknown backend ${JSON.stringify(name)}`);
    return name as Backend;
  });
  return { area, quick: values.quick ?? false, backends: BACKENDS.filter((backend) => backends.includes(backend)), only: values.only ?? [] };
}

class UsageError extends Error {}

async function main(): Promise<number> {
  let options: ReturnType<typeof parseCommandLine>;
  try {
    options = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 64;
  }
  const area = (await AREAS[options.area]!()).default;
  const rows: BenchRow[] = [];
  const failures: string[] = [];
  const tempDirs = new Set<string>();
  const postgres = createPostgresProvider(process.env, area.postgresSettings ?? []);
  const cleanUp = async () => {
    await postgres.close().catch((error: unknown) => console.error(`stopping PostgreSQL: ${(error as Error).message}`));
    await Promise.all([...tempDirs].map((dir) => rm(dir, { recursive: true, force: true })));
  };
  process.once('SIGINT', () => {
    console.error('interrupted: cleaning up');
    void cleanUp().finally(() => process.exit(130));
  });

  const ctx: BenchContext = {
    area: options.area,
    quick: options.quick,
    backends: options.backends,
    postgres,
    rows,
    wants: (workload) => options.only.length === 0 || options.only.some((text) => workload.includes(text)),
    async tempDir(label): Promise<TempDir> {
      const dir = await mkdtemp(path.join(os.tmpdir(), `daybook-bench-${label.replace(/[^a-z0-9]+/gi, '-')}-`));
      tempDirs.add(dir);
      return { path: dir, remove: async () => { tempDirs.delete(dir); await rm(dir, { recursive: true, force: true }); } };
    },
    record(row) {
      rows.push(row);
      const rate = row.events_per_s ?? row.ops_per_s;
      console.error(`  ${row.backend} ${row.workload}: ${rate ?? '-'}${row.events_per_s === null ? '' : ' ev/s'}, p99 ${row.p99_ms ?? '-'} ms`);
    },
    log: (line) => console.error(line),
    async step(label, fn) {
      try {
        await fn();
      } catch (error) {
        const message = `${label}: ${(error as Error).stack ?? String(error)}`;
        failures.push(message);
        console.error(`FAILED ${message}`);
      }
    },
  };

  const started = performance.now();
  console.error(`bench ${options.area}${options.quick ? ' --quick' : ''}: backends ${options.backends.join(', ')}; node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  try {
    await area.run(ctx);
  } catch (error) {
    failures.push(`${options.area}: ${(error as Error).stack ?? String(error)}`);
    console.error(`FAILED ${failures.at(-1)}`);
  } finally {
    await cleanUp();
  }
  const elapsed = (performance.now() - started) / 1000;

  const finalRows = fillRatios(rows).map((row) => ({ ...row, run: options.quick ? 'quick' : 'full' }));
  const file = await writeResults(options.area, finalRows);
  console.log(renderTable(finalRows));
  console.log('');
  const pgDescription = postgres.describe();
  if (pgDescription) console.log(pgDescription);
  const targets = area.targets?.(finalRows, ctx) ?? [];
  if (targets.length > 0) console.log(`\nTargets${options.quick ? ' (--quick run: indicative only)' : ''}:\n${renderTargets(targets)}`);
  console.log(`\n${finalRows.length} rows written to ${path.relative(process.cwd(), file)}; total ${elapsed.toFixed(1)} s; process peak RSS ${lifetimeMaxRssMb().toFixed(0)} MB`);
  if (failures.length > 0) {
    console.log(`${failures.length} step(s) failed:\n${failures.map((failure) => `  ${failure.split('\n')[0]}`).join('\n')}`);
    return 1;
  }
  return 0;
}

// Exit even if a store left a timer or socket open: the results are written by now.
process.exit(await main());
