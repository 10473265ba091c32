/**
 * The fraud check's event (pure): what was checked, the verdict and the
 * model that gave it, so a decision can be explained and replayed later.
 * Appended by the compliance processor to `fraudcheck-<subjectRef>`.
 *
 * Payments records an event of the same type name on its payment intents
 * (score, risk level, decision only); the stream category tells them apart.
 */
import type { FraudDecision, FraudReason } from './fraud.rules.ts';
import type { FraudCheckVerdict } from './fraud.verdict.ts';

export const FRAUD_CHECK_STREAM_PREFIX = 'fraudcheck-';

export type FraudCheckCompleted = {
  type: 'FraudCheckCompleted';
  data: {
    /** The payment (intent, charge, transfer) checked. */
    subjectRef: string;
    /** The model's probability of fraud, 0 to 1. */
    score: number;
    decision: FraudDecision;
    reasons: FraudReason[];
    modelVersion: string;
    atMs: number;
  };
};

export type FraudEvent = FraudCheckCompleted;
export const FRAUD_EVENT_TYPES = ['FraudCheckCompleted'] as const satisfies ReadonlyArray<FraudEvent['type']>;

export const fraudCheckStreamId = (subjectRef: string): string => `${FRAUD_CHECK_STREAM_PREFIX}${subjectRef}`;

export function fraudCheckCompleted(subjectRef: string, verdict: FraudCheckVerdict, atMs: number): FraudCheckCompleted {
  return {
    type: 'FraudCheckCompleted',
    data: { subjectRef, score: verdict.score, decision: verdict.decision, reasons: [...verdict.reasons], modelVersion: verdict.modelVersion, atMs },
  };
}
