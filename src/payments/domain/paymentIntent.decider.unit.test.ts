/**
 * The PaymentIntent decider, one describe per starting state: creation
 * rules (currency, minimum), confirmation (fraud check before
 * authorization, declines recorded, automatic capture with the fee),
 * manual capture (partial, above capturable), cancel, refunds up to the
 * captured amount.
 */
import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../../decider/index.ts';
import { testCardOfToken } from './cards.rules.ts';
import { DEFAULT_FEE_SCHEDULE } from './fees.rules.ts';
import { verdictOf } from './fraud.rules.ts';
import type { PaymentIntentCommand } from './paymentIntent.commands.ts';
import { paymentIntentDecider } from './paymentIntent.decider.ts';
import type { PaymentIntentEvent } from './paymentIntent.events.ts';

const T0 = 1_700_000_000_000;
const PI = 'pi_1';
const terms = { fees: DEFAULT_FEE_SCHEDULE, settlementDelayMs: 1000 };
const allow = verdictOf(10);
const method = (token: string) => ({ paymentMethodId: `pm_${token}`, ...testCardOfToken(token, 2030)! });

const create = (overrides: Partial<Extract<PaymentIntentCommand, { type: 'CreatePaymentIntent' }>['data']> = {}): PaymentIntentCommand => ({
  type: 'CreatePaymentIntent',
  data: { paymentIntentId: PI, amount: 2000n, currency: 'usd', customerId: null, paymentMethodId: null, captureMethod: 'automatic', description: null, atMs: T0, ...overrides },
});
const confirm = (token: string, fraud = allow, chargeId = 'ch_1'): PaymentIntentCommand => ({
  type: 'ConfirmPaymentIntent', data: { paymentIntentId: PI, paymentMethod: method(token), chargeId, balanceTransactionId: `txn_${chargeId.slice(3)}`, terms, fraud, atMs: T0 + 1 },
});
const capture = (amountToCapture: bigint | null): PaymentIntentCommand => ({
  type: 'CapturePaymentIntent', data: { paymentIntentId: PI, amountToCapture, balanceTransactionId: 'txn_1', terms, atMs: T0 + 2 },
});
const refund = (amount: bigint | null, refundId = 're_1'): PaymentIntentCommand => ({
  type: 'CreateRefund', data: { paymentIntentId: PI, refundId, chargeId: null, amount, reason: null, balanceTransactionId: `txn_${refundId}`, atMs: T0 + 3 },
});

const spec = deciderSpec(paymentIntentDecider);
const created = (captureMethod: 'automatic' | 'manual' = 'automatic') => spec.given([]).when(create({ captureMethod })).events() as PaymentIntentEvent[];
const after = (...steps: Array<[PaymentIntentEvent[], PaymentIntentCommand]>) => {
  let history: PaymentIntentEvent[] = [];
  for (const [given, command] of steps) history = [...history, ...given, ...spec.given([...history, ...given]).when(command).events()];
  return history;
};

describe('given no payment intent', () => {
  const given = spec.given([]);
  it('creates one waiting for a payment method', () => expect(given.when(create()).state()).toMatchObject({ status: 'requires_payment_method', amount: 2000n }));
  it('refuses an amount below the currency minimum', () => given.when(create({ amount: 49n })).thenRejects('amount_too_small'));
  it('refuses an unsupported currency', () => given.when(create({ currency: 'xyz' })).thenRejects('validation_failed'));
  it('refuses an amount above eight digits', () => given.when(create({ amount: 100_000_000n })).thenRejects('amount_too_large'));
  it('refuses to confirm what does not exist', () => given.when(confirm('pm_card_visa')).thenRejects('resource_missing'));
});

describe('given a created intent with automatic capture', () => {
  const given = spec.given(created());
  it('records the fraud check before the authorization, then captures with the fee', () => {
    const types = given.when(confirm('pm_card_visa')).events().map((event) => event.type);
    expect(types).toEqual(['ChargeRequested', 'FraudCheckCompleted', 'PaymentAuthorized', 'PaymentCaptured']);
    const captured = given.when(confirm('pm_card_visa')).events().at(-1)!;
    expect(captured.data).toMatchObject({ amount: '2000', fee: '88', net: '1912', availableOnMs: T0 + 1 + 1000, bypassPending: false });
    expect(given.when(confirm('pm_card_visa')).state()).toMatchObject({ status: 'succeeded' });
  });
  it('records a decline with its code and goes back to requires_payment_method', () => {
    const events = given.when(confirm('pm_card_chargeDeclinedInsufficientFunds')).events();
    expect(events.at(-1)).toMatchObject({ type: 'PaymentFailed', data: { declineCode: 'insufficient_funds' } });
    expect(given.when(confirm('pm_card_chargeDeclinedInsufficientFunds')).state()).toMatchObject({ status: 'requires_payment_method', lastPaymentError: { declineCode: 'insufficient_funds' } });
  });
  it('declines what the fraud check blocks', () =>
    expect(given.when(confirm('pm_card_visa', verdictOf(95))).events().at(-1)).toMatchObject({ type: 'PaymentFailed', data: { declineCode: 'fraudulent', blocked: true } }));
  it('makes bypass-pending funds available at once', () =>
    expect(given.when(confirm('pm_card_bypassPending')).events().at(-1)!.data).toMatchObject({ bypassPending: true, availableOnMs: T0 + 1 }));
  it('refuses to capture before confirmation', () => given.when(capture(null)).thenRejects('payment_intent_unexpected_state'));
  it('refuses a refund before anything is captured', () => given.when(refund(null)).thenRejects('payment_intent_unexpected_state'));
});

describe('given an authorized intent with manual capture', () => {
  const history = after([created('manual'), confirm('pm_card_visa')]);
  const given = spec.given(history);
  it('holds the amount', () => expect(given.state()).toMatchObject({ status: 'requires_capture' }));
  it('captures part of it and releases the rest', () =>
    expect(given.when(capture(1200n)).events()[0]!.data).toMatchObject({ amount: '1200', released: '800', fee: '65', net: '1135' }));
  it('refuses to capture more than capturable', () => given.when(capture(2001n)).thenRejects('amount_too_large'));
  it('cancels, voiding the hold', () =>
    expect(given.when({ type: 'CancelPaymentIntent', data: { paymentIntentId: PI, reason: null, atMs: T0 + 5 } }).events()[0]!.data).toMatchObject({ voidedChargeId: 'ch_1', voidedAmount: '2000' }));
});

describe('given a canceled intent', () => {
  const given = spec.given(after([created('manual'), confirm('pm_card_visa')], [[], { type: 'CancelPaymentIntent', data: { paymentIntentId: PI, reason: 'duplicate', atMs: T0 + 5 } }]));
  it('refuses to capture it', () => given.when(capture(null)).thenRejects('payment_intent_unexpected_state'));
  it('refuses to cancel it again', () => given.when({ type: 'CancelPaymentIntent', data: { paymentIntentId: PI, reason: null, atMs: T0 + 6 } }).thenRejects('payment_intent_unexpected_state'));
});

describe('given a captured payment', () => {
  const captured = after([created(), confirm('pm_card_visa')]);
  const given = spec.given(captured);
  it('refunds part of it, with a negative balance transaction and no fee back', () => {
    const state = given.when(refund(500n)).state();
    expect(state).toMatchObject({ balanceTransactions: [{ net: 1912n }, { amount: -500n, fee: 0n, net: -500n, type: 'refund' }] });
  });
  it('refuses a refund above the charge', () => given.when(refund(2001n)).thenRejects('amount_too_large'));
  it('refunds the rest by default, then refuses another', () => {
    const refunded = after([captured, refund(500n)], [[], refund(null, 're_2')]);
    expect(refunded.at(-1)!.data).toMatchObject({ amount: '1500' });
    spec.given(refunded).when(refund(null, 're_3')).thenRejects('charge_already_refunded');
  });
  it('refuses to confirm again', () => given.when(confirm('pm_card_visa', allow, 'ch_2')).thenRejects('payment_intent_unexpected_state'));
  // Ids of new objects derive from the Idempotency-Key and payload: the same id again is the same request, retried after its answer was lost.
  it('answers the same confirmation again with nothing new', () => given.when(confirm('pm_card_visa')).then([]));
  it('answers the same creation again with nothing new', () => given.when(create({ amount: 3000n })).then([]));
  it('answers the same refund again with nothing new, even once the charge is fully refunded', () => {
    const refunded = after([captured, refund(null)]);
    spec.given(refunded).when(refund(null)).then([]);
  });
});
