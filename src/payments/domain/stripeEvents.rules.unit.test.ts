/**
 * Stripe event rules (pure): which Stripe events each domain event implies,
 * by capture method; enabled_events checks; the webhook endpoint decider;
 * the private-target policy for webhook URLs.
 */
import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../../decider/index.ts';
import { checkWebhookUrl, isPrivateAddress } from '../app/webhookTargets.ts';
import { checkEnabledEvents, endpointWants, stripeEventsOf } from './stripeEvents.rules.ts';
import { webhookEndpointDecider } from './webhookEndpoint.decider.ts';

const types = (type: string, data: object, captureMethod?: 'automatic' | 'manual') => stripeEventsOf({ type, data }, { captureMethod }).map((event) => event.type);

describe('stripe events of domain events', () => {
  const ids = { paymentIntentId: 'pi_1', chargeId: 'ch_1', refundId: 're_1', customerId: 'cus_1', paymentMethodId: 'pm_1' };
  it('an automatic capture is silent at authorization and says charge.succeeded, payment_intent.succeeded at capture', () => {
    expect(types('PaymentAuthorized', ids, 'automatic')).toEqual([]);
    expect(types('PaymentCaptured', ids, 'automatic')).toEqual(['charge.succeeded', 'payment_intent.succeeded']);
  });
  it('a manual capture says charge.succeeded and amount_capturable_updated at authorization, charge.captured at capture', () => {
    expect(types('PaymentAuthorized', ids, 'manual')).toEqual(['charge.succeeded', 'payment_intent.amount_capturable_updated']);
    expect(types('PaymentCaptured', ids, 'manual')).toEqual(['charge.captured', 'payment_intent.succeeded']);
  });
  it('maps declines, cancels, refunds, customers and payment methods; other events imply none', () => {
    expect(types('PaymentFailed', ids)).toEqual(['charge.failed', 'payment_intent.payment_failed']);
    expect(types('PaymentIntentCanceled', ids)).toEqual(['payment_intent.canceled']);
    expect(types('RefundCreated', ids)).toEqual(['charge.refunded', 'refund.created']);
    expect(stripeEventsOf({ type: 'StripeCustomerDeleted', data: ids })).toEqual([{ type: 'customer.deleted', subject: { kind: 'customer', id: 'cus_1' }, before: true }]);
    expect(types('PaymentMethodDetached', ids)).toEqual(['payment_method.detached']);
    expect(types('FraudCheckCompleted', ids)).toEqual([]);
  });
});

describe('stripe events of disputes, payouts and accounts', () => {
  const dispute = { paymentIntentId: 'pi_1', disputeId: 'du_1', chargeId: 'ch_1' };
  const subjects = (type: string, data: object) => stripeEventsOf({ type, data }).map((event) => `${event.type} ${event.subject.kind} ${event.subject.id}`);
  it('a dispute opened withdraws funds; evidence saved or submitted updates it', () => {
    expect(subjects('DisputeCreated', dispute)).toEqual(['charge.dispute.created dispute du_1', 'charge.dispute.funds_withdrawn dispute du_1']);
    expect(subjects('DisputeUpdated', dispute)).toEqual(['charge.dispute.updated dispute du_1']);
    expect(subjects('DisputeEvidenceSubmitted', dispute)).toEqual(['charge.dispute.updated dispute du_1']);
  });
  it('a dispute won is closed and reinstates the funds; lost or accepted is only closed', () => {
    expect(types('DisputeResolved', { ...dispute, outcome: 'won', balanceTransactionId: 'txn_1_dispute_won' })).toEqual(['charge.dispute.closed', 'charge.dispute.funds_reinstated']);
    expect(types('DisputeResolved', { ...dispute, outcome: 'lost', balanceTransactionId: null })).toEqual(['charge.dispute.closed']);
  });
  it('maps each payout event to its payout.* type', () => {
    const payout = { payoutId: 'po_1' };
    expect(['PayoutCreated', 'PayoutUpdated', 'PayoutPaid', 'PayoutFailed', 'PayoutCanceled'].flatMap((type) => subjects(type, payout)))
      .toEqual(['payout.created payout po_1', 'payout.updated payout po_1', 'payout.paid payout po_1', 'payout.failed payout po_1', 'payout.canceled payout po_1']);
  });
  it('an account says account.updated on changes and on its verification, nothing on creation (Stripe has no account.created)', () => {
    const account = { accountId: 'acct_1' };
    expect(subjects('AccountUpdated', account)).toEqual(['account.updated account acct_1']);
    expect(subjects('KycVerificationCompleted', account)).toEqual(['account.updated account acct_1']);
    expect(types('AccountCreated', account)).toEqual([]);
  });
  it('accepts every emitted type in enabled_events', () => {
    expect(checkEnabledEvents(['charge.dispute.closed', 'charge.dispute.funds_reinstated', 'payout.updated', 'payout.failed', 'account.updated']))
      .toHaveLength(5);
  });
});

describe('enabled events', () => {
  it('takes * alone or known types, without repeats', () => {
    expect(checkEnabledEvents(['*'])).toEqual(['*']);
    expect(checkEnabledEvents(['charge.succeeded', 'charge.succeeded'])).toEqual(['charge.succeeded']);
    expect(() => checkEnabledEvents([])).toThrow(expect.objectContaining({ code: 'validation_failed' }));
    expect(() => checkEnabledEvents(['charge.succeeded', '*'])).toThrow(expect.objectContaining({ param: 'enabled_events[1]' }));
    expect(() => checkEnabledEvents(Array.from({ length: 65 }, () => 'charge.succeeded'))).toThrow(expect.objectContaining({ code: 'limit_exceeded' }));
    expect(endpointWants(['*'], 'payout.paid')).toBe(true);
    expect(endpointWants(['charge.succeeded'], 'charge.failed')).toBe(false);
  });
});

describe('given no endpoint', () => {
  const given = deciderSpec(webhookEndpointDecider).given([]);
  it('creates one with its secret', () => given.when({ type: 'CreateWebhookEndpoint', data: { webhookEndpointId: 'we_1', url: 'https://x.test', enabledEvents: ['*'], description: null, secret: 'whsec_1', atMs: 1 } })
    .then([{ type: 'WebhookEndpointCreated', data: { webhookEndpointId: 'we_1', url: 'https://x.test', enabledEvents: ['*'], description: null, disabled: false, metadata: {}, secret: 'whsec_1', atMs: 1 } }]));
  it('refuses to update it', () => given.when({ type: 'UpdateWebhookEndpoint', data: { webhookEndpointId: 'we_1', disabled: true, atMs: 2 } }).thenRejects('resource_missing'));
});

describe('given a deleted endpoint', () => {
  const created = { type: 'WebhookEndpointCreated' as const, data: { webhookEndpointId: 'we_1', url: 'https://x.test', enabledEvents: ['*'], description: null, disabled: false, metadata: {}, secret: 's', atMs: 1 } };
  const given = deciderSpec(webhookEndpointDecider).given([created, { type: 'WebhookEndpointDeleted', data: { webhookEndpointId: 'we_1', atMs: 2 } }]);
  it('refuses to delete it again', () => given.when({ type: 'DeleteWebhookEndpoint', data: { webhookEndpointId: 'we_1', atMs: 3 } }).thenRejects('resource_missing'));
});

describe('webhook targets', () => {
  it('knows private, loopback and link-local addresses', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1']) expect(isPrivateAddress(address), address).toBe(true);
    for (const address of ['8.8.8.8', '172.32.0.1', '2606:4700::1111']) expect(isPrivateAddress(address), address).toBe(false);
  });
  it('allows loopback for test mode only by default; none refuses it; all allows live', () => {
    expect(checkWebhookUrl('http://127.0.0.1:9/x', 'test', 'test').hostname).toBe('127.0.0.1');
    expect(() => checkWebhookUrl('http://localhost/x', 'live', 'test')).toThrow(expect.objectContaining({ param: 'url' }));
    expect(() => checkWebhookUrl('http://[::1]/x', 'test', 'none')).toThrow(expect.objectContaining({ param: 'url' }));
    expect(checkWebhookUrl('http://10.0.0.1/x', 'live', 'all').hostname).toBe('10.0.0.1');
    expect(() => checkWebhookUrl('gopher://example.com', 'test', 'all')).toThrow(expect.objectContaining({ param: 'url' }));
  });
  it('refuses every IPv6 form of a private IPv4 address in live mode, as the URL parser writes them', () => {
    for (const url of ['http://[::ffff:127.0.0.1]:43033/', 'http://[::ffff:169.254.169.254]/latest/meta-data', 'http://[::127.0.0.1]/', 'http://[::ffff:0:127.0.0.1]/',
      'http://[64:ff9b::7f00:1]/', 'http://[2002:7f00:1::]/', 'http://[2001::1]/', 'http://[ff02::1]/']) {
      expect(() => checkWebhookUrl(url, 'live', 'test'), url).toThrow(expect.objectContaining({ param: 'url' }));
    }
    expect(checkWebhookUrl('http://[2606:4700::1111]/', 'live', 'test').hostname).toBe('[2606:4700::1111]');
    expect(isPrivateAddress('2002:0808:0808::1')).toBe(false);
  });
});
