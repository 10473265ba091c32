/**
 * Webhooks of disputes and payouts through Stripe's official client
 * (`stripe` 23.x, unchanged), on SQLite and PostgreSQL: an endpoint created
 * with the SDK, subscribed to `charge.dispute.created` and `payout.paid`,
 * receives exactly those events from a disputed payment and a paid payout
 * (and nothing of the failed payout or the dispute's other events), signed so
 * that `stripe.webhooks.constructEvent` accepts them with the endpoint's
 * secret; `stripe.events.list` finds them by type.
 */
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIfPostgres } from '../../../test/support/postgres.ts';
import { type Backend, STRIPE_TEST_SECRET, startStripeServer, type StripeServer } from './stripeTestkit.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhookTestReceiver.ts';

function describeSdkMoneyOutWebhooks(backend: Backend): void {
  let running: StripeServer;
  let stripe: Stripe;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    running = await startStripeServer(backend, { DAYBOOK_STRIPE_SETTLEMENT_DELAY_SECONDS: '0' });
    stripe = new Stripe(STRIPE_TEST_SECRET, { host: '127.0.0.1', port: running.port, protocol: 'http', maxNetworkRetries: 2 });
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await running?.close();
    await receiver?.close();
  });

  it('delivers charge.dispute.created and payout.paid, signed so that stripe.webhooks.constructEvent accepts them', async () => {
    const endpoint = await stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['charge.dispute.created', 'payout.paid'] });
    const intent = await stripe.paymentIntents.create({ amount: 60_000, currency: 'usd', payment_method: 'pm_card_createDispute', confirm: true });
    const [dispute] = (await stripe.disputes.list({ payment_intent: intent.id })).data;
    await stripe.disputes.update(dispute!.id, { evidence: { uncategorized_text: 'winning_evidence' }, submit: true });
    const failing = await stripe.payouts.create({ amount: 700, currency: 'usd', destination: '000111111116' });
    await stripe.rawRequest('POST', `/v1/test_helpers/payouts/${failing.id}/process`, {});
    const payout = await stripe.payouts.create({ amount: 1200, currency: 'usd' });
    await stripe.rawRequest('POST', `/v1/test_helpers/payouts/${payout.id}/process`, {});

    await receiver.waitFor((received) => ['charge.dispute.created', 'payout.paid'].every((type) => received.some((item) => item.event.type === type)));
    // Deliveries run concurrently: order is not promised, only the set.
    const events = receiver.received.map((item) => stripe.webhooks.constructEvent(item.body, item.signature, endpoint.secret!));
    expect(events.map((event) => event.type).sort()).toEqual(['charge.dispute.created', 'payout.paid']);
    const created = events.find((event) => event.type === 'charge.dispute.created') as Stripe.ChargeDisputeCreatedEvent;
    expect(created.data.object).toMatchObject({ id: dispute!.id, object: 'dispute', status: 'needs_response', amount: 60_000, payment_intent: intent.id });
    const paid = events.find((event) => event.type === 'payout.paid') as Stripe.PayoutPaidEvent;
    expect(paid.data.object).toMatchObject({ id: payout.id, object: 'payout', status: 'paid', amount: 1200 });
    const first = receiver.received[0]!;
    expect(() => stripe.webhooks.constructEvent(first.body, first.signature, 'whsec_wrong')).toThrow(Stripe.errors.StripeSignatureVerificationError);

    const listed = await stripe.events.list({ type: 'charge.dispute.*' });
    expect(listed.data.map((event) => event.type)).toEqual(['charge.dispute.funds_reinstated', 'charge.dispute.closed', 'charge.dispute.updated', 'charge.dispute.funds_withdrawn', 'charge.dispute.created']);
    expect((await stripe.events.retrieve(paid.id)).data.object).toEqual(paid.data.object);
    const failed = await stripe.events.list({ type: 'payout.failed' });
    expect(failed.data.map((event) => (event.data.object as Stripe.Payout).id)).toEqual([failing.id]);
  });
}

describe('dispute and payout webhooks through the stripe SDK on SQLite', () => describeSdkMoneyOutWebhooks('sqlite'));
describeIfPostgres('dispute and payout webhooks through the stripe SDK on PostgreSQL', () => describeSdkMoneyOutWebhooks('postgres'));
