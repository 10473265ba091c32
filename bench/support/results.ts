import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './bench.ts';

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** Fills each row's `ratio`: its rate over the rate of its baseline row (same backend, same run). */
export function fillRatios(rows: readonly BenchRow[]): BenchRow[] {
  const rate = (row: BenchRow): number | null => row.events_per_s ?? (typeof row.ops_per_s === 'number' ? row.ops_per_s : null);
  return rows.map((row) => {
    if (row.baseline === null) return { ...row, ratio: null };
    const baseline = rows.find((other) => other.backend === row.backend && other.workload === row.baseline);
    const mine = rate(row);
    const theirs = baseline ? rate(baseline) : null;
    const ratio = mine !== null && theirs !== null && theirs > 0 ? Math.round((mine / theirs) * 1000) / 1000 : null;
    return { ...row, ratio };
  });
}

/** Writes `bench/results/<area>.json` (a JSON array of rows) and returns its path. */
export async function writeResults(area: string, rows: readonly BenchRow[], dir = RESULTS_DIR): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${area}.json`);
  await writeFile(file, `${JSON.stringify(rows, null, 2)}\n`);
  return file;
}

/** A row by workload and backend, for target checks. */
export function findRow(rows: readonly BenchRow[], backend: string, workload: string): BenchRow | undefined {
  return rows.find((row) => row.backend === backend && row.workload === workload);
}
