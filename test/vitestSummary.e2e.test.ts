/**
 * Covers `.ci/vitest-summary.mjs`, the closing line CI reads: it counts
 * passed, failed and skipped tests from vitest's JSON report; it fails on a
 * failed test, on a run that failed outside any test, and, under CI=true, on
 * a skipped one (outside CI a skip is counted and shown, not failed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../.ci/vitest-summary.mjs', import.meta.url));
let dir: string;

beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'daybook-summary-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

/** Runs the script on a report with these counts (the fields of vitest's JSON reporter it reads). */
function summarize(counts: { passed: number; failed: number; pending: number; todo?: number; success: boolean }, ci: boolean): { status: number | null; lines: string[] } {
  const path = join(dir, `results-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(path, JSON.stringify({
    numPassedTests: counts.passed, numFailedTests: counts.failed, numPendingTests: counts.pending, numTodoTests: counts.todo ?? 0, success: counts.success,
  }));
  const env = { ...process.env, CI: ci ? 'true' : '' };
  const result = spawnSync(process.execPath, [SCRIPT, path], { encoding: 'utf8', env });
  return { status: result.status, lines: result.stdout.trim().split('\n') };
}

describe('.ci/vitest-summary.mjs', () => {
  it('passes a clean run, the line last', () => {
    expect(summarize({ passed: 12, failed: 0, pending: 0, success: true }, true)).toEqual({ status: 0, lines: ['12 passed, 0 failed'] });
  });

  it('fails on a failed test', () => {
    expect(summarize({ passed: 11, failed: 1, pending: 0, success: false }, false)).toEqual({ status: 1, lines: ['11 passed, 1 failed'] });
  });

  it('fails a run that failed outside any test', () => {
    const { status, lines } = summarize({ passed: 12, failed: 0, pending: 0, success: false }, false);
    expect(status).toBe(1);
    expect(lines.at(-1)).toBe('12 passed, 1 failed');
  });

  it('outside CI counts skipped and todo tests without failing', () => {
    expect(summarize({ passed: 10, failed: 0, pending: 2, todo: 1, success: true }, false)).toEqual({ status: 0, lines: ['10 passed, 0 failed, 3 skipped'] });
  });

  it('under CI=true fails on a skipped test, saying why', () => {
    const { status, lines } = summarize({ passed: 10, failed: 0, pending: 2, success: true }, true);
    expect(status).toBe(1);
    expect(lines[0]).toContain('skipped under CI=true');
    expect(lines.at(-1)).toBe('10 passed, 2 failed, 2 skipped');
  });
});
