/**
 * Old transfers and entries over HTTP, once the ledger engine's cache has
 * dropped them (issue 15: history lives in the store, not the heap): a
 * lookup, a list filtered by account, an idempotent retry, a conflicting
 * retry, a settlement of a posted pending transfer and a second reversal
 * are answered as they were when the records were in memory, and again
 * after a restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEngine, LedgerMaps, LedgerRequest } from '../../ledger/index.ts';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

/** The least the engine takes: two batches of its default 1,000 commands. */
const CACHE = 2_000;
const FILLER = CACHE + 500;

describe('ledger history beyond the engine cache, over HTTP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-history-'));
  let api: ApiHarness;
  const open = async (): Promise<void> => { api = await openApiHarness({ dir, ledgerCache: { transfers: 1, entries: 1 } }); };
  const engine = (): LedgerEngine => api.services.ledger.engines.test;
  const get = async (url: string) => api.app.inject({ method: 'GET', url, headers: api.as('operator') });
  const post = async (url: string, payload: object, key?: string) => api.app.inject({
    method: 'POST', url, payload, headers: { ...api.as('operator'), ...(key === undefined ? {} : { 'idempotency-key': key }) },
  });

  beforeAll(async () => {
    await open();
    const run = async (requests: LedgerRequest[]): Promise<void> => {
      for (let start = 0; start < requests.length; start += 1000) {
        const outcomes = await engine().executeAll(requests.slice(start, start + 1000));
        expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
      }
    };
    await run([
      { type: 'OpenAccount', data: { accountId: 'src', currency: 'USD', ledger: 'usd' } },
      { type: 'OpenAccount', data: { accountId: 'dst', currency: 'USD', ledger: 'usd' } },
      { type: 'OpenAccount', data: { accountId: 'other', currency: 'USD', ledger: 'usd' } },
      { type: 'CreateTransfer', data: { transferId: 'hold-old', debitAccountId: 'src', creditAccountId: 'dst', amountMinor: 700n, ledger: 'usd', flags: { pending: true } } },
      { type: 'PostPendingTransfer', data: { transferId: 'hold-old-post', pendingId: 'hold-old', amountMinor: 500n } },
      { type: 'CreateTransfer', data: { transferId: 'old-1', debitAccountId: 'src', creditAccountId: 'dst', amountMinor: 42n, ledger: 'usd' } },
      { type: 'RecordJournalEntry', data: { entryId: 'je-old', postings: [
        { accountId: 'src', side: 'debit', amountMinor: 9n, currency: 'USD' }, { accountId: 'dst', side: 'credit', amountMinor: 9n, currency: 'USD' },
      ] } },
      { type: 'ReverseJournalEntry', data: { reversalId: 'je-old-rev', entryId: 'je-old' } },
    ]);
    await run(Array.from({ length: FILLER }, (_, i) => ({
      type: 'CreateTransfer' as const, data: { transferId: `fill-${i}`, debitAccountId: 'src', creditAccountId: 'other', amountMinor: 1n, ledger: 'usd' },
    })));
    await run(Array.from({ length: FILLER }, (_, i) => ({
      type: 'RecordJournalEntry' as const, data: { entryId: `fill-je-${i}`, postings: [
        { accountId: 'src', side: 'debit' as const, amountMinor: 1n, currency: 'USD' as const }, { accountId: 'other', side: 'credit' as const, amountMinor: 1n, currency: 'USD' as const },
      ] },
    })));
  });
  afterAll(async () => { await api.close(); rmSync(dir, { recursive: true, force: true }); });

  const expectAnsweredFromTheLog = async (dropped: boolean): Promise<void> => {
    const held = engine().state as LedgerMaps;
    // The premise: memory holds none of them any more (after the retries below, those met again are recent again, and snapshotted as such).
    if (dropped) for (const id of ['hold-old', 'hold-old-post', 'old-1']) expect(held.transfer(id), id).toBeUndefined();
    if (dropped) expect(held.entry('je-old')).toBeUndefined();
    expect(held.transfers.size).toBeLessThanOrEqual(CACHE);
    expect(held.entries.size).toBeLessThanOrEqual(CACHE);

    expect((await get('/v1/transfers/old-1')).json()).toMatchObject({ id: 'old-1', status: 'posted', amount: '42', debit_account_id: 'src' });
    expect((await get('/v1/transfers/hold-old')).json()).toMatchObject({ id: 'hold-old', type: 'pending', status: 'posted', amount: '700' });
    expect((await get('/v1/transfers/hold-old-post')).json()).toMatchObject({ id: 'hold-old-post', type: 'post', amount: '500' });
    expect((await get('/v1/transfers/never')).statusCode).toBe(404);

    const list = (await get('/v1/transfers?account_id=dst&limit=2')).json();
    expect(list.data.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([['hold-old', 'posted'], ['hold-old-post', 'posted']]);
    expect(list.has_more).toBe(true);
    const rest = (await get('/v1/transfers?account_id=dst&limit=5&starting_after=hold-old-post')).json();
    expect(rest.data.map((t: { id: string }) => t.id)).toEqual(['old-1']);
    expect(rest.has_more).toBe(false);

    const entry = (await get('/v1/journal_entries/je-old')).json();
    expect(entry).toMatchObject({ id: 'je-old', status: 'reversed', reversed_by: 'je-old-rev' });
  };

  it('looks up and lists old transfers and entries from the log', async () => {
    await expectAnsweredFromTheLog(true);
  });

  it('answers retries and settlements of old records as when they were in memory, writing nothing', async () => {
    const before = engine().streamVersion;
    const retry = await post('/v1/transfers', { id: 'old-1', debit_account_id: 'src', credit_account_id: 'dst', amount: '42', ledger: 'usd' });
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toMatchObject({ id: 'old-1', amount: '42' });
    const conflicting = await post('/v1/transfers', { id: 'old-1', debit_account_id: 'src', credit_account_id: 'dst', amount: '43', ledger: 'usd' });
    expect(conflicting.json().error.code).toBe('transfer_exists_with_different_amount');
    const voidPosted = await post('/v1/transfers/hold-old/void', { id: 'void-late' });
    expect(voidPosted.json().error.code).toBe('pending_transfer_already_posted');
    const reverseAgain = await post('/v1/journal_entries/je-old/reverse', { id: 'je-old-rev-2' });
    expect(reverseAgain.statusCode).toBe(200);
    expect(reverseAgain.json()).toMatchObject({ id: 'je-old-rev' });
    expect(engine().streamVersion).toBe(before);
  });

  it('answers the same after a restart', async () => {
    await api.close();
    await open();
    expect(engine().openedFrom.snapshotVersion, 'opened from the snapshot saved at close').not.toBeNull();
    await expectAnsweredFromTheLog(false);
  });
});
