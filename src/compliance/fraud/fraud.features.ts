/**
 * What a fraud check knows about one payment, and the model's feature vector
 * made from it (pure). The order of FRAUD_FEATURES is the model's: it must
 * match FEATURES in scripts/fraud/train_demo_model.py.
 *
 * Features are floating point by nature (a logarithm, a ratio); they are
 * computed from amounts here and never flow back into money.
 */
import { DaybookError } from '../../kernel/errors.ts';

export const FRAUD_FEATURES = ['amount', 'log_amount', 'velocity_1h', 'amount_vs_avg', 'new_payment_method', 'country_mismatch', 'hour_of_day'] as const;
export type FraudFeature = (typeof FRAUD_FEATURES)[number];

/** The customer's recent behaviour, as a read model knows it; null fields are unknown. */
export interface CustomerHistory {
  /** Payments by this customer in the hour before this one. */
  readonly paymentsLastHour: number | null;
  /** Mean amount of the customer's earlier payments, minor units; null without history. */
  readonly averageAmountMinor: bigint | null;
  /** Earlier payments counted in that mean. */
  readonly paymentCount: number;
}

export interface FraudCheckInput {
  /** What is checked: a payment intent, charge or transfer id. */
  readonly subjectRef: string;
  readonly amountMinor: bigint;
  /** ISO 4217 exponent of the currency (2 for USD): the model was trained on major units. */
  readonly currencyExponent: number;
  /** When the payment is made (its hour of day is a feature); null when unknown. */
  readonly atMs: number | null;
  readonly history: CustomerHistory | null;
  /** True when the payment method was first seen recently; null when unknown. */
  readonly newPaymentMethod: boolean | null;
  /** ISO country codes; a mismatch is only known when both are. */
  readonly cardCountry: string | null;
  readonly customerCountry: string | null;
}

const HOUR_MS = 3_600_000;

/** Major units for scoring only: 1050 minor USD is 10.5. Exact up to 2^53 minor units; larger amounts only need to be large. */
export function amountForScoring(amountMinor: bigint, exponent: number): number {
  if (!Number.isInteger(exponent) || exponent < 0 || exponent > 4) throw new DaybookError('validation_failed', `currency exponent ${exponent} is not 0 to 4`);
  return Number(amountMinor) / 10 ** exponent;
}

/** The ratio of this amount to the customer's mean (null without a positive mean). */
export function amountVsAverage(input: FraudCheckInput): number | null {
  const average = input.history?.averageAmountMinor ?? null;
  if (average === null || average <= 0n) return null;
  return Number(input.amountMinor) / Number(average);
}

export function countryMismatch(input: FraudCheckInput): boolean | null {
  if (input.cardCountry === null || input.customerCountry === null) return null;
  return input.cardCountry.toUpperCase() !== input.customerCountry.toUpperCase();
}

const flag = (value: boolean | null): number => (value === null ? Number.NaN : value ? 1 : 0);
const orMissing = (value: number | null): number => (value === null ? Number.NaN : value);

/**
 * The feature vector in FRAUD_FEATURES order; unknown values are NaN, which
 * the model sends down each split's default branch. Writes into `into` when
 * given (no allocation on the hot path).
 */
export function fraudFeatures(input: FraudCheckInput, into: Float64Array = new Float64Array(FRAUD_FEATURES.length)): Float64Array {
  if (input.amountMinor < 0n) throw new DaybookError('validation_failed', `amount ${input.amountMinor} is negative`, {}, 'amount');
  const amount = amountForScoring(input.amountMinor, input.currencyExponent);
  into[0] = amount;
  into[1] = Math.log1p(amount);
  into[2] = orMissing(input.history?.paymentsLastHour ?? null);
  into[3] = orMissing(amountVsAverage(input));
  into[4] = flag(input.newPaymentMethod);
  into[5] = flag(countryMismatch(input));
  into[6] = input.atMs === null ? Number.NaN : Math.floor(input.atMs / HOUR_MS) % 24;
  return into;
}
