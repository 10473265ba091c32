/**
 * Disputes (in the PaymentIntent decider), payouts and connected accounts,
 * given/when/then: a dispute test card's capture opens a dispute with the
 * fee; evidence saved, submitted, resolved by the test words; close loses;
 * refunds refused while disputed; payouts capped by the available balance,
 * paid or failed by the test account, canceled only while pending;
 * accounts verified once nothing is due.
 */
import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../../decider/index.ts';
import { accountDecider, type AccountCommand } from './account.decider.ts';
import { EMPTY_ACCOUNT_PII, EMPTY_ACCOUNT_PROFILE } from './account.rules.ts';
import { testCardOfToken } from './cards.rules.ts';
import { DEFAULT_FEE_SCHEDULE } from './fees.rules.ts';
import { verdictOf } from './fraud.rules.ts';
import type { PaymentIntentCommand } from './paymentIntent.commands.ts';
import { paymentIntentDecider } from './paymentIntent.decider.ts';
import type { PaymentIntentEvent } from './paymentIntent.events.ts';
import { payoutDecider, type PayoutCommand } from './payout.decider.ts';
import type { PayoutEvent } from './payout.events.ts';
import { payoutDestinationOf } from './payout.rules.ts';

const T0 = 1_700_000_000_000;
const PI = 'pi_1';
const terms = { fees: DEFAULT_FEE_SCHEDULE, settlementDelayMs: 1000, disputeFeeMinor: 1500n };
const spec = deciderSpec(paymentIntentDecider);

const paid = (token: string, captureMethod: 'automatic' | 'manual' = 'automatic'): PaymentIntentEvent[] => {
  const created = spec.given([]).when({
    type: 'CreatePaymentIntent', data: { paymentIntentId: PI, amount: 2000n, currency: 'usd', customerId: null, paymentMethodId: null, captureMethod, description: null, atMs: T0 },
  }).events() as PaymentIntentEvent[];
  const confirm: PaymentIntentCommand = {
    type: 'ConfirmPaymentIntent',
    data: { paymentIntentId: PI, paymentMethod: { paymentMethodId: 'pm_1', ...testCardOfToken(token, 2030)! }, chargeId: 'ch_1', balanceTransactionId: 'txn_1', terms, fraud: verdictOf(10), atMs: T0 + 1 },
  };
  return [...created, ...spec.given(created).when(confirm).events() as PaymentIntentEvent[]];
};
const update = (data: Partial<Extract<PaymentIntentCommand, { type: 'UpdateDispute' }>['data']>): PaymentIntentCommand => ({
  type: 'UpdateDispute', data: { paymentIntentId: PI, disputeId: 'du_1', submit: false, atMs: T0 + 5, ...data },
});
const close: PaymentIntentCommand = { type: 'CloseDispute', data: { paymentIntentId: PI, disputeId: 'du_1', atMs: T0 + 6 } };
const refund: PaymentIntentCommand = { type: 'CreateRefund', data: { paymentIntentId: PI, refundId: 're_1', chargeId: null, amount: null, reason: null, balanceTransactionId: 'txn_re', atMs: T0 + 7 } };

describe('given a captured charge of a dispute test card', () => {
  const history = paid('pm_card_createDispute');
  const given = spec.given(history);
  it('recorded DisputeCreated right after PaymentCaptured, with the fee', () => {
    expect(history.map((event) => event.type).slice(-2)).toEqual(['PaymentCaptured', 'DisputeCreated']);
    expect(history.at(-1)).toMatchObject({ data: { disputeId: 'du_1', amount: '2000', fee: '1500', balanceTransactionId: 'txn_1_dispute' } });
  });
  it('saves evidence without submitting', () => expect(given.when(update({ evidence: { customer_name: 'Ada' } })).state()).toMatchObject({ disputes: [{ status: 'needs_response', evidence: { customer_name: 'Ada' } }] }));
  it('wins on winning_evidence, returning amount and fee', () => {
    const events = given.when(update({ evidence: { uncategorized_text: 'winning_evidence' }, submit: true })).events();
    expect(events.map((event) => event.type)).toEqual(['DisputeEvidenceSubmitted', 'DisputeResolved']);
    expect(events[1]).toMatchObject({ data: { outcome: 'won', balanceTransactionId: 'txn_1_dispute_won' } });
  });
  it('loses on losing_evidence, with no reversal', () =>
    expect(given.when(update({ evidence: { uncategorized_text: 'losing_evidence' }, submit: true })).events()[1]).toMatchObject({ data: { outcome: 'lost', balanceTransactionId: null } }));
  it('goes under review on other evidence', () => expect(given.when(update({ evidence: { receipt: 'file_1' }, submit: true })).state()).toMatchObject({ disputes: [{ status: 'under_review', submissionCount: 1 }] }));
  it('closes as lost, accepted by the merchant', () => expect(given.when(close).events()[0]).toMatchObject({ type: 'DisputeResolved', data: { outcome: 'lost', acceptedByMerchant: true } }));
  it('refuses a refund', () => given.when(refund).thenRejects('charge_disputed'));
  it('refuses an unknown dispute', () => given.when(update({ disputeId: 'du_x' })).thenRejects('resource_missing'));
});

describe('given a dispute under review', () => {
  const history = [...paid('pm_card_createDispute'), ...spec.given(paid('pm_card_createDispute')).when(update({ evidence: { receipt: 'f' }, submit: true })).events() as PaymentIntentEvent[]];
  it('refuses new evidence', () => spec.given(history).when(update({ evidence: { receipt: 'g' } })).thenRejects('dispute_unexpected_state'));
  it('still takes metadata', () => expect(spec.given(history).when(update({ metadata: { a: '1' } })).events()[0]!.type).toBe('DisputeUpdated'));
});

describe('given a won dispute', () => {
  const base = paid('pm_card_createDispute');
  const history = [...base, ...spec.given(base).when(update({ evidence: { uncategorized_text: 'winning_evidence' }, submit: true })).events() as PaymentIntentEvent[]];
  it('refuses to close it', () => spec.given(history).when(close).thenRejects('dispute_unexpected_state'));
  it('allows a refund again', () => expect(spec.given(history).when(refund).events()[0]!.type).toBe('RefundCreated'));
});

describe('given a manual-capture intent of a dispute test card', () => {
  const history = paid('pm_card_createDispute', 'manual');
  const capture = (disputeOnCapture: boolean): PaymentIntentCommand => ({
    type: 'CapturePaymentIntent', data: { paymentIntentId: PI, amountToCapture: 1200n, balanceTransactionId: 'txn_1', terms, atMs: T0 + 2, disputeOnCapture },
  });
  it('opens the dispute on capture, for the captured amount', () => expect(spec.given(history).when(capture(true)).events()[1]).toMatchObject({ type: 'DisputeCreated', data: { amount: '1200' } }));
  it('opens none for other cards', () => expect(spec.given(history).when(capture(false)).events()).toHaveLength(1));
});

const payouts = deciderSpec(payoutDecider);
const createPayout = (amount: bigint, availableMinor: bigint, destination = '000123456789'): PayoutCommand => ({
  type: 'CreatePayout',
  data: { payoutId: 'po_1', amount, currency: 'usd', destination: payoutDestinationOf(destination), description: null, statementDescriptor: null, availableMinor, balanceTransactionId: 'txn_po', arrivalDateMs: T0 + 9, atMs: T0 },
});
const process: PayoutCommand = { type: 'ProcessPayout', data: { payoutId: 'po_1', failureBalanceTransactionId: 'txn_po_failure', atMs: T0 + 1 } };
const cancel: PayoutCommand = { type: 'CancelPayout', data: { payoutId: 'po_1', balanceTransactionId: 'txn_po_cancel', atMs: T0 + 1 } };

describe('given no payout', () => {
  const given = payouts.given([]);
  it('creates one up to the available balance', () => expect(given.when(createPayout(500n, 500n)).state()).toMatchObject({ status: 'pending', amount: 500n }));
  it('refuses one above it', () => given.when(createPayout(501n, 500n)).thenRejects('balance_insufficient'));
  it('refuses a non-positive amount', () => given.when(createPayout(0n, 500n)).thenRejects('validation_failed'));
  it('refuses an unknown destination', () => expect(() => payoutDestinationOf('000999')).toThrow(/No such external account/));
  it('refuses to process an unknown one', () => given.when(process).thenRejects('resource_missing'));
});

describe('given a pending payout', () => {
  const paying = payouts.given(payouts.given([]).when(createPayout(500n, 900n)).events() as PayoutEvent[]);
  const failing = payouts.given(payouts.given([]).when(createPayout(500n, 900n, '000111111116')).events() as PayoutEvent[]);
  it('is paid to 000123456789', () => expect(paying.when(process).events()).toEqual([{ type: 'PayoutPaid', data: { payoutId: 'po_1', amount: '500', currency: 'usd', atMs: T0 + 1 } }]));
  it('fails with no_account to 000111111116', () => expect(failing.when(process).state()).toMatchObject({ status: 'failed', failure: { code: 'no_account' }, failureBalanceTransactionId: 'txn_po_failure' }));
  it('cancels', () => expect(paying.when(cancel).state()).toMatchObject({ status: 'canceled' }));
});

describe('given a paid payout', () => {
  const created = payouts.given([]).when(createPayout(500n, 900n)).events() as PayoutEvent[];
  const history = [...created, ...payouts.given(created).when(process).events() as PayoutEvent[]];
  it('refuses to cancel it', () => payouts.given(history).when(cancel).thenRejects('payout_unexpected_state'));
  it('refuses to process it again', () => payouts.given(history).when(process).thenRejects('payout_unexpected_state'));
});

const accounts = deciderSpec(accountDecider);
const createAccount = (pii = EMPTY_ACCOUNT_PII, profile = EMPTY_ACCOUNT_PROFILE): AccountCommand => ({
  type: 'CreateAccount', data: { accountId: 'acct_1', accountType: 'custom', country: 'US', defaultCurrency: 'usd', pii, profile, atMs: T0 },
});
const complete = (year: number) => ({
  pii: { email: null, individual: { firstName: 'A', lastName: 'B', email: 'a@b.c', phone: null, dob: { day: 1, month: 1, year }, address: { line1: 'l', line2: null, city: 'c', state: null, postalCode: 'p', country: 'US' } } },
  profile: {
    ...EMPTY_ACCOUNT_PROFILE, businessType: 'individual' as const, businessProfile: { mcc: '5734', url: 'https://x', name: null, productDescription: null },
    externalAccount: { bankAccountId: 'ba_000123456789', last4: '6789', routingNumber: '110000000' }, tosAcceptance: { dateS: 1, ip: '1.2.3.4' },
  },
});

describe('given no account', () => {
  it('creates one without a check while fields are due', () => expect(accounts.given([]).when(createAccount()).events().map((event) => event.type)).toEqual(['AccountCreated']));
  it('verifies a complete submission at once', () => {
    const { pii, profile } = complete(1901);
    expect(accounts.given([]).when(createAccount(pii, profile)).events()[1]).toMatchObject({ type: 'KycVerificationCompleted', data: { outcome: 'verified' } });
  });
});

describe('given an account that failed verification', () => {
  const { pii, profile } = complete(1900);
  const history = accounts.given([]).when(createAccount(pii, profile)).events();
  const change = (year: number): AccountCommand => ({
    type: 'UpdateAccount', data: { accountId: 'acct_1', change: (current, kept) => ({ pii: { ...current, individual: { ...current.individual, dob: { day: 1, month: 1, year } } }, profile: kept }), atMs: T0 + 1 },
  });
  it('recorded the failure', () => expect(history[1]).toMatchObject({ data: { outcome: 'failed', checkedDob: '1900-01-01' } }));
  it('does not check the same identity again', () => expect(accounts.given(history).when(change(1900)).events()).toHaveLength(1));
  it('checks a new date of birth', () => expect(accounts.given(history).when(change(1980)).events()[1]).toMatchObject({ data: { outcome: 'verified' } }));
  it('refuses an unknown account', () => accounts.given([]).when(change(1980)).thenRejects('resource_missing'));
});
