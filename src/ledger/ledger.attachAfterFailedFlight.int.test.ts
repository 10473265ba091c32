/**
 * Review of the attached idempotency record expecting `no_stream`: a flight
 * of replays only (no partition event, attachments only) whose attachment
 * conflicts fails, while the flight decided on top of it expects the same
 * partition version and so commits. That flight is then counted as invalid and
 * its commands are decided again: as replays, whose records (expecting no
 * stream) now conflict with the ones the flight just wrote. The command is
 * refused with a conflict although its transfer and its record are durable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { LedgerEngine, type LedgerAttachment, type LedgerRequest } from './ledger.service.ts';

/** Like the API's attached idempotency record (executeAndAnswer): attached at every decision, replays included, expecting no stream. */
const recordIn = (streamId: string): LedgerAttachment => (outcome) => ({
  streamId, expectedVersion: 'no_stream', events: [{ type: 'IdempotencyRecorded', data: { ok: outcome.ok } }],
});

const move = (transferId: string): LedgerRequest => ({
  type: 'CreateTransfer', data: { transferId, debitAccountId: 'bank', creditAccountId: 'alice', amountMinor: 5n, ledger: 'usd' },
});

describe('ledger engine (SQLite): a flight committed on top of a failed attachment-only flight', () => {
  const dirs: string[] = [];
  const stores: EventStore[] = [];
  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('does not refuse a command whose transfer and attached record were both written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daybook-review-'));
    dirs.push(dir);
    const store = await openEventStore(`sqlite:${join(dir, 'daybook.db')}`);
    stores.push(store);
    // One command per batch: the two commands below go in two flights, the second decided on top of the first.
    const engine = await LedgerEngine.open(store, { batchCommandsMax: 1 });
    const opened = await engine.executeAll(['bank', 'alice'].map((accountId) => ({
      type: 'OpenAccount' as const, data: { accountId, ledger: 'usd', currency: 'USD' as const, flags: {} },
    })));
    expect(opened.every((outcome) => outcome.ok)).toBe(true);
    expect((await engine.execute(move('old'))).ok).toBe(true);
    // A key recorded already (by another process, on PostgreSQL): the replay's record conflicts, and its flight writes no partition event.
    await store.append({ streamId: 'idem-lost', events: [{ type: 'IdempotencyRecorded', data: {} }] });
    const versionBefore = await store.streamVersion(engine.streamId);

    const [lost, fresh] = await Promise.allSettled([
      engine.execute(move('old'), undefined, recordIn('idem-lost')),
      engine.execute(move('new'), undefined, recordIn('idem-new')),
    ]);
    await engine.close();

    expect(lost.status).toBe('rejected');
    // What was written for the second command: its transfer (one partition event) and its record, once each.
    expect(await store.streamVersion(engine.streamId)).toBe(versionBefore + 1n);
    expect(await store.readStream('idem-new')).toHaveLength(1);
    // So its caller must hear that it went through.
    expect(fresh.status === 'rejected' ? (fresh.reason as Error).message : fresh.value).toMatchObject({ ok: true });
  });
});
