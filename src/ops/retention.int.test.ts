/**
 * `applyRetention` on a real SQLite store written with encryption, its
 * clock moved by hand: a banking customer and a Stripe customer last seen
 * eight years ago are past `customer=7y` / `pcustomer=7y`; one seen last
 * year is not. A dry run lists the old ones and changes nothing; apply
 * erases them by crypto-shredding (actor `retention`, a `DataSubjectErased`
 * event each), after which they read `[erased]` while the recent one reads
 * as before and the log still verifies; a second run finds them already erased.
 * Expiry follows the subject's latest activity, not its own stream's: a
 * customer created eight years ago whose account took a deposit yesterday,
 * and a Stripe customer of the same age with a payment intent last month,
 * are kept; one whose account has been idle as long as it has is erased.
 * A subject whose erasure stopped after its key, before its event, is
 * reported `already_erased` by a dry run and finished (event written) by apply.
 * A later run does no work for a subject erased already (key destroyed and
 * event written): no erasure, no read of the linking payment categories
 * beyond the one activity scan (spied on the store's streamAll).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BankingService } from '../banking/index.ts';
import { retentionCutoffMs } from '../edge/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { fixedClock } from '../kernel/index.ts';
import type { ReadAllOptions } from '../eventstore/index.ts';
import { openShreddingStore, PRIVACY_ERASURES_STREAM, type ShreddingEventStore } from '../privacy/index.ts';
import { applyRetention, type RetentionPolicy } from './index.ts';

const YEAR = 365 * 86_400_000;
const NOW = Date.UTC(2025, 5, 1);
const clock = fixedClock(NOW - 8 * YEAR);
let dir: string;
let store: ShreddingEventStore;
let policies: RetentionPolicy[];

async function pii(streamId: string): Promise<unknown> {
  const events = await store.readStream(streamId);
  return (events[0]!.data as { pii: unknown }).pii;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-retention-'));
  const storeUrl = `sqlite:${join(dir, 'daybook.db')}`;
  store = await openShreddingStore(await openEventStore(storeUrl, { clock }), { storeUrl, keysDir: join(dir, 'keys'), clock });
  const bank = await BankingService.open(store, { ledgerPartition: 'banking-test', clock });
  await bank.registerCustomer({ customerId: 'test.old', pii: { fullName: 'Old Customer', email: 'old@example.com' } });
  await store.append({ streamId: 'pcustomer-test.cus_old', events: [{ type: 'StripeCustomerCreated', data: { id: 'cus_old', pii: { name: 'Old Stripe' } } }] });
  await store.append({ streamId: 'pcustomer-test.cus_paying', events: [{ type: 'StripeCustomerCreated', data: { id: 'cus_paying', pii: { name: 'Paying Stripe' } } }] });
  // An erasure that stopped after destroying the key, before its DataSubjectErased event (a crash).
  await bank.registerCustomer({ customerId: 'test.crashed', pii: { fullName: 'Crashed Erasure', email: 'crashed@example.com' } });
  await store.keyring.keyStore.erase('bankcustomer:test.crashed', clock.nowMs());
  for (const id of ['busy', 'dormant']) {
    await bank.registerCustomer({ customerId: `test.${id}`, pii: { fullName: `${id} Customer`, email: `${id}@example.com` } });
    await bank.openAccount({ accountId: `test.${id}_chk`, customerId: `test.${id}`, accountType: 'checking', currency: 'USD', regulatoryTier: 'retail', initialBalanceMinor: 1_000n });
  }
  clock.advance(7 * YEAR);
  await bank.registerCustomer({ customerId: 'test.recent', pii: { fullName: 'Recent Customer', email: 'recent@example.com' } });
  clock.advance(NOW - 30 * 86_400_000 - clock.nowMs());
  await store.append({ streamId: 'pintent-test.pi_1', events: [{ type: 'PaymentIntentCreated', data: { paymentIntentId: 'pi_1', amount: '100', currency: 'usd', customerId: 'cus_paying', paymentMethodId: null, captureMethod: 'automatic', description: null, metadata: {}, atMs: clock.nowMs() } }] });
  clock.advance(29 * 86_400_000);
  await bank.deposit({ accountId: 'test.busy_chk', amountMinor: 500n, reference: 'salary' });
  await bank.ledger.close();
  clock.advance(NOW - clock.nowMs());
  policies = [
    { category: 'customer', cutoffMs: retentionCutoffMs({ amount: 7, unit: 'y' }, NOW), text: '7y' },
    { category: 'pcustomer', cutoffMs: retentionCutoffMs({ amount: 7, unit: 'y' }, NOW), text: '7y' },
  ];
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('retention', () => {
  it('a dry run lists the subjects past retention and changes nothing', async () => {
    const head = await store.headPosition();
    const report = await applyRetention(store, policies, clock, { dryRun: true });
    expect(report.actions.map((a) => [a.subject, a.outcome])).toEqual([
      ['bankcustomer:test.crashed', 'already_erased'], ['bankcustomer:test.dormant', 'would_erase'], ['bankcustomer:test.old', 'would_erase'], ['pcustomer:test:cus_old', 'would_erase'],
    ]);
    expect(report.policies.map((p) => [p.category, p.streamsChecked])).toEqual([['customer', 5], ['pcustomer', 2]]);
    expect(await store.headPosition()).toBe(head);
    expect(await pii('customer-test.old')).toMatchObject({ fullName: 'Old Customer' });
  });

  it('apply erases them by crypto-shredding; the recent customer is untouched; history still verifies', async () => {
    const report = await applyRetention(store, policies, clock, { dryRun: false });
    expect(report.actions.map((a) => [a.subject, a.outcome])).toEqual([
      ['bankcustomer:test.crashed', 'erased'], ['bankcustomer:test.dormant', 'erased'], ['bankcustomer:test.old', 'erased'], ['pcustomer:test:cus_old', 'erased'],
    ]);
    // The erasure the crash left without its event is finished: the audit trail has it.
    expect(report.actions[0]!.position).toMatch(/^\d+$/);
    expect(await pii('customer-test.old')).toMatchObject({ fullName: '[erased]', email: '[erased]' });
    expect(await pii('customer-test.dormant')).toMatchObject({ fullName: '[erased]' });
    // Created as long ago, but active since: kept.
    expect(await pii('customer-test.busy')).toMatchObject({ fullName: 'busy Customer', email: 'busy@example.com' });
    expect(await pii('pcustomer-test.cus_paying')).toMatchObject({ name: 'Paying Stripe' });
    expect(await pii('pcustomer-test.cus_old')).toMatchObject({ name: '[erased]' });
    expect(await pii('customer-test.recent')).toMatchObject({ fullName: 'Recent Customer', email: 'recent@example.com' });
    const erasures = await store.readStream(PRIVACY_ERASURES_STREAM);
    expect(erasures.map((e) => [(e.data as { subject: string }).subject, (e.data as { actor: string }).actor])).toEqual([
      ['bankcustomer:test.crashed', 'retention'], ['bankcustomer:test.dormant', 'retention'], ['bankcustomer:test.old', 'retention'], ['pcustomer:test:cus_old', 'retention'],
    ]);
    expect((await store.verify()).ok).toBe(true);
  });

  it('a second run finds them already erased and writes nothing', async () => {
    const head = await store.headPosition();
    const report = await applyRetention(store, policies, clock, { dryRun: false });
    expect(report.actions.map((a) => a.outcome)).toEqual(['already_erased', 'already_erased', 'already_erased', 'already_erased']);
    expect(await store.headPosition()).toBe(head);
  });

  it('a later run skips the subjects erased already: no erasure, no scan of the linking categories per subject', async () => {
    const linkScans: string[] = [];
    const spied = new Proxy(store, {
      get(object, key, receiver) {
        if (key !== 'inner') return Reflect.get(object, key, receiver);
        return new Proxy(object.inner, {
          get(inner, innerKey, innerReceiver) {
            if (innerKey !== 'streamAll') return Reflect.get(inner, innerKey, innerReceiver);
            return (options?: Omit<ReadAllOptions, 'limit'>) => {
              if (options?.category === 'pmethod' || options?.category === 'pintent') linkScans.push(options.category);
              return inner.streamAll(options);
            };
          },
        });
      },
    });
    const keyStore = store.keyring.keyStore;
    const erase = keyStore.erase;
    let erasures = 0;
    keyStore.erase = (...args) => { erasures += 1; return erase.apply(keyStore, args); };
    try {
      const report = await applyRetention(spied, policies, clock, { dryRun: false });
      expect(report.actions.map((a) => [a.subject, a.outcome])).toEqual([
        ['bankcustomer:test.crashed', 'already_erased'], ['bankcustomer:test.dormant', 'already_erased'], ['bankcustomer:test.old', 'already_erased'], ['pcustomer:test:cus_old', 'already_erased'],
      ]);
    } finally {
      keyStore.erase = erase;
    }
    expect(erasures).toBe(0);
    // At most the one scan that finds the old Stripe customer with a recent intent (cus_paying) active.
    expect(linkScans.filter((category) => category === 'pintent').length).toBeLessThanOrEqual(1);
    expect(linkScans.filter((category) => category === 'pmethod').length).toBeLessThanOrEqual(1);
  });
});
