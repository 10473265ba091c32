/**
 * Fraud rules (pure): what an analyst can read and argue with, beside the
 * model's score. Each rule looks at one signal (velocity, the amount against
 * the customer's history, a new payment method, a card from another country)
 * and may raise the decision to `review` or `block` with a reason. The
 * verdict (fraud.verdict.ts) takes the strongest of the rules and the score.
 */
import { DaybookError } from '../../kernel/errors.ts';
import { amountVsAverage, countryMismatch, type FraudCheckInput } from './fraud.features.ts';

export type FraudDecision = 'allow' | 'review' | 'block';

export type FraudReasonCode =
  | 'model_score_review'
  | 'model_score_block'
  | 'velocity_review'
  | 'velocity_block'
  | 'amount_above_customer_average'
  | 'new_payment_method_foreign_card'
  | 'new_payment_method'
  | 'country_mismatch';

export interface FraudReason {
  readonly code: FraudReasonCode;
  /** What this reason asks for: `allow` marks a signal worth showing that decides nothing alone. */
  readonly decision: FraudDecision;
  readonly message: string;
}

/** Thresholds; see FRAUD_CONFIG_DEFAULT. */
export interface FraudConfig {
  /** Model probability at or above which a payment is reviewed… */
  readonly reviewScore: number;
  /** …and blocked. */
  readonly blockScore: number;
  /** Payments in the last hour (before this one) at or above which a payment is reviewed… */
  readonly velocityReview: number;
  /** …and blocked. */
  readonly velocityBlock: number;
  /** Amount over the customer's mean at or above which a payment is reviewed… */
  readonly amountVsAverageReview: number;
  /** …counted only once the customer has made this many payments. */
  readonly historyPaymentsMin: number;
}

export const FRAUD_CONFIG_DEFAULT: FraudConfig = {
  reviewScore: 0.5, blockScore: 0.85, velocityReview: 5, velocityBlock: 20, amountVsAverageReview: 10, historyPaymentsMin: 3,
};

/** Refuses thresholds out of order or out of range (validation_failed naming the field). */
export function checkFraudConfig(config: FraudConfig): FraudConfig {
  const fail = (field: keyof FraudConfig, why: string) => new DaybookError('validation_failed', `fraud config ${field} ${why}`, { field }, field);
  if (!(config.reviewScore > 0 && config.reviewScore <= 1)) throw fail('reviewScore', `${config.reviewScore} is not within (0, 1]`);
  if (!(config.blockScore >= config.reviewScore && config.blockScore <= 1)) throw fail('blockScore', `${config.blockScore} is not within [reviewScore, 1]`);
  if (!(Number.isInteger(config.velocityReview) && config.velocityReview > 0)) throw fail('velocityReview', `${config.velocityReview} is not a positive integer`);
  if (!(Number.isInteger(config.velocityBlock) && config.velocityBlock >= config.velocityReview)) throw fail('velocityBlock', `${config.velocityBlock} is below velocityReview`);
  if (!(config.amountVsAverageReview > 1)) throw fail('amountVsAverageReview', `${config.amountVsAverageReview} is not above 1`);
  if (!(Number.isInteger(config.historyPaymentsMin) && config.historyPaymentsMin >= 1)) throw fail('historyPaymentsMin', `${config.historyPaymentsMin} is not a positive integer`);
  return config;
}

export function velocityRule(input: FraudCheckInput, config: FraudConfig): FraudReason | null {
  const count = input.history?.paymentsLastHour ?? null;
  if (count === null) return null;
  if (count >= config.velocityBlock) return { code: 'velocity_block', decision: 'block', message: `${count} payments in the last hour (block at ${config.velocityBlock})` };
  if (count >= config.velocityReview) return { code: 'velocity_review', decision: 'review', message: `${count} payments in the last hour (review at ${config.velocityReview})` };
  return null;
}

export function amountRule(input: FraudCheckInput, config: FraudConfig): FraudReason | null {
  if ((input.history?.paymentCount ?? 0) < config.historyPaymentsMin) return null;
  const ratio = amountVsAverage(input);
  if (ratio === null || ratio < config.amountVsAverageReview) return null;
  return { code: 'amount_above_customer_average', decision: 'review', message: `amount is ${Math.floor(ratio)}x the customer's average (review at ${config.amountVsAverageReview}x)` };
}

/** A new method with a card from another country is the classic stolen-card pattern; each alone is only a signal. */
export function paymentMethodRule(input: FraudCheckInput): FraudReason[] {
  const mismatch = countryMismatch(input) === true;
  if (input.newPaymentMethod === true && mismatch) {
    return [{ code: 'new_payment_method_foreign_card', decision: 'review', message: `new payment method with a card from ${input.cardCountry}, customer in ${input.customerCountry}` }];
  }
  if (input.newPaymentMethod === true) return [{ code: 'new_payment_method', decision: 'allow', message: 'payment method first seen recently' }];
  if (mismatch) return [{ code: 'country_mismatch', decision: 'allow', message: `card from ${input.cardCountry}, customer in ${input.customerCountry}` }];
  return [];
}

/** Every rule's reasons, in a fixed order. */
export function fraudRuleReasons(input: FraudCheckInput, config: FraudConfig): FraudReason[] {
  const reasons: FraudReason[] = [];
  const velocity = velocityRule(input, config);
  if (velocity) reasons.push(velocity);
  const amount = amountRule(input, config);
  if (amount) reasons.push(amount);
  reasons.push(...paymentMethodRule(input));
  return reasons;
}

export function modelReason(score: number, config: FraudConfig): FraudReason | null {
  const shown = score.toFixed(3);
  if (score >= config.blockScore) return { code: 'model_score_block', decision: 'block', message: `model score ${shown} (block at ${config.blockScore})` };
  if (score >= config.reviewScore) return { code: 'model_score_review', decision: 'review', message: `model score ${shown} (review at ${config.reviewScore})` };
  return null;
}

const RANK: Readonly<Record<FraudDecision, number>> = { allow: 0, review: 1, block: 2 };

/** The strongest decision among the reasons (allow when none asks for more). */
export function strongestDecision(reasons: readonly FraudReason[]): FraudDecision {
  let decision: FraudDecision = 'allow';
  for (const reason of reasons) if (RANK[reason.decision] > RANK[decision]) decision = reason.decision;
  return decision;
}
