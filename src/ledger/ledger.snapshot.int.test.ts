/**
 * Snapshots of a ledger partition on a real store (SQLite and PostgreSQL):
 * an engine opened from the latest snapshot plus the stream's tail holds
 * exactly the state a full replay builds (accounts with limits, flags and
 * balance history, amounts past 2^53, applied and failed transfer ids,
 * pending transfers with their expiry, journal entries and reversals, a
 * closed account), and behaves the same (retries answer the first result,
 * failed ids stay failed, due expiries match). A snapshot that does not
 * decode, does not balance, names another event, or has another format
 * version is ignored: the stream is replayed in full.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfPostgres } from '../../test/support/postgres.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import type { LedgerCommand } from './ledger.commands.ts';
import { LedgerEngine, type LedgerEngineOptions } from './ledger.service.ts';
import { copyLedgerState, encodeLedgerSnapshot, encodeLedgerSnapshotText, LEDGER_SNAPSHOT_SCHEMA_VERSION, recordLedgerSnapshot } from './ledger.snapshot.ts';
import type { LedgerMaps } from './ledger.state.ts';
import {
  close, creditLeg, debitLeg, entry, MINUTE, open, openCustomer, pendingTransfer, post, reverse, T0, transfer, voidPending,
} from './ledger.testkit.ts';

const HUGE = 2n ** 60n + 7n;

/** A partition's history touching every kind of record. */
function script(): LedgerCommand[] {
  return [
    open('bank'), open('fees'), open('vault', { flags: { history: true } }),
    openCustomer('alice', { flags: { debitsMustNotExceedCredits: true, history: true }, overdraftLimitMinor: 50n, metadata: { tier: 'gold' } }),
    openCustomer('bob'), open('closing'),
    transfer('fund-alice', 'bank', 'alice', 1_000n, { metadata: { source: 'wire' } }),
    transfer('huge', 'bank', 'vault', HUGE),
    transfer('overdraw', 'bob', 'alice', 10n),
    transfer('alice-bob', 'alice', 'bob', 300n, { atMs: T0 + MINUTE }),
    pendingTransfer('hold-1', 'alice', 'bob', 100n, { timeoutMs: 10 * MINUTE }),
    pendingTransfer('hold-2', 'alice', 'bob', 50n, { timeoutMs: 5 * MINUTE }),
    pendingTransfer('hold-3', 'alice', 'bob', 40n),
    post('post-3', 'hold-3', { amountMinor: 30n }),
    pendingTransfer('hold-4', 'bob', 'fees', 5n, { timeoutMs: 60 * MINUTE }),
    voidPending('void-4', 'hold-4'),
    entry('entry-1', [debitLeg('bank', 70n), creditLeg('alice', 60n), creditLeg('fees', 10n)], { metadata: { kind: 'deposit' } }),
    entry('entry-2', [debitLeg('bank', 5n), creditLeg('fees', 5n)]),
    reverse('entry-2-back', 'entry-2'),
    entry('entry-bad', [debitLeg('bob', 1_000_000n), creditLeg('fees', 1_000_000n)]),
    close('closing'),
    transfer('to-closed', 'bank', 'closing', 1n),
  ];
}

/** What a second engine appends after the last snapshot: the tail an open must replay. */
function tail(): LedgerCommand[] {
  return [transfer('tail-1', 'bank', 'alice', 11n), pendingTransfer('tail-hold', 'alice', 'fees', 7n, { timeoutMs: 2 * MINUTE }), transfer('tail-fail', 'bob', 'fees', 10_000n)];
}

function maps(engine: LedgerEngine): LedgerMaps {
  return engine.state as LedgerMaps;
}

function expectSameState(actual: LedgerEngine, expected: LedgerEngine): void {
  expect(actual.streamVersion).toBe(expected.streamVersion);
  expect([...maps(actual).ledgers]).toEqual([...maps(expected).ledgers]);
  expect([...maps(actual).accounts]).toEqual([...maps(expected).accounts]);
  expect([...maps(actual).transfers]).toEqual([...maps(expected).transfers]);
  expect([...maps(actual).entries]).toEqual([...maps(expected).entries]);
  for (const atMs of [T0, T0 + 3 * MINUTE, T0 + 6 * MINUTE, T0 + 11 * MINUTE, Number.MAX_SAFE_INTEGER]) {
    expect(maps(actual).dueExpiries(atMs, 100)).toEqual(maps(expected).dueExpiries(atMs, 100));
  }
}

function describeSnapshots(name: string, factory: () => Promise<{ url: string; cleanup(): Promise<void> }>): void {
  describe(`ledger snapshots on ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => { for (const cleanup of cleanups.splice(0).reverse()) await cleanup(); });

    async function store(): Promise<EventStore> {
      const { url, cleanup } = await factory();
      const opened = await openEventStore(url);
      cleanups.push(cleanup, () => opened.close());
      return opened;
    }

    async function engine(on: EventStore, options: LedgerEngineOptions): Promise<LedgerEngine> {
      const opened = await LedgerEngine.open(on, { follow: false, ...options });
      cleanups.push(() => opened.close());
      return opened;
    }

    async function run(on: LedgerEngine, commands: LedgerCommand[]): Promise<void> {
      for (const command of commands) await on.execute(command);
    }

    /** The script with snapshots every 10 events, then a tail written without snapshots. */
    async function written(partition: string): Promise<{ on: EventStore; total: bigint }> {
      const on = await store();
      const writer = await engine(on, { partition, snapshotEveryEvents: 10 });
      await run(writer, script());
      await writer.close();
      const tailWriter = await engine(on, { partition, snapshotEveryEvents: 0 });
      await run(tailWriter, tail());
      await tailWriter.close();
      return { on, total: await on.streamVersion(`ledger-${partition}`) };
    }

    it('opens from the latest snapshot plus the tail to exactly the state of a full replay', async () => {
      const { on, total } = await written('snap');
      const snapshot = await on.loadSnapshot('ledger-snap', LEDGER_SNAPSHOT_SCHEMA_VERSION);
      expect(snapshot).not.toBeNull();
      expect(snapshot!.version).toBeLessThan(total);
      const fromSnapshot = await engine(on, { partition: 'snap', snapshotEveryEvents: 0 });
      const replayed = await engine(on, { partition: 'snap', useSnapshots: false, snapshotEveryEvents: 0 });
      expect(fromSnapshot.openedFrom).toEqual({ snapshotVersion: snapshot!.version, snapshotIgnored: null, replayedEvents: total - snapshot!.version });
      expect(replayed.openedFrom).toEqual({ snapshotVersion: null, snapshotIgnored: null, replayedEvents: total });
      expectSameState(fromSnapshot, replayed);
      expect(maps(fromSnapshot).account('vault')!.balances.creditsPosted).toBe(HUGE);
      expect(maps(fromSnapshot).account('alice')!.history).not.toBeNull();
    });

    it('writes a snapshot a slice at a time: the same text as encoding it at once, taken from a copy the engine cannot change', async () => {
      const on = await store();
      const writer = await engine(on, { partition: 'slices', snapshotEveryEvents: 0 });
      await run(writer, script());
      const copy = copyLedgerState(maps(writer));
      const expected = JSON.stringify(encodeLedgerSnapshot(maps(writer), 'last-event'));
      const pending = encodeLedgerSnapshotText(copy, 'last-event', 2);
      // Commands decided while the slices are encoded change the live state, not the copy.
      await run(writer, tail());
      expect(await pending).toBe(expected);
      expect(await encodeLedgerSnapshotText(copy, 'last-event')).toBe(expected);
      expect(JSON.stringify(encodeLedgerSnapshot(maps(writer), 'last-event'))).not.toBe(expected);
    });

    it('a graceful close saves the final state, so the next open replays nothing; below the threshold it saves none', async () => {
      const on = await store();
      const writer = await engine(on, { partition: 'closing', snapshotEveryEvents: 1_000, snapshotOnCloseMinEvents: 5 });
      await run(writer, script());
      await writer.close();
      const total = await on.streamVersion('ledger-closing');
      expect((await on.loadSnapshot('ledger-closing', LEDGER_SNAPSHOT_SCHEMA_VERSION))?.version).toBe(total);
      const reopened = await engine(on, { partition: 'closing', snapshotEveryEvents: 1_000 });
      expect(reopened.openedFrom).toEqual({ snapshotVersion: total, snapshotIgnored: null, replayedEvents: 0n });
      expectSameState(reopened, await engine(on, { partition: 'closing', useSnapshots: false, snapshotEveryEvents: 0 }));
      // Fewer events than the threshold since that snapshot: the close leaves it as it was.
      await run(reopened, tail());
      await reopened.close();
      expect((await on.loadSnapshot('ledger-closing', LEDGER_SNAPSHOT_SCHEMA_VERSION))?.version).toBe(total);
      // The default threshold (1 000 events) is not reached by the script: no snapshot at all.
      const short = await engine(on, { partition: 'short', snapshotEveryEvents: 1_000 });
      await run(short, script());
      await short.close();
      expect(await on.loadSnapshot('ledger-short', LEDGER_SNAPSHOT_SCHEMA_VERSION)).toBeNull();
    });

    it('after a snapshot, retries answer the first result, failed ids stay failed, and pending transfers expire as before', async () => {
      const { on, total } = await written('behave');
      const engineFromSnapshot = await engine(on, { partition: 'behave', snapshotEveryEvents: 0 });
      expect(engineFromSnapshot.openedFrom.snapshotVersion).not.toBeNull();
      const again = await engineFromSnapshot.execute(transfer('fund-alice', 'bank', 'alice', 1_000n, { metadata: { source: 'wire' } }));
      expect(again).toMatchObject({ ok: true, replayed: true, result: { kind: 'transfer', amountMinor: 1_000n } });
      const failedAgain = await engineFromSnapshot.execute(transfer('overdraw', 'bob', 'alice', 10n));
      expect(failedAgain).toMatchObject({ ok: false, replayed: true, rejection: { code: 'exceeds_credits' } });
      const closedAgain = await engineFromSnapshot.execute(transfer('to-closed', 'bank', 'closing', 1n));
      expect(closedAgain).toMatchObject({ ok: false, replayed: true });
      expect(await engineFromSnapshot.execute(entry('entry-bad', [debitLeg('bob', 1_000_000n), creditLeg('fees', 1_000_000n)]))).toMatchObject({ ok: false, replayed: true });
      expect(engineFromSnapshot.streamVersion).toBe(total);
      expect(maps(engineFromSnapshot).dueExpiries(T0 + 6 * MINUTE, 10)).toEqual(['tail-hold', 'hold-2']);
      const expired = await engineFromSnapshot.execute({ type: 'ExpirePendingTransfer', data: { pendingId: 'hold-2', atMs: T0 + 6 * MINUTE } });
      expect(expired).toMatchObject({ ok: true, result: { kind: 'expiry', amountMinor: 50n } });
      const early = await engineFromSnapshot.execute({ type: 'ExpirePendingTransfer', data: { pendingId: 'hold-1', atMs: T0 + 6 * MINUTE } });
      expect(early).toMatchObject({ ok: false, rejection: { code: 'pending_transfer_not_expired' } });
      expect(await engineFromSnapshot.execute(post('post-1', 'hold-1'))).toMatchObject({ ok: true, result: { amountMinor: 100n } });
    });

    it('a snapshot that does not decode, does not balance, or names another event is ignored: full replay', async () => {
      const { on, total } = await written('corrupt');
      const reference = await engine(on, { partition: 'corrupt', useSnapshots: false, snapshotEveryEvents: 0 });
      const good = await on.loadSnapshot<ReturnType<typeof encodeLedgerSnapshot>>('ledger-corrupt', LEDGER_SNAPSHOT_SCHEMA_VERSION);
      const lastEventId = (await on.readStream('ledger-corrupt', { fromVersion: total, limit: 1 }))[0]!.eventId;
      const valid = encodeLedgerSnapshot(maps(reference), lastEventId);
      const unbalanced = JSON.parse(JSON.stringify(valid)) as typeof valid;
      (unbalanced.accounts[0] as { balances: { creditsPosted: string } }).balances.creditsPosted = '123456';
      const badAmount = JSON.parse(JSON.stringify(valid)) as typeof valid;
      (badAmount.accounts[1] as { balances: { debitsPosted: string } }).balances.debitsPosted = '1.5';
      const badTransfer = JSON.parse(JSON.stringify(valid)) as typeof valid;
      const tupleIndex = badTransfer.transfers.findIndex((item) => Array.isArray(item));
      expect(tupleIndex).toBeGreaterThanOrEqual(0);
      (badTransfer.transfers[tupleIndex] as unknown[])[7] = '1e3';
      const corrupted: unknown[] = [
        badTransfer,
        { format: 'something else' },
        'not even an object',
        unbalanced,
        badAmount,
        { ...valid, formatVersion: LEDGER_SNAPSHOT_SCHEMA_VERSION + 1 },
        { ...valid, lastEventId: good!.state.lastEventId },
      ];
      // Each recorded as the engine records one (with its digest in the log), so the checks of the content are what refuse it.
      const record = async (state: unknown): Promise<void> => {
        const text = JSON.stringify(state);
        await recordLedgerSnapshot(on, 'ledger-corrupt', total, text, createHash('sha256').update(text).digest('hex'));
      };
      for (const state of corrupted) {
        // Each at the stream's current version, so the store prefers it over the good one.
        await record(state);
        const reopened = await engine(on, { partition: 'corrupt', snapshotEveryEvents: 0 });
        expect(reopened.openedFrom.snapshotVersion).toBeNull();
        expect(reopened.openedFrom.snapshotIgnored).not.toBeNull();
        expect(reopened.openedFrom.replayedEvents).toBe(total);
        expectSameState(reopened, reference);
      }
      // The valid encoding of the same state is used.
      await record(valid);
      const fromValid = await engine(on, { partition: 'corrupt', snapshotEveryEvents: 0 });
      expect(fromValid.openedFrom).toEqual({ snapshotVersion: total, snapshotIgnored: null, replayedEvents: 0n });
      expectSameState(fromValid, reference);
      // Edited in place so that every ledger still balances (two accounts' balances swapped): its digest gives it away.
      const swapped = JSON.parse(JSON.stringify(valid)) as typeof valid;
      const [first, second] = swapped.accounts as Array<{ balances: unknown }>;
      [first!.balances, second!.balances] = [second!.balances, first!.balances];
      expect(JSON.stringify(swapped)).not.toBe(JSON.stringify(valid));
      await on.saveSnapshot({ streamId: 'ledger-corrupt', version: total, schemaVersion: LEDGER_SNAPSHOT_SCHEMA_VERSION, stateJson: JSON.stringify(swapped) });
      const fromSwapped = await engine(on, { partition: 'corrupt', snapshotEveryEvents: 0 });
      expect(fromSwapped.openedFrom).toMatchObject({ snapshotVersion: null, snapshotIgnored: expect.stringContaining('digest'), replayedEvents: total });
      expectSameState(fromSwapped, reference);
    });

    it('a snapshot of another schema version is not loaded; the engine saves its own after a long replay', async () => {
      const on = await store();
      const writer = await engine(on, { partition: 'other', snapshotEveryEvents: 0 });
      await run(writer, script());
      const total = writer.streamVersion;
      await on.saveSnapshot({ streamId: 'ledger-other', version: total, schemaVersion: LEDGER_SNAPSHOT_SCHEMA_VERSION + 1, state: { anything: true } });
      const reopened = await engine(on, { partition: 'other', snapshotEveryEvents: 5 });
      expect(reopened.openedFrom).toEqual({ snapshotVersion: null, snapshotIgnored: null, replayedEvents: total });
      expectSameState(reopened, writer);
      await reopened.close();
      const saved = await on.loadSnapshot('ledger-other', LEDGER_SNAPSHOT_SCHEMA_VERSION);
      expect(saved?.version).toBe(total);
      const third = await engine(on, { partition: 'other', snapshotEveryEvents: 0 });
      expect(third.openedFrom.snapshotVersion).toBe(total);
      expectSameState(third, writer);
    });
  });
}

describeSnapshots('sqlite', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'daybook-ledger-snap-'));
  return { url: `sqlite:${join(folder, 'daybook.db')}`, cleanup: async () => rmSync(folder, { recursive: true, force: true }) };
});

describeIfPostgres('ledger snapshots (postgres)', () => {
  describeSnapshots('postgres', async () => {
    const database = await createTestDatabase();
    return { url: database.url, cleanup: () => database.drop() };
  });
});
