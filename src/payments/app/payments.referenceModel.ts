/**
 * A tiny reference model of payments for the property tests
 * (payments.property.int.test.ts): intents, their charges, refunds and
 * balance transactions, and the merchant balance they imply, written from
 * Stripe's documented rules rather than from the deciders. Each operation
 * either returns the code the service must answer (`ok`, or the refusal) and
 * changes the model as the service must change its state, or throws nothing
 * and changes nothing when refused. A decline is both: the attempt stays on
 * record and the answer is `card_declined`.
 *
 * Amounts are bigint minor units; no floating point (noFloat.unit.test.ts).
 */
import type { CaptureMethod } from '../domain/paymentIntent.events.ts';
import type { PaymentIntentStatus } from '../domain/paymentIntent.state.ts';
import { PAYMENT_CURRENCY_MINIMUMS, type PaymentCurrency } from '../domain/payments.rules.ts';
import { balanceTransactionIdOf, type PaymentMode } from './payments.service.ts';

/** The magic test PaymentMethods the property tests use (`pm_card_<name>`). */
export const MODEL_TEST_CARDS = ['visa', 'mastercard', 'chargeDeclined', 'chargeDeclinedInsufficientFunds', 'bypassPending', 'createDispute'] as const;
export type ModelTestCard = (typeof MODEL_TEST_CARDS)[number];

const DECLINE_CODES: Partial<Record<ModelTestCard, string>> = { chargeDeclined: 'generic_decline', chargeDeclinedInsufficientFunds: 'insufficient_funds' };

export type ModelTerms = { readonly percentBps: bigint; readonly fixedMinor: bigint; readonly settlementDelayMs: number };

export type ModelCharge = {
  readonly chargeId: string;
  readonly authorized: bigint;
  captured: bigint;
  refunded: bigint;
  isCaptured: boolean;
  /** An authorization hold not yet captured, voided or released. */
  holdOpen: boolean;
  declineCode: string | null;
};

export type ModelIntent = {
  readonly paymentIntentId: string;
  readonly mode: PaymentMode;
  readonly currency: PaymentCurrency;
  readonly amount: bigint;
  readonly captureMethod: CaptureMethod;
  card: ModelTestCard | null;
  status: PaymentIntentStatus;
  readonly charges: ModelCharge[];
};

export type ModelTransaction = {
  readonly balanceTransactionId: string;
  readonly mode: PaymentMode;
  readonly currency: PaymentCurrency;
  readonly net: bigint;
  readonly fee: bigint;
  readonly availableOnMs: number;
  settled: boolean;
};

/** What the model says an operation answers: `ok`, or the error code; `outcome` names what happened, for the outcome counts. */
export type ModelAnswer = { code: string; outcome: string };

export type ModelBalance = { available: bigint; pending: bigint; fees: bigint; holds: bigint; cardNetwork: bigint };

const BEFORE_CONFIRMATION: readonly PaymentIntentStatus[] = ['requires_payment_method', 'requires_confirmation'];
const refused = (code: string, outcome: string): ModelAnswer => ({ code, outcome });

export class PaymentsModel {
  readonly intents = new Map<string, ModelIntent>();
  readonly transactions: ModelTransaction[] = [];
  /** Every object id the read model must index (intents, charges, refunds, payment methods, balance transactions). */
  readonly objectIds = new Set<string>();

  constructor(readonly terms: ModelTerms) {}

  /** The fee: the percentage rounded half up to the minor unit, plus the fixed part; none on nothing. */
  fee(amount: bigint): bigint {
    return amount <= 0n ? 0n : (amount * this.terms.percentBps + 5_000n) / 10_000n + this.terms.fixedMinor;
  }

  create(input: { paymentIntentId: string; mode: PaymentMode; currency: PaymentCurrency; amount: bigint; captureMethod: CaptureMethod; card: ModelTestCard | null }): ModelAnswer {
    if (input.amount < PAYMENT_CURRENCY_MINIMUMS[input.currency]) return refused('amount_too_small', 'create below the minimum refused');
    this.intents.set(input.paymentIntentId, {
      ...input, status: input.card === null ? 'requires_payment_method' : 'requires_confirmation', charges: [],
    });
    this.objectIds.add(input.paymentIntentId);
    return { code: 'ok', outcome: `created (${input.mode})` };
  }

  /** Confirms with the card given, or the intent's own. */
  confirm(paymentIntentId: string, chargeId: string, card: ModelTestCard | null, nowMs: number): ModelAnswer {
    const intent = this.intent(paymentIntentId);
    if (!BEFORE_CONFIRMATION.includes(intent.status)) return refused('payment_intent_unexpected_state', `confirm refused (${intent.status})`);
    const method = card ?? intent.card;
    if (method === null) return refused('payment_intent_unexpected_state', 'confirm without a payment method refused');
    const retry = intent.charges.some((charge) => charge.declineCode !== null);
    intent.card = method;
    const declineCode = DECLINE_CODES[method] ?? null;
    const charge: ModelCharge = { chargeId, authorized: intent.amount, captured: 0n, refunded: 0n, isCaptured: false, holdOpen: declineCode === null, declineCode };
    intent.charges.push(charge);
    this.objectIds.add(chargeId);
    if (declineCode !== null) {
      intent.status = 'requires_payment_method';
      return refused('card_declined', `declined: ${declineCode}`);
    }
    intent.status = 'requires_capture';
    if (intent.captureMethod === 'manual') return { code: 'ok', outcome: retry ? 'authorized after a decline' : 'authorized for manual capture' };
    this.captureCharge(intent, charge, intent.amount, method === 'bypassPending', nowMs);
    return { code: 'ok', outcome: method === 'bypassPending' ? 'captured automatically, bypassing pending' : retry ? 'captured after a decline' : 'captured automatically' };
  }

  capture(paymentIntentId: string, amountToCapture: bigint | null, nowMs: number): ModelAnswer {
    const intent = this.intent(paymentIntentId);
    if (intent.status !== 'requires_capture') return refused('payment_intent_unexpected_state', `capture refused (${intent.status})`);
    const charge = intent.charges.at(-1)!;
    const amount = amountToCapture ?? charge.authorized;
    if (amount > charge.authorized) return refused('amount_too_large', 'capture above capturable refused');
    // Stripe's bypassPending card on a manual capture: the foundation sends this capture to pending as any other.
    this.captureCharge(intent, charge, amount, false, nowMs);
    const net = amount - this.fee(amount);
    return { code: 'ok', outcome: amount === charge.authorized ? 'captured in full' : net < 0n ? 'captured partially below the fee' : 'captured partially' };
  }

  cancel(paymentIntentId: string): ModelAnswer {
    const intent = this.intent(paymentIntentId);
    if (intent.status === 'succeeded' || intent.status === 'canceled' || intent.status === 'processing') return refused('payment_intent_unexpected_state', `cancel refused (${intent.status})`);
    const held = intent.status === 'requires_capture';
    if (held) intent.charges.at(-1)!.holdOpen = false;
    intent.status = 'canceled';
    return { code: 'ok', outcome: held ? 'canceled, hold voided' : 'canceled before authorization' };
  }

  /** A refund of the intent's latest captured charge: the rest of it when `amount` is null. */
  refund(paymentIntentId: string, refundId: string, amount: bigint | null, nowMs: number): ModelAnswer {
    const intent = this.intent(paymentIntentId);
    const charge = [...intent.charges].reverse().find((item) => item.isCaptured);
    if (charge === undefined) return refused('payment_intent_unexpected_state', 'refund of an uncaptured intent refused');
    const remaining = charge.captured - charge.refunded;
    if (remaining === 0n) return refused('charge_already_refunded', 'refund of a refunded charge refused');
    const refunded = amount ?? remaining;
    if (refunded > remaining) return refused('amount_too_large', 'refund above the refundable amount refused');
    const earlier = charge.refunded > 0n;
    charge.refunded += refunded;
    this.objectIds.add(refundId);
    this.addTransaction(intent, balanceTransactionIdOf(refundId), -refunded, 0n, nowMs, true);
    const whole = refunded === remaining ? 'refunded the rest' : 'refunded partially';
    return { code: 'ok', outcome: earlier ? `${whole}, after an earlier refund` : whole };
  }

  /** What a settlement sweep at `nowMs` moves: every unsettled balance transaction now available. Returns how many. */
  settle(mode: PaymentMode, nowMs: number): number {
    const due = this.transactions.filter((txn) => txn.mode === mode && !txn.settled && txn.availableOnMs <= nowMs);
    for (const txn of due) txn.settled = true;
    return due.length;
  }

  balance(mode: PaymentMode, currency: PaymentCurrency): ModelBalance {
    const balance: ModelBalance = { available: 0n, pending: 0n, fees: 0n, holds: 0n, cardNetwork: 0n };
    for (const txn of this.transactions) {
      if (txn.mode !== mode || txn.currency !== currency) continue;
      if (txn.settled) balance.available += txn.net;
      else balance.pending += txn.net;
      balance.fees += txn.fee;
    }
    for (const intent of this.intents.values()) {
      if (intent.mode !== mode || intent.currency !== currency) continue;
      for (const charge of intent.charges) {
        if (charge.holdOpen) balance.holds += charge.authorized;
        balance.cardNetwork -= charge.captured - charge.refunded;
      }
    }
    return balance;
  }

  /** Intents an operation could apply to (the arbitraries aim most steps at them). */
  candidates(kind: 'confirm' | 'capture' | 'cancel' | 'refund'): ModelIntent[] {
    const all = [...this.intents.values()];
    switch (kind) {
      case 'confirm': return all.filter((intent) => BEFORE_CONFIRMATION.includes(intent.status));
      case 'capture': return all.filter((intent) => intent.status === 'requires_capture');
      case 'cancel': return all.filter((intent) => intent.status !== 'succeeded' && intent.status !== 'canceled');
      case 'refund': return all.filter((intent) => intent.charges.some((charge) => charge.isCaptured && charge.refunded < charge.captured));
    }
  }

  intent(paymentIntentId: string): ModelIntent {
    const intent = this.intents.get(paymentIntentId);
    if (intent === undefined) throw new Error(`the model has no intent ${paymentIntentId}`);
    return intent;
  }

  private captureCharge(intent: ModelIntent, charge: ModelCharge, amount: bigint, bypassPending: boolean, nowMs: number): void {
    charge.captured = amount;
    charge.isCaptured = true;
    charge.holdOpen = false;
    intent.status = 'succeeded';
    const fee = this.fee(amount);
    this.addTransaction(intent, balanceTransactionIdOf(charge.chargeId), amount - fee, fee, bypassPending ? nowMs : nowMs + this.terms.settlementDelayMs, bypassPending);
  }

  private addTransaction(intent: ModelIntent, balanceTransactionId: string, net: bigint, fee: bigint, availableOnMs: number, settled: boolean): void {
    this.transactions.push({ balanceTransactionId, mode: intent.mode, currency: intent.currency, net, fee, availableOnMs, settled });
    this.objectIds.add(balanceTransactionId);
  }
}
