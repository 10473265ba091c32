/**
 * The ledger engine on a real event store (SQLite and PostgreSQL): batches of
 * concurrent commands become one durable append each; state survives a reopen
 * by replay; a hot account under concurrency never breaks its flag; a second
 * engine on the same partition catches up on conflict instead of diverging.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfPostgres, type TestDatabase } from '../../test/support/postgres.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { LedgerEngine } from './ledger.service.ts';

type StoreFactory = () => Promise<{ url: string; cleanup(): Promise<void> }>;

function describeLedgerEngine(name: string, factory: StoreFactory): void {
  describe(`ledger engine on ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => { for (const cleanup of cleanups.splice(0).reverse()) await cleanup(); });

    async function open(): Promise<{ store: EventStore; url: string }> {
      const { url, cleanup } = await factory();
      const store = await openEventStore(url);
      cleanups.push(cleanup, () => store.close());
      return { store, url };
    }

    async function openAccounts(engine: LedgerEngine, ids: string[], limited: string[] = []): Promise<void> {
      const outcomes = await engine.executeAll(ids.map((accountId) => ({
        type: 'OpenAccount' as const,
        data: { accountId, ledger: 'usd', currency: 'USD' as const, flags: { debitsMustNotExceedCredits: limited.includes(accountId) } },
      })));
      expect(outcomes.every((o) => o.ok)).toBe(true);
    }

    it('commits an attached write in the same append as the command, made from its outcome and the state after it', async () => {
      const { store } = await open();
      const engine = await LedgerEngine.open(store);
      await openAccounts(engine, ['bank', 'alice'], ['alice']);
      const attach = (tag: string) => (outcome: { ok: boolean }, state: { account(id: string): { balances: { creditsPosted: bigint } } | undefined }) => ({
        streamId: `answer-${tag}`, expectedVersion: 'any' as const,
        events: [{ type: 'Answered', data: { ok: outcome.ok, aliceCredits: String(state.account('alice')!.balances.creditsPosted) } }],
      });
      const transfer = { type: 'CreateTransfer' as const, data: { transferId: 'ta', debitAccountId: 'bank', creditAccountId: 'alice', amountMinor: 7n, ledger: 'usd' } };
      const [moved, refused] = await Promise.all([
        engine.execute(transfer, undefined, attach('moved')),
        engine.execute({ type: 'CreateTransfer', data: { transferId: 'tb', debitAccountId: 'ghost', creditAccountId: 'alice', amountMinor: 1n, ledger: 'usd' } }, undefined, attach('refused')),
      ]);
      expect([moved.ok, refused.ok]).toEqual([true, false]);
      const ledgerEvents = await store.readStream(engine.streamId, { limit: 100 });
      const answers = [(await store.readStream('answer-moved'))[0]!, (await store.readStream('answer-refused'))[0]!];
      expect(answers.map((answer) => answer.data)).toEqual([{ ok: true, aliceCredits: '7' }, { ok: false, aliceCredits: '7' }]);
      // One append: the answers follow the batch's ledger events in the log, with nothing between.
      expect(answers.map((answer) => answer.position)).toEqual([ledgerEvents.at(-1)!.position + 1n, ledgerEvents.at(-1)!.position + 2n]);
      expect(ledgerEvents.slice(-2).map((event) => event.type)).toEqual(['TransferPosted', 'TransferFailed']);
      // A replay writes no ledger event: the attachment is appended alone.
      const again = await engine.execute(transfer, undefined, attach('again'));
      expect(again).toMatchObject({ ok: true, replayed: true });
      expect(await store.streamVersion(engine.streamId)).toBe(ledgerEvents.at(-1)!.version);
      expect((await store.readStream('answer-again'))[0]!.data).toEqual({ ok: true, aliceCredits: '7' });
    });

    it('decides concurrent transfers in batches, each batch one durable append', async () => {
      const { store } = await open();
      const engine = await LedgerEngine.open(store);
      await openAccounts(engine, ['bank', 'alice', 'bob']);
      const appendsBefore = await store.streamVersion(engine.streamId);
      const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => engine.execute({
        type: 'CreateTransfer',
        data: { transferId: `t${i}`, debitAccountId: 'bank', creditAccountId: i % 2 ? 'alice' : 'bob', amountMinor: 5n, ledger: 'usd' },
      })));
      expect(outcomes.every((o) => o.ok)).toBe(true);
      expect(await store.streamVersion(engine.streamId)).toBe(appendsBefore + 200n);
      expect(engine.state.account('alice')!.balances.creditsPosted).toBe(500n);
      expect(engine.state.account('bank')!.balances.debitsPosted).toBe(1000n);
    });

    it('replays its stream on open to the same balances, and a retried transfer id changes nothing', async () => {
      const { store } = await open();
      const engine = await LedgerEngine.open(store, { partition: 'replay' });
      await openAccounts(engine, ['bank', 'alice']);
      const request = { type: 'CreateTransfer' as const, data: { transferId: 'once', debitAccountId: 'bank', creditAccountId: 'alice', amountMinor: 42n, ledger: 'usd' } };
      expect((await engine.execute(request)).ok).toBe(true);
      const version = engine.streamVersion;
      const again = await engine.execute(request);
      expect(again).toMatchObject({ ok: true, replayed: true });
      expect(engine.streamVersion).toBe(version);
      const reopened = await LedgerEngine.open(store, { partition: 'replay' });
      expect(reopened.state.account('alice')!.balances).toEqual(engine.state.account('alice')!.balances);
      expect(reopened.streamVersion).toBe(version);
    });

    it('a hot account with debits_must_not_exceed_credits is never overdrawn under 500 concurrent debits', async () => {
      const { store } = await open();
      const engine = await LedgerEngine.open(store, { partition: 'hot' });
      await openAccounts(engine, ['funding', 'hot', 'sink'], ['hot']);
      await engine.execute({ type: 'CreateTransfer', data: { transferId: 'fund', debitAccountId: 'funding', creditAccountId: 'hot', amountMinor: 1000n, ledger: 'usd' } });
      const outcomes = await Promise.all(Array.from({ length: 500 }, (_, i) => engine.execute({
        type: 'CreateTransfer', data: { transferId: `d${i}`, debitAccountId: 'hot', creditAccountId: 'sink', amountMinor: 3n, ledger: 'usd' },
      })));
      const succeeded = outcomes.filter((o) => o.ok).length;
      expect(succeeded).toBe(333);
      const hot = engine.state.account('hot')!.balances;
      expect(hot.debitsPosted).toBe(999n);
      expect(hot.debitsPosted <= hot.creditsPosted).toBe(true);
    });

    it('two engines on one partition: the second catches up on conflict and both stay exact', async () => {
      const { store } = await open();
      const first = await LedgerEngine.open(store, { partition: 'shared' });
      const second = await LedgerEngine.open(store, { partition: 'shared' });
      await openAccounts(first, ['a', 'b']);
      const outcome = await second.execute({ type: 'CreateTransfer', data: { transferId: 'x1', debitAccountId: 'a', creditAccountId: 'b', amountMinor: 7n, ledger: 'usd' } });
      expect(outcome.ok).toBe(true);
      expect(second.state.account('b')!.balances.creditsPosted).toBe(7n);
      expect(second.streamVersion).toBe(3n);
    });

    it('two engines racing on one partition: every transfer applied exactly once, replay agrees', async () => {
      const { store } = await open();
      const first = await LedgerEngine.open(store, { partition: 'race', conflictRetriesMax: 50 });
      await openAccounts(first, ['source', 'target']);
      const second = await LedgerEngine.open(store, { partition: 'race', conflictRetriesMax: 50 });
      const run = (engine: LedgerEngine, prefix: string) => Promise.all(Array.from({ length: 150 }, (_, i) => engine.execute({
        type: 'CreateTransfer', data: { transferId: `${prefix}${i}`, debitAccountId: 'source', creditAccountId: 'target', amountMinor: 1n, ledger: 'usd' },
      })));
      const [a, b] = await Promise.all([run(first, 'a'), run(second, 'b')]);
      expect([...a, ...b].every((o) => o.ok)).toBe(true);
      const replayed = await LedgerEngine.open(store, { partition: 'race' });
      expect(replayed.state.account('target')!.balances.creditsPosted).toBe(300n);
      expect(replayed.state.account('source')!.balances.debitsPosted).toBe(300n);
    });
  });
}

describeLedgerEngine('sqlite', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'daybook-ledger-'));
  return { url: `sqlite:${join(folder, 'daybook.db')}`, cleanup: async () => rmSync(folder, { recursive: true, force: true }) };
});

describeIfPostgres('ledger engine (postgres)', () => {
  describeLedgerEngine('postgres', async () => {
    const database: TestDatabase = await createTestDatabase();
    return { url: database.url, cleanup: () => database.drop() };
  });
});
