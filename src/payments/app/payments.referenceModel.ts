/**
 * A tiny reference model of payments for the property tests
 * (payments.property.int.test.ts): intents, their charges, refunds,
 * disputes, payouts and balance transactions, and the merchant balance and
 * ledger accounts they imply, written from Stripe's documented rules rather
 * than from the deciders. Each operation
 * either returns the code the service must answer (`ok`, or the refusal) and
 * changes the model as the service must change its state, or throws nothing
 * and changes nothing when refused. A decline is both: the attempt stays on
 * record and the answer is `card_declined`.
 *
 * Amounts are bigint minor units; no floating point (noFloat.unit.test.ts).
 */
import type { CaptureMethod } from '../domain/paymentIntent.events.ts';
import type { DisputeStatus } from '../domain/dispute.events.ts';
import type { PaymentIntentStatus } from '../domain/paymentIntent.state.ts';
import type { PayoutStatus } from '../domain/payout.decider.ts';
import { PAYMENT_CURRENCY_MINIMUMS, type PaymentCurrency } from '../domain/payments.rules.ts';
import { balanceTransactionIdOf, type PaymentMode } from './payments.service.ts';

/** The magic test PaymentMethods the property tests use (`pm_card_<name>`). */
export const MODEL_TEST_CARDS = ['visa', 'mastercard', 'chargeDeclined', 'chargeDeclinedInsufficientFunds', 'bypassPending', 'createDispute'] as const;
export type ModelTestCard = (typeof MODEL_TEST_CARDS)[number];

const DECLINE_CODES: Partial<Record<ModelTestCard, string>> = { chargeDeclined: 'generic_decline', chargeDeclinedInsufficientFunds: 'insufficient_funds' };

export type ModelTerms = { readonly percentBps: bigint; readonly fixedMinor: bigint; readonly settlementDelayMs: number; readonly disputeFeeMinor: bigint };

export type ModelCharge = {
  readonly chargeId: string;
  /** The card the attempt used: a capture of `createDispute` is disputed at once. */
  readonly card: ModelTestCard;
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

/**
 * A dispute of a captured charge (`du_` + the charge id's suffix): its amount
 * (what was captured) and the dispute fee leave the available balance when it
 * opens, and come back when it is won. `text` is the `uncategorized_text`
 * evidence saved so far, which decides a submission in test mode.
 */
export type ModelDispute = {
  readonly disputeId: string;
  readonly paymentIntentId: string;
  readonly chargeId: string;
  readonly mode: PaymentMode;
  readonly currency: PaymentCurrency;
  readonly amount: bigint;
  readonly fee: bigint;
  status: DisputeStatus;
  text: string | null;
};

/** A payout to a test bank account that is paid, or (`fails`) one that fails with no_account. */
export type ModelPayout = {
  readonly payoutId: string;
  readonly mode: PaymentMode;
  readonly currency: PaymentCurrency;
  readonly amount: bigint;
  readonly fails: boolean;
  status: PayoutStatus;
};

/** The evidence a dispute step saves: Stripe's test words, other evidence, or none (metadata only). */
export type ModelEvidence = 'winning' | 'losing' | 'other' | 'none';

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

export type ModelBalance = { available: bigint; pending: bigint; fees: bigint; holds: bigint; cardNetwork: bigint; payoutInTransit: bigint; bank: bigint };

const BEFORE_CONFIRMATION: readonly PaymentIntentStatus[] = ['requires_payment_method', 'requires_confirmation'];
const refused = (code: string, outcome: string): ModelAnswer => ({ code, outcome });

export class PaymentsModel {
  readonly intents = new Map<string, ModelIntent>();
  readonly transactions: ModelTransaction[] = [];
  readonly disputes = new Map<string, ModelDispute>();
  readonly payouts = new Map<string, ModelPayout>();
  /** Every object id the read model must index (intents, charges, refunds, payment methods, disputes, payouts, balance transactions). */
  readonly objectIds = new Set<string>();
  /** What happened besides an operation's answer (a dispute opened by a capture), for the outcome counts; the driver drains it. */
  readonly sideOutcomes: string[] = [];

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
    const charge: ModelCharge = { chargeId, card: method, authorized: intent.amount, captured: 0n, refunded: 0n, isCaptured: false, holdOpen: declineCode === null, declineCode };
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
    // Stripe refuses to refund a charge whose dispute is open or lost (the network already took the money back).
    const disputed = [...this.disputes.values()].some((dispute) => dispute.chargeId === charge.chargeId && dispute.status !== 'won');
    if (disputed) return refused('charge_disputed', 'refund of a disputed charge refused');
    const afterWon = [...this.disputes.values()].some((dispute) => dispute.chargeId === charge.chargeId);
    const remaining = charge.captured - charge.refunded;
    if (remaining === 0n) return refused('charge_already_refunded', 'refund of a refunded charge refused');
    const refunded = amount ?? remaining;
    if (refunded > remaining) return refused('amount_too_large', 'refund above the refundable amount refused');
    const earlier = charge.refunded > 0n;
    charge.refunded += refunded;
    this.objectIds.add(refundId);
    this.addTransaction(intent, balanceTransactionIdOf(refundId), -refunded, 0n, nowMs, true);
    if (afterWon) this.sideOutcomes.push('refunded after a won dispute');
    const whole = refunded === remaining ? 'refunded the rest' : 'refunded partially';
    return { code: 'ok', outcome: earlier ? `${whole}, after an earlier refund` : whole };
  }

  /** Saves evidence (and with `submit`, submits it: test mode wins on winning_evidence, loses on losing_evidence, else under review). */
  updateDispute(disputeId: string, evidence: ModelEvidence, submit: boolean, nowMs: number): ModelAnswer {
    const dispute = this.dispute(disputeId);
    if (dispute.status === 'won' || dispute.status === 'lost') return refused('dispute_unexpected_state', 'update of a closed dispute refused');
    if ((submit || evidence !== 'none') && dispute.status === 'under_review') return refused('dispute_unexpected_state', 'evidence after submission refused');
    if (evidence === 'winning' || evidence === 'losing') dispute.text = `${evidence}_evidence`;
    if (!submit) return { code: 'ok', outcome: evidence === 'none' ? 'dispute metadata saved' : 'dispute evidence saved' };
    dispute.status = 'under_review';
    if (dispute.text === 'winning_evidence') {
      this.resolveDispute(dispute, 'won', nowMs);
      return { code: 'ok', outcome: 'dispute won' };
    }
    if (dispute.text === 'losing_evidence') {
      this.resolveDispute(dispute, 'lost', nowMs);
      return { code: 'ok', outcome: 'dispute lost' };
    }
    return { code: 'ok', outcome: 'dispute under review' };
  }

  /** Accepts a dispute: lost, the money and the fee stay withdrawn. */
  closeDispute(disputeId: string, nowMs: number): ModelAnswer {
    const dispute = this.dispute(disputeId);
    if (dispute.status === 'won' || dispute.status === 'lost') return refused('dispute_unexpected_state', 'close of a closed dispute refused');
    this.resolveDispute(dispute, 'lost', nowMs);
    return { code: 'ok', outcome: 'dispute accepted' };
  }

  /** A payout of the available balance, after the sweep of what is due (the service settles first, as a balance read does). */
  createPayout(input: { payoutId: string; mode: PaymentMode; currency: PaymentCurrency; amount: bigint; fails: boolean }, nowMs: number): ModelAnswer {
    this.settle(input.mode, nowMs);
    if (input.amount > this.balance(input.mode, input.currency).available) return refused('balance_insufficient', 'payout above the available balance refused');
    this.payouts.set(input.payoutId, { ...input, status: 'pending' });
    this.objectIds.add(input.payoutId);
    this.addTransaction(input, balanceTransactionIdOf(input.payoutId), -input.amount, 0n, nowMs, true);
    return { code: 'ok', outcome: 'payout created' };
  }

  /** The test bank answers: paid, or failed with the money back. */
  processPayout(payoutId: string, nowMs: number): ModelAnswer {
    const payout = this.payout(payoutId);
    if (payout.status !== 'pending') return refused('payout_unexpected_state', `process refused (${payout.status})`);
    if (!payout.fails) {
      payout.status = 'paid';
      return { code: 'ok', outcome: 'payout paid' };
    }
    payout.status = 'failed';
    this.addTransaction(payout, `${balanceTransactionIdOf(payoutId)}_failure`, payout.amount, 0n, nowMs, true);
    return { code: 'ok', outcome: 'payout failed' };
  }

  cancelPayout(payoutId: string, nowMs: number): ModelAnswer {
    const payout = this.payout(payoutId);
    if (payout.status !== 'pending') return refused('payout_unexpected_state', `payout cancel refused (${payout.status})`);
    payout.status = 'canceled';
    this.addTransaction(payout, `${balanceTransactionIdOf(payoutId)}_cancel`, payout.amount, 0n, nowMs, true);
    return { code: 'ok', outcome: 'payout canceled' };
  }

  /** What a settlement sweep at `nowMs` moves: every unsettled balance transaction now available. Returns how many. */
  settle(mode: PaymentMode, nowMs: number): number {
    const due = this.transactions.filter((txn) => txn.mode === mode && !txn.settled && txn.availableOnMs <= nowMs);
    for (const txn of due) txn.settled = true;
    return due.length;
  }

  balance(mode: PaymentMode, currency: PaymentCurrency): ModelBalance {
    const balance: ModelBalance = { available: 0n, pending: 0n, fees: 0n, holds: 0n, cardNetwork: 0n, payoutInTransit: 0n, bank: 0n };
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
    for (const dispute of this.disputes.values()) {
      // The network holds a dispute's amount until it is won.
      if (dispute.mode === mode && dispute.currency === currency && dispute.status !== 'won') balance.cardNetwork += dispute.amount;
    }
    for (const payout of this.payouts.values()) {
      if (payout.mode !== mode || payout.currency !== currency) continue;
      if (payout.status === 'pending') balance.payoutInTransit += payout.amount;
      if (payout.status === 'paid') balance.bank += payout.amount;
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

  /** The available balance a sweep at `nowMs` would leave (without sweeping). */
  availableAfterSweep(mode: PaymentMode, currency: PaymentCurrency, nowMs: number): bigint {
    const due = this.transactions.filter((txn) => txn.mode === mode && txn.currency === currency && !txn.settled && txn.availableOnMs <= nowMs);
    return due.reduce((sum, txn) => sum + txn.net, this.balance(mode, currency).available);
  }

  /** Disputes a dispute step could apply to (open ones), and payouts a payout step could (pending ones). */
  openDisputes(): ModelDispute[] {
    return [...this.disputes.values()].filter((dispute) => dispute.status === 'needs_response' || dispute.status === 'under_review');
  }

  pendingPayouts(): ModelPayout[] {
    return [...this.payouts.values()].filter((payout) => payout.status === 'pending');
  }

  dispute(disputeId: string): ModelDispute {
    const dispute = this.disputes.get(disputeId);
    if (dispute === undefined) throw new Error(`the model has no dispute ${disputeId}`);
    return dispute;
  }

  payout(payoutId: string): ModelPayout {
    const payout = this.payouts.get(payoutId);
    if (payout === undefined) throw new Error(`the model has no payout ${payoutId}`);
    return payout;
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
    if (charge.card === 'createDispute') this.openDispute(intent, charge, nowMs);
  }

  /** The dispute test card's charge is disputed right after its capture: amount and fee leave the available balance at once. */
  private openDispute(intent: ModelIntent, charge: ModelCharge, nowMs: number): void {
    const suffix = charge.chargeId.slice(charge.chargeId.indexOf('_') + 1);
    const fee = this.terms.disputeFeeMinor;
    const dispute: ModelDispute = {
      disputeId: `du_${suffix}`, paymentIntentId: intent.paymentIntentId, chargeId: charge.chargeId, mode: intent.mode, currency: intent.currency,
      amount: charge.captured, fee, status: 'needs_response', text: null,
    };
    this.disputes.set(dispute.disputeId, dispute);
    this.objectIds.add(dispute.disputeId);
    this.addTransaction(intent, `txn_${suffix}_dispute`, -(dispute.amount + fee), fee, nowMs, true);
    this.sideOutcomes.push('dispute opened');
  }

  /** Won returns the amount and the fee (a second balance transaction); lost keeps them. */
  private resolveDispute(dispute: ModelDispute, outcome: 'won' | 'lost', nowMs: number): void {
    dispute.status = outcome;
    if (outcome === 'won') this.addTransaction(dispute, `txn_${dispute.disputeId.slice(3)}_dispute_won`, dispute.amount + dispute.fee, -dispute.fee, nowMs, true);
  }

  private addTransaction(
    owner: { mode: PaymentMode; currency: PaymentCurrency }, balanceTransactionId: string, net: bigint, fee: bigint, availableOnMs: number, settled: boolean,
  ): void {
    this.transactions.push({ balanceTransactionId, mode: owner.mode, currency: owner.currency, net, fee, availableOnMs, settled });
    this.objectIds.add(balanceTransactionId);
  }
}
