/**
 * Two API processes on one PostgreSQL store (each with its own services and
 * app, as two `npm start` would have): a key made on one works on the other;
 * money moved through one is seen by the other's writes; the same
 * Idempotency-Key sent to both at once moves the money once, and sent with
 * two different requests racing, answers one and refuses the other.
 */
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeIfConcurrentPostgres, type TestDatabase } from '../../test/support/postgres.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { type ApiServices, openApiServices } from './apiServices.ts';
import { TEST_PEPPER } from './apiTestkit.ts';
import { buildApp } from './buildApp.ts';

interface Process { store: EventStore; services: ApiServices; app: FastifyInstance }

describeIfConcurrentPostgres('two API processes on one PostgreSQL store', () => {
  let db: TestDatabase;
  const processes: Process[] = [];
  let secret: string;

  async function startProcess(): Promise<Process> {
    const store = await openEventStore(db.url);
    const services = await openApiServices(store, { dataDir: '/nonexistent', pepper: TEST_PEPPER, rateLimit: { perSecond: 0, burst: 0 } });
    const app = await buildApp({ store, security: services.security, plugins: services.plugins });
    const started = { store, services, app };
    processes.push(started);
    return started;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    const a = await startProcess();
    await startProcess();
    secret = (await a.services.keys.create({ role: 'operator', mode: 'test', createdBy: 'test' })).secret;
  });

  afterAll(async () => {
    for (const { app, services, store } of processes) {
      await app.close();
      await services.close();
      await store.close();
    }
    await db?.drop();
  });

  const call = (process: Process, method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = {}) =>
    process.app.inject({ method, url, payload, headers: { authorization: `Bearer ${secret}`, ...headers } });

  it('shares keys, accounts and idempotency records', async () => {
    const [a, b] = processes as [Process, Process];
    const deadline = Date.now() + 10_000;
    while (b.services.keys.authenticate(secret) === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await call(b, 'GET', '/v1/accounts')).statusCode).toBe(200);

    for (const id of ['pg-src', 'pg-dst']) expect((await call(a, 'POST', '/v1/accounts', { id, currency: 'USD' })).statusCode).toBe(200);
    // b has not seen a's accounts yet; its engine catches up when its append meets a's newer version.
    const viaB = await call(b, 'POST', '/v1/transfers', { id: 'pg-t1', debit_account_id: 'pg-src', credit_account_id: 'pg-dst', amount: '5', ledger: 'USD' });
    expect(viaB.statusCode).toBe(200);
    expect(viaB.json()).toMatchObject({ status: 'posted', amount: '5' });

    const body = { debit_account_id: 'pg-src', credit_account_id: 'pg-dst', amount: '7', ledger: 'USD' };
    const answers = await Promise.all([a, b, a, b].map((process) => call(process, 'POST', '/v1/transfers', body, { 'idempotency-key': 'pg-once' })));
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200]);
    expect(new Set(answers.map((answer) => answer.json().id)).size).toBe(1);
    const posted = (await a.store.readStream('ledger-test', { limit: 1000 })).filter((event) => event.type === 'TransferPosted');
    expect(posted.filter((event) => (event.data as { transferId: string }).transferId === answers[0]!.json().id)).toHaveLength(1);
  });

  /**
   * Holds every append (the head row's lock, which each append takes first)
   * until `waiting` appends queue behind it, so that requests sent meanwhile
   * have all looked for their key's record before any of them records.
   */
  async function withAppendsHeld<T>(waiting: number, send: () => Promise<T>): Promise<T> {
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT position FROM daybook.head WHERE id = 1 FOR UPDATE');
      const sent = send();
      const deadline = Date.now() + 10_000;
      for (;;) {
        const { rows } = await blocker.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%append_batch%'");
        if (rows[0]!.n >= waiting || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await blocker.query('ROLLBACK');
      return await sent;
    } finally {
      await blocker.end();
    }
  }

  it('answers the loser of a race for one Idempotency-Key with idempotency_error when its request differs (never two successes)', async () => {
    const [a, b] = processes as [Process, Process];
    const routes = [
      // Recorded after the handler (onSend).
      { url: '/v1/customers', bodies: [{ id: 'race-cus-a', full_name: 'A', email: 'a@example.com' }, { id: 'race-cus-b', full_name: 'B', email: 'b@example.com' }] },
      // Recorded after the ledger's append (executeLedger, then onSend).
      { url: '/v1/accounts', bodies: [{ id: 'race-acc-a', currency: 'USD' }, { id: 'race-acc-b', currency: 'USD' }] },
      // Recorded in the ledger's own append (executeAndAnswer).
      { url: '/v1/transfers', bodies: ['race-tr-a', 'race-tr-b'].map((id) => ({ id, debit_account_id: 'pg-src', credit_account_id: 'pg-dst', amount: '3', ledger: 'USD' })) },
    ];
    for (const { url, bodies } of routes) {
      const headers = { 'idempotency-key': `race-${url}` };
      const answers = await withAppendsHeld(2, () => Promise.all([call(a, 'POST', url, bodies[0], headers), call(b, 'POST', url, bodies[1], headers)]));
      const statuses = answers.map((answer) => answer.statusCode).sort();
      expect(statuses, `${url}: ${answers.map((answer) => answer.body).join(' | ')}`).toEqual([200, 400]);
      const refused = answers.find((answer) => answer.statusCode === 400)!;
      expect(refused.json().error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_reused' });
      // Every later try of the key, on either process, answers like the winner or refuses the loser's request.
      const winner = answers.indexOf(answers.find((answer) => answer.statusCode === 200)!);
      if (url === '/v1/transfers') {
        // The record commits with the effect: the loser's append was refused whole, so its transfer never happened.
        expect((await call(a, 'GET', `/v1/transfers/${bodies[1 - winner]!.id}`)).statusCode).toBe(404);
        expect((await call(b, 'GET', `/v1/transfers/${bodies[winner]!.id}`)).statusCode).toBe(200);
        // Its fraud verdict went with it (attached to the same append): a verdict never stands without its transfer.
        expect((await a.store.readStream(`fraudcheck-ledger.test.${bodies[1 - winner]!.id}`)).length).toBe(0);
        expect((await a.store.readStream(`fraudcheck-ledger.test.${bodies[winner]!.id}`)).length).toBe(1);
      }
      for (const process of [a, b]) {
        const again = await call(process, 'POST', url, bodies[winner], headers);
        expect(again.headers['idempotent-replayed']).toBe('true');
        expect(again.json().id).toBe(answers[winner]!.json().id);
        expect((await call(process, 'POST', url, bodies[1 - winner], headers)).json().error.code).toBe('idempotency_key_reused');
      }
    }
  });
});
