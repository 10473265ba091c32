/**
 * Two API processes on one PostgreSQL store (each with its own services and
 * app, as two `npm start` would have): a key made on one works on the other;
 * money moved through one is seen by the other's writes; the same
 * Idempotency-Key sent to both at once moves the money once.
 */
import type { FastifyInstance } from 'fastify';
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
});
