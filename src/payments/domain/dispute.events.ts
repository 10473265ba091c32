import type { Metadata, PaymentCurrency } from './payments.rules.ts';

/**
 * Dispute events, recorded in the disputed charge's PaymentIntent stream
 * (`pintent-<mode>.<pi_id>`), so that what may still be refunded, and what
 * the balance owes, come from that one stream. Amounts are integer strings
 * of minor units. Evidence holds only the fields the merchant gave.
 */
export const DISPUTE_EVIDENCE_FIELDS = [
  'access_activity_log', 'billing_address', 'cancellation_policy', 'cancellation_policy_disclosure', 'cancellation_rebuttal', 'customer_communication',
  'customer_email_address', 'customer_name', 'customer_purchase_ip', 'customer_signature', 'duplicate_charge_documentation', 'duplicate_charge_explanation',
  'duplicate_charge_id', 'product_description', 'receipt', 'refund_policy', 'refund_policy_disclosure', 'refund_refusal_explanation', 'service_date',
  'service_documentation', 'shipping_address', 'shipping_carrier', 'shipping_date', 'shipping_documentation', 'shipping_tracking_number',
  'uncategorized_file', 'uncategorized_text',
] as const;
export type DisputeEvidenceField = (typeof DISPUTE_EVIDENCE_FIELDS)[number];
export type DisputeEvidence = Readonly<Partial<Record<DisputeEvidenceField, string>>>;

export type DisputeStatus = 'needs_response' | 'under_review' | 'won' | 'lost';

/** The card network opened a dispute: its amount and the dispute fee leave the available balance (one balance transaction). */
export type DisputeCreated = {
  type: 'DisputeCreated';
  data: {
    paymentIntentId: string; disputeId: string; chargeId: string; amount: string; fee: string; currency: PaymentCurrency; reason: 'fraudulent';
    balanceTransactionId: string; evidenceDueByMs: number; atMs: number;
  };
};
/** Evidence or metadata saved without submitting. */
export type DisputeUpdated = {
  type: 'DisputeUpdated';
  data: { paymentIntentId: string; disputeId: string; evidence: DisputeEvidence; metadata: Metadata; atMs: number };
};
export type DisputeEvidenceSubmitted = {
  type: 'DisputeEvidenceSubmitted';
  data: { paymentIntentId: string; disputeId: string; evidence: DisputeEvidence; metadata: Metadata; atMs: number };
};
/**
 * The dispute is closed: `won` returns the amount and the fee to the
 * available balance (a second balance transaction); `lost` keeps them.
 * `acceptedByMerchant` when the merchant closed (accepted) it.
 */
export type DisputeResolved = {
  type: 'DisputeResolved';
  data: {
    paymentIntentId: string; disputeId: string; chargeId: string; outcome: 'won' | 'lost'; acceptedByMerchant: boolean; amount: string; fee: string;
    currency: PaymentCurrency; balanceTransactionId: string | null; atMs: number;
  };
};

export type DisputeEvent = DisputeCreated | DisputeUpdated | DisputeEvidenceSubmitted | DisputeResolved;
export const DISPUTE_EVENT_TYPES = ['DisputeCreated', 'DisputeUpdated', 'DisputeEvidenceSubmitted', 'DisputeResolved'] as const;
