/**
 * `GET /v1/transfers` through `app.inject()` on a real SQLite store: cursor
 * pages are stable while transfers keep arriving, every transfer once in the
 * order recorded; filters by account (either side), metadata and created
 * time, alone, together and with a cursor; a pending transfer keeps its place
 * and shows its current status; failed transfers are listed; test and live
 * lists stay apart; bad parameters are a 400 (or 404 for an unknown cursor)
 * naming the parameter; the route is in the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

let api: ApiHarness;

interface WireTransfer { id: string; status: string; debit_account_id: string | null; credit_account_id: string | null; created: string; metadata: Record<string, string> }

beforeAll(async () => {
  api = await openApiHarness();
  await post('/v1/accounts', { id: 'bank', currency: 'USD' });
  await post('/v1/accounts', { id: 'capped', currency: 'USD', flags: { debits_must_not_exceed_credits: true } });
  for (const id of ['x', 'y', 'z']) await post('/v1/accounts', { id, currency: 'USD' });
});
afterAll(async () => { await api.close(); });

async function post(url: string, payload: object, headers: Record<string, string> = api.as('operator')) {
  const response = await api.app.inject({ method: 'POST', url, payload, headers });
  return { status: response.statusCode, body: response.json() };
}

async function get(url: string, headers: Record<string, string> = api.as('auditor')) {
  const response = await api.app.inject({ method: 'GET', url, headers });
  return { status: response.statusCode, body: response.json() };
}

async function transfer(id: string, debit: string, credit: string, extra: object = {}): Promise<WireTransfer> {
  const made = await post('/v1/transfers', { id, debit_account_id: debit, credit_account_id: credit, amount: '1', ...extra });
  expect(made.status).toBe(200);
  return made.body as WireTransfer;
}

/** Every page of a list, following `starting_after`; `between` runs after each page (to write while paging). */
async function walk(query: string, limit: number, between: (page: number) => Promise<void> = async () => {}): Promise<WireTransfer[]> {
  const seen: WireTransfer[] = [];
  for (let page = 0; ; page += 1) {
    const cursor = seen.length === 0 ? '' : `&starting_after=${seen.at(-1)!.id}`;
    const answer = await get(`/v1/transfers?limit=${limit}${query}${cursor}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ object: 'list', url: '/v1/transfers' });
    expect(answer.body.data.length).toBeLessThanOrEqual(limit);
    seen.push(...(answer.body.data as WireTransfer[]));
    if (!answer.body.has_more) return seen;
    expect(answer.body.data).toHaveLength(limit);
    await between(page);
  }
}

describe('GET /v1/transfers', () => {
  it('pages through every transfer once, oldest first, while new ones arrive', async () => {
    const made: string[] = [];
    for (let i = 0; i < 7; i += 1) made.push((await transfer(`page-${i}`, 'bank', 'x')).id);
    const listed = await walk('', 3, async (page) => {
      if (page < 2) made.push((await transfer(`page-late-${page}`, 'bank', 'y')).id);
    });
    const ids = listed.map((item) => item.id);
    expect(ids.filter((id) => id.startsWith('page-'))).toEqual(made);
    expect(new Set(ids).size).toBe(ids.length);
    // The same walk again gives the same list: positions never move.
    expect((await walk('', 4)).map((item) => item.id)).toEqual(ids);
  });

  it('filters by account, on either side, also across pages', async () => {
    await transfer('acct-1', 'z', 'bank');
    await transfer('acct-2', 'x', 'z');
    await transfer('acct-3', 'x', 'y');
    await transfer('acct-4', 'bank', 'z');
    const ofZ = await walk('&account_id=z', 1);
    expect(ofZ.map((item) => item.id)).toEqual(['acct-1', 'acct-2', 'acct-4']);
    for (const item of ofZ) expect([item.debit_account_id, item.credit_account_id]).toContain('z');
    const afterFirst = await get('/v1/transfers?account_id=z&starting_after=acct-1');
    expect(afterFirst.body.data.map((item: WireTransfer) => item.id)).toEqual(['acct-2', 'acct-4']);
    // A cursor need not match the filter: it is a place in the list.
    const afterOther = await get('/v1/transfers?account_id=z&starting_after=acct-3');
    expect(afterOther.body.data.map((item: WireTransfer) => item.id)).toEqual(['acct-4']);
    expect((await get('/v1/transfers?account_id=nobody')).body).toMatchObject({ data: [], has_more: false });
  });

  it('filters by metadata, every pair given must match', async () => {
    await transfer('meta-1', 'bank', 'x', { metadata: { order: 'o-1', region: 'eu' } });
    await transfer('meta-2', 'bank', 'x', { metadata: { order: 'o-2', region: 'eu' } });
    await transfer('meta-3', 'bank', 'x', { metadata: { order: 'o-1', region: 'us' } });
    const ids = async (query: string) => (await walk(query, 2)).map((item) => item.id);
    expect(await ids('&metadata[region]=eu')).toEqual(['meta-1', 'meta-2']);
    expect(await ids('&metadata[order]=o-1')).toEqual(['meta-1', 'meta-3']);
    expect(await ids('&metadata[order]=o-1&metadata[region]=us')).toEqual(['meta-3']);
    expect(await ids('&metadata%5Border%5D=o-2')).toEqual(['meta-2']);
    expect(await ids('&metadata[order]=o-9')).toEqual([]);
    expect(await ids('&metadata[order]=o-1&account_id=x')).toEqual(['meta-1', 'meta-3']);
  });

  it('filters by created time, bounds strict or not, as ISO 8601 or Unix seconds', async () => {
    const all = await walk('', 100);
    const times = [...new Set(all.map((item) => Date.parse(item.created)))].sort((a, b) => a - b);
    expect(times.length).toBeGreaterThan(1);
    const middle = times[Math.floor(times.length / 2)]!;
    const iso = new Date(middle).toISOString();
    const ids = async (query: string) => (await walk(query, 5)).map((item) => item.id);
    const expected = (keep: (atMs: number) => boolean) => all.filter((item) => keep(Date.parse(item.created))).map((item) => item.id);
    expect(await ids(`&created[gte]=${iso}`)).toEqual(expected((atMs) => atMs >= middle));
    expect(await ids(`&created[gt]=${iso}`)).toEqual(expected((atMs) => atMs > middle));
    expect(await ids(`&created[lte]=${iso}`)).toEqual(expected((atMs) => atMs <= middle));
    expect(await ids(`&created[lt]=${iso}`)).toEqual(expected((atMs) => atMs < middle));
    expect(await ids(`&created[gte]=${iso}&created[lte]=${iso}`)).toEqual(expected((atMs) => atMs === middle));
    const second = Math.floor(middle / 1000);
    expect(await ids(`&created[gte]=${second}`)).toEqual(expected((atMs) => atMs >= second * 1000));
    expect(await ids('&created[lt]=0')).toEqual([]);
  });

  it('keeps a pending transfer in its place with its current status, and lists failed transfers', async () => {
    await transfer('hold', 'bank', 'y', { pending: true });
    await transfer('hold-post', 'bank', 'y', {});
    expect((await post('/v1/transfers/hold/post', { id: 'hold-posted' })).status).toBe(200);
    const refused = await post('/v1/transfers', { id: 'too-much', debit_account_id: 'capped', credit_account_id: 'y', amount: '5' });
    expect(refused.status).toBe(409);
    const listed = await walk('&account_id=y', 100);
    const tail = listed.slice(-4);
    expect(tail.map((item) => [item.id, item.status])).toEqual([['hold', 'posted'], ['hold-post', 'posted'], ['hold-posted', 'posted'], ['too-much', 'failed']]);
    expect((await get('/v1/transfers/too-much')).body.status).toBe('failed');
  });

  it('keeps test and live apart', async () => {
    await post('/v1/accounts', { id: 'live-a', currency: 'USD' }, api.as('operator', 'live'));
    await post('/v1/accounts', { id: 'live-b', currency: 'USD' }, api.as('operator', 'live'));
    await post('/v1/transfers', { id: 'live-t', debit_account_id: 'live-a', credit_account_id: 'live-b', amount: '3' }, api.as('operator', 'live'));
    const live = await get('/v1/transfers', api.as('auditor', 'live'));
    expect(live.body.data.map((item: WireTransfer) => item.id)).toEqual(['live-t']);
    expect(live.body.data[0].livemode).toBe(true);
    expect((await walk('', 100)).some((item) => item.id === 'live-t')).toBe(false);
    expect((await get('/v1/transfers?starting_after=live-t')).status).toBe(404);
  });

  it.each([
    ['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=abc', 'limit'], ['limit=1&limit=2', 'limit'],
    ['account_id=bad%20id', 'account_id'], ['created[gte]=tomorrow', 'created[gte]'], ['created[lt]=2025-13-45T00:00:00Z', 'created[lt]'],
    ['created[lte]=-5', 'created[lte]'], ['created[between]=1', 'created[between]'], ['bogus=1', 'bogus'],
    ['metadata[a]=1&metadata[a]=2', 'metadata[a]'], ['metadata[]=x', 'metadata[]'], [`metadata[${'k'.repeat(65)}]=x`, `metadata[${'k'.repeat(65)}]`],
  ])('refuses ?%s with a 400 naming %s', async (query, param) => {
    const answer = await get(`/v1/transfers?${query}`);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ type: 'invalid_request_error', code: 'validation_failed', param });
  });

  it('pages backwards with ending_before: the same transfers, pages in list order, also filtered, and refuses both cursors at once', async () => {
    for (let i = 0; i < 5; i += 1) await transfer(`back-${i}`, i % 2 === 0 ? 'y' : 'bank', 'x');
    const forwards = (await walk('&account_id=y', 2)).map((item) => item.id);
    expect(forwards.length).toBeGreaterThanOrEqual(3);
    // Backwards from the newest of y, page by page: the same ids, each page in list order.
    let before = forwards.at(-1)!;
    const seen: string[] = [before];
    for (;;) {
      const page = await get(`/v1/transfers?account_id=y&limit=2&ending_before=${before}`);
      expect(page.status).toBe(200);
      const ids = (page.body.data as WireTransfer[]).map((item) => item.id);
      seen.unshift(...ids);
      if (!page.body.has_more) break;
      expect(ids).toHaveLength(2);
      before = ids[0]!;
    }
    expect(seen).toEqual(forwards);
    // Unfiltered, the page right before a transfer ends with the one right before it.
    const all = (await walk('', 100)).map((item) => item.id);
    const index = all.indexOf('back-3');
    const previous = await get('/v1/transfers?ending_before=back-3&limit=3');
    expect(previous.body).toMatchObject({ has_more: index > 3 });
    expect(previous.body.data.map((item: WireTransfer) => item.id)).toEqual(all.slice(index - 3, index));
    expect((await get(`/v1/transfers?ending_before=${all[0]}`)).body).toMatchObject({ data: [], has_more: false });
    const both = await get('/v1/transfers?starting_after=back-1&ending_before=back-3');
    expect(both.status).toBe(400);
    expect(both.body.error).toMatchObject({ code: 'validation_failed', param: 'ending_before' });
    const unknown = await get('/v1/transfers?ending_before=ghost');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'not_found', param: 'ending_before' });
  });

  it('answers an unknown cursor with a 404 naming starting_after', async () => {
    const answer = await get('/v1/transfers?starting_after=ghost');
    expect(answer.status).toBe(404);
    expect(answer.body.error).toMatchObject({ code: 'not_found', param: 'starting_after' });
  });

  it('is in the OpenAPI document with its parameters and permission', async () => {
    const document = (await api.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const list = document.paths['/v1/transfers'].get;
    expect(list['x-permission']).toBe('ledger:read');
    expect(list.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(expect.arrayContaining([
      'limit', 'starting_after', 'ending_before', 'account_id', 'created[gt]', 'created[gte]', 'created[lt]', 'created[lte]',
    ]));
    expect(list.description).toContain('metadata[key]=value');
  });
});
