/**
 * Dispute rules (pure): ids, the dispute fee, the evidence window, how a
 * dispute folds into its PaymentIntent's state, and what updating, submitting
 * and closing one decide. Test mode resolves a submitted dispute as Stripe's
 * test mode does: `uncategorized_text` containing `winning_evidence` wins it,
 * `losing_evidence` loses it; other evidence leaves it `under_review`.
 */
import { DaybookError } from '../../kernel/errors.ts';
import { PAYMENT_TEXT_LENGTH_MAX } from '../../kernel/limits.ts';
import type { DisputeCreated, DisputeEvent, DisputeEvidence, DisputeEvidenceField, DisputeStatus } from './dispute.events.ts';
import type { BalanceTransactionState, ChargeState, ExistingPaymentIntent } from './paymentIntent.state.ts';
import { applyMetadataPatch, type Metadata, type MetadataPatch, type PaymentCurrency } from './payments.rules.ts';

/** Stripe's dispute fee in the US: 15.00, in minor units of the charge's currency (configurable). */
export const DISPUTE_FEE_MINOR_DEFAULT = 1500n;
/** How long the merchant has to respond (Stripe's `evidence_details.due_by`). */
export const DISPUTE_EVIDENCE_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;
export const WINNING_EVIDENCE = 'winning_evidence';
export const LOSING_EVIDENCE = 'losing_evidence';

export type DisputeState = {
  readonly disputeId: string;
  readonly chargeId: string;
  readonly amount: bigint;
  readonly fee: bigint;
  readonly currency: PaymentCurrency;
  readonly reason: 'fraudulent';
  readonly status: DisputeStatus;
  readonly evidence: DisputeEvidence;
  readonly metadata: Metadata;
  readonly submissionCount: number;
  readonly evidenceDueByMs: number;
  /** Oldest first: the withdrawal, then the reversal of a won dispute. */
  readonly balanceTransactionIds: readonly string[];
  readonly createdAtMs: number;
};

/** `ch_X` → `du_X`: one dispute per charge, so a retried capture names the same one. */
export function disputeIdOf(chargeId: string): string {
  return `du_${chargeId.slice(chargeId.indexOf('_') + 1)}`;
}

/** The withdrawal's and the reversal's balance transactions (`txn_X_dispute`, `txn_X_dispute_won`). */
export function disputeBalanceTransactionIdOf(disputeId: string, kind: 'withdrawal' | 'reversal'): string {
  const suffix = disputeId.slice(disputeId.indexOf('_') + 1);
  return kind === 'withdrawal' ? `txn_${suffix}_dispute` : `txn_${suffix}_dispute_won`;
}

/** The DisputeCreated a capture of a dispute test card records right after it. */
export function disputeCreatedEvent(paymentIntentId: string, charge: { chargeId: string; amount: bigint; currency: PaymentCurrency }, feeMinor: bigint, atMs: number): DisputeCreated {
  const disputeId = disputeIdOf(charge.chargeId);
  return {
    type: 'DisputeCreated',
    data: {
      paymentIntentId, disputeId, chargeId: charge.chargeId, amount: charge.amount.toString(), fee: feeMinor.toString(), currency: charge.currency, reason: 'fraudulent',
      balanceTransactionId: disputeBalanceTransactionIdOf(disputeId, 'withdrawal'), evidenceDueByMs: atMs + DISPUTE_EVIDENCE_WINDOW_MS, atMs,
    },
  };
}

export type EvidencePatch = Readonly<Partial<Record<DisputeEvidenceField, string>>>;

export type UpdateDisputeData = {
  paymentIntentId: string; disputeId: string; evidence?: EvidencePatch; metadata?: MetadataPatch; submit: boolean; atMs: number;
};

/**
 * Update (and, with `submit`, submit) evidence. Rejects, in this order:
 * resource_missing; dispute_unexpected_state (won or lost; evidence after
 * submission); validation_failed (evidence text too long); metadata limits.
 */
export function decideUpdateDispute(data: UpdateDisputeData, state: ExistingPaymentIntent): DisputeEvent[] {
  const dispute = disputeOf(state, data.disputeId);
  if (dispute.status === 'won' || dispute.status === 'lost') throw closed(dispute);
  const changesEvidence = data.submit || (data.evidence !== undefined && Object.keys(data.evidence).length > 0);
  if (changesEvidence && dispute.status === 'under_review') {
    throw new DaybookError('dispute_unexpected_state', `Dispute ${dispute.disputeId} is under review: its evidence was submitted and cannot change.`, { status: dispute.status }, 'evidence');
  }
  const evidence = patchedEvidence(dispute.evidence, data.evidence ?? {});
  const metadata = applyMetadataPatch(dispute.metadata, data.metadata);
  const base = { paymentIntentId: state.paymentIntentId, disputeId: dispute.disputeId, evidence, metadata, atMs: data.atMs };
  if (!data.submit) return [{ type: 'DisputeUpdated', data: base }];
  const events: DisputeEvent[] = [{ type: 'DisputeEvidenceSubmitted', data: base }];
  const text = evidence.uncategorized_text ?? '';
  if (text.includes(WINNING_EVIDENCE)) events.push(resolvedEvent(state, dispute, 'won', false, data.atMs));
  else if (text.includes(LOSING_EVIDENCE)) events.push(resolvedEvent(state, dispute, 'lost', false, data.atMs));
  return events;
}

/** Close (accept) a dispute: lost. Rejects resource_missing, then dispute_unexpected_state (won or lost already). */
export function decideCloseDispute(data: { disputeId: string; atMs: number }, state: ExistingPaymentIntent): DisputeEvent[] {
  const dispute = disputeOf(state, data.disputeId);
  if (dispute.status === 'won' || dispute.status === 'lost') throw closed(dispute);
  return [resolvedEvent(state, dispute, 'lost', true, data.atMs)];
}

function resolvedEvent(state: ExistingPaymentIntent, dispute: DisputeState, outcome: 'won' | 'lost', acceptedByMerchant: boolean, atMs: number): DisputeEvent {
  return {
    type: 'DisputeResolved',
    data: {
      paymentIntentId: state.paymentIntentId, disputeId: dispute.disputeId, chargeId: dispute.chargeId, outcome, acceptedByMerchant,
      amount: dispute.amount.toString(), fee: dispute.fee.toString(), currency: dispute.currency,
      balanceTransactionId: outcome === 'won' ? disputeBalanceTransactionIdOf(dispute.disputeId, 'reversal') : null, atMs,
    },
  };
}

function patchedEvidence(current: DisputeEvidence, patch: EvidencePatch): DisputeEvidence {
  const next: Partial<Record<DisputeEvidenceField, string>> = { ...current };
  for (const [field, value] of Object.entries(patch) as Array<[DisputeEvidenceField, string]>) {
    if (value.length > PAYMENT_TEXT_LENGTH_MAX) {
      throw new DaybookError('validation_failed', `Invalid evidence[${field}]: at most ${PAYMENT_TEXT_LENGTH_MAX} characters.`, {}, `evidence[${field}]`);
    }
    if (value === '') delete next[field];
    else next[field] = value;
  }
  return next;
}

export function disputeOf(state: ExistingPaymentIntent, disputeId: string): DisputeState {
  const dispute = state.disputes.find((item) => item.disputeId === disputeId);
  if (dispute === undefined) throw new DaybookError('resource_missing', `No such dispute: '${disputeId}'`, { disputeId }, 'dispute');
  return dispute;
}

function closed(dispute: DisputeState): DaybookError {
  return new DaybookError('dispute_unexpected_state', `This dispute is already closed (status ${dispute.status}).`, { status: dispute.status });
}

/** Whether a charge may still be refunded: not while a dispute on it is open or was lost (Stripe's `charge_disputed`). */
export function chargeDisputeBlocksRefund(state: ExistingPaymentIntent, charge: ChargeState): boolean {
  return state.disputes.some((dispute) => dispute.chargeId === charge.chargeId && dispute.status !== 'won');
}

type Existing = ExistingPaymentIntent;

/** Folds a dispute event into the PaymentIntent's state (its disputes and balance transactions). */
export function evolveDispute(state: Existing, event: DisputeEvent): Existing {
  const d = event.data;
  switch (event.type) {
    case 'DisputeCreated': {
      const { data } = event;
      const amount = BigInt(data.amount);
      const fee = BigInt(data.fee);
      const dispute: DisputeState = {
        disputeId: data.disputeId, chargeId: data.chargeId, amount, fee, currency: data.currency, reason: data.reason, status: 'needs_response', evidence: {},
        metadata: {}, submissionCount: 0, evidenceDueByMs: data.evidenceDueByMs, balanceTransactionIds: [data.balanceTransactionId], createdAtMs: data.atMs,
      };
      const transaction = adjustment(data.balanceTransactionId, data.disputeId, -amount, fee, data.currency, data.atMs, 'dispute');
      return { ...state, disputes: [...state.disputes, dispute], balanceTransactions: [...state.balanceTransactions, transaction] };
    }
    case 'DisputeUpdated':
      return withDispute(state, d.disputeId, (dispute) => ({ ...dispute, evidence: event.data.evidence, metadata: event.data.metadata }));
    case 'DisputeEvidenceSubmitted':
      return withDispute(state, d.disputeId, (dispute) => ({
        ...dispute, evidence: event.data.evidence, metadata: event.data.metadata, status: 'under_review', submissionCount: dispute.submissionCount + 1,
      }));
    case 'DisputeResolved': {
      const { data } = event;
      const resolved = withDispute(state, data.disputeId, (dispute) => ({
        ...dispute, status: data.outcome, balanceTransactionIds: data.balanceTransactionId === null ? dispute.balanceTransactionIds : [...dispute.balanceTransactionIds, data.balanceTransactionId],
      }));
      if (data.balanceTransactionId === null) return resolved;
      const transaction = adjustment(data.balanceTransactionId, data.disputeId, BigInt(data.amount), -BigInt(data.fee), data.currency, data.atMs, 'dispute_reversal');
      return { ...resolved, balanceTransactions: [...resolved.balanceTransactions, transaction] };
    }
  }
}

function adjustment(
  balanceTransactionId: string, disputeId: string, amount: bigint, fee: bigint, currency: PaymentCurrency, atMs: number, category: 'dispute' | 'dispute_reversal',
): BalanceTransactionState {
  return { balanceTransactionId, type: 'adjustment', category, sourceId: disputeId, amount, fee, net: amount - fee, currency, createdAtMs: atMs, availableOnMs: atMs };
}

function withDispute(state: Existing, disputeId: string, change: (dispute: DisputeState) => DisputeState): Existing {
  return { ...state, disputes: state.disputes.map((dispute) => (dispute.disputeId === disputeId ? change(dispute) : dispute)) };
}
