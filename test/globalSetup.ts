/**
 * Vitest global setup: finds (or starts) the run's one PostgreSQL and hands it
 * to the test files, which read it through test/support/postgres.ts. At the end
 * it stops the server and repeats, loudly, a fallback from the private server
 * and which PostgreSQL suites were skipped and why, so neither can hide in the
 * scrollback. Under `CI=true` a private server that is missing or does not
 * start fails the run here, with the reason (findTestPostgres.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { findTestPostgres } from './support/findTestPostgres.ts';
import type { ProvidedTestPostgres } from './support/postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    daybookPostgres: ProvidedTestPostgres;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const postgres = await findTestPostgres();
  const skipLogPath = path.join(os.tmpdir(), `daybook-skipped-${process.pid}-${randomBytes(4).toString('hex')}.log`);
  const { kind, url, reason } = postgres;
  project.provide('daybookPostgres', { kind, url, reason, skipLogPath });
  process.stderr.write(`PostgreSQL for tests: ${kind} (${reason})\n`);
  return async () => {
    await postgres.stop();
    // A fallback from the private server is said again at the end, where it cannot hide in the scrollback.
    if (postgres.warning) process.stderr.write(`\n${postgres.warning}\n`);
    reportSkips(skipLogPath);
  };
}

function reportSkips(skipLogPath: string): void {
  let lines: string[];
  try {
    lines = readFileSync(skipLogPath, 'utf8').split('\n').filter(Boolean);
  } catch {
    return; // No file: nothing was skipped.
  }
  rmSync(skipLogPath, { force: true });
  const skips = lines.map((line) => JSON.parse(line) as { name: string; reason: string });
  const reasons = [...new Set(skips.map((skip) => skip.reason))];
  process.stderr.write(`\n!! ${skips.length} PostgreSQL test suite(s) SKIPPED: ${reasons.join('; ')}\n`);
  for (const { name } of skips) process.stderr.write(`!!   skipped: ${name}\n`);
}
