/**
 * The compliance fraud model behind the Stripe listener: every attempt is
 * scored and its verdict (score, reasons, model version) recorded with the
 * charge, the same verdict the compliance scorer gives for what the charge
 * recorded. By default only live mode enforces the model's blocks, so test
 * mode declines exactly what Stripe's test cards decline;
 * `DAYBOOK_FRAUD_ENFORCE=all` declines the model's blocks in test mode too.
 * (The demo model's verdict on a large payment depends on the hour it is
 * made: each test compares with the scorer at the recorded time.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFraudChecker, createPaymentsFraudScorer, demoFraudModel } from '../../compliance/index.ts';
import { startStripeServer, stripeClient, type StripeServer } from './stripeTestkit.ts';

const LARGE = 5_000_000; // 50,000.00 USD: at least reviewed by the demo model at any hour, blocked at night.
const scorer = createPaymentsFraudScorer({ checker: createFraudChecker({ model: demoFraudModel() }) });

/** The events of the intent's first attempt, and the verdict the scorer gives for it. */
async function attemptOf(running: StripeServer, paymentIntentId: string) {
  const events = await running.server.store.readStream(`pintent-test.${paymentIntentId}`, { limit: 100 });
  const requested = events.find((event) => event.type === 'ChargeRequested')!.data as { amount: string; card: { country: string; fingerprint: string }; atMs: number; currency: string };
  const recorded = events.find((event) => event.type === 'FraudCheckCompleted')!.data as Record<string, unknown>;
  const expected = scorer({ amountMinor: BigInt(requested.amount), card: requested.card, atMs: requested.atMs, paymentIntentId, currency: requested.currency, mode: 'test', customerId: null });
  return { recorded, expected };
}

describe('fraud scoring on the Stripe listener (default: enforced in live mode only)', () => {
  let running: StripeServer;
  beforeAll(async () => { running = await startStripeServer('sqlite'); });
  afterAll(async () => running?.close());

  it('records the model verdict of a large test-mode payment, shows its risk, and lets it through', async () => {
    const call = stripeClient(running.url);
    const intent = await call('POST', '/v1/payment_intents', { amount: LARGE, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, expand: ['latest_charge'] });
    expect(intent.status, JSON.stringify(intent.body)).toBe(200);
    expect(intent.body.status).toBe('succeeded');
    const { recorded, expected } = await attemptOf(running, intent.body.id);
    expect(recorded).toMatchObject({ score: expected.score, riskLevel: expected.riskLevel, reasons: expected.reasons, modelVersion: 'fraud-demo-1', decision: 'allow' });
    expect(['elevated', 'highest']).toContain(expected.riskLevel);
    expect(intent.body.latest_charge.outcome).toMatchObject({ risk_level: expected.riskLevel, risk_score: expected.score, type: 'authorized' });
    const small = await call('POST', '/v1/payment_intents', { amount: 2000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true, expand: ['latest_charge'] });
    expect(small.body.latest_charge.outcome).toMatchObject({ risk_level: 'normal' });
  });
});

describe('fraud scoring with DAYBOOK_FRAUD_ENFORCE=all', () => {
  let running: StripeServer;
  beforeAll(async () => { running = await startStripeServer('sqlite', { DAYBOOK_FRAUD_ENFORCE: 'all' }); });
  afterAll(async () => running?.close());

  it('declines, as fraudulent and not sent to the network, exactly what the model blocks', async () => {
    const call = stripeClient(running.url);
    const answer = await call('POST', '/v1/payment_intents', { amount: LARGE, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });
    const paymentIntentId = answer.status === 200 ? answer.body.id : answer.body.error.payment_intent.id;
    const { recorded, expected } = await attemptOf(running, paymentIntentId);
    expect(recorded).toMatchObject({ decision: expected.decision, score: expected.score });
    if (expected.decision === 'block') {
      expect(answer.status).toBe(402);
      expect(answer.body.error).toMatchObject({ type: 'card_error', code: 'card_declined', decline_code: 'fraudulent' });
      expect((await call('GET', `/v1/charges/${answer.body.error.charge}`)).body.outcome).toMatchObject({ type: 'blocked', network_status: 'not_sent_to_network' });
    } else {
      expect(answer.body.status).toBe('succeeded');
    }
  });
});
