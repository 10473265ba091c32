import type { Decider } from '../../decider/index.ts';
import { assertNever } from '../../kernel/assert.ts';
import { DaybookError } from '../../kernel/errors.ts';
import { DECLINE_MESSAGES } from './cards.rules.ts';
import { chargeDisputeBlocksRefund, decideCloseDispute, decideUpdateDispute, DISPUTE_FEE_MINOR_DEFAULT, disputeCreatedEvent } from './dispute.rules.ts';
import { processingFeeMinor } from './fees.rules.ts';
import type { PaymentIntentCommand } from './paymentIntent.commands.ts';
import type { PaymentIntentEvent } from './paymentIntent.events.ts';
import {
  amountCapturable, evolvePaymentIntent, type ExistingPaymentIntent, latestCharge, type PaymentIntentState, type PaymentIntentStatus,
} from './paymentIntent.state.ts';
import { applyMetadataPatch, checkChargeAmount, checkCurrency } from './payments.rules.ts';

type Command<T extends PaymentIntentCommand['type']> = Extract<PaymentIntentCommand, { type: T }>['data'];

/**
 * A PaymentIntent with its charges and refunds. Status machine:
 * requires_payment_method → requires_confirmation → processing →
 * requires_capture → succeeded, or canceled; a declined attempt goes back
 * to requires_payment_method with `last_payment_error`. A confirmation
 * records, in order: ChargeRequested, FraudCheckCompleted, then
 * PaymentAuthorized or PaymentFailed, then (automatic capture)
 * PaymentCaptured. A decline is decided as events (so it stays on record);
 * the service answers it with `card_declined`.
 *
 * Rejects, in this order:
 * - Create: validation_failed (currency), amount_too_small / amount_too_large, metadata limits.
 * - Update: resource_missing; payment_intent_unexpected_state (amount, currency, payment method or capture method after confirmation); amount rules.
 * - Confirm: resource_missing; payment_intent_unexpected_state (status, no payment method).
 * - Capture: resource_missing; payment_intent_unexpected_state (not requires_capture); amount_too_large (above amount_capturable).
 * - Cancel: resource_missing; payment_intent_unexpected_state (succeeded, canceled, processing).
 * - CreateRefund: resource_missing (intent, charge); payment_intent_unexpected_state (nothing captured);
 *   charge_disputed (a dispute on it is open or lost); charge_already_refunded; amount_too_large (above what is left to refund).
 * - UpdateDispute, CloseDispute: resource_missing (intent, dispute); see dispute.rules.ts.
 *
 * A capture of a dispute test card (automatic, or manual with
 * `disputeOnCapture`) records DisputeCreated right after PaymentCaptured.
 */
export const paymentIntentDecider: Decider<PaymentIntentCommand, PaymentIntentEvent, PaymentIntentState> = {
  initialState: () => ({ status: 'none' }),
  evolve: evolvePaymentIntent,
  decide: (command, state) => {
    switch (command.type) {
      case 'CreatePaymentIntent': return decideCreate(command.data, state);
      case 'UpdatePaymentIntent': return decideUpdate(command.data, existing(state, command.data.paymentIntentId));
      case 'ConfirmPaymentIntent': return decideConfirm(command.data, existing(state, command.data.paymentIntentId));
      case 'CapturePaymentIntent': return decideCapture(command.data, existing(state, command.data.paymentIntentId));
      case 'CancelPaymentIntent': return decideCancel(command.data, existing(state, command.data.paymentIntentId));
      case 'CreateRefund': return decideRefund(command.data, existing(state, command.data.paymentIntentId));
      case 'UpdateDispute': return decideUpdateDispute(command.data, existing(state, command.data.paymentIntentId));
      case 'CloseDispute': return decideCloseDispute(command.data, existing(state, command.data.paymentIntentId));
      default: return assertNever(command);
    }
  },
};

function decideCreate(data: Command<'CreatePaymentIntent'>, state: PaymentIntentState): PaymentIntentEvent[] {
  const currency = checkCurrency(data.currency);
  const amount = checkChargeAmount(data.amount, currency);
  const metadata = applyMetadataPatch({}, data.metadata);
  // Ids of new objects derive from the request's Idempotency-Key and payload: an existing one is this request's, answered again.
  if (state.status !== 'none') return [];
  return [{
    type: 'PaymentIntentCreated',
    data: {
      paymentIntentId: data.paymentIntentId, amount: amount.toString(), currency, customerId: data.customerId, paymentMethodId: data.paymentMethodId,
      captureMethod: data.captureMethod, description: data.description, metadata, receiptEmail: data.receiptEmail ?? null, shipping: data.shipping ?? null, atMs: data.atMs,
    },
  }];
}

const BEFORE_CONFIRMATION: readonly PaymentIntentStatus[] = ['requires_payment_method', 'requires_confirmation'];

function decideUpdate(data: Command<'UpdatePaymentIntent'>, state: ExistingPaymentIntent): PaymentIntentEvent[] {
  const changesMoney = data.amount !== undefined || data.currency !== undefined || data.paymentMethodId !== undefined || data.captureMethod !== undefined;
  if (changesMoney && !BEFORE_CONFIRMATION.includes(state.status)) {
    throw unexpectedState(state, 'update the amount, currency, payment method or capture method of');
  }
  const currency = data.currency === undefined ? state.currency : checkCurrency(data.currency);
  const amount = data.amount === undefined ? state.amount : checkChargeAmount(data.amount, currency);
  if (data.amount === undefined && data.currency !== undefined) checkChargeAmount(amount, currency);
  return [{
    type: 'PaymentIntentUpdated',
    data: {
      paymentIntentId: state.paymentIntentId, amount: amount.toString(), currency,
      customerId: data.customerId === undefined ? state.customerId : data.customerId,
      paymentMethodId: data.paymentMethodId === undefined ? state.paymentMethodId : data.paymentMethodId,
      captureMethod: data.captureMethod ?? state.captureMethod,
      description: data.description === undefined ? state.description : data.description,
      metadata: applyMetadataPatch(state.metadata, data.metadata),
      receiptEmail: data.receiptEmail === undefined ? state.receiptEmail : data.receiptEmail,
      shipping: data.shipping === undefined ? state.shipping : data.shipping, atMs: data.atMs,
    },
  }];
}

function decideConfirm(data: Command<'ConfirmPaymentIntent'>, state: ExistingPaymentIntent): PaymentIntentEvent[] {
  // The charge id derives from the request's Idempotency-Key and payload: a charge of this id is this request's attempt, answered again.
  if (state.charges.some((charge) => charge.chargeId === data.chargeId)) return [];
  if (!BEFORE_CONFIRMATION.includes(state.status)) throw unexpectedState(state, 'confirm');
  const method = data.paymentMethod;
  if (method === null) {
    throw new DaybookError('payment_intent_unexpected_state',
      `You cannot confirm this PaymentIntent because it's missing a payment method. Update it with a payment_method, or pass one to confirm.`, {}, 'payment_method');
  }
  const { paymentIntentId, chargeId, atMs, fraud } = data;
  const base = { paymentIntentId, chargeId, atMs };
  const events: PaymentIntentEvent[] = [
    {
      type: 'ChargeRequested',
      data: { ...base, paymentMethodId: method.paymentMethodId, card: method.card, amount: state.amount.toString(), currency: state.currency, customerId: state.customerId },
    },
    {
      type: 'FraudCheckCompleted',
      data: {
        ...base, score: fraud.score, riskLevel: fraud.riskLevel, decision: fraud.decision,
        ...(fraud.reasons === undefined ? {} : { reasons: fraud.reasons }), ...(fraud.modelVersion === undefined ? {} : { modelVersion: fraud.modelVersion }),
      },
    },
  ];
  const behavior = method.behavior;
  if (fraud.decision === 'block' || behavior.kind === 'decline') {
    const declineCode = behavior.kind === 'decline' && fraud.decision !== 'block' ? behavior.declineCode : 'fraudulent';
    events.push({ type: 'PaymentFailed', data: { ...base, code: 'card_declined', declineCode, message: DECLINE_MESSAGES[declineCode], blocked: fraud.decision === 'block' } });
    return events;
  }
  events.push({ type: 'PaymentAuthorized', data: { ...base, amount: state.amount.toString(), currency: state.currency } });
  if (state.captureMethod === 'automatic') {
    events.push(...capturedEvents(state, chargeId, state.amount, state.amount, {
      balanceTransactionId: data.balanceTransactionId, terms: data.terms, atMs, bypassPending: behavior.kind === 'bypass_pending', disputeExpected: behavior.kind === 'dispute',
    }));
  }
  return events;
}

function decideCapture(data: Command<'CapturePaymentIntent'>, state: ExistingPaymentIntent): PaymentIntentEvent[] {
  if (state.status !== 'requires_capture') throw unexpectedState(state, 'capture');
  const capturable = amountCapturable(state);
  const amount = data.amountToCapture ?? capturable;
  if (amount < 1n) throw new DaybookError('validation_failed', 'Invalid amount_to_capture: must be a positive integer', {}, 'amount_to_capture');
  if (amount > capturable) {
    throw new DaybookError('amount_too_large', `The amount to capture (${amount.toString()}) is greater than the amount capturable (${capturable.toString()}).`, {}, 'amount_to_capture');
  }
  const charge = latestCharge(state)!;
  return capturedEvents(state, charge.chargeId, amount, capturable, {
    balanceTransactionId: data.balanceTransactionId, terms: data.terms, atMs: data.atMs, bypassPending: false, disputeExpected: data.disputeOnCapture === true,
  });
}

type CaptureOptions = { balanceTransactionId: string; terms: Command<'CapturePaymentIntent'>['terms']; atMs: number; bypassPending: boolean; disputeExpected: boolean };

/** The capture, and for a dispute test card the dispute the card network opens on it at once (Stripe's test mode does the same). */
function capturedEvents(state: ExistingPaymentIntent, chargeId: string, amount: bigint, authorized: bigint, options: CaptureOptions): PaymentIntentEvent[] {
  const captured = capturedEvent(state, chargeId, amount, authorized, options);
  if (!options.disputeExpected) return [captured];
  const fee = options.terms.disputeFeeMinor ?? DISPUTE_FEE_MINOR_DEFAULT;
  return [captured, disputeCreatedEvent(state.paymentIntentId, { chargeId, amount, currency: state.currency }, fee, options.atMs)];
}

function capturedEvent(state: ExistingPaymentIntent, chargeId: string, amount: bigint, authorized: bigint, options: CaptureOptions): PaymentIntentEvent {
  const fee = processingFeeMinor(amount, options.terms.fees);
  return {
    type: 'PaymentCaptured',
    data: {
      paymentIntentId: state.paymentIntentId, chargeId, amount: amount.toString(), released: (authorized - amount).toString(), currency: state.currency,
      fee: fee.toString(), net: (amount - fee).toString(), balanceTransactionId: options.balanceTransactionId,
      availableOnMs: options.bypassPending ? options.atMs : options.atMs + options.terms.settlementDelayMs,
      bypassPending: options.bypassPending, disputeExpected: options.disputeExpected, atMs: options.atMs,
    },
  };
}

function decideCancel(data: Command<'CancelPaymentIntent'>, state: ExistingPaymentIntent): PaymentIntentEvent[] {
  if (state.status === 'succeeded' || state.status === 'canceled' || state.status === 'processing') throw unexpectedState(state, 'cancel');
  const held = state.status === 'requires_capture' ? latestCharge(state) : undefined;
  return [{
    type: 'PaymentIntentCanceled',
    data: {
      paymentIntentId: state.paymentIntentId, reason: data.reason, voidedChargeId: held?.chargeId ?? null, voidedAmount: (held?.amount ?? 0n).toString(),
      currency: state.currency, atMs: data.atMs,
    },
  }];
}

function decideRefund(data: Command<'CreateRefund'>, state: ExistingPaymentIntent): PaymentIntentEvent[] {
  // As for charges: a refund of this id is this request's, answered again.
  if (state.refunds.some((refund) => refund.refundId === data.refundId)) return [];
  const charge = data.chargeId === null ? [...state.charges].reverse().find((item) => item.captured) : state.charges.find((item) => item.chargeId === data.chargeId);
  if (charge === undefined && data.chargeId !== null) throw new DaybookError('resource_missing', `No such charge: '${data.chargeId}'`, {}, 'charge');
  if (charge === undefined || !charge.captured) {
    throw new DaybookError('payment_intent_unexpected_state', `This PaymentIntent (${state.paymentIntentId}) has no captured charge to refund; its status is ${state.status}.`, {}, 'payment_intent');
  }
  if (chargeDisputeBlocksRefund(state, charge)) {
    throw new DaybookError('charge_disputed', `Charge ${charge.chargeId} has been disputed; it cannot be refunded while the dispute is open or after it was lost.`, {}, 'charge');
  }
  const remaining = charge.amountCaptured - charge.amountRefunded;
  if (remaining === 0n) throw new DaybookError('charge_already_refunded', `Charge ${charge.chargeId} has already been refunded.`, {}, 'charge');
  const amount = data.amount ?? remaining;
  if (amount < 1n) throw new DaybookError('validation_failed', 'Invalid amount: must be a positive integer', {}, 'amount');
  if (amount > remaining) {
    throw new DaybookError('amount_too_large', `Refund amount (${amount.toString()}) is greater than unrefunded amount on charge (${remaining.toString()})`, {}, 'amount');
  }
  return [{
    type: 'RefundCreated',
    data: {
      paymentIntentId: state.paymentIntentId, refundId: data.refundId, chargeId: charge.chargeId, amount: amount.toString(), currency: state.currency,
      reason: data.reason, metadata: applyMetadataPatch({}, data.metadata), balanceTransactionId: data.balanceTransactionId, atMs: data.atMs,
    },
  }];
}

function existing(state: PaymentIntentState, paymentIntentId: string): ExistingPaymentIntent {
  if (state.status === 'none') throw new DaybookError('resource_missing', `No such payment_intent: '${paymentIntentId}'`, { paymentIntentId }, 'id');
  return state;
}

function unexpectedState(state: ExistingPaymentIntent, action: string): DaybookError {
  return new DaybookError('payment_intent_unexpected_state',
    `You cannot ${action} this PaymentIntent because it has a status of ${state.status}.`, { status: state.status });
}
