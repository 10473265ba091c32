/**
 * Commands are decided in the order they arrived, even when a batch that
 * waited for its lookups in the log meets the failure of the flight before
 * it: both go back to the queue, in arrival order (a real SQLite store; the
 * failure is a version conflict injected into the first ledger append, the
 * lookups are slowed so that the failure lands while they run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { DaybookError } from '../kernel/errors.ts';
import { LedgerEngine } from './ledger.service.ts';

describe('a batch whose lookups outlive the failure of the flight before it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-order-'));
  let store: EventStore;
  beforeAll(async () => { store = await openEventStore(`sqlite:${join(dir, 'daybook.db')}`); });
  afterAll(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });

  it('goes back behind the failed flight\'s commands: a pending transfer and its post, sent in that order, are decided in that order', async () => {
    let failNext = false;
    const flaky: EventStore = {
      ...store,
      append: async (writes) => {
        const first = Array.isArray(writes) ? writes[0] : writes;
        if (failNext && (first as { streamId: string }).streamId === 'ledger-order') {
          failNext = false;
          throw new DaybookError('stream_version_conflict', 'injected', {});
        }
        return store.append(writes);
      },
      readEventsById: async (ids) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        return store.readEventsById(ids);
      },
    };
    const engine = await LedgerEngine.open(flaky, { partition: 'order', batchCommandsMax: 1 });
    for (const accountId of ['a', 'b']) {
      expect((await engine.execute({ type: 'OpenAccount', data: { accountId, ledger: 'usd', currency: 'USD' } })).ok).toBe(true);
    }
    failNext = true;
    const [held, posted] = await engine.executeAll([
      { type: 'CreateTransfer', data: { transferId: 'hold', debitAccountId: 'a', creditAccountId: 'b', amountMinor: 100n, ledger: 'usd', flags: { pending: true } } },
      { type: 'PostPendingTransfer', data: { transferId: 'post', pendingId: 'hold' } },
    ]);
    expect(failNext, 'the injected failure happened').toBe(false);
    expect([held!.ok, posted!.ok, posted!.ok ? '' : posted!.rejection.code]).toEqual([true, true, '']);
    const types = (await store.readStream('ledger-order', { limit: 100 })).map((event) => event.type);
    expect(types.slice(2)).toEqual(['PendingTransferCreated', 'PendingTransferPosted']);
    await engine.close();
  });

  it('answers a batch that keeps meeting ids other writers took with a retryable version conflict, not the caller\'s event_id_conflict', async () => {
    const taken: EventStore = {
      ...store,
      append: async (writes) => {
        const first = Array.isArray(writes) ? writes[0] : writes;
        if ((first as { streamId: string }).streamId === 'ledger-taken' && ((first as { events: Array<{ type: string }> }).events[0]?.type === 'TransferPosted')) {
          throw new DaybookError('event_id_conflict', 'injected: taken by another writer', {});
        }
        return store.append(writes);
      },
    };
    const engine = await LedgerEngine.open(taken, { partition: 'taken', conflictRetriesMax: 2 });
    await engine.executeAll(['a', 'b'].map((accountId) => ({ type: 'OpenAccount' as const, data: { accountId, ledger: 'usd', currency: 'USD' as const } })));
    const failure = await engine.execute({ type: 'CreateTransfer', data: { transferId: 't', debitAccountId: 'a', creditAccountId: 'b', amountMinor: 1n, ledger: 'usd' } })
      .then(() => null, (error: unknown) => error as DaybookError);
    expect(failure?.code).toBe('stream_version_conflict');
    await engine.close();
  });
});
