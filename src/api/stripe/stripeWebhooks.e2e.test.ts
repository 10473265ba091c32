/**
 * Webhooks end to end. With Stripe's official client (`stripe` 23.x,
 * unchanged), on SQLite and PostgreSQL: an endpoint created through the SDK,
 * a payment, the webhook received by a real local server and accepted by
 * `stripe.webhooks.constructEvent` with the endpoint's secret; the events API
 * through the SDK. And the real server process (`bin/daybook.js serve`)
 * SIGKILLed while a delivery is in flight (the receiver holds it unanswered):
 * after a restart on the same data folder the delivery arrives, same event,
 * correctly signed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIfPostgres } from '../../../test/support/postgres.ts';
import { type Backend, STRIPE_TEST_SECRET, startStripeServer, stripeClient, type StripeServer } from './stripeTestkit.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhookTestReceiver.ts';

function describeSdkWebhooks(backend: Backend): void {
  let running: StripeServer;
  let stripe: Stripe;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    running = await startStripeServer(backend);
    stripe = new Stripe(STRIPE_TEST_SECRET, { host: '127.0.0.1', port: running.port, protocol: 'http', maxNetworkRetries: 2 });
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await running?.close();
    await receiver?.close();
  });

  it('delivers a payment\'s webhook that stripe.webhooks.constructEvent accepts', async () => {
    const endpoint = await stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['payment_intent.succeeded', 'charge.refunded'] });
    expect(endpoint.secret).toMatch(/^whsec_/);
    const intent = await stripe.paymentIntents.create({ amount: 4200, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
    await stripe.refunds.create({ payment_intent: intent.id, amount: 200 });
    await receiver.waitFor((received) => received.filter((item) => [item.event.data.object.id, item.event.data.object.payment_intent].includes(intent.id)).length === 2);
    for (const item of receiver.received) {
      const event = stripe.webhooks.constructEvent(item.body, item.signature, endpoint.secret!);
      expect(['payment_intent.succeeded', 'charge.refunded']).toContain(event.type);
      if (event.type === 'payment_intent.succeeded') expect(event.data.object).toMatchObject({ id: intent.id, status: 'succeeded', amount_received: 4200 });
      if (event.type === 'charge.refunded') expect(event.data.object).toMatchObject({ payment_intent: intent.id, amount_refunded: 200 });
    }
    const first = receiver.received[0]!;
    expect(() => stripe.webhooks.constructEvent(first.body, first.signature, 'whsec_wrong')).toThrow(Stripe.errors.StripeSignatureVerificationError);
    expect(() => stripe.webhooks.constructEvent(`${first.body} `, first.signature, endpoint.secret!)).toThrow(Stripe.errors.StripeSignatureVerificationError);
    const retrieved = await stripe.events.retrieve(first.event.id);
    expect(retrieved).toMatchObject({ id: first.event.id, type: first.event.type });
    const types: string[] = [];
    for await (const event of stripe.events.list({ limit: 2 })) types.push(event.type);
    expect(types).toEqual(expect.arrayContaining(['payment_intent.created', 'payment_intent.succeeded', 'charge.succeeded', 'charge.refunded', 'refund.created']));
    const listed = await stripe.webhookEndpoints.list();
    expect(listed.data.map((item) => item.id)).toContain(endpoint.id);
    expect(await stripe.webhookEndpoints.del(endpoint.id)).toMatchObject({ id: endpoint.id, deleted: true });
  });
}

describe('webhooks through the stripe SDK on SQLite', () => describeSdkWebhooks('sqlite'));
describeIfPostgres('webhooks through the stripe SDK on PostgreSQL', () => describeSdkWebhooks('postgres'));

const BIN = fileURLToPath(new URL('../../../bin/daybook.js', import.meta.url));

function serve(dataDir: string): { child: ChildProcess; stripeUrl: Promise<string> } {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, PORT: '0', DAYBOOK_HOST: '127.0.0.1', DAYBOOK_DATA_DIR: dataDir, DAYBOOK_DATABASE_URL: '', LOG_LEVEL: 'warn',
      DAYBOOK_API_KEY: STRIPE_TEST_SECRET, DAYBOOK_API_KEY_PEPPER: 'p'.repeat(32), DAYBOOK_RATE_LIMIT_PER_S: '0', DAYBOOK_WEBHOOK_TIMEOUT_MS: '1000',
    },
  });
  let output = '';
  const stripeUrl = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no Stripe listener line within 30 s:\n${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /^Stripe-compatible API listening on (http:\/\/\S+)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  return { child, stripeUrl };
}

async function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('a server killed during a delivery', () => {
  let dataDir: string;
  let receiver: WebhookReceiver;
  let hold = true;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'daybook-webhook-crash-'));
    receiver = await startWebhookReceiver(() => (hold ? 'hang' : 200));
  });
  afterAll(async () => {
    for (const child of children) await killed(child);
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers the event after a restart (SIGKILL while the receiver held the request)', async () => {
    const first = serve(dataDir);
    children.push(first.child);
    const call = stripeClient(await first.stripeUrl);
    const endpoint = await call('POST', '/v1/webhook_endpoints', { url: receiver.url, enabled_events: ['customer.created'] });
    expect(endpoint.status, JSON.stringify(endpoint.body)).toBe(200);
    const customer = await call('POST', '/v1/customers', { description: 'crash' });
    await receiver.waitFor((received) => received.length === 1);
    const inFlight = receiver.received[0]!;
    expect(inFlight.event.data.object.id).toBe(customer.body.id);
    await killed(first.child);

    hold = false;
    const second = serve(dataDir);
    children.push(second.child);
    await second.stripeUrl;
    await receiver.waitFor((received) => received.length >= 2, 20_000);
    const redelivered = receiver.received[1]!;
    expect(redelivered.event.id).toBe(inFlight.event.id);
    expect(redelivered.body).toBe(inFlight.body);
    expect(new Stripe(STRIPE_TEST_SECRET).webhooks.constructEvent(redelivered.body, redelivered.signature, endpoint.body.secret)).toMatchObject({ type: 'customer.created' });
    const deliveries = await stripeClient(await second.stripeUrl)('GET', `/v1/webhook_endpoints/${endpoint.body.id}/deliveries`);
    expect(deliveries.body.data[0]).toMatchObject({ status: 'succeeded', attempts: 1, last_status_code: 200 });
  });
});
