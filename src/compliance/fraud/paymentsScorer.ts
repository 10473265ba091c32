/**
 * The compliance fraud checker in the shape payments' `FraudScorer` takes
 * (`PaymentsOptions.scorer`, src/payments/domain/fraud.rules.ts), so the
 * composition root can hand it over without payments depending on
 * compliance. Pure.
 *
 * Payments passes only the amount and the card; what else the check should
 * know (the customer's history, whether the method is new, the customer's
 * country, the time) comes from `signals`, else it is missing and the model
 * takes each split's default branch. Payments knows allow and block only: a
 * `review` is allowed with risk level `elevated` (as Stripe Radar lets a
 * reviewed payment through), and `onVerdict` sees the full verdict (reasons,
 * model version) to record a compliance FraudCheckCompleted.
 *
 * @example
 * const scorer = createPaymentsFraudScorer({ checker: createFraudChecker({ model: demoFraudModel() }) });
 * await PaymentsService.open(store, { scorer });
 */
import type { FraudCheckInput } from './fraud.features.ts';
import type { FraudDecision } from './fraud.rules.ts';
import type { FraudCheckVerdict, FraudChecker } from './fraud.verdict.ts';

/** What payments' scorer is called with (structurally its `{ amountMinor, card }`). */
export interface PaymentsScorerInput {
  readonly amountMinor: bigint;
  readonly card: { readonly country: string; readonly fingerprint: string };
  readonly currency?: string;
  readonly mode?: string;
  readonly atMs?: number;
  readonly paymentIntentId?: string;
  readonly customerId?: string | null;
}

/** Structurally payments' `FraudVerdict`: score 0 to 99 like Stripe Radar's risk_score. */
export interface PaymentsScorerVerdict {
  readonly score: number;
  readonly riskLevel: 'normal' | 'elevated' | 'highest';
  readonly decision: 'allow' | 'block';
  readonly reasons: readonly string[];
  readonly modelVersion: string;
}

export type PaymentsSignals = Partial<Pick<FraudCheckInput, 'subjectRef' | 'currencyExponent' | 'atMs' | 'history' | 'newPaymentMethod' | 'customerCountry'>>;

export interface PaymentsScorerOptions {
  readonly checker: FraudChecker;
  /** What else is known about this payment (a read-model look-up); nothing by default. */
  readonly signals?: (input: PaymentsScorerInput) => PaymentsSignals;
  readonly onVerdict?: (input: PaymentsScorerInput, verdict: FraudCheckVerdict) => void;
  /**
   * Whether a block is enforced for this attempt (default: always). The
   * server enforces in live mode only, so test mode declines exactly what
   * Stripe's test cards decline; the verdict is recorded either way.
   */
  readonly enforces?: (input: PaymentsScorerInput) => boolean;
}

const RISK_LEVEL: Readonly<Record<FraudDecision, PaymentsScorerVerdict['riskLevel']>> = { allow: 'normal', review: 'elevated', block: 'highest' };

/** A probability as Radar's 0-99 risk score. */
export const riskScoreOf = (probability: number): number => Math.min(99, Math.max(0, Math.floor(probability * 100)));

export function createPaymentsFraudScorer(options: PaymentsScorerOptions): (input: PaymentsScorerInput) => PaymentsScorerVerdict {
  return (input) => {
    const signals = options.signals?.(input) ?? {};
    const verdict = options.checker.check({
      subjectRef: signals.subjectRef ?? input.paymentIntentId ?? input.card.fingerprint, amountMinor: input.amountMinor, currencyExponent: signals.currencyExponent ?? 2,
      atMs: signals.atMs ?? input.atMs ?? null, history: signals.history ?? null, newPaymentMethod: signals.newPaymentMethod ?? null,
      cardCountry: input.card.country, customerCountry: signals.customerCountry ?? null,
    });
    options.onVerdict?.(input, verdict);
    const enforced = options.enforces?.(input) ?? true;
    return {
      score: riskScoreOf(verdict.score), riskLevel: RISK_LEVEL[verdict.decision], decision: verdict.decision === 'block' && enforced ? 'block' : 'allow',
      reasons: verdict.reasons.map((reason) => reason.code), modelVersion: verdict.modelVersion,
    };
  };
}
