/**
 * A store that stops answering, for real: a PostgreSQL store whose database
 * is dropped under the running app. `/readyz` and the `store_unavailable`
 * answer of a write say so in generic words, and never carry the database's
 * own error text (database names, hosts, ports); that text is logged, for
 * the operator, under the request's id.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeIfConcurrentPostgres, type TestDatabase } from '../../test/support/postgres.ts';
import { createLogger } from '../edge/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { type ApiServices, openApiServices } from './apiServices.ts';
import { TEST_PEPPER } from './apiTestkit.ts';
import { buildApp } from './buildApp.ts';

describeIfConcurrentPostgres('a PostgreSQL store that stops answering', () => {
  let db: TestDatabase;
  let store: EventStore;
  let services: ApiServices;
  let app: FastifyInstance;
  let secret: string;
  let databaseName: string;
  let logs = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    databaseName = new URL(db.url).pathname.slice(1);
    store = await openEventStore(db.url);
    services = await openApiServices(store, { dataDir: '/nonexistent', pepper: TEST_PEPPER, rateLimit: { perSecond: 0, burst: 0 } });
    secret = (await services.keys.create({ role: 'operator', mode: 'test', createdBy: 'test' })).secret;
    const destination = new Writable({ write: (chunk, _encoding, done) => { logs += String(chunk); done(); } });
    app = await buildApp({ store, logger: createLogger({ level: 'info', destination }), security: services.security, plugins: services.plugins });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    // The database goes away under the app: its connections are ended, then it is dropped.
    await db.drop();
  });

  afterAll(async () => {
    await app?.close();
    await services?.close().catch(() => {});
    await store?.close().catch(() => {});
  });

  it('answers /readyz 503 with a generic reason, and logs the raw error', async () => {
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'unavailable', store: { backend: 'postgres', error: { code: 'store_unavailable', message: 'the store does not answer' } } });
    expect(response.body).not.toContain(databaseName);
    expect(logs).toContain(databaseName);
  });

  it('answers a write 503 store_unavailable with a generic message, and logs the raw error under the request id', async () => {
    const response = await app.inject({
      method: 'POST', url: '/v1/accounts', payload: { id: 'gone-1', currency: 'USD' }, headers: { authorization: `Bearer ${secret}` },
    });
    expect(response.statusCode).toBe(503);
    expect(response.json().error).toEqual({ type: 'api_error', code: 'store_unavailable', message: 'The store does not answer. Try again later; a write retried with the same Idempotency-Key takes effect at most once.' });
    expect(response.body).not.toContain(databaseName);
    const requestId = response.headers['x-request-id'];
    const logged = logs.split('\n').filter((line) => line.includes('"request failed"') && line.includes(String(requestId)));
    expect(logged.join('\n')).toContain(databaseName);
  });
});
