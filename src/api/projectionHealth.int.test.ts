/**
 * `/metrics` and `/readyz` of an app whose engine runs projections, on a real
 * SQLite store, over `app.inject()` (wired as `main.ts` wires them): the
 * per-projection gauges and the lag histogram after banking events, a parked
 * dead letter counted (and ready all the same: policy `park`); a projection
 * stopped on a poison event makes `/readyz` 503 with the reason, and skipping
 * or retrying the dead letter (what `daybook dlq skip|retry` call) brings it
 * back to 200; so does a projection lagging more than the allowed seconds,
 * until it catches up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BANKING_PROJECTION_NAME, BankingService } from '../banking/index.ts';
import { counterIds } from '../banking/banking.testkit.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { type Clock, systemClock } from '../kernel/index.ts';
import { builtinProjections, LEDGER_BALANCES_PROJECTION_NAME } from '../projections/builtin/index.ts';
import { streamStatsProjection } from '../projections/conformance/streamStats.projection.ts';
import {
  createProjectionEngine, defineProjection, openReadModelStore, type ProjectionDefinition, type ProjectionEngine, type ReadModelStore,
} from '../projections/index.ts';
import { buildApp } from './buildApp.ts';
import { registerProjectionMetrics } from './projectionMetrics.ts';

const WAIT_MS = 30_000;
const MAX_LAG_SECONDS = 30;

let dir: string;
let url: string;
let store: EventStore;
let readModels: ReadModelStore;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-projection-health-'));
  url = `sqlite:${join(dir, 'daybook.db')}`;
  store = await openEventStore(url, { subscriptionPollMs: 50 });
  readModels = await openReadModelStore(url);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await readModels.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** An engine over `projections` and an app reporting on it, as `startServer` builds them. */
async function appWith(projections: ProjectionDefinition[], options: { clock?: Clock } = {}): Promise<{ app: FastifyInstance; engine: ProjectionEngine }> {
  const engine = createProjectionEngine({ store, readModels, projections, clock: options.clock, maxAttempts: 1, initialBackoffMs: 1, maxBackoffMs: 1, blockedPollMs: 50 });
  cleanups.push(() => engine.stop());
  await engine.start();
  const registry = new Registry();
  cleanups.push(registerProjectionMetrics(engine, registry, { maxLagSeconds: MAX_LAG_SECONDS }));
  const app = await buildApp({ store, registry, projections: { engine, maxLagSeconds: MAX_LAG_SECONDS } });
  cleanups.push(() => app.close());
  return { app, engine };
}

/** Polls `check` until it holds, failing after WAIT_MS with what it was waiting for. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type Readiness = { status: string; projections: Array<{ name: string; ready: boolean; reasons: string[]; state: string; checkpoint: string; deadLetters: { parked: number; blocking: number } }> };

async function readyz(app: FastifyInstance): Promise<{ statusCode: number; body: Readiness }> {
  const response = await app.inject({ method: 'GET', url: '/readyz' });
  return { statusCode: response.statusCode, body: response.json() as Readiness };
}

/** The value of one series in the Prometheus text, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics', () => {
  it('shows each projection\'s checkpoint, distance to the head, lag histogram and dead letters', async () => {
    const { app, engine } = await appWith(builtinProjections(store));
    const bank = await BankingService.open(store, { ids: counterIds() });
    cleanups.push(() => bank.ledger.close());
    await bank.registerCustomer({ customerId: 'cus-1', pii: { fullName: 'Ada Lovelace', email: 'ada@example.com' } });
    await bank.openAccount({ accountId: 'a', customerId: 'cus-1', accountType: 'checking', currency: 'USD', regulatoryTier: 'retail', initialBalanceMinor: 5_000n });
    await bank.deposit({ accountId: 'a', amountMinor: 700n });
    // An event the ledger read model cannot place: parked, and counted.
    await store.append({ streamId: 'ledger-bogus', events: [{ type: 'AccountClosed', data: { accountId: 'nobody', atMs: 0 } }] });
    const head = await store.headPosition();
    await engine.waitForPosition(BANKING_PROJECTION_NAME, head, WAIT_MS);
    await engine.waitForPosition(LEDGER_BALANCES_PROJECTION_NAME, head, WAIT_MS);

    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    const text = response.body;
    for (const name of [BANKING_PROJECTION_NAME, LEDGER_BALANCES_PROJECTION_NAME]) {
      const labels = `{projection="${name}",partition="0"}`;
      expect(sample(text, `daybook_projection_checkpoint_position${labels}`), name).toBe(Number(head));
      expect(sample(text, `daybook_projection_positions_behind${labels}`), name).toBe(0);
      expect(sample(text, `daybook_projection_seconds_behind${labels}`), name).toBe(0);
      expect(sample(text, `daybook_projection_ready${labels}`), name).toBe(1);
      expect(sample(text, `daybook_projection_lag_seconds_count{projection="${name}"}`), name).toBeGreaterThan(0);
    }
    expect(sample(text, `daybook_projection_dead_letters{projection="${LEDGER_BALANCES_PROJECTION_NAME}",status="parked"}`)).toBe(1);
    expect(sample(text, `daybook_projection_dead_letters{projection="${BANKING_PROJECTION_NAME}",status="parked"}`)).toBe(0);
    expect(text).toMatch(/^# TYPE daybook_projection_lag_seconds histogram$/m);

    // Parked is not stopped: still ready, with the letter in the details.
    const ready = await readyz(app);
    expect(ready.statusCode).toBe(200);
    expect(ready.body.projections.find((projection) => projection.name === LEDGER_BALANCES_PROJECTION_NAME)).toMatchObject({ ready: true, state: 'live', deadLetters: { parked: 1, blocking: 0 } });
  });
});

describe('/readyz', () => {
  it('answers 503 while a projection is stopped on a poison event, and 200 again once the letter is skipped or retried', async () => {
    const stats = streamStatsProjection({ name: 'strict_stats', onPoison: 'stop' });
    const { app, engine } = await appWith([stats]);
    await store.append({ streamId: 'acct-1', events: [{ type: 'Opened', data: {} }] });
    await until('ready', async () => (await readyz(app)).statusCode === 200);
    expect((await readyz(app)).body).toMatchObject({ status: 'ready', projections: [{ name: 'strict_stats', ready: true, reasons: [] }] });

    const poison = await store.append({ streamId: 'acct-1', events: [{ type: 'Deposited', data: { poison: true } }] });
    await until('the projection to stop on the poison event', async () => (await readyz(app)).statusCode === 503);
    const stopped = await readyz(app);
    expect(stopped.body).toMatchObject({ status: 'unavailable', projections: [{ name: 'strict_stats', ready: false, state: 'blocked', deadLetters: { blocking: 1 } }] });
    expect(stopped.body.projections[0]!.reasons.join(' ')).toContain(`poison event at position ${poison.position}`);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(sample(metrics, 'daybook_projection_ready{projection="strict_stats",partition="0"}')).toBe(0);
    expect(sample(metrics, 'daybook_projection_dead_letters{projection="strict_stats",status="blocking"}')).toBe(1);

    const [letter] = await engine.listDeadLetters({ projection: 'strict_stats' });
    await engine.skipDeadLetter(letter!.id);
    await until('ready after the skip', async () => (await readyz(app)).statusCode === 200);
    expect((await readyz(app)).body.projections[0]).toMatchObject({ ready: true, state: 'live', deadLetters: { blocking: 0 } });

    // Stopped again on another poison event; this time the handler is "fixed" and the letter retried.
    const second = await store.append({ streamId: 'acct-2', events: [{ type: 'Opened', data: { poison: true } }] });
    await until('the projection to stop on the second poison event', async () => (await readyz(app)).statusCode === 503);
    stats.poison = () => false;
    const [blocking] = await engine.listDeadLetters({ projection: 'strict_stats' });
    expect(blocking!.position).toBe(second.position);
    await engine.retryDeadLetter(blocking!.id);
    await until('ready after the retry', async () => (await readyz(app)).statusCode === 200);
    await engine.waitForPosition('strict_stats', second.position, WAIT_MS);
    const rows = await engine.query('strict_stats', (q) => q.query<{ stream_id: string }>(`SELECT stream_id FROM ${q.table('strict_stats')} ORDER BY stream_id`));
    expect(rows.map((row) => row.stream_id)).toEqual(['acct-1', 'acct-2']);
  });

  it('answers 503, naming the failure, when the projections\' state cannot be read', async () => {
    const { app } = await appWith([streamStatsProjection({ name: 'any_stats' })]);
    await until('ready', async () => (await readyz(app)).statusCode === 200);
    await readModels.close(); // the dead-letter counts can no longer be read
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ status: 'unavailable', store: { backend: 'sqlite' }, projectionsError: { code: expect.any(String) } });
    readModels = await openReadModelStore(url);
  });

  it('answers 503 while a projection lags more than the allowed seconds, and 200 once it has caught up', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const slow = defineProjection({
      name: 'slow_projection', version: 1, tables: ['slow_rows'], handles: {},
      async migrate(tx) { await tx.execute(`CREATE TABLE ${tx.table('slow_rows')} (position bigint PRIMARY KEY)`); },
      async handle(events, tx) {
        await gate;
        for (const event of events) await tx.execute(`INSERT INTO ${tx.table('slow_rows')} (position) VALUES ($1)`, [event.position]);
      },
    });
    // The engine's clock runs two minutes ahead: an event it has not applied looks 120 s old.
    const { app, engine } = await appWith([slow], { clock: { nowMs: () => systemClock.nowMs() + 120_000 } });
    const appended = await store.append({ streamId: 'acct-1', events: [{ type: 'Opened', data: {} }] });
    await until('the lag to show', async () => (await readyz(app)).statusCode === 503);
    const lagging = await readyz(app);
    expect(lagging.body.projections[0]!.reasons.join(' ')).toMatch(/s behind the head \(more than 30 s\)/);
    release();
    await engine.waitForPosition('slow_projection', appended.position, WAIT_MS);
    await until('ready after catching up', async () => (await readyz(app)).statusCode === 200);
    expect((await readyz(app)).body.projections[0]).toMatchObject({ ready: true, checkpoint: appended.position.toString() });
  });
});
