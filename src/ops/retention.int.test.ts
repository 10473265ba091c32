/**
 * `applyRetention` on a real SQLite store written with encryption, its
 * clock moved by hand: a banking customer and a Stripe customer last seen
 * eight years ago are past `customer=7y` / `pcustomer=7y`; one seen last
 * year is not. A dry run lists the old ones and changes nothing; apply
 * erases them by crypto-shredding (actor `retention`, a `DataSubjectErased`
 * event each), after which they read `[erased]` while the recent one reads
 * as before and the log still verifies; a second run finds them already erased.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BankingService } from '../banking/index.ts';
import { retentionCutoffMs } from '../edge/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { fixedClock } from '../kernel/index.ts';
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
  clock.advance(7 * YEAR);
  await bank.registerCustomer({ customerId: 'test.recent', pii: { fullName: 'Recent Customer', email: 'recent@example.com' } });
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
    expect(report.actions.map((a) => [a.subject, a.outcome])).toEqual([['bankcustomer:test.old', 'would_erase'], ['pcustomer:test:cus_old', 'would_erase']]);
    expect(report.policies.map((p) => [p.category, p.streamsChecked])).toEqual([['customer', 2], ['pcustomer', 1]]);
    expect(await store.headPosition()).toBe(head);
    expect(await pii('customer-test.old')).toMatchObject({ fullName: 'Old Customer' });
  });

  it('apply erases them by crypto-shredding; the recent customer is untouched; history still verifies', async () => {
    const report = await applyRetention(store, policies, clock, { dryRun: false });
    expect(report.actions.map((a) => [a.subject, a.outcome])).toEqual([['bankcustomer:test.old', 'erased'], ['pcustomer:test:cus_old', 'erased']]);
    expect(await pii('customer-test.old')).toMatchObject({ fullName: '[erased]', email: '[erased]' });
    expect(await pii('pcustomer-test.cus_old')).toMatchObject({ name: '[erased]' });
    expect(await pii('customer-test.recent')).toMatchObject({ fullName: 'Recent Customer', email: 'recent@example.com' });
    const erasures = await store.readStream(PRIVACY_ERASURES_STREAM);
    expect(erasures.map((e) => [(e.data as { subject: string }).subject, (e.data as { actor: string }).actor])).toEqual([
      ['bankcustomer:test.old', 'retention'], ['pcustomer:test:cus_old', 'retention'],
    ]);
    expect((await store.verify()).ok).toBe(true);
  });

  it('a second run finds them already erased and writes nothing', async () => {
    const head = await store.headPosition();
    const report = await applyRetention(store, policies, clock, { dryRun: false });
    expect(report.actions.map((a) => a.outcome)).toEqual(['already_erased', 'already_erased']);
    expect(await store.headPosition()).toBe(head);
  });
});
