/**
 * Crash safety (issue 4 §3): a child appends with 64 concurrent appenders and
 * reports each acknowledged append; it is SIGKILLed at a random moment, the
 * store is reopened, and every acknowledged event must be there exactly once
 * with contiguous versions and positions and a passing verify. Five kill
 * points per backend; on PostgreSQL the database server itself is also killed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase, describeIfConcurrentPostgres, describeIfPostgresBinaries, startPostgresServer, type PostgresServer, type TestDatabase,
} from '../support/postgres.ts';
import { assertSurvived, randomKillPoint, startAppender, type Ack } from './crashHarness.ts';

const KILL_POINTS = 5;

describe('crash safety: sqlite', () => {
  const folder = mkdtempSync(join(tmpdir(), 'daybook-crash-'));
  const url = `sqlite:${join(folder, 'daybook.db')}`;
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  const acks: Ack[] = [];

  for (let round = 1; round <= KILL_POINTS; round += 1) {
    it(`kill -9 of the writer process at a random point (${round} of ${KILL_POINTS}) loses no acknowledged append`, async () => {
      const run = await startAppender(url, `r${round}`);
      await run.waitForAcks(randomKillPoint(50, 3000));
      await run.kill();
      acks.push(...run.acks);
      const { head } = await assertSurvived(url, acks);
      expect(head).toBeGreaterThanOrEqual(BigInt(acks.length));
    });
  }
});

describeIfConcurrentPostgres('crash safety: postgres client process', () => {
  let database: TestDatabase;
  const acks: Ack[] = [];
  afterAll(async () => { await database?.drop(); });

  for (let round = 1; round <= KILL_POINTS; round += 1) {
    it(`kill -9 of an appending process at a random point (${round} of ${KILL_POINTS}) loses no acknowledged append`, async () => {
      database ??= await createTestDatabase();
      const run = await startAppender(database.url, `r${round}`);
      await run.waitForAcks(randomKillPoint(50, 3000));
      await run.kill();
      acks.push(...run.acks);
      await assertSurvived(database.url, acks);
    });
  }
});

describeIfPostgresBinaries('crash safety: postgres server', () => {
  let server: PostgresServer;
  const acks: Ack[] = [];
  afterAll(async () => { await server?.stop(); });

  for (let round = 1; round <= 2; round += 1) {
    it(`SIGKILL of the postmaster mid-load (${round} of 2), then restart: every acknowledged append is there`, async () => {
      server ??= await startPostgresServer();
      const run = await startAppender(server.url, `pm${round}`);
      await run.waitForAcks(randomKillPoint(200, 2000));
      server.kill('SIGKILL');
      // Appends in flight now fail; only what was acknowledged before the kill must survive.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await run.kill();
      acks.push(...run.acks);
      await server.restart();
      await assertSurvived(server.url, acks);
    });
  }
});
