/**
 * The ledger engine with a bounded cache, on a real store (SQLite and
 * PostgreSQL), against the unbounded pure engine. Random sequences of
 * commands (ledger.arbitraries.ts) run through both; the engine holds at
 * most 8 transfers and 8 entries besides open pending transfers, so almost
 * every id it meets again (a retry, a post of an old pending transfer, a
 * reversal of an old entry) must be read back from the log. After every step
 * the answers are the same; at the end every record looks the same by id, a
 * retry of the whole history writes nothing and answers the same, and so
 * does a reopened engine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { propertyParameters } from '../../test/support/fastCheck.ts';
import { createTestDatabase, describeIfPostgres, type TestDatabase } from '../../test/support/postgres.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { aStep, setupCommands, type Step } from './ledger.arbitraries.ts';
import { decideLedgerBatch } from './ledger.batch.ts';
import type { LedgerCommand } from './ledger.commands.ts';
import type { LedgerOutcome } from './ledger.results.ts';
import { LedgerEngine, type LedgerEngineOptions } from './ledger.service.ts';
import { createLedgerState, type LedgerMaps } from './ledger.state.ts';
import { T0 } from './ledger.testkit.ts';

const PROPERTY = propertyParameters(20_261_206, 12);
/** The cache the engine is given: 2 batches of 4 commands, the least it takes. */
const BOUNDED: LedgerEngineOptions = { batchCommandsMax: 4, transferCacheMax: 1, entryCacheMax: 1, snapshotEveryEvents: 25, snapshotOnCloseMinEvents: 1 };
const CACHE_HELD = 8;
const TRANSFER_IDS = [...Array.from({ length: 24 }, (_, i) => `t${i}`), ...Array.from({ length: 40 }, (_, i) => `x${i}`), 'fund-u1', 'fund-u2', 'fund-j1'];
const ENTRY_IDS = [...Array.from({ length: 10 }, (_, i) => `e${i}`), ...Array.from({ length: 6 }, (_, i) => `r${i}`)];

const seen = new Set<string>();
const codeOf = (outcome: LedgerOutcome): string => (outcome.ok ? 'ok' : outcome.rejection.code);

function describeBounded(name: string, openStore: () => Promise<{ store: EventStore; cleanup(): Promise<void> }>): void {
  describe(`a ledger engine with a bounded cache on ${name}`, () => {
    let store: EventStore;
    let cleanup: () => Promise<void>;
    let run = 0;
    beforeAll(async () => ({ store, cleanup } = await openStore()));
    afterAll(async () => { await store.close(); await cleanup(); });

    it('answers every command as the unbounded engine does, holding at most the cache, and so after a reopen', async () => {
      await fc.assert(fc.asyncProperty(fc.array(aStep, { minLength: 20, maxLength: 60 }), async (steps) => {
        run += 1;
        await checkAgainstReference(store, `bounded${run}`, steps);
      }), { ...PROPERTY, endOnFailure: true });
      // Dropped records were met again, in each way the log must answer for.
      const wanted = ['ok (replayed)', 'pending_transfer_already_posted', 'pending_transfer_already_voided', 'pending_transfer_expired', 'transfer_exists_with_different_amount'];
      expect(wanted.filter((code) => !seen.has(code))).toEqual([]);
    });
  });
}

async function checkAgainstReference(store: EventStore, partition: string, steps: Step[]): Promise<void> {
  const reference = createLedgerState();
  let engine = await LedgerEngine.open(store, { ...BOUNDED, partition });
  const history: LedgerCommand[][] = [setupCommands];
  await runBoth(engine, reference, setupCommands);
  let now = T0;
  for (const step of steps) {
    now += step.dtMs;
    const commands = step.build(now, history.slice(1));
    if (commands.length === 0) continue;
    history.push(commands);
    await runBoth(engine, reference, commands);
    const held = engine.state as LedgerMaps;
    expect(held.transfers.size, 'transfers held besides open pending ones').toBeLessThanOrEqual(CACHE_HELD);
    expect(held.entries.size, 'entries held').toBeLessThanOrEqual(CACHE_HELD);
  }
  await expectSameRecords(engine, reference);
  await engine.close();
  engine = await LedgerEngine.open(store, { ...BOUNDED, partition });
  await expectSameRecords(engine, reference);
  // A late retry of everything, stamped now: every answer is the reference's, and it writes what the reference decides (an expiry now due, say), nothing more.
  const version = engine.streamVersion;
  let decided = 0;
  for (const commands of history) decided += await runBoth(engine, reference, commands.map((c) => ({ ...c, data: { ...c.data, atMs: now } }) as LedgerCommand));
  await engine.close();
  expect(engine.streamVersion).toBe(version + BigInt(decided));
}

/** Runs one batch through both; returns the number of events the reference decided. */
async function runBoth(engine: LedgerEngine, reference: LedgerMaps, commands: LedgerCommand[]): Promise<number> {
  const expected = decideLedgerBatch(reference, commands);
  expected.staged.commitTo(reference);
  const actual = await engine.executeAll(commands);
  actual.forEach((outcome, i) => {
    seen.add(outcome.ok && outcome.replayed ? 'ok (replayed)' : codeOf(outcome));
    expect({ i, command: commands[i], outcome }).toEqual({ i, command: commands[i], outcome: expected.outcomes[i] });
  });
  return expected.events.length;
}

async function expectSameRecords(engine: LedgerEngine, reference: LedgerMaps): Promise<void> {
  for (const id of TRANSFER_IDS) expect(await engine.lookupTransfer(id), `transfer ${id}`).toEqual(reference.transfer(id));
  for (const id of ENTRY_IDS) expect(await engine.lookupEntry(id), `entry ${id}`).toEqual(reference.entry(id));
  for (const account of reference.accounts.values()) expect(engine.state.account(account.accountId)).toEqual(account);
}

describeBounded('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-bounded-'));
  return { store: await openEventStore(`sqlite:${join(dir, 'daybook.db')}`), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

describeIfPostgres('a bounded ledger engine on postgres', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await createTestDatabase(); });
  afterAll(async () => { await db?.drop(); });
  describeBounded('postgres', async () => ({ store: await openEventStore(db.url), cleanup: async () => {} }));
});
