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
import type { EventStore, StreamWrite } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { isDaybookError } from '../kernel/errors.ts';
import { EVENTS_PER_APPEND_MAX, STREAMS_PER_APPEND_MAX } from '../kernel/limits.ts';
import type { LedgerOutcome } from './ledger.results.ts';
import { LedgerEngine, type LedgerAttachment, type LedgerRequest } from './ledger.service.ts';

type StoreFactory = () => Promise<{ url: string; cleanup(): Promise<void> }>;

/** The store, with the writes of every append that succeeded (one entry per durable append, in order). */
function countingAppends(store: EventStore): { store: EventStore; appends: Array<readonly StreamWrite[]> } {
  const appends: Array<readonly StreamWrite[]> = [];
  const counted = new Proxy(store, {
    get(target, key) {
      if (key === 'append') {
        return async (writes: StreamWrite | readonly StreamWrite[]) => {
          const result = await target.append(writes);
          appends.push(Array.isArray(writes) ? writes : [writes as StreamWrite]);
          return result;
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: counted, appends };
}

/** Event counts of each append's writes to one stream (appends that do not touch it are left out). */
function eventsPerAppend(appends: Array<readonly StreamWrite[]>, streamId: string): number[] {
  return appends.flatMap((writes) => writes.filter((write) => write.streamId === streamId).map((write) => write.events.length));
}

/** `count` transfers of 1 from bank to alice, each linked to the next: one chain. */
function chainOf(count: number, prefix: string): LedgerRequest[] {
  return Array.from({ length: count }, (_, i) => ({
    type: 'CreateTransfer' as const,
    data: { transferId: `${prefix}${i}`, debitAccountId: 'bank', creditAccountId: 'alice', amountMinor: 1n, ledger: 'usd', flags: { linked: i < count - 1 } },
  }));
}

/** An attachment like the API's idempotency record: one write to a stream of its own. */
const answerTo = (streamId: string): LedgerAttachment => (outcome) => ({
  streamId, expectedVersion: 'any', events: [{ type: 'Answered', data: { ok: outcome.ok } }],
});

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => { throw new Error('expected a rejection'); }, (error: unknown) => error);
}

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

    it('refuses only the commands whose attached write expects a version its stream no longer has; the rest of the batch commits without them', async () => {
      const { store } = await open();
      const engine = await LedgerEngine.open(store);
      await openAccounts(engine, ['bank', 'alice']);
      await store.append({ streamId: 'guarded-1', events: [{ type: 'Taken', data: {} }] });
      const expecting = (streamId: string, expectedVersion: bigint | 'no_stream'): LedgerAttachment => (outcome) => (outcome.ok
        ? { streamId, expectedVersion, events: [{ type: 'Guarded', data: {} }] } : undefined);
      const move = (transferId: string, linked = false): LedgerRequest => ({
        type: 'CreateTransfer', data: { transferId, debitAccountId: 'bank', creditAccountId: 'alice', amountMinor: 10n, ledger: 'usd', flags: { linked } },
      });
      const versionBefore = await store.streamVersion(engine.streamId);
      // Queued in one turn: one batch. The stale one is a linked chain of two, and a third command of its call is not linked to it.
      const [fresh, stale, alone] = await Promise.allSettled([
        engine.execute(move('fresh'), undefined, expecting('guarded-2', 'no_stream')),
        engine.executeAll([move('stale-a', true), move('stale-b'), move('stale-c')], undefined, expecting('guarded-1', 'no_stream')),
        engine.execute(move('alone')),
      ]);
      expect(fresh.status).toBe('fulfilled');
      expect(alone.status).toBe('fulfilled');
      expect(stale.status).toBe('rejected');
      const reason = (stale as PromiseRejectedResult).reason;
      expect(isDaybookError(reason, 'stream_version_conflict')).toBe(true);
      expect(reason.details).toMatchObject({ streamId: 'guarded-1', expected: 'no_stream', actual: '1' });
      // Nothing of the refused call moved (not even its unlinked third transfer), the others moved once.
      expect([await engine.lookupTransfer('stale-a'), await engine.lookupTransfer('stale-c')]).toEqual([undefined, undefined]);
      const events = await store.readStream(engine.streamId, { fromVersion: versionBefore + 1n, limit: 100 });
      expect(events.map((event) => (event.data as { transferId?: string }).transferId).sort()).toEqual(['alone', 'fresh']);
      expect(engine.state.account('alice')!.balances.creditsPosted).toBe(20n);
      expect(await store.streamVersion('guarded-1')).toBe(1n);
      expect(await store.streamVersion('guarded-2')).toBe(1n);
    });

    it('decides concurrent transfers in batches, each batch one durable append', async () => {
      const { store: raw } = await open();
      const { store, appends } = countingAppends(raw);
      const engine = await LedgerEngine.open(store, { batchCommandsMax: 64 });
      await openAccounts(engine, ['bank', 'alice', 'bob']);
      const appendsBefore = appends.length;
      const versionBefore = await store.streamVersion(engine.streamId);
      const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => engine.execute({
        type: 'CreateTransfer',
        data: { transferId: `t${i}`, debitAccountId: 'bank', creditAccountId: i % 2 ? 'alice' : 'bob', amountMinor: 5n, ledger: 'usd' },
      })));
      expect(outcomes.every((o) => o.ok)).toBe(true);
      // 200 commands queued in one turn, at most 64 a batch: four appends, each a whole batch.
      expect(eventsPerAppend(appends.slice(appendsBefore), engine.streamId)).toEqual([64, 64, 64, 8]);
      expect(appends.length - appendsBefore).toBe(4);
      expect(await store.streamVersion(engine.streamId)).toBe(versionBefore + 200n);
      expect(engine.state.account('alice')!.balances.creditsPosted).toBe(500n);
      expect(engine.state.account('bank')!.balances.debitsPosted).toBe(1000n);
    });

    it.each([
      ['before', true],
      ['after', false],
    ])('a 200-transfer linked chain queued %s 100 keyed transfers commits whole, in one append', async (_, chainFirst) => {
      const { store: raw } = await open();
      const { store, appends } = countingAppends(raw);
      const engine = await LedgerEngine.open(store, { partition: 'chained' });
      await openAccounts(engine, ['bank', 'alice']);
      const appendsBefore = appends.length;
      // 100 attachments cannot share one append with the partition stream (STREAMS_PER_APPEND_MAX): the queue must be split.
      const keyed = () => Array.from({ length: 100 }, (__, i) => engine.execute({
        type: 'CreateTransfer', data: { transferId: `k${i}`, debitAccountId: 'bank', creditAccountId: 'alice', amountMinor: 1n, ledger: 'usd' },
      }, undefined, answerTo(`answer-k${i}`)));
      let chain: Promise<LedgerOutcome[]>;
      let singles: Array<Promise<LedgerOutcome>>;
      if (chainFirst) {
        chain = engine.executeAll(chainOf(200, 'c'));
        singles = keyed();
      } else {
        singles = keyed();
        chain = engine.executeAll(chainOf(200, 'c'));
      }
      const [chained, single] = await Promise.all([chain, Promise.all(singles)]);
      expect(chained.map((o) => (o.ok ? 'ok' : o.rejection.code))).toEqual(Array(200).fill('ok'));
      expect(single.every((o) => o.ok)).toBe(true);
      expect(engine.state.account('alice')!.balances.creditsPosted).toBe(300n);
      // The chain's 200 events went to the store in one append, and every append stayed within the limits.
      const chainEventsPerAppend = appends.slice(appendsBefore)
        .map((writes) => writes.filter((write) => write.streamId === engine.streamId)
          .flatMap((write) => write.events).filter((event) => String((event.data as { transferId?: unknown }).transferId).startsWith('c')).length)
        .filter((count) => count > 0);
      expect(chainEventsPerAppend).toEqual([200]);
      for (const writes of appends) {
        expect(writes.length).toBeLessThanOrEqual(STREAMS_PER_APPEND_MAX);
        expect(writes.reduce((count, write) => count + write.events.length, 0)).toBeLessThanOrEqual(EVENTS_PER_APPEND_MAX);
      }
    });

    it('takes a chain longer than batchCommandsMax whole, as one batch', async () => {
      const { store: raw } = await open();
      const { store, appends } = countingAppends(raw);
      const engine = await LedgerEngine.open(store, { partition: 'long', batchCommandsMax: 8 });
      await openAccounts(engine, ['bank', 'alice']);
      const appendsBefore = appends.length;
      const outcomes = await engine.executeAll(chainOf(20, 'c'));
      expect(outcomes.map((o) => (o.ok ? 'ok' : o.rejection.code))).toEqual(Array(20).fill('ok'));
      expect(eventsPerAppend(appends.slice(appendsBefore), engine.streamId)).toEqual([20]);
      expect(engine.state.account('alice')!.balances.creditsPosted).toBe(20n);
    });

    it('refuses a chain of more members than one append holds with limit_exceeded, deciding and writing nothing', async () => {
      const { store } = await open();
      const engine = await LedgerEngine.open(store, { partition: 'toolong' });
      await openAccounts(engine, ['bank', 'alice']);
      const versionBefore = await store.streamVersion(engine.streamId);
      const tooLong = engine.executeAll(chainOf(EVENTS_PER_APPEND_MAX + 1, 'c'));
      const alongside = engine.execute({ type: 'CreateTransfer', data: { transferId: 'beside', debitAccountId: 'bank', creditAccountId: 'alice', amountMinor: 5n, ledger: 'usd' } });
      const error = await rejectionOf(tooLong);
      expect(isDaybookError(error, 'limit_exceeded')).toBe(true);
      expect(error).toMatchObject({ details: { limit: EVENTS_PER_APPEND_MAX } });
      expect((error as Error).message).toContain(String(EVENTS_PER_APPEND_MAX));
      expect((await alongside).ok).toBe(true);
      // Only the transfer queued beside it was written.
      expect(await store.streamVersion(engine.streamId)).toBe(versionBefore + 1n);
      expect(engine.state.transfer('c0')).toBeUndefined();
      expect(engine.state.transfer(`c${EVENTS_PER_APPEND_MAX}`)).toBeUndefined();
      expect(engine.state.account('alice')!.balances.creditsPosted).toBe(5n);
    });

    it('refuses a chain whose attached writes cannot share one append with limit_exceeded, committing no member', async () => {
      const { store } = await open();
      const engine = await LedgerEngine.open(store, { partition: 'wide' });
      await openAccounts(engine, ['bank', 'alice']);
      const versionBefore = await store.streamVersion(engine.streamId);
      // One chain of STREAMS_PER_APPEND_MAX members, each with a write of its own: with the partition stream, one stream too many.
      const members = chainOf(STREAMS_PER_APPEND_MAX, 'w').map((request, i) => engine.execute(request, undefined, answerTo(`answer-w${i}`)));
      const errors = await Promise.all(members.map(rejectionOf));
      for (const error of errors) {
        expect(isDaybookError(error, 'limit_exceeded')).toBe(true);
        expect(error).toMatchObject({ details: { limit: STREAMS_PER_APPEND_MAX } });
      }
      expect(await store.streamVersion(engine.streamId)).toBe(versionBefore);
      expect(await store.streamVersion('answer-w0')).toBe(0n);
      expect(engine.state.account('alice')!.balances.creditsPosted).toBe(0n);
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
