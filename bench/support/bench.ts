/**
 * What every benchmark area shares: the row shape of `bench/results/<area>.json`,
 * the context an area runs in, and the target lines it prints. An area is a
 * module whose default export is a `BenchArea`, registered in `bench/run.ts`.
 */
import type { PostgresProvider } from './postgres.ts';

export type Backend = 'sqlite' | 'postgres';
export const BACKENDS: readonly Backend[] = ['sqlite', 'postgres'];
/** A row's backend: a store's, or `memory` for in-process workloads that touch none (compliance). */
export type RowBackend = Backend | 'memory';

/** One result row; the same shape for every area (`ops_per_s` where the unit is not events). */
export interface BenchRow {
  workload: string;
  backend: RowBackend;
  events_per_s: number | null;
  ops_per_s?: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  p999_ms: number | null;
  peak_rss_mb: number | null;
  /** Name of the baseline workload of the same backend, or null for a baseline itself. */
  baseline: string | null;
  /** events_per_s (or ops_per_s) / the baseline's; filled in by the runner. */
  ratio: number | null;
  [extra: string]: unknown;
}

/** One line of the target report: `pass` null means not measured in this run; `info` lines report without a target. */
export interface TargetCheck {
  label: string;
  pass: boolean | null;
  actual: string;
  info?: boolean;
}

export interface TempDir {
  path: string;
  remove(): Promise<void>;
}

export interface BenchContext {
  readonly area: string;
  /** `--quick`: smaller counts and shorter runs, for checking that everything works. */
  readonly quick: boolean;
  /** Backends chosen with `--backend` (both by default), in run order. */
  readonly backends: readonly Backend[];
  /** Fresh PostgreSQL databases, from DAYBOOK_BENCH_DATABASE_URL or a private server started on first use. */
  readonly postgres: PostgresProvider;
  readonly rows: readonly BenchRow[];
  /** False when `--only` excludes this workload. */
  wants(workload: string): boolean;
  /** A fresh folder under the OS temp folder (set TMPDIR to put it on another disk). */
  tempDir(label: string): Promise<TempDir>;
  record(row: BenchRow): void;
  /** Progress, to stderr (stdout carries the table). */
  log(line: string): void;
  /** Runs one step; an error is reported, the run goes on, and the exit code becomes 1. */
  step(label: string, fn: () => Promise<void>): Promise<void>;
}

export interface BenchArea {
  /** Runs every workload of the area, recording rows through `ctx.record`. */
  run(ctx: BenchContext): Promise<void>;
  /** The area's targets, judged on the rows of this run (ratios already filled in). */
  targets?(rows: readonly BenchRow[], ctx: BenchContext): TargetCheck[];
  /** Server settings for the private PostgreSQL server the run starts (not applied to DAYBOOK_BENCH_DATABASE_URL). */
  postgresSettings?: readonly string[];
}
