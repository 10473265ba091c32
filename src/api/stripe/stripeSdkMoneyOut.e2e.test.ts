/**
 * Stripe's official Node client (unchanged) against a real Daybook server,
 * on SQLite and PostgreSQL: a dispute answered with evidence and won, a
 * dispute accepted (lost), a payout paid and one failed (StripeInvalidRequestError
 * balance_insufficient past the available balance), and an account onboarded.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIfPostgres } from '../../../test/support/postgres.ts';
import { type Backend, STRIPE_TEST_SECRET, startStripeServer, type StripeServer } from './stripeTestkit.ts';

function describeSdkMoneyOut(backend: Backend): void {
  let running: StripeServer;
  let stripe: Stripe;

  beforeAll(async () => {
    running = await startStripeServer(backend, { DAYBOOK_STRIPE_SETTLEMENT_DELAY_SECONDS: '0' });
    stripe = new Stripe(STRIPE_TEST_SECRET, { host: '127.0.0.1', port: running.port, protocol: 'http', maxNetworkRetries: 2 });
  });
  afterAll(async () => running?.close());

  const usd = (balance: Stripe.Balance, side: 'available' | 'pending') => balance[side].find((item) => item.currency === 'usd')?.amount ?? 0;

  it('answers a dispute with evidence and wins it; accepts another and loses it', async () => {
    const intent = await stripe.paymentIntents.create({ amount: 4000, currency: 'usd', payment_method: 'pm_card_createDispute', confirm: true });
    const charge = await stripe.charges.retrieve(intent.latest_charge as string);
    expect(charge.disputed).toBe(true);
    const [dispute] = (await stripe.disputes.list({ payment_intent: intent.id })).data;
    expect(dispute).toMatchObject({ object: 'dispute', amount: 4000, status: 'needs_response' });
    const before = await stripe.balance.retrieve();
    const updated = await stripe.disputes.update(dispute!.id, {
      evidence: { customer_name: 'Ada Lovelace', product_description: 'Books', uncategorized_text: 'winning_evidence' }, metadata: { ticket: 'T-1' }, submit: true,
    });
    expect(updated).toMatchObject({ status: 'won', metadata: { ticket: 'T-1' }, evidence: { customer_name: 'Ada Lovelace' } });
    const after = await stripe.balance.retrieve();
    expect(usd(after, 'available') - usd(before, 'available')).toBe(4000 + 1500);

    const other = await stripe.paymentIntents.create({ amount: 2500, currency: 'usd', payment_method: 'pm_card_createDispute', confirm: true });
    const [second] = (await stripe.disputes.list({ charge: other.latest_charge as string })).data;
    const closed = await stripe.disputes.close(second!.id);
    expect(closed.status).toBe('lost');
    const refund = stripe.refunds.create({ payment_intent: other.id });
    await expect(refund).rejects.toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    await expect(refund).rejects.toMatchObject({ code: 'charge_disputed' });
  });

  it('pays out the available balance: paid, failed with no_account, refused past the balance', async () => {
    await stripe.paymentIntents.create({ amount: 30_000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
    const available = usd(await stripe.balance.retrieve(), 'available');
    const refused = stripe.payouts.create({ amount: available + 1, currency: 'usd' });
    await expect(refused).rejects.toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    await expect(refused).rejects.toMatchObject({ code: 'balance_insufficient' });
    const payout = await stripe.payouts.create({ amount: 10_000, currency: 'usd', destination: 'btok_us_verified' });
    expect(payout).toMatchObject({ object: 'payout', status: 'pending', amount: 10_000 });
    const paid = await stripe.rawRequest('POST', `/v1/test_helpers/payouts/${payout.id}/process`, {}) as Stripe.Payout;
    expect(paid.status).toBe('paid');
    expect((await stripe.payouts.retrieve(payout.id)).status).toBe('paid');
    const failing = await stripe.payouts.create({ amount: 5000, currency: 'usd', destination: '000111111116' });
    await stripe.rawRequest('POST', `/v1/test_helpers/payouts/${failing.id}/process`, {});
    expect(await stripe.payouts.retrieve(failing.id)).toMatchObject({ status: 'failed', failure_code: 'no_account' });
    const pending = await stripe.payouts.create({ amount: 1000, currency: 'usd' });
    expect((await stripe.payouts.cancel(pending.id)).status).toBe('canceled');
    expect(usd(await stripe.balance.retrieve(), 'available')).toBe(available - 10_000);
    const ids: string[] = [];
    for await (const item of stripe.payouts.list({ limit: 2 })) ids.push(item.id);
    expect(ids).toEqual([pending.id, failing.id, payout.id]);
  });

  it('onboards an account until charges and payouts are enabled', async () => {
    const account = await stripe.accounts.create({ type: 'custom', country: 'US', business_type: 'individual' });
    expect(account).toMatchObject({ charges_enabled: false, payouts_enabled: false });
    const verified = await stripe.accounts.update(account.id, {
      business_profile: { mcc: '5734', url: 'https://shop.example.com' }, external_account: 'btok_us_verified',
      individual: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com', dob: { day: 1, month: 1, year: 1901 }, address: { line1: '1 Main', city: 'X', postal_code: '1' } },
      tos_acceptance: { date: 1_700_000_000, ip: '203.0.113.1' },
    });
    expect(verified).toMatchObject({ charges_enabled: true, payouts_enabled: true, requirements: { currently_due: [] } });
  });
}

describe('stripe SDK disputes, payouts, accounts on SQLite', () => describeSdkMoneyOut('sqlite'));
describeIfPostgres('stripe SDK disputes, payouts, accounts on PostgreSQL', () => describeSdkMoneyOut('postgres'));
