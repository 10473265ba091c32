/**
 * The reports on a real SQLite store written by the real banking and
 * payments services: the trial balance of every partition sums to zero (and
 * a forged, unbalanced partition is refused), a statement's running balance
 * ends at the ledger's balance, settlement adds captures, fees and refunds
 * per day, CTR and SAR candidates come from the alerts with their case
 * status, the audit trail keeps to its period; CSV and JSON parse back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BankingService, customerLedgerAccount } from '../banking/index.ts';
import { AmlCaseService, ActivitySource, DEFAULT_AML_CONFIG, evaluateBatch, raiseAlerts } from '../compliance/aml/index.ts';
import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { fixedClock, isDaybookError } from '../kernel/index.ts';
import { PaymentsService } from '../payments/index.ts';
import { type Report, renderReport, type ReportParams, runReport } from './index.ts';

const T0 = Date.UTC(2024, 4, 1, 9, 0, 0);
const DAY = 86_400_000;
const clock = fixedClock(T0);
let dir: string;
let store: EventStore;
let bank: BankingService;

const report = (name: Parameters<typeof runReport>[1], params: ReportParams = {}) => runReport({ store }, name, params);
const day = (offset: number) => new Date(T0 - 9 * 3_600_000 + offset * DAY);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-reports-'));
  store = await openEventStore(`sqlite:${join(dir, 'daybook.db')}`);
  let id = 0;
  bank = await BankingService.open(store, { clock, ids: { next: () => `id-${(id += 1)}` } });
  await bank.registerCustomer({ customerId: 'cus-1', pii: { fullName: 'Ada', email: 'ada@example.com' } });
  await bank.registerCustomer({ customerId: 'cus-2', pii: { fullName: 'Bob', email: 'bob@example.com' } });
  await bank.openAccount({ accountId: 'a', customerId: 'cus-1', accountType: 'checking', currency: 'USD', regulatoryTier: 'retail', initialBalanceMinor: 10_000n });
  await bank.openAccount({ accountId: 'b', customerId: 'cus-1', accountType: 'savings', currency: 'USD', regulatoryTier: 'retail', initialBalanceMinor: 5_000n });
  await bank.openAccount({ accountId: 'e', customerId: 'cus-1', accountType: 'checking', currency: 'EUR', regulatoryTier: 'retail' });
  clock.advance(DAY);
  await bank.withdraw({ accountId: 'a', amountMinor: 2_500n, feeMinor: 100n, reference: 'atm' });
  await bank.transfer({ fromAccountId: 'b', toAccountId: 'a', amountMinor: 1_000n, reference: 'savings' });
  await bank.withdraw({ accountId: 'a', amountMinor: 1_000_000n }); // refused by the ledger: not on the statement
  clock.advance(DAY);
  await bank.transferCrossCurrency({ fromAccountId: 'a', toAccountId: 'e', amountMinor: 1_000n, exchangeRate: '0.923456', feeMinor: 10n });
  await bank.pay({ fromAccountId: 'a', beneficiary: 'DE89370400440532013000', amountMinor: 500n, reference: 'rent' });
  // cus-2: a CTR, then 95% of it out within the hour (rapid movement).
  await bank.openAccount({ accountId: 'z', customerId: 'cus-2', accountType: 'checking', currency: 'USD', regulatoryTier: 'professional' });
  await bank.deposit({ accountId: 'z', amountMinor: 1_000_001n });
  await bank.transfer({ fromAccountId: 'z', toAccountId: 'b', amountMinor: 950_000n });

  const payments = await PaymentsService.open(store, { clock, fees: { percentBps: 290n, fixedMinor: 30n }, settlementDelayMs: 0 });
  const ctx = { mode: 'test' as const, metadata: { actor: 'reports-test' } };
  for (const [index, amount] of [[1, 5_000n], [2, 2_000n]] as const) {
    await payments.createAndConfirmPaymentIntent(ctx, {
      paymentIntentId: `pi_${index}`, amount, currency: 'usd', customerId: null, paymentMethodId: null, captureMethod: 'automatic', description: null,
      paymentMethod: 'pm_card_visa', newPaymentMethodId: `pm_${index}`, chargeId: `ch_${index}`,
    });
  }
  await payments.createRefund(ctx, { paymentIntentId: 'pi_1', chargeId: null, refundId: 're_1', amount: 1_000n, reason: null });
  await payments.close();

  const sources: RecordedEvent[] = [];
  for await (const event of store.streamAll({ types: ['TransactionCompleted', 'PaymentCaptured'] })) sources.push(event);
  const { alerts } = await evaluateBatch(sources, new ActivitySource(store), DEFAULT_AML_CONFIG, async () => new Map());
  await raiseAlerts(store, alerts);
  const rapid = alerts.find((alert) => alert.event.data.rule === 'rapid_movement')!.event.data.alertId;
  const cases = new AmlCaseService(store, clock);
  await cases.open(rapid, 'alice');
  await cases.step({ type: 'StartInvestigation', caseId: rapid, analyst: 'alice', note: '' });
  await cases.step({ type: 'EscalateSar', caseId: rapid, analyst: 'alice', note: 'in and out within the hour' });
});

afterAll(async () => {
  await bank.ledger.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function expectParsesBack(result: Report): void {
  const csv = parse(renderReport(result, 'csv'), { columns: true }) as Record<string, string>[];
  expect(csv).toEqual(result.rows.map((row) => Object.fromEntries(result.columns.map((column) => [column, row[column] === null || row[column] === undefined ? '' : String(row[column])]))));
  const json = JSON.parse(renderReport(result, 'json')) as { name: string; data: unknown; as_of_position: string; summary: unknown };
  expect(json).toMatchObject({ name: result.name, data: result.rows, as_of_position: result.asOfPosition.toString(), summary: result.summary });
}

describe('trial-balance', () => {
  it('lists every partition\'s accounts, and each partition and currency sums to zero', async () => {
    const result = await report('trial-balance');
    const partitions = new Set(result.rows.map((row) => row.partition));
    expect([...partitions].sort()).toEqual(['banking', 'payments-live', 'payments-test']);
    const totals = result.rows.filter((row) => row.account_id === '(total)');
    expect(totals.map((row) => `${row.partition} ${row.currency}`)).toContain('banking EUR');
    for (const total of totals) {
      expect(total.net_debit_minor).toBe('0');
      expect(total.debits_posted_minor).toBe(total.credits_posted_minor);
    }
    const usd = totals.find((row) => row.partition === 'banking' && row.currency === 'USD')!;
    expect(BigInt(usd.debits_posted_minor as string)).toBeGreaterThan(0n);
    // Each account's line is the ledger engine's own balance.
    const a = result.rows.find((row) => row.account_id === customerLedgerAccount('a'))!;
    const record = bank.ledger.state.account(customerLedgerAccount('a'))!;
    expect([a.debits_posted_minor, a.credits_posted_minor]).toEqual([record.balances.debitsPosted.toString(), record.balances.creditsPosted.toString()]);
    expect(result.summary).toMatchObject({ balanced: true, partitions: 3 });
    expectParsesBack(result);
  });

  it('keeps to the key\'s mode', async () => {
    const result = await report('trial-balance', { mode: 'test' });
    expect(new Set(result.rows.map((row) => row.partition))).toEqual(new Set(['payments-test']));
  });

  it('refuses a partition that does not balance, naming it', async () => {
    const opened = (accountId: string) => ({ type: 'AccountOpened', schemaVersion: 1, data: { accountId, ledger: 'usd', currency: 'USD', code: 1, atMs: T0 } });
    const forged = await openEventStore(`sqlite:${join(dir, 'forged.db')}`);
    try {
      await forged.append({ streamId: 'ledger-forged', events: [opened('x'), opened('y'), {
        type: 'JournalEntryRecorded', schemaVersion: 1,
        data: { entryId: 'e1', request: {}, conversions: [], legs: [], atMs: T0, balances: [{ accountId: 'x', balances: { debitsPending: '0', debitsPosted: '100', creditsPending: '0', creditsPosted: '0' } }] },
      }] });
      const error = await runReport({ store: forged }, 'trial-balance').catch((caught: unknown) => caught);
      expect(isDaybookError(error, 'integrity_violation')).toBe(true);
      expect((error as Error).message).toContain('forged USD: debits 100');
    } finally {
      await forged.close();
    }
  });
});

describe('account-statement', () => {
  it('lists the account\'s completed transactions with a running balance that ends at the ledger\'s balance', async () => {
    const result = await report('account-statement', { accountId: 'a' });
    expect(result.rows.map((row) => [row.type, row.amount_minor, row.balance_minor])).toEqual([
      ['deposit', '10000', '10000'], ['withdrawal', '-2600', '7400'], ['transfer', '1000', '8400'], ['transfer', '-1010', '7390'], ['payment', '-500', '6890'],
    ]);
    expect(result.rows[1]).toMatchObject({ fee_minor: '100', counterparty: 'cash', reference: 'atm' });
    expect(result.rows[2]).toMatchObject({ counterparty: 'b' });
    const ledger = bank.ledger.state.account(customerLedgerAccount('a'))!.balances;
    expect(result.summary).toMatchObject({ opening_balance_minor: '0', closing_balance_minor: (ledger.creditsPosted - ledger.debitsPosted).toString(), currency: 'USD' });
    expectParsesBack(result);
  });

  it('starts a period from the balance before it, and ends it at `to`', async () => {
    const result = await report('account-statement', { accountId: 'a', from: day(1), to: day(2) });
    expect(result.rows.map((row) => row.balance_minor)).toEqual(['7400', '8400']);
    expect(result.summary).toMatchObject({ opening_balance_minor: '10000', closing_balance_minor: '8400' });
  });

  it('refuses an unknown account, and a missing one', async () => {
    await expect(report('account-statement', { accountId: 'nope' })).rejects.toMatchObject({ code: 'account_not_found' });
    await expect(report('account-statement')).rejects.toMatchObject({ code: 'validation_failed', param: 'account_id' });
  });
});

describe('settlement', () => {
  it('adds the day\'s captures, fees and refunds per currency', async () => {
    const result = await report('settlement', { mode: 'test' });
    // Fees: 2.9% + 30: 175 on 5,000 and 88 on 2,000.
    expect(result.rows).toEqual([{
      day: '2024-05-03', mode: 'test', currency: 'USD', captures: 2, captured_minor: '7000', refunds: 1, refunded_minor: '1000', fees_minor: '263', net_minor: '5737',
    }]);
    expect((await report('settlement', { mode: 'live' })).rows).toEqual([]);
    expect((await report('settlement', { from: day(3) })).rows).toEqual([]);
    expectParsesBack(result);
  });
});

describe('ctr-candidates and sar-candidates', () => {
  it('lists the CTR alert of the day', async () => {
    const result = await report('ctr-candidates');
    expect(result.rows).toHaveLength(1);
    expect(result.rows[0]).toMatchObject({ customer_id: 'cus-2', day: '2024-05-03', direction: 'in', currency: 'USD', amount_minor: '1000001', transactions: 1, case_status: 'none' });
    expectParsesBack(result);
  });

  it('lists the SAR candidates with their case status', async () => {
    const result = await report('sar-candidates');
    expect(result.rows.map((row) => [row.rule, row.customer_id, row.account_id, row.case_status])).toEqual([['rapid_movement', 'cus-2', 'z', 'escalated_sar']]);
    expect(result.summary).toEqual({ candidates: 1, escalated: 1 });
    expect((await report('sar-candidates', { to: day(2) })).rows).toEqual([]);
  });
});

describe('audit-trail', () => {
  it('lists the events recorded in the period, with actor and correlation, and no data', async () => {
    const all = await report('audit-trail');
    expect(all.rows).toHaveLength(Number(await store.headPosition()));
    expect(all.rows.some((row) => row.actor === 'reports-test')).toBe(true);
    expect(all.rows.some((row) => row.actor === 'alice' && row.type === 'AmlCaseEscalatedSar')).toBe(true);
    expect(JSON.stringify(all.rows)).not.toContain('ada@example.com');
    expectParsesBack(all);
    const first = all.rows[0]!;
    const later = await report('audit-trail', { from: new Date(Date.parse(first.recorded_at as string) + 1) });
    expect(later.rows.every((row) => (row.recorded_at as string) > (first.recorded_at as string))).toBe(true);
    const none = await report('audit-trail', { to: new Date(Date.parse(first.recorded_at as string)) });
    expect(none.rows).toEqual([]);
  });

  it('refuses a period that ends before it starts, and one past its row bound', async () => {
    await expect(report('audit-trail', { from: day(2), to: day(1) })).rejects.toMatchObject({ code: 'validation_failed', param: 'to' });
    await expect(report('audit-trail', { rowsMax: 3 })).rejects.toMatchObject({ code: 'limit_exceeded' });
  });
});
