/**
 * The HTTP shell on a real SQLite store, through `app.inject()`: probes,
 * Prometheus metrics fed by real appends, request and correlation ids, and the
 * Stripe-shaped answer to every kind of failure (bad input is never a 5xx and
 * never shows a stack trace).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../edge/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { DaybookError, REQUEST_BODY_BYTES_MAX } from '../kernel/index.ts';
import { buildApp } from './buildApp.ts';

/** Routes that exist only in this test, registered the way later route modules are. */
const testRoutes: FastifyPluginAsync = async (app) => {
  app.post('/test/echo', {
    schema: { body: { type: 'object', required: ['amount'], properties: { amount: { type: 'integer' } } } },
  }, async (request) => ({ received: request.body }));
  app.get('/test/conflict', async () => {
    throw new DaybookError('stream_version_conflict', 'stream account-1: expected version 1, actual 2', {}, 'expected_version');
  });
  app.get('/test/bug', async () => {
    throw new Error('secret internals: SELECT * FROM events');
  });
};

let dir: string;
let store: EventStore;
let app: FastifyInstance;
let logLines: Array<Record<string, unknown>>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-api-'));
  store = await openEventStore(`sqlite:${join(dir, 'daybook.db')}`);
  logLines = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  app = await buildApp({ store, logger: createLogger({ level: 'info', destination }), plugins: [testRoutes] });
});

afterEach(async () => {
  await app.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('probes', () => {
  it('answers /healthz with ok', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with the head position when the store answers', async () => {
    await store.append({ streamId: 'account-1', events: [{ type: 'AccountOpened', data: { currency: 'USD' } }] });
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', store: { backend: 'sqlite', headPosition: '1' } });
  });

  it('answers /readyz with 503 and the reason when the store does not answer', async () => {
    await store.close();
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ status: 'unavailable', store: { backend: 'sqlite', error: { code: 'store_closed' } } });
  });
});

describe('/metrics', () => {
  it('exposes event-store metrics fed by appends, the head position and request durations', async () => {
    await store.append({ streamId: 'account-1', events: [{ type: 'AccountOpened', data: {} }, { type: 'Deposited', data: {} }] });
    await app.inject({ method: 'GET', url: '/healthz' });
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.body;
    expect(text).toMatch(/^daybook_eventstore_appended_events_total 2$/m);
    expect(text).toMatch(/^daybook_eventstore_append_batch_duration_seconds_count 1$/m);
    expect(text).toMatch(/^daybook_eventstore_append_batch_events_sum 2$/m);
    expect(text).toMatch(/^daybook_eventstore_head_position 2$/m);
    expect(text).toMatch(/^daybook_http_request_duration_seconds_count\{route="\/healthz",method="GET",status="200"\} 1$/m);
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('labels unknown routes as unmatched, so random paths cannot grow the label set', async () => {
    await app.inject({ method: 'GET', url: '/no/such/path/12345' });
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/daybook_http_request_duration_seconds_count\{route="unmatched",method="GET",status="404"\} 1/);
    expect(text).not.toContain('12345');
  });
});

describe('request and correlation ids', () => {
  it('echoes a caller-supplied X-Correlation-Id and X-Request-Id, and logs them', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-correlation-id': 'corr-42', 'x-request-id': 'req-7' } });
    expect(response.headers['x-correlation-id']).toBe('corr-42');
    expect(response.headers['x-request-id']).toBe('req-7');
  });

  it('generates both when absent, and on error answers too', async () => {
    const response = await app.inject({ method: 'GET', url: '/nope' });
    expect(response.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers['x-request-id']).not.toBe(response.headers['x-correlation-id']);
  });

  it('replaces a malformed caller id instead of echoing it into headers and logs', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-correlation-id': 'bad id with spaces' } });
    expect(response.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('puts both ids on every log line of the request and never logs the authorization header', async () => {
    await app.inject({ method: 'POST', url: '/test/echo', payload: { amount: 1 }, headers: { 'x-correlation-id': 'corr-log', authorization: 'Bearer sk_test_secret' } });
    const lines = logLines.filter((line) => line.correlationId === 'corr-log');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line.requestId).toEqual(expect.any(String));
    expect(JSON.stringify(logLines)).not.toContain('sk_test_secret');
  });
});

describe('errors are Stripe-shaped', () => {
  it('answers an unknown route with 404 invalid_request_error', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/nothing?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: { type: 'invalid_request_error', code: 'not_found', message: 'Unrecognized request URL (GET: /v1/nothing).' } });
  });

  it('answers bad JSON with 400 invalid_request_error', async () => {
    const response = await app.inject({ method: 'POST', url: '/test/echo', payload: '{"amount": ', headers: { 'content-type': 'application/json' } });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'validation_failed', message: expect.any(String) } });
  });

  it('answers an empty JSON body with 400', async () => {
    const response = await app.inject({ method: 'POST', url: '/test/echo', payload: '', headers: { 'content-type': 'application/json' } });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.type).toBe('invalid_request_error');
  });

  it('answers a schema violation with 400 naming the parameter', async () => {
    const wrongType = await app.inject({ method: 'POST', url: '/test/echo', payload: { amount: 'ten' } });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'validation_failed', param: 'amount' } });
    const missing = await app.inject({ method: 'POST', url: '/test/echo', payload: {} });
    expect(missing.json()).toMatchObject({ error: { code: 'validation_failed', param: 'amount' } });
  });

  it('answers a body past REQUEST_BODY_BYTES_MAX with 413 limit_exceeded, and one at the bound is read', async () => {
    const padding = (bytes: number): string => JSON.stringify({ amount: 1, pad: 'x'.repeat(bytes - '{"amount":1,"pad":""}'.length) });
    const atBound = await app.inject({ method: 'POST', url: '/test/echo', payload: padding(REQUEST_BODY_BYTES_MAX), headers: { 'content-type': 'application/json' } });
    expect(atBound.statusCode).toBe(200);
    const past = await app.inject({ method: 'POST', url: '/test/echo', payload: padding(REQUEST_BODY_BYTES_MAX + 1), headers: { 'content-type': 'application/json' } });
    expect(past.statusCode).toBe(413);
    expect(past.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'limit_exceeded' } });
  });

  it('takes a POST without a body as {} (with or without Content-Type: application/json), but not a JSON null or a body without a type', async () => {
    // The echo route requires `amount`: an empty body is an object without it, named as missing.
    for (const headers of [{}, { 'content-type': 'application/json' }]) {
      const empty = await app.inject({ method: 'POST', url: '/test/echo', payload: '', headers });
      expect(empty.statusCode).toBe(400);
      expect(empty.json().error).toMatchObject({ code: 'validation_failed', param: 'amount' });
    }
    const explicitNull = await app.inject({ method: 'POST', url: '/test/echo', payload: 'null', headers: { 'content-type': 'application/json' } });
    expect(explicitNull.statusCode).toBe(400);
    expect(explicitNull.json().error.param).toBeUndefined();
    const poisoned = await app.inject({ method: 'POST', url: '/test/echo', payload: '{"amount":1,"__proto__":{"admin":true}}', headers: { 'content-type': 'application/json' } });
    expect(poisoned.statusCode).toBe(400);
    const fine = await app.inject({ method: 'POST', url: '/test/echo', payload: '{"amount":1}', headers: { 'content-type': 'application/json' } });
    expect(fine.json()).toEqual({ received: { amount: 1 } });
  });

  it('answers an unsupported media type with 415', async () => {
    const response = await app.inject({ method: 'POST', url: '/test/echo', payload: '<amount/>', headers: { 'content-type': 'application/xml' } });
    expect(response.statusCode).toBe(415);
    expect(response.json().error).toMatchObject({ type: 'invalid_request_error', code: 'validation_failed', message: expect.stringContaining('Content-Type: application/json') });
  });

  it('answers a malformed URL with 400, not 500', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz/%E0%A4%A', headers: { 'x-correlation-id': 'corr-url' } });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.type).toBe('invalid_request_error');
    expect(response.headers['x-correlation-id']).toBe('corr-url');
  });

  it('answers what the HTTP parser refuses (headers past the bound, a garbled request line) Stripe-shaped too (found by fuzz.int.test.ts)', async () => {
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = new URL(address);
    const raw = (request: string) => new Promise<string>((resolve, reject) => {
      const socket = connect({ port: Number(port), host: '127.0.0.1' }, () => socket.write(request));
      let text = '';
      socket.on('data', (chunk) => { text += chunk.toString('utf8'); });
      socket.on('end', () => resolve(text));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    const answers = [
      [431, await raw(`GET /healthz?pad=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: a\r\n\r\n`), 'limit_exceeded'],
      [431, await raw(`GET /healthz HTTP/1.1\r\nHost: a\r\nX-Pad: ${'x'.repeat(20_000)}\r\n\r\n`), 'limit_exceeded'],
      [400, await raw('GARBAGE\r\n\r\n'), 'validation_failed'],
    ] as const;
    for (const [status, text, code] of answers) {
      expect(text.split('\r\n')[0]).toBe(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}`);
      const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
      expect(body).toEqual({ error: { type: 'invalid_request_error', code, message: expect.any(String) } });
    }
  });

  it('maps a DaybookError through ERROR_TABLE', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/conflict' });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({
      error: { type: 'api_error', code: 'stream_version_conflict', message: 'stream account-1: expected version 1, actual 2', param: 'expected_version' },
    });
  });

  it('answers a bug with a generic 500, logging the error under the request id', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/bug', headers: { 'x-request-id': 'req-bug' } });
    expect(response.statusCode).toBe(500);
    const body = response.json();
    expect(body.error.type).toBe('api_error');
    expect(response.body).not.toContain('secret internals');
    expect(response.body).not.toMatch(/at .*\.ts:\d+/);
    const logged = logLines.find((line) => line.requestId === 'req-bug' && line.level === 50);
    expect(JSON.stringify(logged)).toContain('secret internals');
  });
});
