/**
 * One behaviour suite for every banking read model: the in-memory one and
 * the SQL one of the projection engine, each on a real SQLite file and a real
 * PostgreSQL database (a banking service writes the events). It covers
 * posted / pending / available balances equal to the ledger, a transaction
 * stopped half way, history pages newest first with a cursor, amount and date
 * filters, refused cursors and page sizes, balances as of past times. For the
 * projection it also checks that every answer equals the memory model's on the
 * same log, and that the live read model equals one rebuilt from zero.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeIfConcurrentPostgres, resettableTestDatabase } from '../../test/support/postgres.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { fixedClock } from '../kernel/clock.ts';
import { PAGE_SIZE_MAX } from '../kernel/limits.ts';
import {
  createProjectionEngine, dumpReadModel, openReadModelStore, type ProjectionEngine, type ProjectionTx, queryProjection, type ReadModelStore,
} from '../projections/index.ts';
import { customerLedgerAccount } from './banking.ledgerPlan.ts';
import { BANKING_PROJECTION_NAME, bankingProjection, tables } from './banking.readModel.projection.ts';
import { InMemoryBankingReadModel } from './banking.readModel.memory.ts';
import { type BankingReadModel, checkHistoryQuery } from './banking.readModel.ts';
import { asOfStatusSql, asOfSumsSql, historyStatement, SqlBankingReadModel } from './banking.readModel.sql.ts';
import { BankingService } from './banking.service.ts';
import { counterIds, HOUR, T0 } from './banking.testkit.ts';

const WAIT_MS = 30_000;

type Backend = { url(): Promise<string>; cleanup(): Promise<void> };

const sqliteBackend = (): Backend => {
  let dir: string | null = null;
  return {
    async url() {
      dir = mkdtempSync(join(tmpdir(), 'daybook-bank-read-model-'));
      return `sqlite:${join(dir, 'daybook.db')}`;
    },
    async cleanup() {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = null;
    },
  };
};

/** One database per file; each test starts from an empty schema. */
const database = resettableTestDatabase();
const postgresBackend = (): Backend => ({
  async url() {
    const url = await database.emptied();
    return url;
  },
  async cleanup() {},
});

afterAll(async () => {
  await database.drop();
});

type Implementation = 'memory' | 'projection';

interface Context {
  store: EventStore;
  bank: BankingService;
  clock: ReturnType<typeof fixedClock>;
  /** The model under test, up to date with everything appended so far. */
  model(): Promise<BankingReadModel>;
  /** The memory model rebuilt from the log: the reference the projection is compared with. */
  reference(): Promise<InMemoryBankingReadModel>;
  account(accountId: string, balanceMinor?: bigint, currency?: 'USD' | 'EUR' | 'GBP'): Promise<void>;
  ledgerBalance(accountId: string): bigint;
  restart(): Promise<void>;
  projection: { engine: ProjectionEngine; readModels: ReadModelStore } | null;
}

function useContext(makeBackend: () => Backend, implementation: Implementation): () => Context {
  let context: Context | null = null;
  let teardown: (() => Promise<void>) | null = null;
  beforeEach(async () => {
    const backend = makeBackend();
    const url = await backend.url();
    const store = await openEventStore(url, { subscriptionPollMs: 50 });
    const clock = fixedClock(T0);
    const ids = counterIds();
    let bank = await BankingService.open(store, { clock, ids });
    await bank.registerCustomer({ customerId: 'cus-1', pii: { fullName: 'Ada Lovelace', email: 'ada@example.com' } });
    let projection: Context['projection'] = null;
    if (implementation === 'projection') {
      const readModels = await openReadModelStore(url);
      const engine = createProjectionEngine({ store, readModels, projections: [bankingProjection] });
      await engine.start();
      projection = { engine, readModels };
    }
    const opened = projection;
    context = {
      store, clock, projection,
      get bank() { return bank; },
      async model() {
        if (opened === null) return InMemoryBankingReadModel.rebuild(store);
        const model = new SqlBankingReadModel(opened.readModels, opened.engine);
        await model.waitFor(await store.headPosition(), WAIT_MS);
        return model;
      },
      reference: () => InMemoryBankingReadModel.rebuild(store),
      async account(accountId, balanceMinor = 0n, currency = 'USD') {
        await bank.openAccount({ accountId, customerId: 'cus-1', accountType: 'checking', currency, regulatoryTier: 'retail', initialBalanceMinor: balanceMinor });
      },
      ledgerBalance(accountId) {
        const record = bank.ledger.state.account(customerLedgerAccount(accountId));
        return record === undefined ? 0n : record.balances.creditsPosted - record.balances.debitsPosted;
      },
      async restart() {
        await bank.ledger.close();
        bank = await BankingService.open(store, { clock, ids });
      },
    } as Context;
    teardown = async () => {
      await bank.ledger.close();
      if (opened) {
        await opened.engine.stop();
        await opened.readModels.close();
      }
      await store.close();
      await backend.cleanup();
    };
  });
  afterEach(async () => {
    await teardown?.();
    teardown = null;
    context = null;
  });
  return () => {
    if (!context) throw new Error('no context outside a test');
    return context;
  };
}

/** Deposits of 1.00 … 7.00 into `a` at T0 + 1h … 7h, then a transfer of 2.50 (fee 0.05) to `b` at T0 + 8h. */
async function someHistory(c: Context): Promise<void> {
  await c.account('a');
  await c.account('b');
  for (let i = 1; i <= 7; i += 1) {
    c.clock.advance(HOUR);
    await c.bank.deposit({ accountId: 'a', amountMinor: BigInt(i) * 100n, reference: `d${i}` });
  }
  c.clock.advance(HOUR);
  await c.bank.transfer({ fromAccountId: 'a', toAccountId: 'b', amountMinor: 250n, feeMinor: 5n, reference: 't' });
}

function describeReadModel(backendName: string, makeBackend: () => Backend, implementation: Implementation): void {
  describe(`${implementation} read model on ${backendName}`, () => {
    const ctx = useContext(makeBackend, implementation);

    it('gives posted, pending and available balances equal to the ledger', async () => {
      const c = ctx();
      await someHistory(c);
      const model = await c.model();
      expect(await model.balance('a')).toEqual({ accountId: 'a', customerId: 'cus-1', currency: 'USD', status: 'open', postedMinor: 2_545n, pendingMinor: 0n, availableMinor: 2_545n });
      expect((await model.balance('a'))!.postedMinor).toBe(c.ledgerBalance('a'));
      expect((await model.balance('b'))!.postedMinor).toBe(250n);
      expect(await model.balance('ghost')).toBeUndefined();
      expect(await model.position()).toBeGreaterThan(0n);
    });

    it('shows a transaction that stopped half way as pending: out of the available balance, not yet posted', async () => {
      const c = ctx();
      await c.account('a', 1_000n);
      await c.bank.ledger.close();
      await expect(c.bank.withdraw({ accountId: 'a', amountMinor: 300n, feeMinor: 10n, idempotencyKey: 'half' })).rejects.toMatchObject({ code: 'store_closed' });
      const model = await c.model();
      expect(await model.balance('a')).toMatchObject({ postedMinor: 1_000n, pendingMinor: -310n, availableMinor: 690n });
      expect((await model.history('a', { limit: 1 })).items[0]).toMatchObject({ status: 'initiated', direction: 'debit', amountMinor: 310n, settledAt: null });
      await c.restart();
    });

    it('pages through the history newest first with an opaque cursor', async () => {
      const c = ctx();
      await someHistory(c);
      const model = await c.model();
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await model.history('a', { limit: 3, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((item) => item.reference));
        cursor = page.nextCursor ?? undefined;
        pages += 1;
      } while (cursor !== undefined);
      expect(pages).toBe(3);
      expect(seen).toEqual(['t', 'd7', 'd6', 'd5', 'd4', 'd3', 'd2', 'd1']);
      const [transfer] = (await model.history('a', { limit: 1 })).items;
      expect(transfer).toMatchObject({ direction: 'debit', amountMinor: 255n, feeMinor: 5n, counterpartyAccountId: 'b', status: 'completed' });
      expect((await model.history('b')).items[0]).toMatchObject({ direction: 'credit', amountMinor: 250n, feeMinor: 0n, counterpartyAccountId: 'a' });
      // Exactly one page's worth: no next page.
      expect((await model.history('a', { limit: 8 })).nextCursor).toBeNull();
    });

    it('filters by amount and by date', async () => {
      const c = ctx();
      await someHistory(c);
      const model = await c.model();
      const amounts = await model.history('a', { minAmountMinor: 300n, maxAmountMinor: 500n });
      expect(amounts.items.map((item) => item.reference)).toEqual(['d5', 'd4', 'd3']);
      const window = await model.history('a', { from: T0 + 2 * HOUR, to: new Date(T0 + 4 * HOUR) });
      expect(window.items.map((item) => item.reference)).toEqual(['d3', 'd2']);
      const page = await model.history('a', { limit: 1, minAmountMinor: 300n });
      const next = await model.history('a', { limit: 1, minAmountMinor: 300n, cursor: page.nextCursor! });
      expect([...page.items, ...next.items].map((item) => item.reference)).toEqual(['d7', 'd6']);
    });

    it('refuses cursors of other queries, garbage cursors and page sizes out of bounds', async () => {
      const c = ctx();
      await someHistory(c);
      const model = await c.model();
      const { nextCursor } = await model.history('a', { limit: 2 });
      await expect(model.history('a', { limit: 2, cursor: nextCursor!, minAmountMinor: 1n })).rejects.toMatchObject({ code: 'validation_failed', param: 'cursor' });
      await expect(model.history('b', { limit: 2, cursor: nextCursor! })).rejects.toMatchObject({ code: 'validation_failed', param: 'cursor' });
      await expect(model.history('a', { cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'validation_failed' });
      await expect(model.history('a', { limit: 0 })).rejects.toMatchObject({ code: 'validation_failed' });
      await expect(model.history('a', { limit: PAGE_SIZE_MAX + 1 })).rejects.toMatchObject({ code: 'limit_exceeded' });
      expect((await model.history('a', { limit: PAGE_SIZE_MAX })).items).toHaveLength(8);
      expect(await model.history('ghost')).toEqual({ items: [], nextCursor: null });
    });

    it('answers the balance as of any past time', async () => {
      const c = ctx();
      await someHistory(c);
      await c.bank.freeze({ accountId: 'a', reason: 'review' }); // at T0 + 8h
      const model = await c.model();
      expect(await model.balanceAsOf('a', T0 - 1)).toBeUndefined();
      expect(await model.balanceAsOf('ghost', T0)).toBeUndefined();
      expect(await model.balanceAsOf('a', T0)).toMatchObject({ postedMinor: 0n, status: 'open' });
      expect(await model.balanceAsOf('a', T0 + 2 * HOUR + 30 * 60_000)).toMatchObject({ postedMinor: 300n });
      expect(await model.balanceAsOf('a', new Date(T0 + 7 * HOUR))).toMatchObject({ postedMinor: 2_800n, status: 'open' });
      expect(await model.balanceAsOf('a', T0 + 8 * HOUR)).toMatchObject({ postedMinor: 2_545n, status: 'frozen' });
    });

    it('follows failed transactions, unfreezing and closing with a sweep', async () => {
      const c = ctx();
      await someHistory(c);
      c.clock.advance(HOUR);
      await c.bank.withdraw({ accountId: 'a', amountMinor: 1_000_000n, reference: 'too much' }); // refused by the ledger: a failed transaction
      await c.bank.freeze({ accountId: 'b', reason: 'review' });
      await c.bank.unfreeze({ accountId: 'b' });
      c.clock.advance(HOUR);
      await c.bank.close({ accountId: 'b', reason: 'customer_request', sweepToAccountId: 'a' });
      const model = await c.model();
      expect((await model.history('a', { limit: 2 })).items.map((item) => [item.reference, item.status, item.failureReason !== null])).toEqual([
        [expect.any(String), 'completed', false], ['too much', 'failed', true],
      ]);
      expect(await model.balance('b')).toMatchObject({ status: 'closed', postedMinor: 0n, pendingMinor: 0n });
      expect((await model.balance('a'))!.postedMinor).toBe(c.ledgerBalance('a'));
      expect(await model.balanceAsOf('b', T0 + 9 * HOUR)).toMatchObject({ status: 'open', postedMinor: 250n });
    });

    if (implementation === 'projection') {
      it('reads a history page through the primary key backwards (no sort) and as-of balances through an index', async () => {
        const c = ctx();
        await someHistory(c);
        await c.model();
        const plans = await queryProjection(c.projection!.readModels, BANKING_PROJECTION_NAME, async (q) => {
          const t = tables(q);
          const page = historyStatement(t.history, 'a', checkHistoryQuery('a', { limit: 3, from: T0, minAmountMinor: 1n }));
          return {
            history: await plan(q, page.sql, page.params),
            sums: await plan(q, asOfSumsSql(t.changes), ['a', T0]),
            status: await plan(q, asOfStatusSql(t.changes), ['a', T0]),
          };
        });
        if (backendName === 'sqlite') {
          expect(plans.history).toMatch(/SEARCH bank_history_v1 USING INDEX sqlite_autoindex_bank_history_v1_1 \(account_id=\?\)/);
          expect(plans.history).not.toContain('TEMP B-TREE');
          for (const asOf of [plans.sums, plans.status]) expect(asOf).toMatch(/SEARCH bank_balance_changes_v1 USING (INDEX|PRIMARY KEY|COVERING INDEX)/);
        } else {
          expect(plans.history).toMatch(/Index Scan Backward using bank_history_v1_pkey/);
          expect(plans.history).not.toMatch(/Sort/);
          for (const asOf of [plans.sums, plans.status]) expect(asOf).toMatch(/Index.* on bank_balance_changes_v1|Index.*using bank_balance_changes_v1/);
        }
      });

      it('answers every query as the memory model does, and its live tables equal a rebuild from zero', async () => {
        const c = ctx();
        await someHistory(c);
        c.clock.advance(HOUR);
        await c.bank.withdraw({ accountId: 'a', amountMinor: 1_000_000n });
        await c.bank.pay({ fromAccountId: 'a', beneficiary: 'GB00BANK1234', amountMinor: 120n, feeMinor: 3n, reference: 'bill' });
        await c.account('eur', 0n, 'EUR');
        await c.bank.transferCrossCurrency({ fromAccountId: 'a', toAccountId: 'eur', amountMinor: 333n, exchangeRate: '0.923456', feeMinor: 7n });
        await c.bank.close({ accountId: 'b', reason: 'customer_request', sweepToAccountId: 'a' });
        const model = await c.model();
        const reference = await c.reference();
        for (const accountId of ['a', 'b', 'eur', 'ghost']) {
          expect(await model.balance(accountId)).toEqual(await reference.balance(accountId));
          expect(await model.history(accountId, { limit: PAGE_SIZE_MAX })).toEqual(await reference.history(accountId, { limit: PAGE_SIZE_MAX }));
          for (let hour = -1; hour <= 11; hour += 1) {
            expect(await model.balanceAsOf(accountId, T0 + hour * HOUR), `${accountId} at ${hour}h`).toEqual(await reference.balanceAsOf(accountId, T0 + hour * HOUR));
          }
        }
        const { engine, readModels } = c.projection!;
        const live = await dumpReadModel(readModels, bankingProjection);
        const rebuilt = await engine.rebuild(BANKING_PROJECTION_NAME);
        expect(rebuilt.version).toBe(2);
        expect(await dumpReadModel(readModels, bankingProjection)).toBe(live);
        expect((await model.balance('a'))!.postedMinor).toBe(c.ledgerBalance('a'));
      });
    }
  });
}

/** The plan of a statement, as one text: SQLite's EXPLAIN QUERY PLAN details, PostgreSQL's EXPLAIN with sequential scans priced out (tables this small would be scanned). */
async function plan(q: ProjectionTx, sql: string, params: unknown[]): Promise<string> {
  if (q.dialect === 'sqlite') return (await q.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params)).map((row) => row.detail).join('\n');
  await q.execute('SET LOCAL enable_seqscan = off');
  return (await q.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).map((row) => row['QUERY PLAN']).join('\n');
}

for (const implementation of ['memory', 'projection'] as const) describeReadModel('sqlite', sqliteBackend, implementation);
describeIfConcurrentPostgres('banking read models on postgres', () => {
  for (const implementation of ['memory', 'projection'] as const) describeReadModel('postgres', postgresBackend, implementation);
});
