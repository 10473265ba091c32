/**
 * Stripe events of disputes, payouts and connected accounts over real HTTP,
 * on SQLite and PostgreSQL: `GET /v1/events` lists `charge.dispute.*`,
 * `payout.*` and `account.updated` in the order they happened (newest
 * first), each with `data.object` the object as it was at that event (a
 * dispute needing a response, then under review or won; a payout pending,
 * then paid, failed or canceled; an account before and after its
 * verification), the request id and idempotency key of the call that caused
 * it, and the same body from `/v1/events/:id`. The `payments_events`
 * projection rebuilt from the log gives the same events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIfPostgres } from '../../../test/support/postgres.ts';
import { PAYMENT_EVENTS_PROJECTION_NAME } from '../../payments/index.ts';
import { type Backend, startStripeServer, stripeClient, type StripeServer } from './stripeTestkit.ts';

type Event = { id: string; type: string; data: { object: Record<string, any> }; request: { id: string | null; idempotency_key: string | null }; created: number };

function describeMoneyOutEvents(backend: Backend): void {
  let running: StripeServer;
  let call: ReturnType<typeof stripeClient>;

  beforeAll(async () => {
    running = await startStripeServer(backend, { DAYBOOK_STRIPE_SETTLEMENT_DELAY_SECONDS: '0' });
    call = stripeClient(running.url);
  });
  afterAll(async () => running?.close());

  const ok = async (answer: Promise<{ status: number; body: Record<string, any>; headers: Headers }>) => {
    const { status, body, headers } = await answer;
    expect(status, JSON.stringify(body)).toBe(200);
    return Object.assign(body, { requestId: headers.get('request-id') });
  };
  /** Every event about one object, oldest first (the list is newest first; paged through with starting_after). */
  const eventsOf = async (objectId: string, type = '*'): Promise<Event[]> => {
    const all: Event[] = [];
    for (let page = await ok(call('GET', '/v1/events', { limit: 100, ...(type === '*' ? {} : { type }) })); ;) {
      all.push(...(page.data as Event[]));
      if (!page.has_more) break;
      page = await ok(call('GET', '/v1/events', { limit: 100, starting_after: page.data.at(-1).id, ...(type === '*' ? {} : { type }) }));
    }
    return all.filter((event) => event.data.object.id === objectId).reverse();
  };

  it('emits charge.dispute.created and funds_withdrawn, updated on saved and submitted evidence, closed and funds_reinstated when won', async () => {
    const intent = await ok(call('POST', '/v1/payment_intents', { amount: 2000, currency: 'usd', payment_method: 'pm_card_createDispute', confirm: true }, { 'idempotency-key': `dispute-${backend}` }));
    const [dispute] = (await ok(call('GET', '/v1/disputes', { charge: intent.latest_charge }))).data as Array<Record<string, any>>;
    const saved = await ok(call('POST', `/v1/disputes/${dispute!.id}`, { evidence: { customer_name: 'Ada' }, metadata: { case: '9' } }));
    const submitted = await ok(call('POST', `/v1/disputes/${dispute!.id}`, { evidence: { uncategorized_text: 'winning_evidence' }, submit: true }));
    expect(submitted.status).toBe('won');

    const events = await eventsOf(dispute!.id);
    expect(events.map((event) => event.type)).toEqual([
      'charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.updated', 'charge.dispute.updated', 'charge.dispute.closed', 'charge.dispute.funds_reinstated',
    ]);
    const [created, withdrawn, updated, underReview, closed, reinstated] = events as [Event, Event, Event, Event, Event, Event];
    expect(created.data.object).toMatchObject({
      id: dispute!.id, object: 'dispute', status: 'needs_response', amount: 2000, charge: intent.latest_charge, payment_intent: intent.id, metadata: {},
      evidence: { customer_name: null }, evidence_details: { has_evidence: false, submission_count: 0, past_due: false },
    });
    expect(created.data.object.balance_transactions).toEqual([expect.objectContaining({ net: -3500, reporting_category: 'dispute', status: 'available' })]);
    expect(created.request).toEqual({ id: intent.requestId, idempotency_key: `dispute-${backend}` });
    expect(withdrawn.data.object).toEqual(created.data.object);
    expect(updated.data.object).toMatchObject({ status: 'needs_response', metadata: { case: '9' }, evidence: { customer_name: 'Ada', uncategorized_text: null } });
    expect(updated.request.id).toBe(saved.requestId);
    // Submitting recorded two domain events: the submission (under review), then the test-mode resolution (won).
    expect(underReview.data.object).toMatchObject({ status: 'under_review', evidence: { uncategorized_text: 'winning_evidence' }, evidence_details: { submission_count: 1 } });
    expect(closed.data.object).toMatchObject({ status: 'won', evidence_details: { submission_count: 1, due_by: null } });
    expect(closed.data.object.balance_transactions.map((txn: { net: number }) => txn.net)).toEqual([-3500, 3500]);
    expect(reinstated.data.object).toEqual(closed.data.object);
    for (const event of [underReview, closed, reinstated]) expect(event.request.id).toBe(submitted.requestId);
    expect((await ok(call('GET', `/v1/events/${closed.id}`)))).toMatchObject({ id: closed.id, type: 'charge.dispute.closed', data: closed.data });
  });

  it('closes a lost or accepted dispute without reinstating funds; charge.dispute.* lists only dispute events', async () => {
    const accepted = await ok(call('POST', '/v1/payment_intents', { amount: 1500, currency: 'usd', payment_method: 'pm_card_createDispute', confirm: true }));
    const [dispute] = (await ok(call('GET', '/v1/disputes', { payment_intent: accepted.id }))).data as Array<Record<string, any>>;
    await ok(call('POST', `/v1/disputes/${dispute!.id}/close`));
    const events = await eventsOf(dispute!.id, 'charge.dispute.*');
    expect(events.map((event) => event.type)).toEqual(['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.closed']);
    expect(events[2]!.data.object).toMatchObject({ status: 'lost', balance_transactions: [expect.objectContaining({ net: -3000 })] });
    const closedOnly = await ok(call('GET', '/v1/events', { type: 'charge.dispute.closed', limit: 100 }));
    expect(new Set((closedOnly.data as Event[]).map((event) => event.type))).toEqual(new Set(['charge.dispute.closed']));
    expect((closedOnly.data as Event[]).map((event) => event.data.object.status)).toEqual(['lost', 'won']);
  });

  it('emits payout.created then payout.paid, payout.failed or payout.canceled, with the payout as it was; payout.updated on metadata', async () => {
    await ok(call('POST', '/v1/payment_intents', { amount: 50_000, currency: 'usd', payment_method: 'pm_card_bypassPending', confirm: true }));
    const paid = await ok(call('POST', '/v1/payouts', { amount: 1000, currency: 'usd' }, { 'idempotency-key': `payout-${backend}` }));
    await ok(call('POST', `/v1/payouts/${paid.id}`, { metadata: { batch: '7' } }));
    const processed = await ok(call('POST', `/v1/test_helpers/payouts/${paid.id}/process`));
    const failing = await ok(call('POST', '/v1/payouts', { amount: 2000, currency: 'usd', destination: '000111111116' }));
    await ok(call('POST', `/v1/test_helpers/payouts/${failing.id}/process`));
    const canceled = await ok(call('POST', '/v1/payouts', { amount: 3000, currency: 'usd' }));
    await ok(call('POST', `/v1/payouts/${canceled.id}/cancel`));

    const ofPaid = await eventsOf(paid.id);
    expect(ofPaid.map((event) => event.type)).toEqual(['payout.created', 'payout.updated', 'payout.paid']);
    expect(ofPaid[0]!.data.object).toMatchObject({ object: 'payout', status: 'pending', amount: 1000, metadata: {}, balance_transaction: paid.balance_transaction });
    expect(ofPaid[0]!.request).toEqual({ id: paid.requestId, idempotency_key: `payout-${backend}` });
    expect(ofPaid[1]!.data.object).toMatchObject({ status: 'pending', metadata: { batch: '7' } });
    expect(ofPaid[2]!.data.object).toMatchObject({ status: 'paid', metadata: { batch: '7' }, reconciliation_status: 'completed' });
    expect(ofPaid[2]!.request.id).toBe(processed.requestId);
    const ofFailing = await eventsOf(failing.id);
    expect(ofFailing.map((event) => event.type)).toEqual(['payout.created', 'payout.failed']);
    expect(ofFailing[1]!.data.object).toMatchObject({ status: 'failed', failure_code: 'no_account', failure_balance_transaction: expect.stringMatching(/^txn_/) });
    const ofCanceled = await eventsOf(canceled.id);
    expect(ofCanceled.map((event) => event.type)).toEqual(['payout.created', 'payout.canceled']);
    expect(ofCanceled[1]!.data.object).toMatchObject({ status: 'canceled', amount: 3000 });
    const payouts = await ok(call('GET', '/v1/events', { type: 'payout.*', limit: 100 }));
    expect((payouts.data as Event[]).slice(0, 7).map((event) => `${event.type} ${event.data.object.id}`)).toEqual([
      `payout.canceled ${canceled.id}`, `payout.created ${canceled.id}`, `payout.failed ${failing.id}`, `payout.created ${failing.id}`,
      `payout.paid ${paid.id}`, `payout.updated ${paid.id}`, `payout.created ${paid.id}`,
    ]);
  });

  it('emits account.updated on each update and on verification, with the account as it was; none on creation', async () => {
    const created = await ok(call('POST', '/v1/accounts', { type: 'custom', country: 'US', email: 'shop@example.com', business_type: 'individual' }));
    expect(await eventsOf(created.id)).toEqual([]);
    await ok(call('POST', `/v1/accounts/${created.id}`, { business_profile: { mcc: '5734', url: 'https://shop.example.com' }, external_account: 'btok_us_verified' }));
    const verified = await ok(call('POST', `/v1/accounts/${created.id}`, {
      individual: { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com', dob: { day: 1, month: 1, year: 1901 }, address: { line1: '1 Main St', city: 'Springfield', postal_code: '12345' } },
      tos_acceptance: { date: 1_700_000_000, ip: '203.0.113.7' },
    }));
    expect(verified.charges_enabled).toBe(true);
    const events = await eventsOf(created.id);
    expect(events.map((event) => event.type)).toEqual(['account.updated', 'account.updated', 'account.updated']);
    expect(events[0]!.data.object).toMatchObject({ object: 'account', business_profile: { mcc: '5734' }, charges_enabled: false });
    expect(events[0]!.data.object.requirements.currently_due).toContain('individual.first_name');
    // The update that submitted the last details, then the identity check it triggered (same request).
    expect(events[1]!.data.object).toMatchObject({ individual: { first_name: 'Ada', verification: { status: 'unverified' } }, charges_enabled: false });
    expect(events[2]!.data.object).toMatchObject({ individual: { verification: { status: 'verified' } }, charges_enabled: true, payouts_enabled: true });
    expect(events[1]!.request.id).toBe(verified.requestId);
    expect(events[2]!.request.id).toBe(verified.requestId);
  });

  it('rebuilds the same events from the log', async () => {
    const before = (await ok(call('GET', '/v1/events', { limit: 100 }))).data as Event[];
    expect(before.length).toBeGreaterThan(20);
    await running.server.projections.rebuild(PAYMENT_EVENTS_PROJECTION_NAME);
    const after = (await ok(call('GET', '/v1/events', { limit: 100 }))).data as Event[];
    expect(after).toEqual(before);
  });
}

describe('Stripe events of disputes, payouts and accounts on SQLite', () => describeMoneyOutEvents('sqlite'));
describeIfPostgres('Stripe events of disputes, payouts and accounts on PostgreSQL', () => describeMoneyOutEvents('postgres'));
