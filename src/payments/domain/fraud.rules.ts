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
};

export type FraudScorer = (input: { amountMinor: bigint; card: CardDetails }) => FraudVerdict;

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
