/**
 * Fraud rules and the verdict: each rule at and below its threshold, rules
 * that need history or both countries staying silent without them, the
 * strongest decision winning with every reason kept, the model's score
 * thresholds, config checks, the feature vector (missing values as NaN),
 * and the adapter payments can take as its FraudScorer.
 */
import { describe, expect, it } from 'vitest';
import type { FraudScorer } from '../../payments/index.ts';
import { demoFraudModel } from '../model/demoModel.ts';
import { fraudCheckCompleted, fraudCheckStreamId } from './fraud.events.ts';
import { FRAUD_FEATURES, fraudFeatures, type FraudCheckInput } from './fraud.features.ts';
import { checkFraudConfig, FRAUD_CONFIG_DEFAULT, type FraudConfig } from './fraud.rules.ts';
import { createFraudChecker, fraudVerdict, rulesOnlyVerdict } from './fraud.verdict.ts';
import { createPaymentsFraudScorer, riskScoreOf } from './paymentsScorer.ts';
import { predict } from './xgboost.scorer.ts';

const T_1300_UTC = Date.UTC(2024, 5, 13, 13, 20);
const input = (over: Partial<FraudCheckInput> = {}): FraudCheckInput => ({
  subjectRef: 'pi_1', amountMinor: 5_000n, currencyExponent: 2, atMs: T_1300_UTC,
  history: { paymentsLastHour: 0, averageAmountMinor: 4_000n, paymentCount: 12 },
  newPaymentMethod: false, cardCountry: 'US', customerCountry: 'us', ...over,
});
const codes = (i: FraudCheckInput, config: FraudConfig = FRAUD_CONFIG_DEFAULT) => rulesOnlyVerdict(i, config).reasons.map((r) => r.code);

describe('the rules', () => {
  it('allow an ordinary payment without reasons', () => {
    expect(rulesOnlyVerdict(input())).toEqual({ score: 0, decision: 'allow', reasons: [], modelVersion: 'rules-only' });
  });

  it('review at the velocity threshold and block at the block threshold, not below', () => {
    const at = (count: number) => rulesOnlyVerdict(input({ history: { paymentsLastHour: count, averageAmountMinor: 4_000n, paymentCount: 12 } }));
    expect(at(4).decision).toBe('allow');
    expect(at(5)).toMatchObject({ decision: 'review', reasons: [{ code: 'velocity_review' }] });
    expect(at(19).decision).toBe('review');
    expect(at(20)).toMatchObject({ decision: 'block', reasons: [{ code: 'velocity_block', message: '20 payments in the last hour (block at 20)' }] });
  });

  it('review an amount ten times the customer\'s average, once there is enough history', () => {
    expect(codes(input({ amountMinor: 39_999n }))).toEqual([]);
    expect(codes(input({ amountMinor: 40_000n }))).toEqual(['amount_above_customer_average']);
    expect(codes(input({ amountMinor: 40_000n, history: { paymentsLastHour: 0, averageAmountMinor: 4_000n, paymentCount: 2 } }))).toEqual([]);
    expect(codes(input({ amountMinor: 40_000n, history: null }))).toEqual([]);
  });

  it('review a new payment method with a foreign card; each alone is a signal that allows', () => {
    expect(rulesOnlyVerdict(input({ newPaymentMethod: true, cardCountry: 'NG' }))).toMatchObject({ decision: 'review', reasons: [{ code: 'new_payment_method_foreign_card' }] });
    expect(rulesOnlyVerdict(input({ newPaymentMethod: true }))).toMatchObject({ decision: 'allow', reasons: [{ code: 'new_payment_method' }] });
    expect(rulesOnlyVerdict(input({ cardCountry: 'NG' }))).toMatchObject({ decision: 'allow', reasons: [{ code: 'country_mismatch' }] });
    expect(codes(input({ newPaymentMethod: true, cardCountry: 'NG', customerCountry: null }))).toEqual(['new_payment_method']);
  });

  it('take the strongest decision and keep every reason, the model\'s first', () => {
    const risky = input({ amountMinor: 100_000n, newPaymentMethod: true, cardCountry: 'NG', history: { paymentsLastHour: 25, averageAmountMinor: 4_000n, paymentCount: 12 } });
    const verdict = fraudVerdict(risky, 0.6, 'm1', FRAUD_CONFIG_DEFAULT);
    expect(verdict.decision).toBe('block');
    expect(verdict.reasons.map((r) => r.code)).toEqual(['model_score_review', 'velocity_block', 'amount_above_customer_average', 'new_payment_method_foreign_card']);
  });

  it('review and block on the model\'s score at its thresholds', () => {
    expect(fraudVerdict(input(), 0.4999, 'm1', FRAUD_CONFIG_DEFAULT).decision).toBe('allow');
    expect(fraudVerdict(input(), 0.5, 'm1', FRAUD_CONFIG_DEFAULT)).toMatchObject({ decision: 'review', reasons: [{ code: 'model_score_review' }] });
    expect(fraudVerdict(input(), 0.85, 'm1', FRAUD_CONFIG_DEFAULT)).toMatchObject({ decision: 'block', reasons: [{ code: 'model_score_block' }] });
  });

  it('refuse a config whose thresholds are out of order', () => {
    expect(() => checkFraudConfig({ ...FRAUD_CONFIG_DEFAULT, blockScore: 0.4 })).toThrow(/blockScore 0.4 is not within \[reviewScore, 1\]/);
    expect(() => checkFraudConfig({ ...FRAUD_CONFIG_DEFAULT, velocityBlock: 2 })).toThrow(/velocityBlock 2 is below velocityReview/);
    expect(() => checkFraudConfig({ ...FRAUD_CONFIG_DEFAULT, reviewScore: 0 })).toThrow(/reviewScore/);
  });
});

describe('the feature vector', () => {
  it('is in the model\'s order, amounts in major units, the hour in UTC', () => {
    expect(FRAUD_FEATURES).toEqual(demoFraudModel().featureNames);
    expect([...fraudFeatures(input({ newPaymentMethod: true, cardCountry: 'DE' }))]).toEqual([50, Math.log1p(50), 0, 1.25, 1, 1, 13]);
    expect(fraudFeatures(input({ amountMinor: 500n, currencyExponent: 0 }))[0]).toBe(500);
  });

  it('leaves unknowns missing (NaN)', () => {
    const vector = fraudFeatures(input({ history: null, newPaymentMethod: null, customerCountry: null, atMs: null }));
    expect([...vector].slice(2).every(Number.isNaN)).toBe(true);
  });

  it('refuses a negative amount', () => expect(() => fraudFeatures(input({ amountMinor: -1n }))).toThrow(/negative/));
});

describe('the checker with the demo model', () => {
  const checker = createFraudChecker({ model: demoFraudModel() });

  it('scores with the model and names it', () => {
    const verdict = checker.check(input());
    expect(verdict.modelVersion).toBe('fraud-demo-1');
    expect(verdict.score).toBe(predict(demoFraudModel(), fraudFeatures(input())));
    expect(verdict.score).toBeLessThan(0.5);
  });

  it('scores a risky payment higher than an ordinary one', () => {
    const risky = input({ amountMinor: 90_000n, newPaymentMethod: true, cardCountry: 'NG', atMs: Date.UTC(2024, 5, 13, 3), history: { paymentsLastHour: 6, averageAmountMinor: 4_000n, paymentCount: 12 } });
    expect(checker.check(risky).score).toBeGreaterThan(checker.check(input()).score + 0.3);
  });

  it('refuses a model that takes other features', () => {
    const other = { ...demoFraudModel(), featureNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] };
    expect(() => createFraudChecker({ model: other })).toThrow(/takes features a, b/);
  });

  it('makes the FraudCheckCompleted event of a verdict', () => {
    const verdict = checker.check(input({ cardCountry: 'NG' }));
    expect(fraudCheckCompleted('pi_1', verdict, 7)).toEqual({
      type: 'FraudCheckCompleted', data: { subjectRef: 'pi_1', score: verdict.score, decision: 'allow', reasons: [expect.objectContaining({ code: 'country_mismatch' })], modelVersion: 'fraud-demo-1', atMs: 7 },
    });
    expect(fraudCheckStreamId('pi_1')).toBe('fraudcheck-pi_1');
  });
});

describe('the scorer payments can take', () => {
  const card = { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030, funding: 'credit', country: 'NG', fingerprint: 'fp_1' } as const;

  it('is a FraudScorer: allow, review as elevated, block, with the full verdict on the side', () => {
    const seen: string[] = [];
    const scorer: FraudScorer = createPaymentsFraudScorer({
      checker: createFraudChecker({ model: demoFraudModel() }),
      signals: () => ({ customerCountry: 'US', newPaymentMethod: true, history: { paymentsLastHour: 30, averageAmountMinor: 1_000n, paymentCount: 5 } }),
      onVerdict: (_, verdict) => seen.push(...verdict.reasons.map((r) => r.code)),
    });
    const verdict = scorer({ amountMinor: 5_000n, card });
    expect(verdict).toMatchObject({ decision: 'block', riskLevel: 'highest' });
    expect(seen).toContain('velocity_block');
    const review = createPaymentsFraudScorer({ checker: createFraudChecker({ model: demoFraudModel(), config: { ...FRAUD_CONFIG_DEFAULT, reviewScore: 0.01 } }) });
    expect(review({ amountMinor: 5_000n, card })).toMatchObject({ decision: 'allow', riskLevel: 'elevated' });
  });

  it('turns probabilities into 0-99 risk scores', () => {
    expect([0, 0.0999, 0.5, 0.999, 1].map(riskScoreOf)).toEqual([0, 9, 50, 99, 99]);
  });
});

describe('the payments scorer and its enforcement', () => {
  const blocking = createFraudChecker({ model: demoFraudModel(), config: { ...FRAUD_CONFIG_DEFAULT, reviewScore: 1e-9, blockScore: 1e-9 } });
  const input = { amountMinor: 2000n, card: { country: 'US', fingerprint: 'fp_1' }, mode: 'test' };
  it('declines what the model blocks where enforced, and lets it through (at the highest risk) where not', () => {
    expect(createPaymentsFraudScorer({ checker: blocking })(input)).toMatchObject({ decision: 'block', riskLevel: 'highest', modelVersion: 'fraud-demo-1' });
    const liveOnly = createPaymentsFraudScorer({ checker: blocking, enforces: (attempt) => attempt.mode === 'live' });
    expect(liveOnly(input)).toMatchObject({ decision: 'allow', riskLevel: 'highest', reasons: ['model_score_block'] });
    expect(liveOnly({ ...input, mode: 'live' })).toMatchObject({ decision: 'block' });
  });
});
