/**
 * Stripe's official Node client (the `stripe` package, unchanged) against a
 * real Daybook server, on SQLite and PostgreSQL: customers, payment
 * methods, a manual-capture payment captured partially and refunded, a
 * decline (its error class and decline_code), auto-pagination over 250
 * customers, and an idempotent retry.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIfPostgres } from '../../../test/support/postgres.ts';
import { type Backend, STRIPE_TEST_SECRET, startStripeServer, type StripeServer } from './stripeTestkit.ts';

function describeSdk(backend: Backend): void {
  let running: StripeServer;
  let stripe: Stripe;

  beforeAll(async () => {
    running = await startStripeServer(backend);
    stripe = new Stripe(STRIPE_TEST_SECRET, { host: '127.0.0.1', port: running.port, protocol: 'http', maxNetworkRetries: 2 });
  });
  afterAll(async () => running?.close());

  it('takes a payment with manual capture, captures part of it and refunds', async () => {
    const customer = await stripe.customers.create({ name: 'Ada Lovelace', email: 'ada@example.com', metadata: { tier: 'gold' } });
    expect(customer.lastResponse.requestId).toMatch(/^req_/);
    const method = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
    await stripe.paymentMethods.attach(method.id, { customer: customer.id });
    const created = await stripe.paymentIntents.create({
      amount: 5000, currency: 'usd', customer: customer.id, payment_method: method.id, capture_method: 'manual', metadata: { order: '1001' },
    });
    expect(created.status).toBe('requires_confirmation');
    const confirmed = await stripe.paymentIntents.confirm(created.id);
    expect(confirmed).toMatchObject({ status: 'requires_capture', amount_capturable: 5000 });
    const captured = await stripe.paymentIntents.capture(created.id, { amount_to_capture: 3000, expand: ['latest_charge.balance_transaction'] });
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 3000 });
    const charge = captured.latest_charge as Stripe.Charge;
    expect(charge.balance_transaction).toMatchObject({ amount: 3000, fee: 117, net: 2883 });
    const refund = await stripe.refunds.create({ payment_intent: created.id, amount: 1000 });
    expect(refund).toMatchObject({ object: 'refund', amount: 1000, status: 'succeeded', charge: charge.id });
    const after = await stripe.charges.retrieve(charge.id);
    expect(after).toMatchObject({ amount_refunded: 1000, refunded: false, captured: true });
    const balance = await stripe.balance.retrieve();
    expect(balance.object).toBe('balance');
  });

  it('throws a StripeCardError with the decline code on a declined card', async () => {
    const error = await stripe.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method: 'pm_card_chargeDeclined', confirm: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    const cardError = error as Stripe.errors.StripeCardError;
    expect(cardError.code).toBe('card_declined');
    expect(cardError.decline_code).toBe('generic_decline');
    expect(cardError.payment_intent?.status).toBe('requires_payment_method');
    const invalid = await stripe.paymentIntents.create({ amount: 10, currency: 'usd' }).catch((caught: unknown) => caught);
    expect(invalid).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((invalid as Stripe.errors.StripeInvalidRequestError).code).toBe('amount_too_small');
  });

  it('auto-paginates over 250 customers, newest first, each once', async () => {
    const made: string[] = [];
    for (let index = 0; index < 250; index += 1) made.push((await stripe.customers.create({ description: `bulk ${index}` })).id);
    const seen: string[] = [];
    for await (const customer of stripe.customers.list({ limit: 100 })) seen.push(customer.id);
    expect(seen.slice(0, 250)).toEqual(made.slice().reverse());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('answers a retried request with the same Idempotency-Key once', async () => {
    const first = await stripe.paymentIntents.create({ amount: 4200, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }, { idempotencyKey: `sdk-${backend}-retry` });
    const again = await stripe.paymentIntents.create({ amount: 4200, currency: 'usd', payment_method: 'pm_card_visa', confirm: true }, { idempotencyKey: `sdk-${backend}-retry` });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    const charges = await stripe.charges.list({ payment_intent: first.id });
    expect(charges.data).toHaveLength(1);
  });
}

describe('the stripe package against Daybook on SQLite', () => describeSdk('sqlite'));
describeIfPostgres('the stripe package against Daybook on PostgreSQL', () => describeSdk('postgres'));
