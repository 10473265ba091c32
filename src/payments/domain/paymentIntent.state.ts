import type { CardDetails, DeclineCode } from './cards.rules.ts';
import type { RiskLevel } from './fraud.rules.ts';
import { type DisputeState, evolveDispute } from './dispute.rules.ts';
import type { CaptureMethod, PaymentIntentEvent, Shipping } from './paymentIntent.events.ts';
import type { Metadata, PaymentCurrency } from './payments.rules.ts';
import { assertNever } from '../../kernel/assert.ts';

export type PaymentIntentStatus = 'requires_payment_method' | 'requires_confirmation' | 'processing' | 'requires_capture' | 'succeeded' | 'canceled';

export type BalanceTransactionState = {
  readonly balanceTransactionId: string;
  /** `adjustment`: a dispute's withdrawal or its reversal (`category`); `payout…`: in a payout's stream. */
  readonly type: 'charge' | 'refund' | 'adjustment' | 'payout' | 'payout_failure' | 'payout_cancel';
  /** Stripe's `reporting_category` where it is not the type. */
  readonly category?: 'dispute' | 'dispute_reversal';
  /** The charge, refund, dispute or payout id. */
  readonly sourceId: string;
  readonly amount: bigint;
  readonly fee: bigint;
  readonly net: bigint;
  readonly currency: PaymentCurrency;
  readonly createdAtMs: number;
  readonly availableOnMs: number;
};

export type RefundState = {
  readonly refundId: string;
  readonly chargeId: string;
  readonly amount: bigint;
  readonly reason: string | null;
  readonly metadata: Metadata;
  readonly balanceTransactionId: string;
  readonly createdAtMs: number;
};

export type ChargeState = {
  readonly chargeId: string;
  readonly paymentMethodId: string;
  readonly card: CardDetails;
  readonly customerId: string | null;
  readonly amount: bigint;
  readonly status: 'pending' | 'succeeded' | 'failed';
  readonly authorized: boolean;
  readonly captured: boolean;
  readonly amountCaptured: bigint;
  readonly amountRefunded: bigint;
  /** Released when the intent was canceled, or the uncaptured rest of a partial capture. */
  readonly released: boolean;
  readonly fraud: { readonly score: number; readonly riskLevel: RiskLevel; readonly decision: 'allow' | 'block' } | null;
  readonly failure: { readonly code: 'card_declined'; readonly declineCode: DeclineCode; readonly message: string; readonly blocked: boolean } | null;
  readonly balanceTransactionId: string | null;
  readonly disputeExpected: boolean;
  readonly createdAtMs: number;
};

export type PaymentIntentFields = {
  readonly paymentIntentId: string;
  readonly amount: bigint;
  readonly currency: PaymentCurrency;
  readonly customerId: string | null;
  readonly paymentMethodId: string | null;
  readonly captureMethod: CaptureMethod;
  readonly description: string | null;
  readonly metadata: Metadata;
  readonly receiptEmail: string | null;
  readonly shipping: Shipping | null;
};

export type PaymentIntentState =
  | { readonly status: 'none' }
  | (PaymentIntentFields & {
      readonly status: PaymentIntentStatus;
      readonly createdAtMs: number;
      readonly canceledAtMs: number | null;
      readonly cancellationReason: string | null;
      /** Oldest first. */
      readonly charges: readonly ChargeState[];
      readonly refunds: readonly RefundState[];
      readonly balanceTransactions: readonly BalanceTransactionState[];
      /** Oldest first: at most one per charge. */
      readonly disputes: readonly DisputeState[];
      /** The failure of the latest attempt, until the next one. */
      readonly lastPaymentError: { readonly chargeId: string; readonly declineCode: DeclineCode; readonly message: string; readonly paymentMethodId: string } | null;
    });

export type ExistingPaymentIntent = Exclude<PaymentIntentState, { status: 'none' }>;

/** Amounts of the intent as Stripe reports them. */
export function amountCapturable(state: ExistingPaymentIntent): bigint {
  const charge = latestCharge(state);
  return state.status === 'requires_capture' && charge !== undefined ? charge.amount : 0n;
}

export function amountReceived(state: ExistingPaymentIntent): bigint {
  return state.charges.reduce((sum, charge) => sum + charge.amountCaptured, 0n);
}

export function latestCharge(state: ExistingPaymentIntent): ChargeState | undefined {
  return state.charges.at(-1);
}

export function statusAfterCreation(paymentMethodId: string | null): PaymentIntentStatus {
  return paymentMethodId === null ? 'requires_payment_method' : 'requires_confirmation';
}

/** Folds one event (see paymentIntentDecider). */
export function evolvePaymentIntent(state: PaymentIntentState, event: PaymentIntentEvent): PaymentIntentState {
  if (event.type === 'PaymentIntentCreated') {
    const d = event.data;
    return {
      status: statusAfterCreation(d.paymentMethodId), paymentIntentId: d.paymentIntentId, amount: BigInt(d.amount), currency: d.currency, customerId: d.customerId,
      paymentMethodId: d.paymentMethodId, captureMethod: d.captureMethod, description: d.description, metadata: d.metadata,
      receiptEmail: d.receiptEmail ?? null, shipping: d.shipping ?? null, createdAtMs: d.atMs,
      canceledAtMs: null, cancellationReason: null, charges: [], refunds: [], balanceTransactions: [], disputes: [], lastPaymentError: null,
    };
  }
  if (state.status === 'none') return state;
  return evolveExisting(state, event);
}

function evolveExisting(state: ExistingPaymentIntent, event: Exclude<PaymentIntentEvent, { type: 'PaymentIntentCreated' }>): ExistingPaymentIntent {
  switch (event.type) {
    case 'PaymentIntentUpdated': {
      const d = event.data;
      const status = state.status === 'requires_payment_method' || state.status === 'requires_confirmation' ? statusAfterCreation(d.paymentMethodId) : state.status;
      return {
        ...state, status, amount: BigInt(d.amount), currency: d.currency, customerId: d.customerId, paymentMethodId: d.paymentMethodId,
        captureMethod: d.captureMethod, description: d.description, metadata: d.metadata, receiptEmail: d.receiptEmail ?? null, shipping: d.shipping ?? null,
      };
    }
    case 'ChargeRequested': {
      const d = event.data;
      const charge: ChargeState = {
        chargeId: d.chargeId, paymentMethodId: d.paymentMethodId, card: d.card, customerId: d.customerId, amount: BigInt(d.amount), status: 'pending',
        authorized: false, captured: false, amountCaptured: 0n, amountRefunded: 0n, released: false, fraud: null, failure: null, balanceTransactionId: null,
        disputeExpected: false, createdAtMs: d.atMs,
      };
      return { ...state, status: 'processing', paymentMethodId: d.paymentMethodId, lastPaymentError: null, charges: [...state.charges, charge] };
    }
    case 'FraudCheckCompleted':
      return withCharge(state, event.data.chargeId, (charge) => ({ ...charge, fraud: { score: event.data.score, riskLevel: event.data.riskLevel, decision: event.data.decision } }));
    case 'PaymentAuthorized':
      return { ...withCharge(state, event.data.chargeId, (charge) => ({ ...charge, authorized: true, status: 'succeeded' })), status: 'requires_capture' };
    case 'PaymentFailed': {
      const d = event.data;
      const failed = withCharge(state, d.chargeId, (charge) => ({ ...charge, status: 'failed', failure: { code: d.code, declineCode: d.declineCode, message: d.message, blocked: d.blocked } }));
      const charge = failed.charges.find((item) => item.chargeId === d.chargeId)!;
      return { ...failed, status: 'requires_payment_method', lastPaymentError: { chargeId: d.chargeId, declineCode: d.declineCode, message: d.message, paymentMethodId: charge.paymentMethodId } };
    }
    case 'PaymentCaptured':
      return capturedState(state, event.data);
    case 'PaymentIntentCanceled': {
      const { voidedChargeId, reason, atMs } = event.data;
      const voided = voidedChargeId === null ? state : withCharge(state, voidedChargeId, (charge) => ({ ...charge, released: true }));
      return { ...voided, status: 'canceled', canceledAtMs: atMs, cancellationReason: reason };
    }
    case 'RefundCreated':
      return refundedState(state, event.data);
    case 'DisputeCreated': case 'DisputeUpdated': case 'DisputeEvidenceSubmitted': case 'DisputeResolved':
      return evolveDispute(state, event);
    default:
      return assertNever(event);
  }
}

function capturedState(state: ExistingPaymentIntent, d: Extract<PaymentIntentEvent, { type: 'PaymentCaptured' }>['data']): ExistingPaymentIntent {
  const amount = BigInt(d.amount);
  const captured = withCharge(state, d.chargeId, (charge) => ({
    ...charge, captured: true, amountCaptured: amount, released: BigInt(d.released) > 0n, balanceTransactionId: d.balanceTransactionId, disputeExpected: d.disputeExpected,
  }));
  const transaction: BalanceTransactionState = {
    balanceTransactionId: d.balanceTransactionId, type: 'charge', sourceId: d.chargeId, amount, fee: BigInt(d.fee), net: BigInt(d.net), currency: d.currency,
    createdAtMs: d.atMs, availableOnMs: d.availableOnMs,
  };
  return { ...captured, status: 'succeeded', balanceTransactions: [...state.balanceTransactions, transaction] };
}

function refundedState(state: ExistingPaymentIntent, d: Extract<PaymentIntentEvent, { type: 'RefundCreated' }>['data']): ExistingPaymentIntent {
  const amount = BigInt(d.amount);
  const refunded = withCharge(state, d.chargeId, (charge) => ({ ...charge, amountRefunded: charge.amountRefunded + amount }));
  const refund: RefundState = {
    refundId: d.refundId, chargeId: d.chargeId, amount, reason: d.reason, metadata: d.metadata, balanceTransactionId: d.balanceTransactionId, createdAtMs: d.atMs,
  };
  const transaction: BalanceTransactionState = {
    balanceTransactionId: d.balanceTransactionId, type: 'refund', sourceId: d.refundId, amount: -amount, fee: 0n, net: -amount, currency: d.currency,
    createdAtMs: d.atMs, availableOnMs: d.atMs,
  };
  return { ...refunded, refunds: [...state.refunds, refund], balanceTransactions: [...state.balanceTransactions, transaction] };
}

function withCharge(state: ExistingPaymentIntent, chargeId: string, change: (charge: ChargeState) => ChargeState): ExistingPaymentIntent {
  return { ...state, charges: state.charges.map((charge) => (charge.chargeId === chargeId ? change(charge) : charge)) };
}
