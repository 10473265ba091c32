/**
 * fast-check arbitraries for the payments property tests: the terms of a run
 * (fee schedule, settlement delay, dispute fee) and random steps on payment
 * intents, disputes and payouts. Steps name their target (intent, dispute,
 * payout) by a number the driver resolves against the reference model; most
 * are aimed at one the step applies to (`aimed`), the rest at any, so
 * refusals happen too.
 */
import fc from 'fast-check';
import type { CaptureMethod } from '../domain/paymentIntent.events.ts';
import type { PaymentCurrency } from '../domain/payments.rules.ts';
import type { ModelEvidence, ModelTerms, ModelTestCard } from './payments.referenceModel.ts';
import type { PaymentMode } from './payments.service.ts';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** How much to capture or refund, resolved against what is capturable or refundable then. */
export type AmountChoice =
  | { kind: 'all' }
  /** Thousandths of the amount left, at least 1. */
  | { kind: 'part'; permille: number }
  /** A few minor units: below the fixed fee, a net under zero. */
  | { kind: 'small'; minor: bigint }
  /** More than is left: refused. */
  | { kind: 'above'; extra: bigint };

type Target = { pick: number; aimed: boolean };

export type PaymentStep =
  | { kind: 'create'; mode: PaymentMode; currency: PaymentCurrency; amount: bigint; captureMethod: CaptureMethod; card: ModelTestCard | null; confirm: boolean }
  | ({ kind: 'confirm'; card: ModelTestCard | null } & Target)
  | ({ kind: 'capture'; amount: AmountChoice } & Target)
  | ({ kind: 'cancel' } & Target)
  | ({ kind: 'refund'; amount: AmountChoice } & Target)
  /** The clock moves on, then the balance of each mode is read (which settles what is due). */
  | { kind: 'advance'; ms: number }
  | ({ kind: 'disputeUpdate'; evidence: ModelEvidence; submit: boolean } & Target)
  | ({ kind: 'disputeClose' } & Target)
  /**
   * A payout of a share of the available balance (permille), or more than it
   * (`above`), to an account that is paid or that fails; aimed at a mode and
   * currency with money available, or at any.
   */
  | ({ kind: 'payoutCreate'; amount: PayoutAmountChoice; fails: boolean } & Target)
  | ({ kind: 'payoutProcess' } & Target)
  | ({ kind: 'payoutCancel' } & Target);

export type PayoutAmountChoice = { kind: 'within'; permille: number } | { kind: 'above'; extra: bigint };

const target = { pick: fc.nat(1_000), aimed: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) };

const aCard: fc.Arbitrary<ModelTestCard> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<ModelTestCard>('visa', 'mastercard') },
  { weight: 2, arbitrary: fc.constantFrom<ModelTestCard>('chargeDeclined', 'chargeDeclinedInsufficientFunds') },
  { weight: 2, arbitrary: fc.constant<ModelTestCard>('bypassPending') },
  { weight: 2, arbitrary: fc.constant<ModelTestCard>('createDispute') },
);

export const anAmountChoice: fc.Arbitrary<AmountChoice> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'all' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('part' as const), permille: fc.integer({ min: 1, max: 999 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('small' as const), minor: fc.bigInt(1n, 40n) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('above' as const), extra: fc.bigInt(1n, 5_000n) }) },
);

const aMode = fc.oneof({ weight: 5, arbitrary: fc.constant<PaymentMode>('test') }, { weight: 1, arbitrary: fc.constant<PaymentMode>('live') });

const aCreate = fc.record({
  kind: fc.constant('create' as const),
  mode: aMode,
  currency: fc.constantFrom<PaymentCurrency>('usd', 'eur', 'jpy'),
  // Mostly valid amounts; now and then one below the currency's minimum (refused).
  amount: fc.oneof({ weight: 12, arbitrary: fc.bigInt(50n, 500_000n) }, { weight: 1, arbitrary: fc.bigInt(1n, 49n) }),
  captureMethod: fc.constantFrom<CaptureMethod>('automatic', 'manual'),
  card: fc.option(aCard, { freq: 6 }),
  confirm: fc.boolean(),
});

const aPayoutCreate = fc.record({
  kind: fc.constant('payoutCreate' as const),
  ...target,
  amount: fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('within' as const), permille: fc.integer({ min: 1, max: 1_000 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('above' as const), extra: fc.bigInt(1n, 5_000n) }) },
  ),
  fails: fc.boolean(),
});

const anEvidence = fc.constantFrom<ModelEvidence>('winning', 'losing', 'other', 'none');
const aSubmit = fc.oneof({ weight: 2, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

export const aPaymentStep: fc.Arbitrary<PaymentStep> = fc.oneof(
  { weight: 4, arbitrary: aCreate },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('confirm' as const), card: fc.option(aCard, { freq: 3 }), ...target }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('capture' as const), amount: anAmountChoice, ...target }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), ...target }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('refund' as const), amount: anAmountChoice, ...target }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(60_000, HOUR_MS, DAY_MS, 3 * DAY_MS) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('disputeUpdate' as const), evidence: anEvidence, submit: aSubmit, ...target }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('disputeClose' as const), ...target }) },
  { weight: 2, arbitrary: aPayoutCreate },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('payoutProcess' as const), ...target }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('payoutCancel' as const), ...target }) },
);

export const someTerms: fc.Arbitrary<ModelTerms> = fc.record({
  percentBps: fc.oneof(fc.constant(290n), fc.bigInt(0n, 500n)),
  fixedMinor: fc.oneof(fc.constant(30n), fc.bigInt(0n, 50n)),
  settlementDelayMs: fc.constantFrom(0, HOUR_MS, 2 * DAY_MS),
  disputeFeeMinor: fc.oneof(fc.constant(1500n), fc.bigInt(0n, 3_000n)),
});

/** The payout amount a choice names, given the available balance (which may be negative: then even 1 is refused). */
export function payoutAmountOf(choice: PayoutAmountChoice, available: bigint): bigint {
  const base = available > 0n ? available : 0n;
  if (choice.kind === 'above') return base + choice.extra;
  const part = (base * BigInt(choice.permille)) / 1_000n;
  return part < 1n ? 1n : part;
}

/** The amount a choice names, given what is left (capturable or refundable). */
export function amountOf(choice: AmountChoice, left: bigint): bigint | null {
  switch (choice.kind) {
    case 'all': return null;
    case 'part': {
      const part = (left * BigInt(choice.permille)) / 1_000n;
      return part < 1n ? 1n : part;
    }
    case 'small': return choice.minor;
    case 'above': return left + choice.extra;
  }
}
