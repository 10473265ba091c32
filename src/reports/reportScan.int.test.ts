/**
 * How much of the log a report reads, on a real SQLite store whose clock
 * the test drives (recorded times are business times): a report of a late
 * period starts its read at the first event recorded at `from`, found by a
 * lookup, and never reads the events before it; a scan budget cuts a
 * report into pages whose cursors, followed, give the whole report read at
 * one moment (appends in between are not in it); a statement carries its
 * balances from page to page; the trial balance past its budget is
 * refused; a cursor given to another report or period, or garbled, is
 * `validation_failed` on `cursor`. Cursors are signed: one the server did
 * not issue (a forged trial-balance cursor, a statement cursor carrying an
 * opening balance of the caller's choosing) or one altered is refused, and
 * the trial balance takes no cursor at all.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BankingService } from '../banking/index.ts';
import { AML_ALERT_CATEGORY, AML_ALERT_RAISED } from '../compliance/aml/index.ts';
import type { EventStore, ReadAllOptions, RecordedEvent } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { fixedClock } from '../kernel/index.ts';
import { type Report, type ReportName, type ReportParams, type ReportRow, runReport } from './index.ts';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const DAY = 86_400_000;
const LATE = new Date(T0 + 10 * DAY - 9 * 3_600_000);
const clock = fixedClock(T0);
let dir: string;
let store: EventStore;
let bank: BankingService;
let lastEarly: bigint;
/** Positions the reports read through the store's log reads (`streamAll`, `readAll`). */
const read: bigint[] = [];
let spied: EventStore;

const capture = (id: string, amount: number) => ({
  streamId: `pintent-test.${id}`,
  events: [{ type: 'PaymentCaptured', data: { atMs: clock.nowMs(), currency: 'usd', amount, fee: 30 } }],
});
const alert = (alertId: string, rule: string) => ({
  streamId: `${AML_ALERT_CATEGORY}-${alertId}`,
  events: [{ type: AML_ALERT_RAISED, data: {
    alertId, rule, subjectKind: 'bank_customer', customerId: 'cus-1', mode: null, accountId: 'a', currency: 'USD', amountMinor: '1000001', count: 1,
    window: `${new Date(clock.nowMs()).toISOString().slice(0, 10)}:in:USD`, windowStart: new Date(clock.nowMs()).toISOString(), windowEnd: new Date(clock.nowMs()).toISOString(),
    evidence: [{ position: '1' }], raisedAt: new Date(clock.nowMs()).toISOString(),
  } }],
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-report-scan-'));
  store = await openEventStore(`sqlite:${join(dir, 'daybook.db')}`, { clock });
  let id = 0;
  bank = await BankingService.open(store, { clock, ids: { next: () => `id-${(id += 1)}` } });
  await bank.registerCustomer({ customerId: 'cus-1', pii: { fullName: 'Ada', email: 'ada@example.com' } });
  await bank.openAccount({ accountId: 'a', customerId: 'cus-1', accountType: 'checking', currency: 'USD', regulatoryTier: 'retail', initialBalanceMinor: 10_000n });
  await bank.openAccount({ accountId: 'b', customerId: 'cus-1', accountType: 'savings', currency: 'USD', regulatoryTier: 'retail' });
  for (let index = 0; index < 5; index += 1) await bank.deposit({ accountId: 'a', amountMinor: 100n });
  await bank.transfer({ fromAccountId: 'a', toAccountId: 'b', amountMinor: 50n });
  for (let index = 0; index < 5; index += 1) await store.append(capture(`pi_early${index}`, 1_000));
  await store.append(alert('al_early', 'ctr'));
  lastEarly = await store.headPosition();
  clock.advance(10 * DAY);
  for (let index = 0; index < 4; index += 1) {
    await bank.transfer({ fromAccountId: 'a', toAccountId: 'b', amountMinor: BigInt(10 + index) });
    await bank.deposit({ accountId: 'b', amountMinor: 7n });
    await store.append(capture(`pi_late${index}`, 2_000));
    clock.advance(3_600_000);
  }
  await store.append(alert('al_late_ctr', 'ctr'));
  await store.append(alert('al_late_sar', 'velocity'));
  spied = {
    ...store,
    async *streamAll(options?: Omit<ReadAllOptions, 'limit'>) {
      for await (const event of store.streamAll(options)) { read.push(event.position); yield event; }
    },
    async readAll(options?: ReadAllOptions) {
      const page = await store.readAll(options);
      read.push(...page.map((event: RecordedEvent) => event.position));
      return page;
    },
  };
});

afterAll(async () => {
  await bank.ledger.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function readingOf(name: ReportName, params: ReportParams): Promise<{ report: Report; positions: bigint[] }> {
  read.length = 0;
  const report = await runReport({ store: spied }, name, params);
  return { report, positions: [...read] };
}

/** Every page of a report under a budget, following its cursors. */
async function pages(name: ReportName, params: ReportParams, between?: () => Promise<void>): Promise<Report[]> {
  const all: Report[] = [];
  let cursor: string | undefined;
  do {
    const page = await runReport({ store }, name, { ...params, cursor });
    expect(page.eventsScanned).toBeLessThanOrEqual(params.scanBudget!);
    all.push(page);
    cursor = page.nextCursor ?? undefined;
    if (all.length === 1) await between?.();
  } while (cursor !== undefined && all.length < 100);
  return all;
}

const rowsOf = (reports: readonly Report[]): ReportRow[] => reports.flatMap((report) => report.rows);

describe('a report of a late period', () => {
  it('reads none of the events recorded before from', async () => {
    for (const name of ['audit-trail', 'settlement', 'ctr-candidates', 'sar-candidates'] as const) {
      const { report, positions } = await readingOf(name, { from: LATE });
      expect(positions.length, name).toBeGreaterThan(0);
      expect(positions.every((position) => position > lastEarly), `${name} read ${positions.filter((position) => position <= lastEarly).length} early events`).toBe(true);
      expect(report.eventsScanned, name).toBe(positions.length);
      expect(report.nextCursor).toBeNull();
    }
  });

  it('still answers the period exactly', async () => {
    const trail = await runReport({ store }, 'audit-trail', { from: LATE });
    expect(trail.rows.map((row) => row.position)).toEqual(Array.from({ length: Number((await store.headPosition()) - lastEarly) }, (_, index) => (lastEarly + 1n + BigInt(index)).toString()));
    const settlement = await runReport({ store }, 'settlement', { from: LATE });
    expect(settlement.rows).toEqual([expect.objectContaining({ captures: 4, captured_minor: '8000' })]);
    expect((await runReport({ store }, 'ctr-candidates', { from: LATE })).rows.map((row) => row.alert_id)).toEqual(['al_late_ctr']);
    expect((await runReport({ store }, 'ctr-candidates')).rows.map((row) => row.alert_id)).toEqual(['al_early', 'al_late_ctr']);
  });
});

describe('a report under a scan budget', () => {
  it('cuts the audit trail into pages whose cursors give the whole report, read at one moment', async () => {
    const whole = await runReport({ store }, 'audit-trail');
    expect(whole.nextCursor).toBeNull();
    const cut = await pages('audit-trail', { scanBudget: 7 }, async () => {
      await store.append({ streamId: 'note-1', events: [{ type: 'NoteTaken', data: {} }] });
    });
    expect(cut.length).toBe(Math.ceil(whole.rows.length / 7));
    expect(cut.slice(0, -1).every((page) => page.nextCursor !== null && page.rows.length === 7)).toBe(true);
    expect(rowsOf(cut)).toEqual(whole.rows);
    expect(new Set(cut.map((page) => page.asOfPosition))).toEqual(new Set([whole.asOfPosition]));
  });

  it('cuts candidates and settlement into pages that add up to the whole', async () => {
    const ctr = await pages('ctr-candidates', { scanBudget: 1 });
    expect(rowsOf(ctr)).toEqual((await runReport({ store }, 'ctr-candidates')).rows);
    const settlement = await pages('settlement', { scanBudget: 3 });
    expect(settlement.length).toBeGreaterThan(1);
    const captured = rowsOf(settlement).reduce((sum, row) => sum + BigInt(row.captured_minor as string), 0n);
    const whole = (await runReport({ store }, 'settlement')).rows.reduce((sum, row) => sum + BigInt(row.captured_minor as string), 0n);
    expect(captured).toBe(whole);
  });

  it('carries a statement\'s balances from page to page', async () => {
    const params: ReportParams = { accountId: 'b', from: LATE };
    const whole = await runReport({ store }, 'account-statement', params);
    expect(whole.rows.length).toBe(8);
    const cut = await pages('account-statement', { ...params, scanBudget: 3 });
    expect(cut.length).toBeGreaterThan(3);
    expect(rowsOf(cut)).toEqual(whole.rows);
    expect(cut.at(-1)!.summary).toMatchObject({ opening_balance_minor: whole.summary.opening_balance_minor, closing_balance_minor: whole.summary.closing_balance_minor });
  });

  it('refuses a trial balance past its budget', async () => {
    await expect(runReport({ store }, 'trial-balance', { scanBudget: 2 })).rejects.toMatchObject({ code: 'limit_exceeded' });
    expect((await runReport({ store }, 'trial-balance', { scanBudget: 100_000 })).summary).toMatchObject({ balanced: true });
  });

  it('refuses a cursor of another report or period, or a garbled one', async () => {
    const first = await runReport({ store }, 'audit-trail', { scanBudget: 2 });
    const cursor = first.nextCursor!;
    await expect(runReport({ store }, 'settlement', { scanBudget: 2, cursor })).rejects.toMatchObject({ code: 'validation_failed', param: 'cursor' });
    await expect(runReport({ store }, 'audit-trail', { scanBudget: 2, cursor, from: LATE })).rejects.toMatchObject({ code: 'validation_failed', param: 'cursor' });
    await expect(runReport({ store }, 'audit-trail', { scanBudget: 2, cursor: 'rc_bm9wZQ' })).rejects.toMatchObject({ code: 'validation_failed', param: 'cursor' });
    await expect(runReport({ store }, 'audit-trail', { scanBudget: 2, cursor: 'nonsense' })).rejects.toMatchObject({ code: 'validation_failed', param: 'cursor' });
  });

  it('refuses a forged or altered cursor, and any cursor for the trial balance', async () => {
    const head = (await store.headPosition()).toString();
    /** A cursor as an attacker builds it: rc_ and base64url JSON of the fields the server reads. */
    const forge = (name: ReportName, params: ReportParams, state: Record<string, string>) => {
      const f = JSON.stringify([name, { from: params.from?.toISOString() ?? null, to: null, mode: null, accountId: params.accountId ?? null }]);
      return `rc_${Buffer.from(JSON.stringify({ f, h: head, a: head, s: state }), 'utf8').toString('base64url')}`;
    };
    await expect(runReport({ store }, 'trial-balance', { cursor: forge('trial-balance', {}, {}) })).rejects.toMatchObject({ code: 'validation_failed', param: 'cursor' });
    const statement: ReportParams = { accountId: 'b', from: LATE };
    await expect(runReport({ store }, 'account-statement', { ...statement, cursor: forge('account-statement', statement, { opening: '999999999', balance: '999999999' }) }))
      .rejects.toMatchObject({ code: 'validation_failed', param: 'cursor' });
    const genuine = (await runReport({ store }, 'account-statement', { ...statement, scanBudget: 3 })).nextCursor!;
    const flipped = genuine.slice(0, 6) + (genuine[6] === 'A' ? 'B' : 'A') + genuine.slice(7);
    await expect(runReport({ store }, 'account-statement', { ...statement, scanBudget: 3, cursor: flipped })).rejects.toMatchObject({ code: 'validation_failed', param: 'cursor' });
    // The genuine one still continues the report.
    const next = await runReport({ store }, 'account-statement', { ...statement, scanBudget: 3, cursor: genuine });
    expect(next.eventsScanned).toBeGreaterThan(0);
  });
});
