/**
 * The ledger routes through `app.inject()` on a real SQLite store: accounts
 * (open, get, list with cursor, close, reopen), transfers (single, two-phase,
 * linked batches), journal entries and reversals, balances now and as of a
 * time, the raw history for auditors, test and live data kept apart, and the
 * correlation id written into every event a request causes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

let api: ApiHarness;

beforeAll(async () => { api = await openApiHarness(); });
afterAll(async () => { await api.close(); });

async function post(url: string, payload: unknown, headers: Record<string, string> = api.as('operator')) {
  const response = await api.app.inject({ method: 'POST', url, payload: payload as object, headers });
  return { status: response.statusCode, body: response.json(), headers: response.headers };
}

async function get(url: string, headers: Record<string, string> = api.as('operator')) {
  const response = await api.app.inject({ method: 'GET', url, headers });
  return { status: response.statusCode, body: response.json() };
}

describe('accounts', () => {
  it('opens an account with integer-string amounts and gets it back', async () => {
    const opened = await post('/v1/accounts', { id: 'cash', currency: 'USD', flags: { history: true } });
    expect(opened.status).toBe(200);
    expect(opened.body).toMatchObject({
      object: 'account', id: 'cash', livemode: false, ledger: 'USD', currency: 'USD', status: 'open',
      balances: { debits_pending: '0', debits_posted: '0', credits_pending: '0', credits_posted: '0' },
    });
    expect((await get('/v1/accounts/cash')).body).toEqual(opened.body);
  });

  it('answers an id opened again with other details naming the fields as sent', async () => {
    await post('/v1/accounts', { id: 'again', currency: 'USD', user_data: 'a' });
    const conflict = await post('/v1/accounts', { id: 'again', currency: 'USD', user_data: 'b', metadata: { k: 'v' } });
    expect(conflict.body.error).toMatchObject({ code: 'account_exists_with_different_fields', param: 'user_data' });
    expect(conflict.body.error.message).toBe('account again exists with different user_data, metadata');
  });

  it('generates an id when none is given', async () => {
    const opened = await post('/v1/accounts', { currency: 'USD' });
    expect(opened.body.id).toMatch(/^acct_[0-9a-f]{32}$/);
  });

  it('lists accounts oldest first with a starting_after cursor', async () => {
    for (const id of ['list-a', 'list-b', 'list-c']) await post('/v1/accounts', { id, currency: 'EUR' });
    const all: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await get(`/v1/accounts?limit=2${cursor ? `&starting_after=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      all.push(...page.body.data.map((account: { id: string }) => account.id));
      if (!page.body.has_more) break;
      cursor = all.at(-1);
    }
    expect(all.filter((id) => id.startsWith('list-'))).toEqual(['list-a', 'list-b', 'list-c']);
    expect(new Set(all).size).toBe(all.length);
    const unknown = await get('/v1/accounts?starting_after=nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.param).toBe('starting_after');
    // Backwards with ending_before: the same accounts, every page in list order, with and without a filter.
    const backwards: string[] = [all.at(-1)!];
    for (let before = all.at(-1)!; ;) {
      const page = await get(`/v1/accounts?limit=2&ending_before=${before}`);
      const ids = page.body.data.map((account: { id: string }) => account.id);
      backwards.unshift(...ids);
      if (!page.body.has_more) break;
      before = ids[0];
    }
    expect(backwards).toEqual(all);
    expect((await get('/v1/accounts?ledger=EUR&limit=1&ending_before=list-c')).body.data.map((account: { id: string }) => account.id)).toEqual(['list-b']);
    expect((await get('/v1/accounts?ending_before=nope')).body.error).toMatchObject({ code: 'not_found', param: 'ending_before' });
    expect((await get('/v1/accounts?ending_before=list-b&starting_after=list-a')).status).toBe(400);
  });

  it('filters the list by ledger and metadata, page by page, and names an unknown parameter', async () => {
    const opened = [
      ['mf-1', 'GBP', { team: 'red', tier: 'gold' }], ['mf-2', 'GBP', { team: 'blue' }], ['mf-3', 'JPY', { team: 'red' }],
      ['mf-4', 'GBP', { team: 'red' }], ['mf-5', 'GBP', { team: 'red', tier: 'gold' }],
    ] as const;
    for (const [id, currency, metadata] of opened) expect((await post('/v1/accounts', { id, currency, metadata })).status).toBe(200);
    const collect = async (query: string): Promise<string[]> => {
      const ids: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 20; pages += 1) {
        const page = await get(`/v1/accounts?limit=1&${query}${cursor ? `&starting_after=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        ids.push(...page.body.data.map((account: { id: string }) => account.id));
        if (!page.body.has_more) return ids;
        cursor = ids.at(-1);
      }
      throw new Error('too many pages');
    };
    expect(await collect('metadata[team]=red')).toEqual(['mf-1', 'mf-3', 'mf-4', 'mf-5']);
    expect(await collect('metadata[team]=red&ledger=GBP')).toEqual(['mf-1', 'mf-4', 'mf-5']);
    expect(await collect('metadata[team]=red&metadata[tier]=gold')).toEqual(['mf-1', 'mf-5']);
    expect(await collect('ledger=JPY')).toEqual(['mf-3']);
    expect(await collect('metadata[team]=green')).toEqual([]);
    const refused = await get('/v1/accounts?colour=red');
    expect(refused.status).toBe(400);
    expect(refused.body.error.param).toBe('colour');
  });

  it('closes and reopens, and a closed account refuses transfers', async () => {
    await post('/v1/accounts', { id: 'shut', currency: 'USD' });
    expect((await post('/v1/accounts/shut/close', {})).body.status).toBe('closed');
    const refused = await post('/v1/transfers', { debit_account_id: 'cash', credit_account_id: 'shut', amount: '5' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'credit_account_closed', type: 'invalid_request_error' });
    expect((await post('/v1/accounts/shut/close', {})).body.error.code).toBe('account_already_closed');
    expect((await post('/v1/accounts/shut/reopen', {})).body.status).toBe('open');
    // As curl -X POST sends it: no body at all, or an empty one typed as JSON.
    const bare = await api.app.inject({ method: 'POST', url: '/v1/accounts/shut/close', headers: api.as('operator') });
    expect(bare.statusCode).toBe(200);
    expect(bare.json().status).toBe('closed');
    const emptyJson = await api.app.inject({ method: 'POST', url: '/v1/accounts/shut/reopen', payload: '', headers: { ...api.as('operator'), 'content-type': 'application/json' } });
    expect(emptyJson.json().status).toBe('open');
  });
});

describe('transfers', () => {
  beforeAll(async () => {
    await post('/v1/accounts', { id: 'alice', currency: 'USD', flags: { debits_must_not_exceed_credits: true } });
    await post('/v1/accounts', { id: 'bob', currency: 'USD' });
  });

  it('moves money and answers both balances', async () => {
    const moved = await post('/v1/transfers', { id: 't-1', debit_account_id: 'cash', credit_account_id: 'alice', amount: '10000' });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ object: 'transfer', id: 't-1', type: 'single', status: 'posted', amount: '10000', currency: 'USD' });
    expect((await get('/v1/accounts/alice/balance')).body).toMatchObject({ credits_posted: '10000', net_posted: '10000', as_of: null });
    expect((await get('/v1/transfers/t-1')).body).toEqual(moved.body);
  });

  it('takes an amount as a JSON integer too, answers it as a string, and treats it as the same request as its string', async () => {
    const moved = await post('/v1/transfers', { id: 't-number', debit_account_id: 'cash', credit_account_id: 'bob', amount: 250 });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ id: 't-number', amount: '250' });
    const again = await post('/v1/transfers', { id: 't-number', debit_account_id: 'cash', credit_account_id: 'bob', amount: '250' });
    expect(again.body).toEqual(moved.body);
    const beyond = await post('/v1/transfers', { debit_account_id: 'cash', credit_account_id: 'bob', amount: 2 ** 53 });
    expect(beyond.status).toBe(400);
    expect(beyond.body.error).toMatchObject({ param: 'amount', message: expect.stringContaining('string') });
    const held = await post('/v1/transfers', { id: 'hold-number', debit_account_id: 'cash', credit_account_id: 'bob', amount: 70, pending: true });
    expect((await post('/v1/transfers/hold-number/post', { amount: 30 })).body).toMatchObject({ amount: '30' });
    expect(held.body.amount).toBe('70');
  });

  it('refuses an overdraft with 409 exceeds_credits, and the id stays failed', async () => {
    const refused = await post('/v1/transfers', { id: 't-big', debit_account_id: 'alice', credit_account_id: 'bob', amount: '99999999' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('exceeds_credits');
    expect((await get('/v1/transfers/t-big')).body).toMatchObject({ status: 'failed', failure_code: 'exceeds_credits' });
  });

  it('reserves, posts part, and releases the rest (two-phase)', async () => {
    const pending = await post('/v1/transfers', { id: 'hold-1', debit_account_id: 'alice', credit_account_id: 'bob', amount: '300', pending: true });
    expect(pending.body).toMatchObject({ type: 'pending', status: 'pending' });
    expect((await get('/v1/accounts/alice/balance')).body.debits_pending).toBe('300');
    const posted = await post('/v1/transfers/hold-1/post', { id: 'hold-1-post', amount: '200' });
    expect(posted.body).toMatchObject({ type: 'post', status: 'posted', amount: '200', pending_id: 'hold-1' });
    expect((await get('/v1/transfers/hold-1')).body.status).toBe('posted');
    expect((await get('/v1/accounts/alice/balance')).body).toMatchObject({ debits_pending: '0', debits_posted: '200' });
  });

  it('voids a reservation', async () => {
    await post('/v1/transfers', { id: 'hold-2', debit_account_id: 'alice', credit_account_id: 'bob', amount: '50', pending: true });
    const voided = await post('/v1/transfers/hold-2/void', {});
    expect(voided.body).toMatchObject({ type: 'void', status: 'voided', pending_id: 'hold-2' });
    expect((await post('/v1/transfers/hold-2/post', {})).body.error.code).toBe('pending_transfer_already_voided');
  });

  it('applies an atomic batch all or nothing', async () => {
    const failed = await post('/v1/transfers/batch', {
      transfers: [
        { id: 'b-1', debit_account_id: 'cash', credit_account_id: 'bob', amount: '1' },
        { id: 'b-2', debit_account_id: 'alice', credit_account_id: 'bob', amount: '999999999' },
      ],
    });
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ object: 'transfer_batch', atomic: true, succeeded: false });
    expect(failed.body.results.map((result: { error: { code: string } }) => result.error.code)).toEqual(['linked_event_failed', 'exceeds_credits']);
    expect((await get('/v1/transfers/b-1')).status).toBe(404);
    const applied = await post('/v1/transfers/batch', {
      transfers: [
        { id: 'b-3', debit_account_id: 'cash', credit_account_id: 'bob', amount: '1' },
        { id: 'b-4', debit_account_id: 'cash', credit_account_id: 'bob', amount: '2' },
      ],
    });
    expect(applied.body.succeeded).toBe(true);
    expect(applied.body.results.map((result: { transfer: { status: string } }) => result.transfer.status)).toEqual(['posted', 'posted']);
  });

  it('answers as_of balances from memory (history flag) and from the log (without)', async () => {
    await post('/v1/accounts', { id: 'hist', currency: 'USD', flags: { history: true } });
    await post('/v1/accounts', { id: 'plain', currency: 'USD' });
    await post('/v1/transfers', { debit_account_id: 'hist', credit_account_id: 'plain', amount: '7' });
    const between = new Date(Date.now() + 1).toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await post('/v1/transfers', { debit_account_id: 'hist', credit_account_id: 'plain', amount: '8' });
    expect((await get(`/v1/accounts/hist/balance?as_of=${between}`)).body).toMatchObject({ debits_posted: '7', as_of: between });
    expect((await get(`/v1/accounts/plain/balance?as_of=${between}`)).body).toMatchObject({ credits_posted: '7' });
    expect((await get('/v1/accounts/plain/balance')).body.credits_posted).toBe('15');
    expect((await get('/v1/accounts/plain/balance?as_of=0')).body.credits_posted).toBe('0');
    expect((await get('/v1/accounts/plain/balance?as_of=yesterday')).body.error.param).toBe('as_of');
  });
});

describe('journal entries', () => {
  it('records a multi-leg entry and reverses it', async () => {
    for (const id of ['je-a', 'je-b', 'je-c']) await post('/v1/accounts', { id, currency: 'USD' });
    const entry = await post('/v1/journal_entries', {
      id: 'je-1',
      postings: [
        { account_id: 'je-a', side: 'debit', amount: '100', currency: 'USD' },
        { account_id: 'je-b', side: 'credit', amount: '60', currency: 'USD' },
        { account_id: 'je-c', side: 'credit', amount: '40', currency: 'USD' },
      ],
    });
    expect(entry.status).toBe(200);
    expect(entry.body).toMatchObject({ object: 'journal_entry', id: 'je-1', status: 'recorded' });
    expect(entry.body.legs).toHaveLength(3);
    const unbalanced = await post('/v1/journal_entries', { postings: [{ account_id: 'je-a', side: 'debit', amount: '1', currency: 'USD' }] });
    expect(unbalanced.status).toBe(400);
    expect(unbalanced.body.error.code).toBe('entry_not_balanced');
    const reversal = await post('/v1/journal_entries/je-1/reverse', { id: 'je-1-rev' });
    expect(reversal.body).toMatchObject({ id: 'je-1-rev', reverses: 'je-1', status: 'recorded' });
    expect((await get('/v1/journal_entries/je-1')).body).toMatchObject({ status: 'reversed', reversed_by: 'je-1-rev' });
    expect((await get('/v1/accounts/je-b/balance')).body).toMatchObject({ credits_posted: '60', debits_posted: '60' });
  });

  it('answers a second reversal of a reversed entry with the first reversal, not a 500, and writes nothing (found by fuzz.int.test.ts)', async () => {
    for (const id of ['jr-a', 'jr-b']) await post('/v1/accounts', { id, currency: 'USD' });
    await post('/v1/journal_entries', { id: 'jr-1', postings: [{ account_id: 'jr-a', side: 'debit', amount: '5', currency: 'USD' }, { account_id: 'jr-b', side: 'credit', amount: '5', currency: 'USD' }] });
    const first = await post('/v1/journal_entries/jr-1/reverse', {});
    expect(first.status).toBe(200);
    const head = await api.store.headPosition();
    for (const body of [{}, { id: 'jr-1-other' }, { metadata: { k: 'v' } }]) {
      const again = await post('/v1/journal_entries/jr-1/reverse', body);
      expect({ status: again.status, body: again.body }).toMatchObject({ status: 200, body: { id: first.body.id, reverses: 'jr-1', status: 'recorded' } });
    }
    expect(await api.store.headPosition()).toBe(head);
    expect((await get('/v1/accounts/jr-b/balance')).body).toMatchObject({ credits_posted: '5', debits_posted: '5' });
  });
});

describe('bodiless POSTs', () => {
  it('takes a POST with no body at all on every route whose body is optional (curl -X POST …/close), and still refuses a JSON null', async () => {
    for (const id of ['nb-a', 'nb-b']) await post('/v1/accounts', { id, currency: 'USD' });
    await post('/v1/transfers', { id: 'nb-p1', debit_account_id: 'nb-a', credit_account_id: 'nb-b', amount: '5', pending: true });
    await post('/v1/transfers', { id: 'nb-p2', debit_account_id: 'nb-a', credit_account_id: 'nb-b', amount: '5', pending: true });
    await post('/v1/journal_entries', { id: 'nb-e', postings: [{ account_id: 'nb-a', side: 'debit', amount: '1', currency: 'USD' }, { account_id: 'nb-b', side: 'credit', amount: '1', currency: 'USD' }] });
    const bare = async (url: string) => {
      const response = await api.app.inject({ method: 'POST', url, headers: api.as('admin') });
      return { url, status: response.statusCode, body: response.json() };
    };
    expect(await bare('/v1/transfers/nb-p1/post')).toMatchObject({ status: 200, body: { pending_id: 'nb-p1', amount: '5' } });
    expect(await bare('/v1/transfers/nb-p2/void')).toMatchObject({ status: 200, body: { pending_id: 'nb-p2' } });
    expect(await bare('/v1/journal_entries/nb-e/reverse')).toMatchObject({ status: 200, body: { reverses: 'nb-e' } });
    expect(await bare('/v1/accounts/nb-a/close')).toMatchObject({ status: 200, body: { status: 'closed' } });
    expect(await bare('/v1/accounts/nb-a/reopen')).toMatchObject({ status: 200, body: { status: 'open' } });
    const key = await post('/v1/api_keys', { role: 'support' }, api.as('admin'));
    expect(await bare(`/v1/api_keys/${key.body.id}/revoke`)).toMatchObject({ status: 200, body: { id: key.body.id } });
    const nullBody = await api.app.inject({ method: 'POST', url: '/v1/accounts/nb-a/close', payload: 'null', headers: { ...api.as('admin'), 'content-type': 'application/json' } });
    expect(nullBody.statusCode).toBe(400);
    // A route whose body is required still names what is missing.
    expect(await bare('/v1/transfers')).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
  });
});

describe('modes and audit', () => {
  it('keeps test and live data apart', async () => {
    await post('/v1/accounts', { id: 'live-only', currency: 'USD' }, api.as('operator', 'live'));
    expect((await get('/v1/accounts/live-only', api.as('operator', 'live'))).body.livemode).toBe(true);
    expect((await get('/v1/accounts/live-only', api.as('operator', 'test'))).status).toBe(404);
    expect((await get('/v1/accounts/cash', api.as('operator', 'live'))).status).toBe(404);
  });

  it('shows auditors the raw history of a stream of their mode, with the correlation id of each request', async () => {
    await post('/v1/accounts', { id: 'traced', currency: 'USD' }, { ...api.as('operator'), 'x-correlation-id': 'corr-traced' });
    const events = await get('/v1/events?stream=ledger-test&limit=100', api.as('auditor'));
    expect(events.status).toBe(200);
    const opened = events.body.data.find((event: { type: string; data: { accountId: string } }) => event.type === 'AccountOpened' && event.data.accountId === 'traced');
    expect(opened.metadata).toMatchObject({ correlationId: 'corr-traced', mode: 'test', actor: expect.stringMatching(/^key_/) });
    expect(opened).toMatchObject({ object: 'event', stream_id: 'ledger-test', version: expect.stringMatching(/^\d+$/), hash: expect.any(String) });
    expect((await get('/v1/events?stream=ledger-live', api.as('auditor'))).status).toBe(404);
    expect((await get('/v1/events?stream=ledger-test', api.as('operator'))).status).toBe(403);
    expect((await get('/v1/events?stream=nothing-here', api.as('auditor'))).status).toBe(404);
  });

  it('pages the raw history by version', async () => {
    const first = await get('/v1/events?stream=ledger-test&limit=2', api.as('auditor'));
    expect(first.body.data.map((event: { version: string }) => event.version)).toEqual(['1', '2']);
    expect(first.body.has_more).toBe(true);
    const next = await get('/v1/events?stream=ledger-test&limit=2&after_version=2', api.as('auditor'));
    expect(next.body.data[0].version).toBe('3');
  });
});
