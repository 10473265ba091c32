/**
 * A defect found in review (it predates the write-path work): the second flight of an
 * engine is decided on top of the first's staged state and appended with the
 * version the first will leave. When the first fails because another writer
 * of the partition appended as many events as it would have, the second's
 * expected version matches the other writer's events and it commits: a
 * decision made on money that never arrived. It is then counted as invalid
 * and decided again, but its events are already in the log.
 *
 * Two engines on one store stand for two processes writing one partition
 * (PostgreSQL without leases); the store orders the three appends as they
 * would be on PostgreSQL when the other process's commit lands first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { LedgerEngine, type LedgerRequest } from './ledger.service.ts';

const move = (transferId: string, debitAccountId: string, creditAccountId: string, amountMinor: bigint): LedgerRequest => ({
  type: 'CreateTransfer', data: { transferId, debitAccountId, creditAccountId, amountMinor, ledger: 'usd' },
});

describe('ledger engine: a flight decided on top of a flight that failed', () => {
  const dirs: string[] = [];
  const stores: EventStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('never commits: a limited account is not overdrawn when the money it was decided on never arrived', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daybook-review-'));
    dirs.push(dir);
    const store = await openEventStore(`sqlite:${join(dir, 'daybook.db')}`);
    stores.push(store);
    const a = await LedgerEngine.open(store, { batchCommandsMax: 1 });
    const opened = await a.executeAll(['funder', 'bank', 'alice', 'bob', 'carol'].map((accountId) => ({
      type: 'OpenAccount' as const,
      data: { accountId, ledger: 'usd', currency: 'USD' as const, flags: { debitsMustNotExceedCredits: accountId === 'bank' || accountId === 'alice' } },
    })));
    expect(opened.every((outcome) => outcome.ok)).toBe(true);
    expect((await a.execute(move('fund', 'funder', 'bank', 100n))).ok).toBe(true);
    // The other writer of the partition, caught up.
    const b = await LedgerEngine.open(store);

    // In one turn: the other writer spends the bank's 100; this engine moves them to alice (one event) and, on top, from alice to bob.
    const settled = await Promise.allSettled([
      b.execute(move('to-carol', 'bank', 'carol', 100n)),
      a.execute(move('to-alice', 'bank', 'alice', 100n)),
      a.execute(move('to-bob', 'alice', 'bob', 100n)),
    ]);
    await Promise.all([a.close(), b.close()]);

    // Whatever each caller heard, the log must replay (on 609c6ae and before, the replay asserts: to-bob's balances differ from the
    // event's, so the partition cannot be opened any more) and must not hold alice paying 100 she never received.
    // (The engine itself fails its callers once it catches up: its replay of the tail asserts the same way.)
    expect(settled[0]).toMatchObject({ status: 'fulfilled', value: { ok: true } });
    const replayed = await LedgerEngine.open(store, { useSnapshots: false });
    const alice = replayed.state.account('alice')!.balances;
    await replayed.close();
    expect(alice.debitsPosted).toBeLessThanOrEqual(alice.creditsPosted);
  });
});
