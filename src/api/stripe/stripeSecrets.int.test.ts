/**
 * A webhook endpoint's signing secret (`whsec_…`) is shown once, in the
 * answer to its creation: the Idempotency-Key record keeps that answer
 * without it (a replay answers the endpoint without its secret, as for API
 * keys), and the log as auditors read it (`/v1/events`, `/v1/stream` of the
 * native API) shows it redacted; whoever reads the log cannot sign webhooks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeServer, stripeClient, type StripeServer } from './stripeTestkit.ts';

describe('webhook signing secrets', () => {
  let running: StripeServer;
  beforeAll(async () => { running = await startStripeServer('sqlite'); });
  afterAll(async () => running?.close());

  it('are kept out of idempotency records and shown redacted to auditors of the log', async () => {
    const call = stripeClient(running.url);
    const created = await call('POST', '/v1/webhook_endpoints', { url: 'https://example.com/hooks', enabled_events: ['charge.succeeded'] }, { 'idempotency-key': 'we-secret-1' });
    expect(created.status).toBe(200);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_/);

    const replay = await call('POST', '/v1/webhook_endpoints', { url: 'https://example.com/hooks', enabled_events: ['charge.succeeded'] }, { 'idempotency-key': 'we-secret-1' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(created.body.id);
    expect(JSON.stringify(replay.body)).not.toContain(secret);

    const records = await running.server.store.readAll({ category: 'idempotency', limit: 10_000 });
    expect(records.length).toBeGreaterThan(0);
    expect(JSON.stringify(records.map((event) => event.data))).not.toContain(secret);

    const auditor = (await running.server.services.keys.create({ role: 'auditor', mode: 'test', createdBy: 'test' })).secret;
    const native = running.server.url;
    const history = await fetch(`${native}/v1/events?stream=${encodeURIComponent(`pwebhook-test.${created.body.id}`)}`, { headers: { authorization: `Bearer ${auditor}` } });
    expect(history.status).toBe(200);
    const text = await history.text();
    expect(text).toContain('WebhookEndpointCreated');
    expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });

  it('show a support key a customer\'s event without the customer\'s personal data, which only customers:read roles see', async () => {
    const call = stripeClient(running.url);
    const customer = await call('POST', '/v1/customers', { name: 'Jane Doe', email: 'jane@example.com', phone: '+15555550100' });
    expect(customer.status).toBe(200);
    const support = (await running.server.services.keys.create({ role: 'support', mode: 'test', createdBy: 'test' })).secret;
    const asSupport = stripeClient(running.url, support);
    expect((await asSupport('GET', `/v1/customers/${customer.body.id}`)).status).toBe(403);
    const listed = await asSupport('GET', '/v1/events', { type: 'customer.created' });
    expect(listed.status).toBe(200);
    const event = listed.body.data.find((item: { data: { object: { id: string } } }) => item.data.object.id === customer.body.id);
    expect(event.data.object).toEqual({ id: customer.body.id, object: 'customer', livemode: false });
    const one = await asSupport('GET', `/v1/events/${event.id}`);
    expect(JSON.stringify(one.body)).not.toMatch(/Jane|jane@example|5555550100/);
    // A role that may read customers still sees the whole object.
    const full = await call('GET', `/v1/events/${event.id}`);
    expect(full.body.data.object).toMatchObject({ name: 'Jane Doe', email: 'jane@example.com' });
  });
});
