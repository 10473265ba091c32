/**
 * Stripe events and webhooks over real HTTP, on SQLite and PostgreSQL, with a
 * real local receiver: events derived from the log (types, data.object as it
 * was, request id and idempotency key, filters and paging), webhook endpoint
 * CRUD and refusals, signed deliveries Stripe's algorithm verifies, retries on
 * a short schedule then the dead-letter list, and `daybook webhooks replay`.
 */
import { WEBHOOK_ENDPOINTS_MAX } from '../../kernel/limits.ts';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIfPostgres } from '../../../test/support/postgres.ts';
import { runCli } from '../../cli/daybook.ts';
import { type Backend, startStripeServer, stripeClient, type StripeServer } from './stripeTestkit.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhookTestReceiver.ts';

function verifies(signature: string, body: string, secret: string): boolean {
  const parts = Object.fromEntries(signature.split(',').map((part) => part.split('=') as [string, string]));
  return parts.v1 === createHmac('sha256', secret).update(`${parts.t}.${body}`).digest('hex');
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function describeWebhooks(backend: Backend): void {
  let running: StripeServer;
  let call: ReturnType<typeof stripeClient>;
  let ok: WebhookReceiver;
  let failing: WebhookReceiver;
  let failingStatus = 500;

  beforeAll(async () => {
    running = await startStripeServer(backend, { DAYBOOK_WEBHOOK_RETRY_SCHEDULE: '100ms,200ms', DAYBOOK_WEBHOOK_TIMEOUT_MS: '2000' });
    call = stripeClient(running.url);
    ok = await startWebhookReceiver();
    failing = await startWebhookReceiver(() => failingStatus);
  });
  afterAll(async () => {
    await running?.close();
    await ok?.close();
    await failing?.close();
  });

  const post = async (path: string, params: object, headers: Record<string, string> = {}) => {
    const answer = await call('POST', path, params, headers);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer;
  };

  it('derives Stripe events from the log: types in order, data.object as it was, request id and idempotency key', async () => {
    const created = await post('/v1/payment_intents', { amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', capture_method: 'manual' }, { 'idempotency-key': 'order-77' });
    const intent = created.body.id as string;
    await post(`/v1/payment_intents/${intent}/confirm`, {});
    await post(`/v1/payment_intents/${intent}/capture`, { amount_to_capture: 1500 });
    await post('/v1/refunds', { payment_intent: intent, amount: 500 });
    const list = await call('GET', '/v1/events', { limit: 100 });
    const mine = (list.body.data as any[]).filter((event) => [event.data.object.id, event.data.object.payment_intent].includes(intent));
    expect(mine.map((event) => event.type)).toEqual([
      'refund.created', 'charge.refunded', 'payment_intent.succeeded', 'charge.captured', 'payment_intent.amount_capturable_updated', 'charge.succeeded', 'payment_intent.created',
    ]);
    const first = mine.at(-1);
    expect(first).toMatchObject({ object: 'event', livemode: false, request: { id: created.headers.get('request-id'), idempotency_key: 'order-77' } });
    expect(first.id).toMatch(/^evt_[A-Za-z0-9]{24}$/);
    expect(first.data.object).toMatchObject({ id: intent, object: 'payment_intent', status: 'requires_confirmation', amount_received: 0 });
    expect(mine.find((event) => event.type === 'charge.succeeded').data.object).toMatchObject({ object: 'charge', captured: false, amount_captured: 0 });
    expect(mine.find((event) => event.type === 'charge.refunded').data.object).toMatchObject({ amount_captured: 1500, amount_refunded: 500 });
    const one = await call('GET', `/v1/events/${first.id}`);
    expect(one.body).toEqual(first);
    expect((await call('GET', '/v1/events/evt_nope')).body.error).toMatchObject({ code: 'resource_missing', param: 'id' });
  });

  it('filters events by type, types[], wildcard and created, and pages newest first', async () => {
    const declined = await call('POST', '/v1/payment_intents', { amount: 2000, currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: true });
    expect(declined.status).toBe(402);
    const failed = await call('GET', '/v1/events', { type: 'payment_intent.payment_failed' });
    expect(failed.body.data.length).toBeGreaterThanOrEqual(1);
    expect(failed.body.data[0].data.object).toMatchObject({ status: 'requires_payment_method', last_payment_error: { decline_code: 'generic_decline' } });
    const charges = await call('GET', '/v1/events', { type: 'charge.*', limit: 100 });
    expect(new Set((charges.body.data as any[]).map((event) => event.type))).toEqual(new Set(['charge.failed', 'charge.refunded', 'charge.captured', 'charge.succeeded']));
    const two = await call('GET', '/v1/events', { types: ['charge.failed', 'refund.created'] });
    expect((two.body.data as any[]).map((event) => event.type).sort()).toEqual(['charge.failed', 'refund.created']);
    const all = (await call('GET', '/v1/events', { limit: 100 })).body.data as any[];
    const page1 = await call('GET', '/v1/events', { limit: 3 });
    const page2 = await call('GET', '/v1/events', { limit: 3, starting_after: page1.body.data[2].id });
    expect([...page1.body.data, ...page2.body.data].map((event: any) => event.id)).toEqual(all.slice(0, 6).map((event) => event.id));
    expect(page1.body.has_more).toBe(true);
    const back = await call('GET', '/v1/events', { limit: 3, ending_before: page2.body.data[0].id });
    expect(back.body.data.map((event: any) => event.id)).toEqual(all.slice(0, 3).map((event) => event.id));
    expect((await call('GET', '/v1/events', { created: { gt: all[0].created } })).body.data).toEqual([]);
    expect((await call('GET', '/v1/events', { type: 'charge.failed', types: ['charge.failed'] })).status).toBe(400);
    expect((await call('GET', '/v1/events', { colour: 'red' })).body.error).toMatchObject({ code: 'parameter_unknown', param: 'colour' });
  });

  it('creates, retrieves, updates, lists and deletes webhook endpoints; the secret only on create', async () => {
    const created = await post('/v1/webhook_endpoints', { url: 'https://example.com/hooks', enabled_events: ['charge.succeeded'], metadata: { team: 'ops' } });
    expect(created.body).toMatchObject({ object: 'webhook_endpoint', status: 'enabled', url: 'https://example.com/hooks', enabled_events: ['charge.succeeded'], metadata: { team: 'ops' } });
    expect(created.body.id).toMatch(/^we_/);
    expect(created.body.secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    const id = created.body.id as string;
    const retrieved = await call('GET', `/v1/webhook_endpoints/${id}`);
    expect(retrieved.body).toMatchObject({ id, status: 'enabled' });
    expect(retrieved.body).not.toHaveProperty('secret');
    const updated = await post(`/v1/webhook_endpoints/${id}`, { disabled: true, enabled_events: ['*'], metadata: { team: '' } });
    expect(updated.body).toMatchObject({ status: 'disabled', enabled_events: ['*'], metadata: {} });
    expect((await call('GET', '/v1/webhook_endpoints')).body.data.map((item: any) => item.id)).toContain(id);
    expect((await call('DELETE', `/v1/webhook_endpoints/${id}`)).body).toEqual({ id, object: 'webhook_endpoint', deleted: true });
    expect((await call('GET', `/v1/webhook_endpoints/${id}`)).body.error).toMatchObject({ code: 'resource_missing' });
    expect((await call('GET', '/v1/webhook_endpoints')).body.data.map((item: any) => item.id)).not.toContain(id);
  });

  it('refuses non-http(s) URLs, unknown event types and missing parameters', async () => {
    for (const url of ['ftp://example.com/x', 'file:///etc/passwd', 'not a url', 'https://user:pw@example.com/x']) {
      const answer = await call('POST', '/v1/webhook_endpoints', { url, enabled_events: ['*'] });
      expect(answer.status, url).toBe(400);
      expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', param: 'url' });
    }
    expect((await call('POST', '/v1/webhook_endpoints', { url: 'https://example.com', enabled_events: ['charge.exploded'] })).body.error)
      .toMatchObject({ type: 'invalid_request_error', param: 'enabled_events[0]' });
    expect((await call('POST', '/v1/webhook_endpoints', { url: 'https://example.com' })).body.error).toMatchObject({ code: 'parameter_missing', param: 'enabled_events' });
  });

  it('delivers signed events to the endpoints that want them, once each, and shows the attempts', async () => {
    const endpoint = await post('/v1/webhook_endpoints', { url: ok.url, enabled_events: ['payment_intent.succeeded', 'charge.succeeded'] });
    const secret = endpoint.body.secret as string;
    const paid = await post('/v1/payment_intents', { amount: 3100, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
    const ofPayment = () => ok.received.filter((item) => item.event.data.object.id === paid.body.id || item.event.data.object.payment_intent === paid.body.id);
    await ok.waitFor(() => ofPayment().length >= 2);
    // Deliveries run concurrently, so (as with Stripe) their order is not promised.
    const mine = ofPayment().sort((a, b) => a.event.type.localeCompare(b.event.type));
    expect(mine.map((item) => item.event.type)).toEqual(['charge.succeeded', 'payment_intent.succeeded']);
    for (const item of mine) expect(verifies(item.signature, item.body, secret)).toBe(true);
    expect(verifies(mine[0]!.signature, mine[0]!.body, 'whsec_other')).toBe(false);
    expect(mine[1]!.event.data.object).toMatchObject({ status: 'succeeded', amount_received: 3100 });
    const stored = await call('GET', `/v1/events/${mine[1]!.event.id}`);
    expect(JSON.stringify(stored.body)).toBe(mine[1]!.body);
    const deliveries = await until(() => call('GET', `/v1/webhook_endpoints/${endpoint.body.id}/deliveries`), (answer) => answer.body.data.every((item: any) => item.status === 'succeeded'));
    expect(deliveries.body.data[0]).toMatchObject({ object: 'webhook_delivery', event: mine[1]!.event.id, status: 'succeeded', attempts: 1, last_status_code: 200 });
    await post(`/v1/webhook_endpoints/${endpoint.body.id}`, { disabled: true });
  });

  it('retries a failing endpoint on the schedule, then parks the delivery as failed; daybook webhooks replay delivers it again', async () => {
    failingStatus = 500;
    const endpoint = await post('/v1/webhook_endpoints', { url: failing.url, enabled_events: ['customer.created'] });
    const customer = await post('/v1/customers', { description: 'retry me' });
    const failed = await until(() => call('GET', `/v1/webhook_endpoints/${endpoint.body.id}/deliveries`, { status: 'failed' }), (answer) => answer.body.data.length === 1);
    const delivery = failed.body.data[0];
    expect(delivery).toMatchObject({ status: 'failed', attempts: 3, last_status_code: 500, last_error: 'HTTP 500', event_type: 'customer.created' });
    expect(delivery.attempt_log).toHaveLength(3);
    const attempts = failing.received.filter((item) => item.event.data.object.id === customer.body.id);
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((item) => item.event.id)).size).toBe(1);

    const env = { ...process.env, DAYBOOK_DATA_DIR: running.dataDir, ...(running.databaseUrl === undefined ? {} : { DAYBOOK_DATABASE_URL: running.databaseUrl }) };
    const out: string[] = [];
    const io = { stdout: { write: (text: string) => out.push(text) }, stderr: { write: (text: string) => out.push(text) }, env };
    expect(await runCli(['webhooks', 'list-failed'], io), out.join('')).toBe(0);
    expect(out.join('')).toContain(delivery.event);
    failingStatus = 200;
    out.length = 0;
    expect(await runCli(['webhooks', 'replay', delivery.event], io), out.join('')).toBe(0);
    expect(out.join('')).toContain('succeeded');
    expect(failing.received.filter((item) => item.event.id === delivery.event).at(-1)!.body).toBe(attempts[0]!.body);
    out.length = 0;
    expect(await runCli(['webhooks', 'replay', delivery.event], io)).toBe(65);
    expect(await runCli(['webhooks', 'replay', 'not-an-event'], io)).toBe(64);
  });

  it('holds the endpoint bound when creations race: of four concurrent requests for the last place, one gets it', async () => {
    const existing = ((await call('GET', '/v1/webhook_endpoints', { limit: 100 })).body.data as unknown[]).length;
    // Disabled endpoints count as well; they receive nothing, so the other tests' deliveries are untouched.
    const made: string[] = [];
    for (let i = existing; i < WEBHOOK_ENDPOINTS_MAX - 1; i += 1) {
      const created = await post('/v1/webhook_endpoints', { url: `https://example.com/fill-${i}`, enabled_events: ['charge.succeeded'] });
      made.push(created.body.id);
      await post(`/v1/webhook_endpoints/${created.body.id}`, { disabled: true });
    }
    const racing = await Promise.all([0, 1, 2, 3].map((i) => call('POST', '/v1/webhook_endpoints', { url: `https://example.com/race-${i}`, enabled_events: ['charge.succeeded'] })));
    expect(racing.filter((answer) => answer.status === 200)).toHaveLength(1);
    for (const answer of racing.filter((item) => item.status !== 200)) expect(answer.body.error).toMatchObject({ param: 'url', message: expect.stringContaining(String(WEBHOOK_ENDPOINTS_MAX)) });
    made.push(racing.find((answer) => answer.status === 200)!.body.id);
    for (const id of made) expect((await call('DELETE', `/v1/webhook_endpoints/${id}`)).status).toBe(200);
  });
}

describe('Stripe events and webhooks on SQLite', () => describeWebhooks('sqlite'));
describeIfPostgres('Stripe events and webhooks on PostgreSQL', () => describeWebhooks('postgres'));
