/**
 * The Stripe-compatible listener over real HTTP, on SQLite and PostgreSQL:
 * the wire format (form and JSON bodies, Request-Id, Stripe-Version,
 * idempotent replays), each object's flows, the ledger behind the balance,
 * and bad input answered with the Stripe error a real integration expects,
 * never a 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIfPostgres } from '../../../test/support/postgres.ts';
import { paymentsLedgerAccountId } from '../../payments/index.ts';
import { type Backend, STRIPE_TEST_SECRET, startStripeServer, stripeClient, type StripeServer } from './stripeTestkit.ts';

function describeStripeApi(backend: Backend): void {
  let running: StripeServer;
  let call: ReturnType<typeof stripeClient>;

  beforeAll(async () => {
    running = await startStripeServer(backend, { DAYBOOK_STRIPE_SETTLEMENT_DELAY_SECONDS: '0' });
    call = stripeClient(running.url);
  });
  afterAll(async () => running?.close());

  const payment = async (params: object) => {
    const answer = await call('POST', '/v1/payment_intents', { amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, ...params });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body;
  };
  const ok = (answer: { status: number; body: Record<string, any> }) => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body;
  };

  describe('wire format', () => {
    it('answers with Request-Id, echoes Stripe-Version, and takes JSON bodies too', async () => {
      const answer = await call('GET', '/v1/balance', undefined, { 'stripe-version': '2025-03-31.basil' });
      expect(answer.headers.get('request-id')).toMatch(/^req_/);
      expect(answer.headers.get('stripe-version')).toBe('2025-03-31.basil');
      const json = await fetch(`${running.url}/v1/customers`, {
        method: 'POST', headers: { authorization: `Bearer ${STRIPE_TEST_SECRET}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Ada', metadata: { order: '42' } }),
      });
      const body = await json.json() as Record<string, any>;
      expect(body).toMatchObject({ object: 'customer', name: 'Ada', metadata: { order: '42' }, livemode: false });
    });

    it('refuses unknown parameters, naming them', async () => {
      const answer = await call('POST', '/v1/payment_intents', { amount: 2000, currency: 'usd', colour: 'red' });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code: 'parameter_unknown', param: 'colour' });
      const nested = await call('POST', '/v1/payment_methods', { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2030, zip: '1' } });
      expect(nested.body.error).toMatchObject({ code: 'parameter_unknown', param: 'card[zip]' });
    });

    it('answers missing and mistyped parameters, amounts below the minimum and unsupported currencies as Stripe does', async () => {
      expect((await call('POST', '/v1/payment_intents', { currency: 'usd' })).body.error).toMatchObject({ code: 'parameter_missing', param: 'amount' });
      expect((await call('POST', '/v1/payment_intents', { amount: '12x', currency: 'usd' })).body.error).toMatchObject({ code: 'parameter_invalid_integer', param: 'amount' });
      const small = await call('POST', '/v1/payment_intents', { amount: 49, currency: 'usd' });
      expect(small.status).toBe(400);
      expect(small.body.error).toMatchObject({ type: 'invalid_request_error', code: 'amount_too_small', param: 'amount' });
      const currency = await call('POST', '/v1/payment_intents', { amount: 2000, currency: 'xyz' });
      expect(currency.status).toBe(400);
      expect(currency.body.error).toMatchObject({ type: 'invalid_request_error', param: 'currency' });
      expect((await call('GET', '/v1/charges/ch_nope')).body.error).toMatchObject({ code: 'resource_missing', param: 'id' });
    });

    it('answers 401 authentication_error without a valid key', async () => {
      const answer = await stripeClient(running.url, 'sk_test_notakeynotakeynotakey')('GET', '/v1/balance');
      expect(answer.status).toBe(401);
      expect(answer.body.error.type).toBe('authentication_error');
    });

    it('replays an Idempotency-Key with Idempotent-Replayed and moves money once', async () => {
      const headers = { 'idempotency-key': `order-${backend}-1` };
      const params = { amount: 5000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true };
      const first = await call('POST', '/v1/payment_intents', params, headers);
      const again = await call('POST', '/v1/payment_intents', params, headers);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body.id).toBe(first.body.id);
      const other = await call('POST', '/v1/payment_intents', { ...params, amount: 5001 }, headers);
      expect(other.body.error.type).toBe('idempotency_error');
    });

    it('keeps customers\' personal data out of idempotency records, and replays the customer', async () => {
      const headers = { 'idempotency-key': `customer-${backend}-1` };
      const created = await call('POST', '/v1/customers', { name: 'Grace Hopper', email: 'grace@example.com' }, headers);
      const replay = await call('POST', '/v1/customers', { name: 'Grace Hopper', email: 'grace@example.com' }, headers);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(created.body);
      const records = await running.server.store.readAll({ category: 'idempotency', limit: 10_000 });
      expect(records.some((event) => JSON.stringify(event.data).includes('grace@example.com'))).toBe(false);
    });
  });

  describe('expand', () => {
    it('refuses a path the answer cannot expand before the route writes anything', async () => {
      const created = ok(await call('POST', '/v1/payment_intents', { amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, capture_method: 'manual' }));
      const refused = await call('POST', `/v1/payment_intents/${created.id}/capture`, { expand: ['latest_charge.nonsense'] });
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', param: 'expand' });
      // Nothing was captured: the capture, asked again properly, is the first.
      const intent = ok(await call('GET', `/v1/payment_intents/${created.id}`));
      expect(intent).toMatchObject({ status: 'requires_capture', amount_received: 0 });
      const captured = ok(await call('POST', `/v1/payment_intents/${created.id}/capture`, { expand: ['latest_charge.balance_transaction'] }));
      expect(captured.latest_charge.balance_transaction).toMatchObject({ object: 'balance_transaction', amount: 2000 });
    });

    it('follows only the fields Stripe expands, never an id written into another field', async () => {
      const target = ok(await call('POST', '/v1/customers', { name: 'Someone Else' }));
      const created = await call('POST', '/v1/payment_intents', { amount: 2000, currency: 'usd', description: target.id, expand: ['description'] });
      expect(created.status).toBe(400);
      expect(created.body.error).toMatchObject({ param: 'expand', message: expect.stringContaining('description') });
      expect((await call('GET', '/v1/payment_intents', { expand: ['customer'] })).body.error).toMatchObject({ param: 'expand' });
      expect((await call('GET', '/v1/payment_intents', { expand: ['data.latest_charge'] })).status).toBe(200);
      expect((await call('GET', '/v1/balance', { expand: ['available'] })).body.error).toMatchObject({ param: 'expand' });
      expect((await call('GET', '/v1/charges', { expand: ['data.balance_transaction.source.customer'] })).body.error).toMatchObject({ param: 'expand' });
    });
  });

  describe('payment intents', () => {
    it('creates, confirms and captures automatically, with a charge, a balance transaction and ledger postings', async () => {
      const intent = await payment({ expand: ['latest_charge.balance_transaction'], metadata: { order: '7' } });
      expect(intent).toMatchObject({ object: 'payment_intent', status: 'succeeded', amount_received: 2000, amount_capturable: 0, metadata: { order: '7' } });
      const charge = intent.latest_charge;
      expect(charge).toMatchObject({ object: 'charge', captured: true, paid: true, amount_captured: 2000, outcome: { type: 'authorized', network_status: 'approved_by_network' } });
      expect(charge.balance_transaction).toMatchObject({ object: 'balance_transaction', amount: 2000, fee: 88, net: 1912, type: 'charge', source: charge.id });
      expect(charge.balance_transaction.fee_details).toEqual([{ amount: 88, application: null, currency: 'usd', description: 'Stripe processing fees', type: 'stripe_fee' }]);
      const retrieved = await call('GET', `/v1/charges/${charge.id}`);
      expect(retrieved.body.id).toBe(charge.id);
    });

    it('captures partially with capture_method=manual, and refuses to capture a canceled intent', async () => {
      const intent = await payment({ amount: 3000, capture_method: 'manual' });
      expect(intent).toMatchObject({ status: 'requires_capture', amount_capturable: 3000, amount_received: 0 });
      const captured = await call('POST', `/v1/payment_intents/${intent.id}/capture`, { amount_to_capture: 1000 });
      expect(captured.body).toMatchObject({ status: 'succeeded', amount_received: 1000, amount_capturable: 0 });
      const held = await payment({ capture_method: 'manual' });
      const canceled = await call('POST', `/v1/payment_intents/${held.id}/cancel`, { cancellation_reason: 'requested_by_customer' });
      expect(canceled.body).toMatchObject({ status: 'canceled', cancellation_reason: 'requested_by_customer' });
      const refused = await call('POST', `/v1/payment_intents/${held.id}/capture`);
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({ code: 'payment_intent_unexpected_state' });
    });

    it('walks the status machine: requires_payment_method → requires_confirmation → succeeded', async () => {
      const created = await call('POST', '/v1/payment_intents', { amount: 1500, currency: 'eur' });
      expect(created.body.status).toBe('requires_payment_method');
      const method = await call('POST', '/v1/payment_methods', { type: 'card', card: { number: '4242424242424242', exp_month: 12, exp_year: 2031 } });
      expect(method.body.card).toMatchObject({ brand: 'visa', last4: '4242', exp_year: 2031 });
      const updated = await call('POST', `/v1/payment_intents/${created.body.id}`, { payment_method: method.body.id, description: 'books' });
      expect(updated.body).toMatchObject({ status: 'requires_confirmation', description: 'books' });
      const confirmed = await call('POST', `/v1/payment_intents/${created.body.id}/confirm`);
      expect(confirmed.body).toMatchObject({ status: 'succeeded', currency: 'eur', amount_received: 1500 });
      const again = await call('POST', `/v1/payment_intents/${created.body.id}/confirm`);
      expect(again.body.error.code).toBe('payment_intent_unexpected_state');
    });

    it('declines with card_error, decline_code and last_payment_error, and the intent goes back to requires_payment_method', async () => {
      const declined = await call('POST', '/v1/payment_intents', { amount: 2000, currency: 'usd', payment_method: 'pm_card_chargeDeclinedInsufficientFunds', confirm: true });
      expect(declined.status).toBe(402);
      expect(declined.body.error).toMatchObject({ type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds' });
      const intent = declined.body.error.payment_intent;
      expect(intent).toMatchObject({ status: 'requires_payment_method', last_payment_error: { decline_code: 'insufficient_funds', code: 'card_declined' } });
      const charge = await call('GET', `/v1/charges/${declined.body.error.charge}`);
      expect(charge.body).toMatchObject({ status: 'failed', failure_code: 'card_declined', outcome: { type: 'issuer_declined' } });
      const retried = await call('POST', `/v1/payment_intents/${intent.id}/confirm`, { payment_method: 'pm_card_visa' });
      expect(retried.body).toMatchObject({ status: 'succeeded', last_payment_error: null });
      const raw = await call('POST', '/v1/payment_methods', { type: 'card', card: { number: '4000000000000002', exp_month: 1, exp_year: 2030 } });
      const generic = await call('POST', '/v1/payment_intents', { amount: 2000, currency: 'usd', payment_method: raw.body.id, confirm: true });
      expect(generic.body.error.decline_code).toBe('generic_decline');
    });
  });

  describe('refunds and the balance', () => {
    it('refunds partially then fully, refuses more, and keeps the fee', async () => {
      const intent = await payment({ amount: 10_000 });
      const first = await call('POST', '/v1/refunds', { payment_intent: intent.id, amount: 4000, metadata: { why: 'damaged' } });
      expect(first.body).toMatchObject({ object: 'refund', amount: 4000, status: 'succeeded', charge: intent.latest_charge, metadata: { why: 'damaged' } });
      const tooMuch = await call('POST', '/v1/refunds', { charge: intent.latest_charge, amount: 6001 });
      expect(tooMuch.status).toBe(400);
      expect(tooMuch.body.error).toMatchObject({ code: 'amount_too_large', param: 'amount' });
      const rest = await call('POST', '/v1/refunds', { charge: intent.latest_charge });
      expect(rest.body.amount).toBe(6000);
      const charge = await call('GET', `/v1/charges/${intent.latest_charge}`);
      expect(charge.body).toMatchObject({ refunded: true, amount_refunded: 10_000 });
      const again = await call('POST', '/v1/refunds', { charge: intent.latest_charge });
      expect(again.body.error.code).toBe('charge_already_refunded');
      const listed = await call('GET', '/v1/refunds', { charge: intent.latest_charge });
      expect(listed.body.data.map((refund: { id: string }) => refund.id)).toEqual([rest.body.id, first.body.id]);
      const txn = await call('GET', `/v1/balance_transactions/${first.body.balance_transaction}`);
      expect(txn.body).toMatchObject({ type: 'refund', amount: -4000, fee: 0, net: -4000 });
    });

    it('keeps the balance equal to the sum of balance transactions and to the ledger merchant accounts', async () => {
      await payment({ amount: 2500, payment_method: 'pm_card_bypassPending' });
      const balance = await call('GET', '/v1/balance');
      const total = (side: 'available' | 'pending') => balance.body[side].find((item: { currency: string }) => item.currency === 'usd').amount as number;
      let sum = 0;
      for (let page = await call('GET', '/v1/balance_transactions', { limit: 100 }); ; ) {
        sum += page.body.data.filter((txn: { currency: string }) => txn.currency === 'usd').reduce((acc: number, txn: { net: number }) => acc + txn.net, 0);
        if (!page.body.has_more) break;
        page = await call('GET', '/v1/balance_transactions', { limit: 100, starting_after: page.body.data.at(-1).id });
      }
      expect(total('available') + total('pending')).toBe(sum);
      const engine = running.server.stripe.payments.ledgers.test;
      const ledgerNet = (kind: 'merchant_available' | 'merchant_pending') => {
        const b = engine.state.account(paymentsLedgerAccountId(kind, 'usd'))!.balances;
        return b.creditsPosted - b.debitsPosted;
      };
      expect(BigInt(total('available'))).toBe(ledgerNet('merchant_available'));
      expect(BigInt(total('pending'))).toBe(ledgerNet('merchant_pending'));
    });
  });

  describe('customers, payment methods and lists', () => {
    it('creates, updates (an empty value unsets a metadata key), attaches, lists by customer and deletes', async () => {
      const customer = await call('POST', '/v1/customers', { name: 'Ada', email: 'ada@example.com', metadata: { a: '1', b: '2' } });
      const updated = await call('POST', `/v1/customers/${customer.body.id}`, { phone: '+44 20', metadata: { a: '' } });
      expect(updated.body).toMatchObject({ name: 'Ada', phone: '+44 20', metadata: { b: '2' } });
      const attached = await call('POST', '/v1/payment_methods/pm_card_mastercard/attach', { customer: customer.body.id });
      expect(attached.body).toMatchObject({ customer: customer.body.id, card: { brand: 'mastercard', last4: '4444' } });
      const methods = await call('GET', `/v1/customers/${customer.body.id}/payment_methods`);
      expect(methods.body.data.map((pm: { id: string }) => pm.id)).toEqual([attached.body.id]);
      const intent = await payment({ customer: customer.body.id, payment_method: attached.body.id, expand: ['customer', 'payment_method'] });
      expect(intent.customer).toMatchObject({ id: customer.body.id, email: 'ada@example.com' });
      expect(intent.payment_method).toMatchObject({ id: attached.body.id });
      const deleted = await call('DELETE', `/v1/customers/${customer.body.id}`);
      expect(deleted.body).toEqual({ id: customer.body.id, object: 'customer', deleted: true });
      expect((await call('GET', `/v1/customers/${customer.body.id}`)).body).toMatchObject({ deleted: true });
    });

    it('refuses metadata keys starting with "$" (how sealed personal data is marked in the log)', async () => {
      for (const [path, params] of [['/v1/customers', { metadata: { $enc: 'x', note: 'n' } }], ['/v1/payment_intents', { amount: 650, currency: 'usd', metadata: { $enc: 'x' } }]] as const) {
        const refused = await call('POST', path, params);
        expect(refused.status).toBe(400);
        expect(refused.body.error).toMatchObject({ type: 'invalid_request_error' });
      }
    });

    it('pages lists newest first with starting_after, ending_before and created filters', async () => {
      const ids: string[] = [];
      for (let index = 0; index < 5; index += 1) ids.push((await call('POST', '/v1/customers', { description: `page ${index}` })).body.id);
      const newest = ids.slice().reverse();
      const first = await call('GET', '/v1/customers', { limit: 2 });
      expect(first.body).toMatchObject({ object: 'list', has_more: true, url: '/v1/customers' });
      expect(first.body.data.map((c: { id: string }) => c.id)).toEqual(newest.slice(0, 2));
      const second = await call('GET', '/v1/customers', { limit: 2, starting_after: newest[1] });
      expect(second.body.data.map((c: { id: string }) => c.id)).toEqual(newest.slice(2, 4));
      const back = await call('GET', '/v1/customers', { limit: 2, ending_before: newest[2] });
      expect(back.body.data.map((c: { id: string }) => c.id)).toEqual(newest.slice(0, 2));
      const future = await call('GET', '/v1/customers', { created: { gt: 4_000_000_000 } });
      expect(future.body.data).toEqual([]);
      const bad = await call('GET', '/v1/customers', { starting_after: 'cus_missing' });
      expect(bad.body.error).toMatchObject({ code: 'resource_missing', param: 'starting_after' });
    });

    it('serves its own OpenAPI document', async () => {
      const document = await (await fetch(`${running.url}/openapi.json`)).json() as { info: { title: string }; paths: Record<string, unknown> };
      expect(document.info.title).toMatch(/Stripe-compatible/);
      expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/v1/payment_intents', '/v1/payment_intents/{id}/capture', '/v1/refunds', '/v1/balance']));
    });
  });
}

describe('Stripe-compatible API on SQLite', () => describeStripeApi('sqlite'));
describeIfPostgres('Stripe-compatible API on PostgreSQL', () => describeStripeApi('postgres'));
