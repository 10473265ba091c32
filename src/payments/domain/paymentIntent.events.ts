import type { CardDetails, DeclineCode } from './cards.rules.ts';
import type { PostalAddress } from './customer.events.ts';
import { DISPUTE_EVENT_TYPES, type DisputeEvent } from './dispute.events.ts';
import type { RiskLevel } from './fraud.rules.ts';
import type { Metadata, PaymentCurrency } from './payments.rules.ts';

/**
 * Events of a PaymentIntent stream (`pintent-<mode>.<pi_id>`): the intent,
 * its charges (one per confirmation attempt), their refunds and the balance
 * transactions they create, so that every invariant (capturable amount,
 * refundable amount) comes from this one stream. Amounts are integer strings
 * of minor units. The customer is named by id; the intent's own personal
 * data (description, metadata, receipt email, shipping; refund metadata,
 * dispute evidence) is sealed under the intent's data subject (see
 * src/privacy/piiFields.ts). `receiptEmail` and `shipping` are absent from
 * events written before they were kept (read as null).
 */
export type CaptureMethod = 'automatic' | 'manual';

/** Where the goods go (Stripe's `shipping`). */
export type Shipping = {
  readonly name: string; readonly phone: string | null; readonly address: PostalAddress; readonly carrier: string | null; readonly trackingNumber: string | null;
};

export type PaymentIntentCreated = {
  type: 'PaymentIntentCreated';
  data: {
    paymentIntentId: string; amount: string; currency: PaymentCurrency; customerId: string | null; paymentMethodId: string | null;
    captureMethod: CaptureMethod; description: string | null; metadata: Metadata; receiptEmail?: string | null; shipping?: Shipping | null; atMs: number;
  };
};
export type PaymentIntentUpdated = {
  type: 'PaymentIntentUpdated';
  data: {
    paymentIntentId: string; amount: string; currency: PaymentCurrency; customerId: string | null; paymentMethodId: string | null;
    captureMethod: CaptureMethod; description: string | null; metadata: Metadata; receiptEmail?: string | null; shipping?: Shipping | null; atMs: number;
  };
};
/** A confirmation began: the charge exists (status pending) and the intent is `processing`. */
export type ChargeRequested = {
  type: 'ChargeRequested';
  data: { paymentIntentId: string; chargeId: string; paymentMethodId: string; card: CardDetails; amount: string; currency: PaymentCurrency; customerId: string | null; atMs: number };
};
export type FraudCheckCompleted = {
  type: 'FraudCheckCompleted';
  data: {
    paymentIntentId: string; chargeId: string; score: number; riskLevel: RiskLevel; decision: 'allow' | 'block'; atMs: number;
    /** Present when the scorer gives them (the compliance scorer: rule and model reasons, the model's version). */
    reasons?: readonly string[]; modelVersion?: string;
  };
};
/** The issuer approved: the amount is held (a pending ledger transfer). */
export type PaymentAuthorized = {
  type: 'PaymentAuthorized';
  data: { paymentIntentId: string; chargeId: string; amount: string; currency: PaymentCurrency; atMs: number };
};
export type PaymentFailed = {
  type: 'PaymentFailed';
  data: { paymentIntentId: string; chargeId: string; code: 'card_declined'; declineCode: DeclineCode; message: string; blocked: boolean; atMs: number };
};
/** Part or all of the hold is captured; the rest is released. One balance transaction (type charge) is created. */
export type PaymentCaptured = {
  type: 'PaymentCaptured';
  data: {
    paymentIntentId: string; chargeId: string; amount: string; released: string; currency: PaymentCurrency; fee: string; net: string;
    balanceTransactionId: string; availableOnMs: number; bypassPending: boolean; disputeExpected: boolean; atMs: number;
  };
};
export type PaymentIntentCanceled = {
  type: 'PaymentIntentCanceled';
  data: { paymentIntentId: string; reason: string | null; voidedChargeId: string | null; voidedAmount: string; currency: PaymentCurrency; atMs: number };
};
/** Money back to the card, debited from the available balance (which may go negative); the fee is kept. */
export type RefundCreated = {
  type: 'RefundCreated';
  data: {
    paymentIntentId: string; refundId: string; chargeId: string; amount: string; currency: PaymentCurrency; reason: string | null; metadata: Metadata;
    balanceTransactionId: string; atMs: number;
  };
};

export type PaymentIntentEvent =
  | PaymentIntentCreated | PaymentIntentUpdated | ChargeRequested | FraudCheckCompleted | PaymentAuthorized | PaymentFailed | PaymentCaptured
  | PaymentIntentCanceled | RefundCreated | DisputeEvent;

export const PAYMENT_INTENT_EVENT_TYPES = [
  'PaymentIntentCreated', 'PaymentIntentUpdated', 'ChargeRequested', 'FraudCheckCompleted', 'PaymentAuthorized', 'PaymentFailed', 'PaymentCaptured',
  'PaymentIntentCanceled', 'RefundCreated', ...DISPUTE_EVENT_TYPES,
] as const;
