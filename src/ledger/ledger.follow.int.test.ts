/**
 * Cross-process freshness of the ledger engine: two engines on one partition,
 * each on its own store connection (as two processes would be). On
 * PostgreSQL an engine follows its partition stream, so events the other
 * engine appends reach its state without any write of its own; on either
 * backend `catchUp()` is a read barrier: after it, the state reflects every
 * event durable before the call.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfPostgres, type TestDatabase } from '../../test/support/postgres.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { LedgerEngine } from './ledger.service.ts';
import { bankToAlice, waitUntil } from './ledger.testkit.ts';



async function openAccounts(engine: LedgerEngine): Promise<void> {
  const outcomes = await engine.executeAll(['bank', 'alice'].map((accountId) => ({
    type: 'OpenAccount' as const, data: { accountId, ledger: 'usd', currency: 'USD' as const },
  })));
  expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
}

const credits = (engine: LedgerEngine): bigint | undefined => engine.state.account('alice')?.balances.creditsPosted;

describeIfPostgres('ledger engine freshness across processes (PostgreSQL)', () => {
  let database: TestDatabase;
  const cleanups: Array<() => Promise<void>> = [];
  beforeAll(async () => { database = await createTestDatabase(); });
  afterAll(async () => { await database?.drop(); });
  afterEach(async () => { for (const cleanup of cleanups.splice(0).reverse()) await cleanup(); });

  async function twoStores(): Promise<[EventStore, EventStore]> {
    const a = await openEventStore(database.url, { poolSize: 3 });
    const b = await openEventStore(database.url, { poolSize: 3 });
    cleanups.push(() => a.close(), () => b.close());
    return [a, b];
  }

  async function engineOn(store: EventStore, partition: string, follow?: boolean): Promise<LedgerEngine> {
    // A batch can lose to each of the other engine's appends at most once: 1000 retries cannot run out here.
    const engine = await LedgerEngine.open(store, { partition, follow, conflictRetriesMax: 1000 });
    cleanups.push(() => engine.close());
    return engine;
  }

  it('an engine follows what another process appends to its partition, without writing itself', async () => {
    const [storeA, storeB] = await twoStores();
    const writer = await engineOn(storeA, 'follow');
    const reader = await engineOn(storeB, 'follow');
    await openAccounts(writer);
    for (let i = 0; i < 20; i += 1) expect((await writer.execute(bankToAlice(`t${i}`, 5n))).ok).toBe(true);
    await waitUntil('the reader to apply the writer\'s 22 events', () => reader.streamVersion === 22n);
    expect(credits(reader)).toBe(100n);
    expect(reader.state.transfer('t19')).toEqual(writer.state.transfer('t19'));
    expect(reader.state.account('bank')).toEqual(writer.state.account('bank'));
  });

  it('catchUp() is a read barrier: right after it, the other process\'s acknowledged transfer is visible', async () => {
    const [storeA, storeB] = await twoStores();
    const writer = await engineOn(storeA, 'barrier');
    const reader = await engineOn(storeB, 'barrier');
    await openAccounts(writer);
    for (let i = 0; i < 10; i += 1) {
      expect((await writer.execute(bankToAlice(`b${i}`, 1n))).ok).toBe(true);
      await reader.catchUp();
      expect(credits(reader)).toBe(BigInt(i + 1));
      expect(reader.streamVersion).toBe(writer.streamVersion);
    }
  });

  it('without following, the state is stale until catchUp() brings it up to date', async () => {
    const [storeA, storeB] = await twoStores();
    const writer = await engineOn(storeA, 'stale');
    const reader = await engineOn(storeB, 'stale', false);
    await openAccounts(writer);
    await writer.execute(bankToAlice('s1', 9n));
    expect(reader.streamVersion).toBe(0n);
    expect(reader.state.account('alice')).toBeUndefined();
    await reader.catchUp();
    expect(credits(reader)).toBe(9n);
    expect(reader.streamVersion).toBe(3n);
  });

  it('a follower that then writes appends on top of what it followed, and both stay exact', async () => {
    const [storeA, storeB] = await twoStores();
    const first = await engineOn(storeA, 'both');
    const second = await engineOn(storeB, 'both');
    await openAccounts(first);
    await first.execute(bankToAlice('f1', 10n));
    await second.catchUp();
    expect((await second.execute(bankToAlice('f2', 20n))).ok).toBe(true);
    await first.catchUp();
    expect(credits(first)).toBe(30n);
    expect(credits(second)).toBe(30n);
    const replayed = await engineOn(storeA, 'both', false);
    expect(replayed.state.account('alice')).toEqual(first.state.account('alice'));
    expect(replayed.streamVersion).toBe(4n);
  });

  it('reads during concurrent writes from both engines converge to the replayed state', async () => {
    const [storeA, storeB] = await twoStores();
    const first = await engineOn(storeA, 'busy');
    const second = await engineOn(storeB, 'busy');
    await openAccounts(first);
    await second.catchUp();
    const run = (engine: LedgerEngine, prefix: string) => Promise.all(Array.from({ length: 100 }, (_, i) => engine.execute(bankToAlice(`${prefix}${i}`, 1n))));
    const [a, b] = await Promise.all([run(first, 'x'), run(second, 'y')]);
    expect([...a, ...b].every((outcome) => outcome.ok)).toBe(true);
    await Promise.all([first.catchUp(), second.catchUp()]);
    expect(credits(first)).toBe(200n);
    expect(credits(second)).toBe(200n);
    expect(first.streamVersion).toBe(second.streamVersion);
  });
});

describe('ledger engine read barrier (SQLite)', () => {
  let folder: string;
  beforeAll(() => { folder = mkdtempSync(join(tmpdir(), 'daybook-ledger-follow-')); });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('catchUp() applies what another engine on the store appended', async () => {
    const store = await openEventStore(`sqlite:${join(folder, 'daybook.db')}`);
    try {
      const writer = await LedgerEngine.open(store, { partition: 'barrier' });
      const reader = await LedgerEngine.open(store, { partition: 'barrier' });
      await openAccounts(writer);
      await writer.execute(bankToAlice('q1', 4n));
      expect(reader.streamVersion).toBe(0n);
      await reader.catchUp();
      expect(credits(reader)).toBe(4n);
      await reader.close();
      await writer.close();
    } finally {
      await store.close();
    }
  });
});
