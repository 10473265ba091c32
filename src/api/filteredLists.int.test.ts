/**
 * Filtered lists under a bound, on a real SQLite store and real ledger
 * engines: the account directory and the transfer directory, filtered by
 * ledger, metadata, account and time, give the same rows as a brute-force
 * filter over the engine's maps, forwards and backwards, when followed page
 * by page (by the last row, or by `resumeAfter` when the scan budget ended a
 * page); no page examines more than the budget; the account index answers a
 * metadata filter examining no more than the page; taking new accounts reads
 * each once (no re-walk of all accounts per new one); and over HTTP, a
 * rare metadata filter past LIST_SCAN_MAX transfers ends the first page
 * early with `has_more` and a `next_cursor` that finds the rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIST_SCAN_MAX } from '../kernel/index.ts';
import { LedgerMaps, type LedgerEngine, type LedgerRequest } from '../ledger/index.ts';
import { type AccountFilter, AccountDirectory } from './accountDirectory.ts';
import { type ApiHarness, openApiHarness } from './apiTestkit.ts';
import { type TransferFilter, TransferDirectory } from './transferDirectory.ts';
import type { PageCursor } from './wire.ts';

const ACCOUNTS = 600;
const TRANSFERS = 900;
const BUDGET = 50;

let api: ApiHarness;
let engine: LedgerEngine;
let maps: LedgerMaps;

async function executeInBatches(requests: LedgerRequest[]): Promise<void> {
  for (let start = 0; start < requests.length; start += 500) {
    const outcomes = await engine.executeAll(requests.slice(start, start + 500));
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
  }
}

beforeAll(async () => {
  api = await openApiHarness();
  engine = api.services.ledger.engines.test;
  await executeInBatches(Array.from({ length: ACCOUNTS }, (_, index) => ({
    type: 'OpenAccount' as const,
    data: {
      accountId: `a${index}`, currency: index % 4 === 0 ? 'EUR' as const : 'USD' as const, ledger: index % 4 === 0 ? 'eur' : 'usd',
      metadata: { region: `r${index % 5}`, tier: `t${index % 3}`, ...(index % 97 === 13 ? { rare: 'yes' } : {}) },
    },
  })));
  await executeInBatches(Array.from({ length: TRANSFERS }, (_, index) => ({
    type: 'CreateTransfer' as const,
    data: {
      transferId: `t${index}`, debitAccountId: `a${1 + (index % 7) * 4}`, creditAccountId: `a${2 + (index % 11) * 4}`, amountMinor: 1n, ledger: 'usd',
      metadata: { kind: `k${index % 4}`, ...(index % 151 === 5 ? { rare: 'yes' } : {}) },
    },
  })));
  const state = engine.state;
  if (!(state instanceof LedgerMaps)) throw new Error('the engine keeps its maps');
  maps = state;
});
afterAll(async () => { await api.close(); });

/** Every id of a directory's pages for a filter, following the last row or `resumeAfter`; checks each page's examined count. */
function walk<T>(
  page: (cursor: PageCursor) => { rows: T[]; hasMore: boolean; resumeAfter: string | null; examined: number },
  idOf: (row: T) => string, backwards: boolean, start?: string,
): { ids: string[]; pages: number; resumed: number } {
  const ids: string[] = [];
  let cursor = start;
  let resumed = 0;
  for (let pages = 1; ; pages += 1) {
    const answer = page(cursor === undefined ? { param: null } : backwards ? { before: cursor, param: 'ending_before' } : { after: cursor, param: 'starting_after' });
    expect(answer.examined).toBeLessThanOrEqual(BUDGET);
    const rows = answer.rows.map(idOf);
    if (backwards) ids.unshift(...rows);
    else ids.push(...rows);
    if (!answer.hasMore) return { ids, pages, resumed };
    if (answer.resumeAfter !== null) resumed += 1;
    cursor = answer.resumeAfter ?? (backwards ? rows[0] : rows.at(-1));
    expect(pages).toBeLessThan(1000);
  }
}

/** Backwards walks start before the newest row (a cursor names a row); forwards ones at the start. */
function accountPages(directory: AccountDirectory, filter: AccountFilter, limit: number, backwards: boolean, start?: string) {
  return walk((cursor) => {
    const before = directory.examined;
    const answer = directory.page(cursor, limit, filter);
    expect(answer.known).toBe(true);
    return { rows: answer.ids, hasMore: answer.hasMore, resumeAfter: answer.resumeAfter, examined: directory.examined - before };
  }, (id) => id, backwards, start);
}

/** Events the engine read from the log for transfer pages, counted under the directory (whatever the directory itself counts). */
let eventsRead = 0;

/** `walk` for the transfer directory, which reads the log (a page is a promise). */
async function transferPages(directory: TransferDirectory, filter: TransferFilter, limit: number, backwards: boolean, start?: string) {
  const read = engine.readTransfers.bind(engine);
  engine.readTransfers = async (...args) => {
    const step = await read(...args);
    eventsRead += step.examined;
    return step;
  };
  try {
    return await walkTransfers(directory, filter, limit, backwards, start);
  } finally {
    delete (engine as { readTransfers?: unknown }).readTransfers;
  }
}

async function walkTransfers(directory: TransferDirectory, filter: TransferFilter, limit: number, backwards: boolean, start?: string) {
  const ids: string[] = [];
  let cursor = start;
  let resumed = 0;
  for (let pages = 1; ; pages += 1) {
    const before = directory.examined;
    const readBefore = eventsRead;
    const answer = await directory.page(filter, cursor === undefined ? { param: null } : backwards ? { before: cursor, param: 'ending_before' } : { after: cursor, param: 'starting_after' }, limit);
    expect(answer.known).toBe(true);
    expect(directory.examined - before).toBeLessThanOrEqual(BUDGET);
    // The partition opens 600 accounts before its transfers: those events count against the budget too.
    expect(eventsRead - readBefore, 'events read from the log by one page').toBeLessThanOrEqual(BUDGET);
    const rows = answer.transfers.map((transfer) => transfer.transferId);
    if (backwards) ids.unshift(...rows);
    else ids.push(...rows);
    if (!answer.hasMore) return { ids, pages, resumed };
    if (answer.resumeAfter !== null) resumed += 1;
    cursor = answer.resumeAfter ?? (backwards ? rows[0] : rows.at(-1));
    expect(pages).toBeLessThan(1000);
  }
}

const accountFilters: AccountFilter[] = [
  { metadata: [['region', 'r2']] },
  { metadata: [['region', 'r1'], ['tier', 't2']] },
  { ledger: 'eur', metadata: [['tier', 't0']] },
  { ledger: 'usd' },
  { metadata: [['rare', 'yes']] },
  { ledger: 'eur', metadata: [['rare', 'yes'], ['region', 'r3']] },
  { metadata: [['region', 'nowhere']] },
];

describe('account directory', () => {
  it.each(accountFilters.flatMap((filter) => [[filter, false], [filter, true]] as const))('lists what a brute-force filter finds: %j, backwards %s', (filter, backwards) => {
    const expected = [...maps.accounts.values()]
      .filter((account) => (filter.ledger === undefined || account.ledger === filter.ledger) && (filter.metadata ?? []).every(([key, value]) => account.metadata[key] === value))
      .map((account) => account.accountId);
    const newest = [...maps.accounts.keys()].at(-1)!;
    const { ids } = accountPages(new AccountDirectory(engine, BUDGET), filter, 7, backwards, backwards ? newest : undefined);
    expect(ids).toEqual(backwards ? expected.filter((id) => id !== newest) : expected);
  });

  it('examines no more than the page on a filter its index answers, and continues past the budget on one it does not', () => {
    const directory = new AccountDirectory(engine, BUDGET);
    const before = directory.examined;
    const page = directory.page({ param: null }, 10, { metadata: [['region', 'r4']] });
    expect(page.ids).toHaveLength(10);
    expect(directory.examined - before).toBe(11);
    // region r1 and tier t2 meet once in 15 accounts: the shortest list (tier, 200 long) takes four budgets.
    expect(accountPages(new AccountDirectory(engine, BUDGET), { metadata: [['region', 'r1'], ['tier', 't2']] }, 100, false).resumed).toBeGreaterThan(0);
  });

  it('takes each new account once, not all of them again after each', async () => {
    const directory = new AccountDirectory(engine);
    directory.page({ param: null }, 1);
    const keys = maps.accounts.keys.bind(maps.accounts);
    let keysRead = 0;
    maps.accounts.keys = function countingKeys() {
      const iterator = keys();
      return Object.assign(Object.create(iterator) as MapIterator<string>, {
        next: () => { keysRead += 1; return iterator.next(); },
      });
    };
    try {
      for (let index = 0; index < 50; index += 1) {
        const [outcome] = await engine.executeAll([{ type: 'OpenAccount', data: { accountId: `late${index}`, currency: 'USD', ledger: 'usd', metadata: { late: 'yes' } } }]);
        expect(outcome!.ok).toBe(true);
        expect(directory.page({ param: null }, 100, { metadata: [['late', 'yes']] }).ids).toHaveLength(index + 1);
      }
    } finally {
      delete (maps.accounts as { keys?: unknown }).keys;
    }
    // One key per new account: re-walking the map after each would read 50 × 600 and more.
    expect(keysRead).toBeLessThanOrEqual(50);
  });
});

const transferFilters: TransferFilter[] = [
  { metadata: [['rare', 'yes']] },
  { metadata: [['kind', 'k1']] },
  { accountId: 'a5', metadata: [['kind', 'k2']] },
  { accountId: 'a2', metadata: [['rare', 'yes']] },
  { metadata: [['kind', 'none']] },
];

describe('transfer directory', () => {
  it.each(transferFilters.flatMap((filter) => [[filter, false], [filter, true]] as const))('lists what a brute-force filter finds: %j, backwards %s', async (filter, backwards) => {
    // Every transfer was recorded in the order made, and none is pending: the maps hold them in that order.
    const expected = [...maps.transfers.values()]
      .filter((transfer) => transfer.status === 'applied' // every one of them succeeded
        && (filter.accountId === undefined || transfer.debitAccountId === filter.accountId || transfer.creditAccountId === filter.accountId)
        && (filter.metadata ?? []).every(([key, value]) => transfer.request.metadata[key] === value))
      .map((transfer) => transfer.transferId);
    const newest = [...maps.transfers.keys()].at(-1)!;
    const { ids } = await transferPages(new TransferDirectory(engine, BUDGET), filter, 7, backwards, backwards ? newest : undefined);
    expect(ids).toEqual(backwards ? expected.filter((id) => id !== newest) : expected);
  });
});

describe('GET /v1/transfers past the scan budget', () => {
  it('ends a page early with has_more and next_cursor, which finds the rest', async () => {
    const live = api.services.ledger.engines.live;
    await live.executeAll([
      { type: 'OpenAccount', data: { accountId: 'src', currency: 'USD', ledger: 'usd' } },
      { type: 'OpenAccount', data: { accountId: 'dst', currency: 'USD', ledger: 'usd' } },
    ]);
    const count = LIST_SCAN_MAX + 60;
    const rareAt = new Set([3, LIST_SCAN_MAX + 10, LIST_SCAN_MAX + 50]);
    for (let start = 0; start < count; start += 1000) {
      const outcomes = await live.executeAll(Array.from({ length: Math.min(1000, count - start) }, (_, offset) => ({
        type: 'CreateTransfer' as const,
        data: { transferId: `big${start + offset}`, debitAccountId: 'src', creditAccountId: 'dst', amountMinor: 1n, ledger: 'usd', metadata: rareAt.has(start + offset) ? { rare: 'yes' } : { rare: 'no' } },
      })));
      expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    }
    const get = async (url: string) => (await api.app.inject({ method: 'GET', url, headers: api.as('auditor', 'live') })).json();
    const first = await get('/v1/transfers?metadata[rare]=yes&limit=10');
    expect(first.data.map((transfer: { id: string }) => transfer.id)).toEqual(['big3']);
    // The budget counts the log's events (the two accounts opened too): the cursor is the place in the log where it ran out.
    expect(first).toMatchObject({ has_more: true, next_cursor: `_v${LIST_SCAN_MAX}` });
    const rest = await get(`/v1/transfers?metadata[rare]=yes&limit=10&starting_after=${first.next_cursor}`);
    expect(rest.data.map((transfer: { id: string }) => transfer.id)).toEqual([`big${LIST_SCAN_MAX + 10}`, `big${LIST_SCAN_MAX + 50}`]);
    expect(rest.has_more).toBe(false);
    expect(rest.next_cursor).toBeUndefined();
  });
});
