/**
 * Retention of the payment objects that are data subjects of their own, on
 * a real SQLite store written with encryption, its clock moved by hand, the
 * rules read from `DAYBOOK_RETENTION` as the CLI reads them: a guest's
 * payment intent with a receipt email, a payment method with billing
 * details and a payout with a description, all last touched eight years
 * ago, are erased under `pintent=7y,pmethod=7y,ppayout=7y`; a guest intent
 * of yesterday is kept. A Stripe customer idle for eight years that gets a
 * payment intent while the run is going (after the run read the activity
 * of the linking categories, before the customer's turn to be erased) is
 * kept: the run looks again just before it erases.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRetentionConfig, retentionCutoffMs } from '../edge/index.ts';
import type { ReadAllOptions } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { fixedClock } from '../kernel/index.ts';
import { openShreddingStore, type ShreddingEventStore } from '../privacy/index.ts';
import { applyRetention, type RetentionPolicy } from './index.ts';

const YEAR = 365 * 86_400_000;
const NOW = Date.UTC(2025, 5, 1);
const clock = fixedClock(NOW - 8 * YEAR);
let dir: string;
let store: ShreddingEventStore;
let policies: RetentionPolicy[];

const intent = (id: string, customerId: string | null, receiptEmail: string | null) => ({
  streamId: `pintent-test.${id}`,
  events: [{ type: 'PaymentIntentCreated', data: {
    paymentIntentId: id, amount: '100', currency: 'usd', customerId, paymentMethodId: null, captureMethod: 'automatic', description: null, metadata: {}, receiptEmail, atMs: clock.nowMs(),
  } }],
});

async function firstData(streamId: string): Promise<Record<string, unknown>> {
  const events = await store.readStream(streamId);
  return events[0]!.data as Record<string, unknown>;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-retention-payments-'));
  const storeUrl = `sqlite:${join(dir, 'daybook.db')}`;
  store = await openShreddingStore(await openEventStore(storeUrl, { clock }), { storeUrl, keysDir: join(dir, 'keys'), clock });
  await store.append(intent('pi_old', null, 'old.guest@example.com'));
  await store.append({ streamId: 'pmethod-test.pm_old', events: [{ type: 'PaymentMethodCreated', data: { paymentMethodId: 'pm_old', customerId: null, billingDetails: { name: 'Old Cardholder' }, metadata: {} } }] });
  await store.append({ streamId: 'ppayout-test.po_old', events: [{ type: 'PayoutCreated', data: { payoutId: 'po_old', amount: '500', currency: 'usd', description: 'to Old Merchant', metadata: {} } }] });
  await store.append({ streamId: 'pcustomer-test.cus_race', events: [{ type: 'StripeCustomerCreated', data: { id: 'cus_race', pii: { name: 'Racing Customer' } } }] });
  clock.advance(NOW - 86_400_000 - clock.nowMs());
  await store.append(intent('pi_recent', null, 'recent.guest@example.com'));
  clock.advance(NOW - clock.nowMs());
  const rules = loadRetentionConfig({ DAYBOOK_RETENTION: 'pcustomer=7y,pintent=7y,pmethod=7y,ppayout=7y' });
  policies = rules.map((rule) => ({ category: rule.category, cutoffMs: retentionCutoffMs(rule, NOW), text: rule.text }));
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('retention of payment objects', () => {
  it('erases guest payment objects past retention, keeps a recent one and a customer active again during the run', async () => {
    let raced = false;
    // The run's first read of the intents (its activity scan) is followed by the customer's new intent.
    const racing = new Proxy(store, {
      get(object, key, receiver) {
        if (key !== 'inner') return Reflect.get(object, key, receiver);
        return new Proxy(object.inner, {
          get(inner, innerKey, innerReceiver) {
            if (innerKey !== 'streamAll') return Reflect.get(inner, innerKey, innerReceiver);
            return async function* streamAll(options?: Omit<ReadAllOptions, 'limit'>) {
              yield* inner.streamAll(options);
              if (options?.category === 'pintent' && !raced) {
                raced = true;
                await object.append(intent('pi_race', 'cus_race', null));
              }
            };
          },
        });
      },
    });
    const report = await applyRetention(racing, policies, clock, { dryRun: false });
    expect(raced).toBe(true);
    expect(report.actions.map((a) => [a.subject, a.outcome])).toEqual([
      ['pintent:test:pi_old', 'erased'], ['pmethod:test:pm_old', 'erased'], ['ppayout:test:po_old', 'erased'],
    ]);
    expect((await firstData('pintent-test.pi_old')).receiptEmail).toBe('[erased]');
    expect((await firstData('pmethod-test.pm_old')).billingDetails).toMatchObject({ name: '[erased]' });
    expect((await firstData('ppayout-test.po_old')).description).toBe('[erased]');
    expect((await firstData('pintent-test.pi_recent')).receiptEmail).toBe('recent.guest@example.com');
    expect((await firstData('pcustomer-test.cus_race')).pii).toMatchObject({ name: 'Racing Customer' });
    expect(report.policies.map((p) => [p.category, p.streamsChecked])).toEqual([['pcustomer', 1], ['pintent', 3], ['pmethod', 1], ['ppayout', 1]]);
    expect((await store.verify()).ok).toBe(true);
  });
});
