/**
 * Erasure reaches the personal data of Stripe payment objects, on a real
 * server (SQLite, and PostgreSQL when available): a payment method's
 * billing details and metadata, a payment intent's description, metadata,
 * receipt email and shipping (and the charge's copies of them), a refund's
 * metadata. They are stored only as ciphertext; erasing the customer (the
 * payment method attached to it after it was made, and its payment
 * intent) makes the payment method, intent, charge, refund and event reads
 * answer "[erased]", also after the projections are rebuilt; the card's
 * brand and last four stay, the ledger still balances and `daybook verify`
 * passes. A guest payment intent (no customer) is erased by its own
 * subject, `pintent:<mode>:<pi_…>`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIfPostgres } from '../../test/support/postgres.ts';
import { type Backend, STRIPE_TEST_SECRET, startStripeServer, storedRows, stripeClient, type StripeServer } from '../api/stripe/stripeTestkit.ts';
import { runCli } from '../cli/daybook.ts';

const BILLING = {
  name: 'Quintus Fabergast', email: 'quintus@fabergast.example', phone: '+44 20 7946 0958',
  address: { line1: '17 Wobblegate Lane', city: 'Ludlowshire', postal_code: 'LW9 4QQ', country: 'GB' },
};
const PM_METADATA = { wallet_note: 'card of Quintus senior' };
const DESCRIPTION = 'Order for Quintus, allergy: peanuts';
const PI_METADATA = { delivery_note: 'leave with neighbour Mrs Oddlesworth' };
const RECEIPT_EMAIL = 'receipts.quintus@fabergast.example';
const SHIPPING = { name: 'Quintilla Fabergast', phone: '+44 20 7946 0111', address: { line1: '9 Snorkel Row', city: 'Bramblecombe', postal_code: 'BC1 7ZZ', country: 'GB' } };
const REFUND_METADATA = { refund_reason_text: 'Quintus said the parcel was wet' };
const GUEST_DESCRIPTION = 'Guest order by Zebedee Marchbanks';
const GUEST_SHIPPING = { name: 'Zebedee Marchbanks', address: { line1: '3 Crumpet Court', city: 'Gullhaven', country: 'GB' } };

const SECRETS = [
  'Fabergast', 'quintus@', '7946 0958', 'Wobblegate', 'Ludlowshire', 'LW9 4QQ', 'Quintus senior', 'peanuts', 'Oddlesworth', 'receipts.quintus', 'Quintilla',
  '7946 0111', 'Snorkel', 'Bramblecombe', 'BC1 7ZZ', 'parcel was wet',
];
const GUEST_SECRETS = ['Zebedee', 'Marchbanks', 'Crumpet', 'Gullhaven'];

function secretsIn(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((secret) => text.includes(secret));
}


function describePaymentsErasure(backend: Backend): void {
  let running: StripeServer;
  let stripe: ReturnType<typeof stripeClient>;
  let customerId: string;
  let paymentMethodId: string;
  let intentId: string;
  let chargeId: string;
  let refundId: string;
  let guestIntentId: string;

  const ok = (answer: { status: number; body: Record<string, any> }): Record<string, any> => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body;
  };
  const erase = async (subject: string): Promise<{ linked: string[] }> => {
    const response = await fetch(`${running.server.url}/v1/admin/erasures`, {
      method: 'POST', body: JSON.stringify({ subject }), headers: { authorization: `Bearer ${STRIPE_TEST_SECRET}`, 'content-type': 'application/json' },
    });
    expect(response.status, await response.clone().text()).toBe(200);
    return await response.json() as { linked: string[] };
  };

  beforeAll(async () => {
    running = await startStripeServer(backend, { DAYBOOK_SEAL_EVERY_EVENTS: '5', DAYBOOK_SEAL_EVERY_MS: '0' });
    stripe = stripeClient(running.url);
    customerId = ok(await stripe('POST', '/v1/customers', { name: 'Someone', email: 'someone@example.com' })).id;
    // Made as a guest's card, attached to the customer afterwards.
    paymentMethodId = ok(await stripe('POST', '/v1/payment_methods', { type: 'card', card: { token: 'tok_visa' }, billing_details: BILLING, metadata: PM_METADATA })).id;
    ok(await stripe('POST', `/v1/payment_methods/${paymentMethodId}/attach`, { customer: customerId }));
    const intent = ok(await stripe('POST', '/v1/payment_intents', {
      amount: 5000, currency: 'usd', customer: customerId, payment_method: paymentMethodId, description: DESCRIPTION, metadata: PI_METADATA,
      receipt_email: RECEIPT_EMAIL, shipping: SHIPPING,
    }));
    intentId = intent.id;
    const confirmed = ok(await stripe('POST', `/v1/payment_intents/${intentId}/confirm`, {}));
    expect(confirmed.status).toBe('succeeded');
    chargeId = confirmed.latest_charge;
    refundId = ok(await stripe('POST', '/v1/refunds', { payment_intent: intentId, amount: 1500, metadata: REFUND_METADATA })).id;
    guestIntentId = ok(await stripe('POST', '/v1/payment_intents', {
      amount: 1200, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, description: GUEST_DESCRIPTION, shipping: GUEST_SHIPPING,
    })).id;
  });

  afterAll(async () => { await running?.close(); });

  it('stores billing details, descriptions, metadata, receipt emails and shipping only as ciphertext, and reads them back', async () => {
    expect(secretsIn(await storedRows(running), [...SECRETS, ...GUEST_SECRETS])).toEqual([]);
    const method = ok(await stripe('GET', `/v1/payment_methods/${paymentMethodId}`));
    expect(method).toMatchObject({ customer: customerId, metadata: PM_METADATA, billing_details: { name: BILLING.name, email: BILLING.email, phone: BILLING.phone, address: { ...BILLING.address, line2: null, state: null } } });
    const intent = ok(await stripe('GET', `/v1/payment_intents/${intentId}`));
    expect(intent).toMatchObject({ description: DESCRIPTION, metadata: PI_METADATA, receipt_email: RECEIPT_EMAIL, shipping: { name: SHIPPING.name, phone: SHIPPING.phone, address: { line1: '9 Snorkel Row', line2: null } } });
    const charge = ok(await stripe('GET', `/v1/charges/${chargeId}`));
    expect(charge).toMatchObject({ description: DESCRIPTION, receipt_email: RECEIPT_EMAIL, shipping: { name: SHIPPING.name }, billing_details: { name: BILLING.name, email: BILLING.email } });
    expect(ok(await stripe('GET', `/v1/refunds/${refundId}`)).metadata).toEqual(REFUND_METADATA);
  });

  it('erases them with the customer: payment method, intent, charge, refund and event reads agree, also after a rebuild; the ledger balances; verify passes', async () => {
    const erased = await erase(`pcustomer:test:${customerId}`);
    expect(erased.linked).toEqual([`pmethod:test:${paymentMethodId}`, `pintent:test:${intentId}`]);
    const expectErased = async (): Promise<void> => {
      const method = ok(await stripe('GET', `/v1/payment_methods/${paymentMethodId}`));
      expect(method).toMatchObject({
        metadata: { wallet_note: '[erased]' }, card: { brand: 'visa', last4: '4242' },
        billing_details: { name: '[erased]', email: '[erased]', phone: '[erased]', address: { line1: '[erased]', city: '[erased]', line2: null } },
      });
      const intent = ok(await stripe('GET', `/v1/payment_intents/${intentId}`));
      expect(intent).toMatchObject({ amount: 5000, description: '[erased]', metadata: { delivery_note: '[erased]' }, receipt_email: '[erased]', shipping: { name: '[erased]', address: { line1: '[erased]' } } });
      const charge = ok(await stripe('GET', `/v1/charges/${chargeId}`));
      expect(charge).toMatchObject({ description: '[erased]', receipt_email: '[erased]', billing_details: { name: '[erased]' }, payment_method_details: { card: { last4: '4242' } } });
      expect(ok(await stripe('GET', `/v1/refunds/${refundId}`))).toMatchObject({ amount: 1500, metadata: { refund_reason_text: '[erased]' } });
      const events = ok(await stripe('GET', '/v1/events', { limit: 100 }));
      const reads = JSON.stringify([method, intent, charge, events]);
      expect(secretsIn(reads, SECRETS)).toEqual([]);
      expect(reads).toContain('[erased]');
    };
    await expectErased();
    for (const name of running.server.projections.registry.names()) await running.server.projections.rebuild(name);
    await expectErased();
    expect(secretsIn(await storedRows(running), SECRETS)).toEqual([]);

    const balance = ok(await stripe('GET', '/v1/balance'));
    expect(balance.available.find((item: { currency: string }) => item.currency === 'usd')).toBeDefined();
    const engine = running.server.stripe.payments.ledgers.test;
    const accounts = (engine.state as unknown as { accounts: Map<string, { balances: { debitsPosted: bigint; creditsPosted: bigint; debitsPending: bigint; creditsPending: bigint } }> }).accounts;
    let posted = 0n;
    let pending = 0n;
    for (const account of accounts.values()) {
      posted += account.balances.debitsPosted - account.balances.creditsPosted;
      pending += account.balances.debitsPending - account.balances.creditsPending;
    }
    expect(accounts.size).toBeGreaterThan(0);
    expect({ posted, pending }).toEqual({ posted: 0n, pending: 0n });

    await running.server.sealer?.sealNow();
    const out: string[] = [];
    const io = { stdout: { write: (text: string) => out.push(text) }, stderr: { write: (text: string) => out.push(text) }, env: { DAYBOOK_DATA_DIR: running.dataDir } };
    const args = running.databaseUrl === undefined ? ['verify', '--json'] : ['verify', '--json', '--database-url', running.databaseUrl];
    expect(await runCli(args, io)).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({ ok: true });
  });

  it('exports the customer\'s payment objects with it (subject access) and keeps the guest intent readable', async () => {
    const exported = await fetch(`${running.server.url}/v1/admin/subjects/${encodeURIComponent(`pcustomer:test:${customerId}`)}/export`, { headers: { authorization: `Bearer ${STRIPE_TEST_SECRET}` } });
    const body = await exported.json() as { related: Record<string, string[]>; events: Array<{ type: string; streamId: string; data: Record<string, unknown> }> };
    expect(body.related).toMatchObject({ paymentMethods: [paymentMethodId], paymentIntents: [intentId] });
    expect(body.events.map((event) => event.type)).toEqual(expect.arrayContaining(['StripeCustomerCreated', 'PaymentMethodCreated', 'PaymentIntentCreated', 'RefundCreated']));
    expect(body.events.find((event) => event.type === 'PaymentIntentCreated')!.data).toMatchObject({ description: '[erased]' });
    const guest = ok(await stripe('GET', `/v1/payment_intents/${guestIntentId}`));
    expect(guest).toMatchObject({ description: GUEST_DESCRIPTION, shipping: { name: GUEST_SHIPPING.name } });
  });

  it('links no new payment method or intent to an erased customer, and still refunds its payment', async () => {
    const refused = await stripe('POST', '/v1/payment_intents', { amount: 700, currency: 'usd', customer: customerId, description: 'Quintus again' });
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    const method = ok(await stripe('POST', '/v1/payment_methods', { type: 'card', card: { token: 'tok_visa' } }));
    expect((await stripe('POST', `/v1/payment_methods/${method.id}/attach`, { customer: customerId })).status).toBe(409);
    const guest = ok(await stripe('POST', '/v1/payment_intents', { amount: 800, currency: 'usd', description: 'Quintus as a guest' }));
    expect((await stripe('POST', `/v1/payment_intents/${guest.id}`, { customer: customerId })).status).toBe(409);
    const refund = ok(await stripe('POST', '/v1/refunds', { payment_intent: intentId, amount: 500, metadata: { note: 'Quintus second refund' } }));
    expect(refund.metadata).toEqual({ note: '[erased]' });
    expect(secretsIn(await storedRows(running), ['Quintus again', 'Quintus second refund', 'Quintus as a guest'])).toEqual([]);
  });

  it('keeps no payment object\'s personal data in idempotency records; a replay reads the objects as they are now', async () => {
    const key = { 'idempotency-key': `pii2-${backend}-1` };
    const params = { amount: 900, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, description: 'Keyed order of Yolanda Pumpernickel', receipt_email: 'yolanda@pumpernickel.example', shipping: { name: 'Yolanda Pumpernickel', address: { line1: '5 Rye Road' } } };
    const first = ok(await stripe('POST', '/v1/payment_intents', params, key));
    const methodKey = { 'idempotency-key': `pii2-${backend}-2` };
    const method = ok(await stripe('POST', '/v1/payment_methods', { type: 'card', card: { token: 'tok_visa' }, billing_details: { name: 'Yolanda Pumpernickel' } }, methodKey));
    expect(secretsIn(await storedRows(running), ['Pumpernickel', 'Rye Road'])).toEqual([]);
    const replay = await stripe('POST', '/v1/payment_intents', params, key);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first);
    await erase(`pintent:test:${first.id}`);
    const erased = await stripe('POST', '/v1/payment_intents', params, key);
    expect(erased.body).toMatchObject({ id: first.id, description: '[erased]', receipt_email: '[erased]' });
    expect((await stripe('POST', '/v1/payment_methods', { type: 'card', card: { token: 'tok_visa' }, billing_details: { name: 'Yolanda Pumpernickel' } }, methodKey)).body).toEqual(method);
  });

  it('erases a guest payment intent by its own subject', async () => {
    await erase(`pintent:test:${guestIntentId}`);
    const guest = ok(await stripe('GET', `/v1/payment_intents/${guestIntentId}`));
    expect(guest).toMatchObject({ amount: 1200, status: 'succeeded', description: '[erased]', shipping: { name: '[erased]', address: { line1: '[erased]', line2: null } } });
    const charge = ok(await stripe('GET', `/v1/charges/${guest.latest_charge}`));
    expect(secretsIn(JSON.stringify([guest, charge]), GUEST_SECRETS)).toEqual([]);
    expect(secretsIn(await storedRows(running), GUEST_SECRETS)).toEqual([]);
  });

  it('seals a payout\'s description and metadata under its own subject, which erases it', async () => {
    ok(await stripe('POST', '/v1/payment_intents', { amount: 9000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true }));
    const payout = ok(await stripe('POST', '/v1/payouts', { amount: 1000, currency: 'usd', description: 'Payout for Ottoline Grimsby', metadata: { owner: 'Ottoline Grimsby' } }));
    expect(secretsIn(await storedRows(running), ['Grimsby'])).toEqual([]);
    expect(ok(await stripe('GET', `/v1/payouts/${payout.id}`))).toMatchObject({ description: 'Payout for Ottoline Grimsby', metadata: { owner: 'Ottoline Grimsby' } });
    await erase(`ppayout:test:${payout.id}`);
    expect(ok(await stripe('GET', `/v1/payouts/${payout.id}`))).toMatchObject({ amount: 1000, description: '[erased]', metadata: { owner: '[erased]' } });
  });
}

describe('payments erasure on SQLite', () => describePaymentsErasure('sqlite'));
describeIfPostgres('payments erasure on PostgreSQL', () => describePaymentsErasure('postgres'));
