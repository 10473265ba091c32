/**
 * The default fraud scorer (pure), run before every authorization and
 * recorded as `FraudCheckCompleted`. Deliberately simple: a base score
 * raised by large amounts. The compliance issue brings the real scorer; it
 * plugs in where the service builds the confirm command.
 */
import type { CardDetails } from './cards.rules.ts';

export type RiskLevel = 'normal' | 'elevated' | 'highest';

export type FraudVerdict = {
  /** 0 to 99, as Stripe Radar's `risk_score`. */
  readonly score: number;
  readonly riskLevel: RiskLevel;
  readonly decision: 'allow' | 'block';
  /** Why (rule and model reasons), and which model scored, when the scorer says (the compliance scorer does). */
  readonly reasons?: readonly string[];
  readonly modelVersion?: string;
};

/** What a scorer is told about an attempt: the amount and card, and where known the currency, mode, time, intent and customer. */
export type FraudScoringInput = {
  amountMinor: bigint; card: CardDetails; currency?: string; mode?: string; atMs?: number; paymentIntentId?: string; customerId?: string | null;
};

export type FraudScorer = (input: FraudScoringInput) => FraudVerdict;

/** Scores at or above this are blocked. */
export const FRAUD_BLOCK_SCORE = 90;

export const defaultFraudScorer: FraudScorer = ({ amountMinor }) => {
  const score = 8 + (amountMinor >= 10_000_000n ? 60 : amountMinor >= 1_000_000n ? 30 : 0);
  return verdictOf(score);
};

export function verdictOf(score: number): FraudVerdict {
  const riskLevel: RiskLevel = score >= 75 ? 'highest' : score >= 65 ? 'elevated' : 'normal';
  return { score, riskLevel, decision: score >= FRAUD_BLOCK_SCORE ? 'block' : 'allow' };
}
