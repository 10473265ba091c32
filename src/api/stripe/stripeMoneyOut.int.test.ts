/**
 * Disputes, payouts and connected accounts on the Stripe-compatible
 * listener, over real HTTP on SQLite and PostgreSQL: a dispute test card
 * disputed after capture (automatic and manual), evidence saved then
 * submitted (won returns amount and fee, lost keeps them), close = lost,
 * refunds of a disputed charge refused; payouts limited to the available
 * balance, paid, failed (money back), canceled while pending; onboarding
 * requirements until verification; and after all of it the balance equals
 * the sum of balance transactions' net and the ledger merchant accounts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIfPostgres } from '../../../test/support/postgres.ts';
import { paymentsLedgerAccountId } from '../../payments/index.ts';
import { type Backend, startStripeServer, stripeClient, type StripeServer } from './stripeTestkit.ts';

function describeMoneyOut(backend: Backend): void {
  let running: StripeServer;
  let call: ReturnType<typeof stripeClient>;

  beforeAll(async () => {
    running = await startStripeServer(backend, { DAYBOOK_STRIPE_SETTLEMENT_DELAY_SECONDS: '0' });
    call = stripeClient(running.url);
  });
  afterAll(async () => running?.close());

  const ok = (answer: { status: number; body: Record<string, any> }) => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body;
  };
  const pay = async (params: object = {}) =>
    ok(await call('POST', '/v1/payment_intents', { amount: 10_000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, ...params }));
  const balance = async () => {
    const body = ok(await call('GET', '/v1/balance'));
    const of = (side: 'available' | 'pending') => (body[side].find((item: { currency: string }) => item.currency === 'usd')?.amount ?? 0) as number;
    return { available: of('available'), pending: of('pending') };
  };
  const disputeOf = async (chargeId: string) => {
    const list = ok(await call('GET', '/v1/disputes', { charge: chargeId }));
    expect(list.data).toHaveLength(1);
    return list.data[0] as Record<string, any>;
  };

  async function expectBalanceInvariant(): Promise<void> {
    const { available, pending } = await balance();
    let sum = 0;
    for (let page = ok(await call('GET', '/v1/balance_transactions', { limit: 100 })); ;) {
      sum += page.data.filter((txn: { currency: string }) => txn.currency === 'usd').reduce((acc: number, txn: { net: number }) => acc + txn.net, 0);
      if (!page.has_more) break;
      page = ok(await call('GET', '/v1/balance_transactions', { limit: 100, starting_after: page.data.at(-1).id }));
    }
    expect(available + pending).toBe(sum);
    const engine = running.server.stripe.payments.ledgers.test;
    const net = (kind: 'merchant_available' | 'merchant_pending') => {
      const b = engine.state.account(paymentsLedgerAccountId(kind, 'usd'))!.balances;
      return b.creditsPosted - b.debitsPosted;
    };
    expect(BigInt(available)).toBe(net('merchant_available'));
    expect(BigInt(pending)).toBe(net('merchant_pending'));
  }

  describe('disputes', () => {
    it('opens a dispute after capture of pm_card_createDispute, withdrawing amount and fee; winning evidence returns both', async () => {
      const before = await balance();
      const intent = await pay({ amount: 2000, payment_method: 'pm_card_createDispute' });
      const charge = ok(await call('GET', `/v1/charges/${intent.latest_charge}`));
      expect(charge.disputed).toBe(true);
      const dispute = await disputeOf(charge.id);
      expect(dispute).toMatchObject({ object: 'dispute', amount: 2000, currency: 'usd', status: 'needs_response', charge: charge.id, payment_intent: intent.id, reason: 'fraudulent' });
      expect(dispute.id).toMatch(/^du_/);
      expect(dispute.balance_transactions).toHaveLength(1);
      expect(dispute.balance_transactions[0]).toMatchObject({ type: 'adjustment', amount: -2000, fee: 1500, net: -3500, reporting_category: 'dispute', source: dispute.id });
      // The charge settled at once (delay 0): +2000 - fee 88; the dispute took 3500.
      const during = await balance();
      expect(during.available + during.pending - (before.available + before.pending)).toBe(1912 - 3500);

      const saved = ok(await call('POST', `/v1/disputes/${dispute.id}`, { evidence: { customer_name: 'Ada', uncategorized_text: 'winning_evidence' }, metadata: { case: '7' } }));
      expect(saved).toMatchObject({ status: 'needs_response', metadata: { case: '7' }, evidence: { customer_name: 'Ada', uncategorized_text: 'winning_evidence', receipt: null } });
      expect(saved.evidence_details).toMatchObject({ has_evidence: true, submission_count: 0 });
      const won = ok(await call('POST', `/v1/disputes/${dispute.id}`, { submit: true }));
      expect(won).toMatchObject({ status: 'won', evidence_details: { submission_count: 1 } });
      expect(won.balance_transactions.map((txn: { net: number }) => txn.net)).toEqual([-3500, 3500]);
      expect(won.balance_transactions[1]).toMatchObject({ reporting_category: 'dispute_reversal', fee: -1500 });
      const after = await balance();
      expect(after.available + after.pending - (before.available + before.pending)).toBe(1912);
      const closed = await call('POST', `/v1/disputes/${dispute.id}/close`);
      expect(closed.status).toBe(400);
      expect(closed.body.error).toMatchObject({ type: 'invalid_request_error', code: 'dispute_unexpected_state' });
      await expectBalanceInvariant();
    });

    it('keeps a dispute\'s evidence (the cardholder\'s personal data) out of Idempotency-Key records, and replays the dispute as it is now', async () => {
      const intent = await pay({ amount: 2000, payment_method: 'pm_card_createDispute' });
      const dispute = await disputeOf(intent.latest_charge);
      const headers = { 'idempotency-key': `evidence-${backend}-1` };
      const params = { evidence: { customer_name: 'Grace Evidence', customer_email_address: 'grace.evidence@example.com' } };
      const first = ok(await call('POST', `/v1/disputes/${dispute.id}`, params, headers));
      expect(first.evidence).toMatchObject({ customer_email_address: 'grace.evidence@example.com' });
      const replay = await call('POST', `/v1/disputes/${dispute.id}`, params, headers);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(first);
      const records = await running.server.store.readAll({ category: 'idempotency', limit: 10_000 });
      expect(records.some((event) => JSON.stringify(event.data).includes('grace.evidence@example.com'))).toBe(false);
    });

    it('loses on losing_evidence and keeps amount and fee; refuses refunds and further evidence', async () => {
      const intent = await pay({ amount: 3000, payment_method: 'pm_card_createDispute' });
      const dispute = await disputeOf(intent.latest_charge);
      const refund = await call('POST', '/v1/refunds', { payment_intent: intent.id });
      expect(refund.status).toBe(400);
      expect(refund.body.error).toMatchObject({ code: 'charge_disputed', param: 'charge' });
      const lost = ok(await call('POST', `/v1/disputes/${dispute.id}`, { evidence: { uncategorized_text: 'losing_evidence' }, submit: true }));
      expect(lost).toMatchObject({ status: 'lost' });
      expect(lost.balance_transactions).toHaveLength(1);
      const again = await call('POST', `/v1/disputes/${dispute.id}`, { evidence: { receipt: 'file_1' } });
      expect(again.body.error.code).toBe('dispute_unexpected_state');
      await expectBalanceInvariant();
    });

    it('stays under_review on other evidence, refuses changes to it, and closing an open dispute loses it', async () => {
      const review = await pay({ amount: 1000, payment_method: 'pm_card_createDispute' });
      const reviewed = ok(await call('POST', `/v1/disputes/${(await disputeOf(review.latest_charge)).id}`, { evidence: { product_description: 'a book' }, submit: true }));
      expect(reviewed.status).toBe('under_review');
      const changed = await call('POST', `/v1/disputes/${reviewed.id}`, { evidence: { uncategorized_text: 'winning_evidence' } });
      expect(changed.body.error).toMatchObject({ code: 'dispute_unexpected_state', param: 'evidence' });

      const manual = await pay({ amount: 1500, payment_method: 'pm_card_createDispute', capture_method: 'manual' });
      expect((await call('GET', '/v1/disputes', { payment_intent: manual.id })).body.data).toEqual([]);
      ok(await call('POST', `/v1/payment_intents/${manual.id}/capture`));
      const dispute = await disputeOf(manual.latest_charge);
      const closed = ok(await call('POST', `/v1/disputes/${dispute.id}/close`, { expand: ['charge'] }));
      expect(closed).toMatchObject({ status: 'lost', charge: { id: manual.latest_charge, disputed: true } });
      await expectBalanceInvariant();
    });

    it('answers unknown disputes, evidence fields and parameters as Stripe does', async () => {
      expect((await call('GET', '/v1/disputes/du_missing')).body.error).toMatchObject({ code: 'resource_missing', param: 'id' });
      expect((await call('POST', '/v1/disputes/du_missing', { submit: true })).status).toBe(404);
      const intent = await pay({ amount: 1000, payment_method: 'pm_card_createDispute' });
      const dispute = await disputeOf(intent.latest_charge);
      const unknown = await call('POST', `/v1/disputes/${dispute.id}`, { evidence: { colour: 'red' } });
      expect(unknown.body.error).toMatchObject({ code: 'parameter_unknown', param: 'evidence[colour]' });
      const mistyped = await call('POST', `/v1/disputes/${dispute.id}`, { submit: 'maybe' });
      expect(mistyped.status).toBe(400);
      expect(mistyped.body.error.param).toBe('submit');
    });
  });

  describe('payouts', () => {
    it('pays out at most the available balance, balance_insufficient past it; paid through the test helper', async () => {
      await pay({ amount: 50_000 });
      const { available } = await balance();
      const tooMuch = await call('POST', '/v1/payouts', { amount: available + 1, currency: 'usd' });
      expect(tooMuch.status).toBe(400);
      expect(tooMuch.body.error).toMatchObject({ type: 'invalid_request_error', code: 'balance_insufficient' });
      const payout = ok(await call('POST', '/v1/payouts', { amount: 5000, currency: 'usd', metadata: { run: '1' }, expand: ['balance_transaction'] }));
      expect(payout).toMatchObject({ object: 'payout', status: 'pending', amount: 5000, destination: 'ba_000123456789', metadata: { run: '1' } });
      expect(payout.id).toMatch(/^po_/);
      expect(payout.balance_transaction).toMatchObject({ type: 'payout', amount: -5000, net: -5000, source: payout.id });
      expect((await balance()).available).toBe(available - 5000);
      const paid = ok(await call('POST', `/v1/test_helpers/payouts/${payout.id}/process`));
      expect(paid).toMatchObject({ status: 'paid', failure_code: null });
      expect((await balance()).available).toBe(available - 5000);
      const cancel = await call('POST', `/v1/payouts/${payout.id}/cancel`);
      expect(cancel.body.error).toMatchObject({ code: 'payout_unexpected_state' });
      await expectBalanceInvariant();
    });

    it('fails with no_account for 000111111116 and returns the money; cancels a pending payout', async () => {
      await pay({ amount: 20_000 });
      const { available } = await balance();
      const failing = ok(await call('POST', '/v1/payouts', { amount: 4000, currency: 'usd', destination: '000111111116' }));
      const failed = ok(await call('POST', `/v1/test_helpers/payouts/${failing.id}/process`, { expand: ['failure_balance_transaction'] }));
      expect(failed).toMatchObject({ status: 'failed', failure_code: 'no_account', failure_balance_transaction: { type: 'payout_failure', amount: 4000 } });
      expect((await balance()).available).toBe(available);
      const pending = ok(await call('POST', '/v1/payouts', { amount: 3000, currency: 'usd', destination: 'btok_us_verified' }));
      const canceled = ok(await call('POST', `/v1/payouts/${pending.id}/cancel`));
      expect(canceled.status).toBe('canceled');
      expect((await balance()).available).toBe(available);
      const listed = ok(await call('GET', '/v1/payouts', { limit: 2 }));
      expect(listed.data.map((item: { id: string }) => item.id)).toEqual([pending.id, failing.id]);
      const txns = ok(await call('GET', '/v1/balance_transactions', { source: pending.id }));
      expect(txns.data.map((txn: { type: string }) => txn.type).sort()).toEqual(['payout', 'payout_cancel']);
      await expectBalanceInvariant();
    });

    it('refuses unknown destinations, unsupported currencies and non-positive amounts without a 5xx', async () => {
      expect((await call('POST', '/v1/payouts', { amount: 100, currency: 'usd', destination: 'ba_nope' })).body.error).toMatchObject({ code: 'resource_missing', param: 'destination' });
      expect((await call('POST', '/v1/payouts', { amount: 100, currency: 'xyz' })).body.error).toMatchObject({ type: 'invalid_request_error', param: 'currency' });
      const zero = await call('POST', '/v1/payouts', { amount: 0, currency: 'usd' });
      expect(zero.status).toBe(400);
      expect(zero.body.error.param).toBe('amount');
      expect((await call('GET', '/v1/payouts/po_missing')).status).toBe(404);
    });
  });

  describe('connected accounts', () => {
    it('lists what is due, enables charges and payouts once verified, and records the check', async () => {
      const created = ok(await call('POST', '/v1/accounts', { type: 'custom', country: 'US', email: 'shop@example.com', business_type: 'individual' }));
      expect(created).toMatchObject({ object: 'account', charges_enabled: false, payouts_enabled: false, details_submitted: false, requirements: { disabled_reason: 'requirements.past_due' } });
      expect(created.id).toMatch(/^acct_/);
      expect(created.requirements.currently_due).toEqual(expect.arrayContaining(['business_profile.mcc', 'external_account', 'individual.first_name', 'individual.dob.day', 'tos_acceptance.date']));
      const partial = ok(await call('POST', `/v1/accounts/${created.id}`, { business_profile: { mcc: '5734', url: 'https://shop.example.com' }, external_account: 'btok_us_verified' }));
      expect(partial.requirements.currently_due).not.toContain('external_account');
      expect(partial.charges_enabled).toBe(false);
      const verified = ok(await call('POST', `/v1/accounts/${created.id}`, {
        individual: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com', dob: { day: 1, month: 1, year: 1901 }, address: { line1: '1 Main St', city: 'Springfield', postal_code: '12345' } },
        tos_acceptance: { date: 1_700_000_000, ip: '203.0.113.7' },
      }));
      expect(verified).toMatchObject({ charges_enabled: true, payouts_enabled: true, details_submitted: true, requirements: { currently_due: [], disabled_reason: null }, individual: { verification: { status: 'verified' } } });
      const events = await running.server.store.readStream(`paccount-test.${created.id}`, { fromVersion: 1n, limit: 100 });
      expect(events.filter((event) => event.type === 'KycVerificationCompleted').map((event) => (event.data as { outcome: string }).outcome)).toEqual(['verified']);
      expect(ok(await call('GET', `/v1/accounts/${created.id}`)).charges_enabled).toBe(true);
    });

    it('fails verification for the test date of birth 1900-01-01 until another is given', async () => {
      const failing = ok(await call('POST', '/v1/accounts', {
        business_type: 'individual', business_profile: { mcc: '5734', product_description: 'books' }, external_account: { object: 'bank_account', country: 'US', currency: 'usd', account_number: '000123456789' },
        individual: { first_name: 'Bob', last_name: 'Smith', email: 'b@example.com', dob: { day: 1, month: 1, year: 1900 }, address: { line1: '1 Road', city: 'Town', postal_code: '1' } },
        tos_acceptance: { date: 1_700_000_000, ip: '203.0.113.8' },
      }));
      expect(failing).toMatchObject({ charges_enabled: false, individual: { verification: { status: 'unverified' } } });
      expect(failing.requirements.errors[0]).toMatchObject({ code: 'verification_failed_other', requirement: 'individual.dob.day' });
      const fixed = ok(await call('POST', `/v1/accounts/${failing.id}`, { individual: { dob: { day: 2, month: 3, year: 1980 } } }));
      expect(fixed).toMatchObject({ charges_enabled: true, payouts_enabled: true });
    });

    it('refuses the Stripe-Account header, unknown accounts and bad fields; keeps account data out of idempotency records', async () => {
      const scoped = await call('GET', '/v1/balance', undefined, { 'stripe-account': 'acct_123' });
      expect(scoped.status).toBe(400);
      expect(scoped.body.error).toMatchObject({ code: 'account_invalid', type: 'invalid_request_error' });
      expect((await call('GET', '/v1/accounts/acct_missing')).status).toBe(404);
      expect((await call('POST', '/v1/accounts', { business_profile: { mcc: 'abc' } })).body.error).toMatchObject({ param: 'business_profile[mcc]' });
      const headers = { 'idempotency-key': `account-${backend}-1` };
      const first = ok(await call('POST', '/v1/accounts', { email: 'private@example.com' }, headers));
      const replay = await call('POST', '/v1/accounts', { email: 'private@example.com' }, headers);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body.id).toBe(first.id);
      const records = await running.server.store.readAll({ category: 'idempotency', limit: 10_000 });
      expect(records.some((event) => JSON.stringify(event.data).includes('private@example.com'))).toBe(false);
    });
  });
}

describe('disputes, payouts and accounts on SQLite', () => describeMoneyOut('sqlite'));
describeIfPostgres('disputes, payouts and accounts on PostgreSQL', () => describeMoneyOut('postgres'));
