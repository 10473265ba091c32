/**
 * Malformed input on every route: wrong types, missing and unknown fields,
 * bad JSON, bad encodings, huge bodies, negative and fractional amounts,
 * unknown ids, bad query strings. Every answer is a Stripe-shaped 4xx (never
 * a 5xx, never a stack trace or SQL), and nothing is written to the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_BODY_BYTES_MAX } from '../kernel/index.ts';
import { type ApiHarness, openApiHarness } from './apiTestkit.ts';

let api: ApiHarness;
let headBefore: bigint;

beforeAll(async () => {
  api = await openApiHarness();
  const setup = async (url: string, payload: object) => {
    const response = await api.app.inject({ method: 'POST', url, payload, headers: api.as('admin') });
    expect(response.statusCode).toBe(200);
  };
  await setup('/v1/accounts', { id: 'a', currency: 'USD' });
  await setup('/v1/accounts', { id: 'b', currency: 'USD' });
  await setup('/v1/transfers', { id: 'p', debit_account_id: 'a', credit_account_id: 'b', amount: '10', pending: true });
  await setup('/v1/customers', { id: 'cus', full_name: 'Ada Lovelace', email: 'ada@example.com' });
  await setup('/v1/bank_accounts', { id: 'ba', customer_id: 'cus', type: 'checking', currency: 'USD', regulatory_tier: 'retail', initial_balance: '1000' });
  await setup('/v1/bank_accounts', { id: 'bb', customer_id: 'cus', type: 'savings', currency: 'USD', regulatory_tier: 'retail' });
  await setup('/v1/journal_entries', { id: 'e', postings: [{ account_id: 'a', side: 'debit', amount: '1', currency: 'USD' }, { account_id: 'b', side: 'credit', amount: '1', currency: 'USD' }] });
  headBefore = await api.store.headPosition();
});

afterAll(async () => {
  expect(await api.store.headPosition()).toBe(headBefore);
  await api.close();
});

type Payload = string | Buffer | object | unknown[] | null;

async function expectRefused(method: 'GET' | 'POST', url: string, payload?: Payload, contentType = 'application/json'): Promise<{ status: number; code: string; param?: string }> {
  const body = payload === undefined ? undefined : typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
  const response = await api.app.inject({ method, url, payload: body, headers: { ...api.as('admin'), ...(body === undefined ? {} : { 'content-type': contentType }) } });
  const label = `${method} ${url} ${String(body).slice(0, 60)}`;
  expect({ label, status: response.statusCode >= 400 && response.statusCode < 500 }).toEqual({ label, status: true });
  const error = response.json().error;
  expect(error).toMatchObject({ type: expect.stringMatching(/^(invalid_request_error|idempotency_error)$/), message: expect.any(String) });
  expect(response.body).not.toMatch(/at .*\.(ts|js):\d+|SELECT|INSERT|sqlite/i);
  expect(await api.store.headPosition()).toBe(headBefore);
  return { status: response.statusCode, code: error.code, param: error.param };
}

const POST_ROUTES = [
  '/v1/accounts', '/v1/accounts/a/close', '/v1/accounts/a/reopen', '/v1/transfers', '/v1/transfers/batch', '/v1/transfers/p/post', '/v1/transfers/p/void',
  '/v1/journal_entries', '/v1/journal_entries/e/reverse', '/v1/api_keys', '/v1/api_keys/key_nope/revoke',
  '/v1/customers', '/v1/customers/cus', '/v1/bank_accounts', '/v1/bank_accounts/ba/freeze', '/v1/bank_accounts/ba/unfreeze', '/v1/bank_accounts/ba/close',
  '/v1/deposits', '/v1/withdrawals', '/v1/bank_transfers', '/v1/bank_payments', '/v1/approval_requests/apr_x/approve', '/v1/approval_requests/apr_x/reject', '/v1/admin/erasures', '/v1/aml_alerts/al_x/case', '/v1/aml_cases/al_x/note',
  '/v1/screening_cases/x/clear', '/v1/screening_cases/x/confirm',
];

describe('every POST route', () => {
  it('covers every POST route registered', () => {
    const registered = api.app.registeredRoutes.filter((route) => route.method === 'POST' && route.url.startsWith('/v1/')).length;
    expect(POST_ROUTES).toHaveLength(registered);
  });

  it.each(POST_ROUTES)('%s refuses bad JSON, wrong shapes, unknown fields, bad encodings and huge bodies', async (url) => {
    await expectRefused('POST', url, '{"currency": ');
    await expectRefused('POST', url, '[1,2,3]');
    await expectRefused('POST', url, '"text"');
    await expectRefused('POST', url, 'null');
    await expectRefused('POST', url, { surprise: true });
    await expectRefused('POST', url, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]));
    await expectRefused('POST', url, 'currency=USD', 'application/x-www-form-urlencoded');
    const huge = await expectRefused('POST', url, JSON.stringify({ pad: 'x'.repeat(REQUEST_BODY_BYTES_MAX) }));
    expect(huge).toMatchObject({ status: 413, code: 'limit_exceeded' });
  });
});

describe('field by field', () => {
  it('names the parameter of a missing or mistyped field', async () => {
    expect(await expectRefused('POST', '/v1/accounts', {})).toMatchObject({ status: 400, param: 'currency' });
    expect(await expectRefused('POST', '/v1/accounts', { currency: 7 })).toMatchObject({ param: 'currency' });
    expect(await expectRefused('POST', '/v1/accounts', { currency: 'XYZ' })).toMatchObject({ param: 'currency' });
    expect(await expectRefused('POST', '/v1/accounts', { currency: 'USD', flags: { history: 'yes' } })).toMatchObject({ param: 'flags.history' });
    expect(await expectRefused('POST', '/v1/accounts', { currency: 'USD', overdraft_limit: '-1' })).toMatchObject({ param: 'overdraft_limit' });
    expect(await expectRefused('POST', '/v1/accounts', { currency: 'USD', id: 'bad id' })).toMatchObject({ param: 'id' });
    expect(await expectRefused('POST', '/v1/accounts', { currency: 'USD', id: 'x'.repeat(129) })).toMatchObject({ param: 'id' });
    expect(await expectRefused('POST', '/v1/accounts', { currency: 'USD', surprise: 1 })).toMatchObject({ param: 'surprise' });
    expect(await expectRefused('POST', '/v1/transfers', { debit_account_id: 'a', credit_account_id: 'b' })).toMatchObject({ param: 'amount' });
  });

  it.each([['-5'], [-5], [1.5], [9_007_199_254_740_992], [1e21], [true], ['1.5'], ['1e3'], [''], ['0x10'], [' 5'], [null], [`1${'0'.repeat(40)}`]])('refuses the amount %j', async (amount) => {
    expect(await expectRefused('POST', '/v1/transfers', { debit_account_id: 'a', credit_account_id: 'b', amount })).toMatchObject({ status: 400, param: 'amount' });
  });

  it('refuses a zero amount, a transfer to the same account and a pending timeout on a single transfer (the ledger rules)', async () => {
    expect(await expectRefused('POST', '/v1/transfers', { debit_account_id: 'a', credit_account_id: 'b', amount: '0' })).toMatchObject({ code: 'validation_failed', param: 'amount' });
    expect(await expectRefused('POST', '/v1/transfers', { debit_account_id: 'a', credit_account_id: 'a', amount: '1' })).toMatchObject({ code: 'accounts_must_be_different' });
    expect(await expectRefused('POST', '/v1/transfers', { debit_account_id: 'a', credit_account_id: 'b', amount: '1', timeout_ms: 5 })).toMatchObject({ param: 'timeout_ms' });
  });

  it('refuses negative amounts everywhere an amount goes', async () => {
    expect(await expectRefused('POST', '/v1/transfers/p/post', { amount: '-1' })).toMatchObject({ param: 'amount' });
    expect(await expectRefused('POST', '/v1/transfers/batch', { transfers: [{ debit_account_id: 'a', credit_account_id: 'b', amount: '-1' }] })).toMatchObject({ param: 'transfers.0.amount' });
    expect(await expectRefused('POST', '/v1/transfers/batch', { transfers: [] })).toMatchObject({ param: 'transfers' });
    expect(await expectRefused('POST', '/v1/journal_entries', { postings: [{ account_id: 'a', side: 'debit', amount: '-1', currency: 'USD' }] })).toMatchObject({ param: 'postings.0.amount' });
    expect(await expectRefused('POST', '/v1/journal_entries', { postings: [{ account_id: 'a', side: 'sideways', amount: '1', currency: 'USD' }] })).toMatchObject({ param: 'postings.0.side' });
  });

  it('answers unknown ids with 404 and writes nothing (no failed-transfer record either)', async () => {
    expect(await expectRefused('POST', '/v1/transfers', { debit_account_id: 'ghost', credit_account_id: 'b', amount: '1' })).toMatchObject({ status: 404, code: 'debit_account_not_found', param: 'debit_account_id' });
    expect(await expectRefused('POST', '/v1/transfers', { debit_account_id: 'a', credit_account_id: 'ghost', amount: '1' })).toMatchObject({ status: 404, param: 'credit_account_id' });
    expect(await expectRefused('POST', '/v1/transfers/batch', { transfers: [{ debit_account_id: 'a', credit_account_id: 'ghost', amount: '1' }] })).toMatchObject({ status: 404, param: 'transfers.0.credit_account_id' });
    expect(await expectRefused('POST', '/v1/transfers/ghost/post', {})).toMatchObject({ status: 404, code: 'pending_transfer_not_found' });
    expect(await expectRefused('POST', '/v1/transfers/ghost/void', {})).toMatchObject({ status: 404 });
    expect(await expectRefused('POST', '/v1/accounts/ghost/close', {})).toMatchObject({ status: 404, code: 'account_not_found' });
    expect(await expectRefused('POST', '/v1/journal_entries/ghost/reverse', {})).toMatchObject({ status: 404, code: 'entry_not_found' });
    expect(await expectRefused('POST', '/v1/journal_entries', { postings: [{ account_id: 'ghost', side: 'debit', amount: '1', currency: 'USD' }, { account_id: 'b', side: 'credit', amount: '1', currency: 'USD' }] }))
      .toMatchObject({ status: 404, param: 'postings.0.account_id' });
    expect(await expectRefused('POST', '/v1/api_keys/key_ghost/revoke', {})).toMatchObject({ status: 404 });
    expect(await expectRefused('POST', '/v1/api_keys', { role: 'root' })).toMatchObject({ status: 400, param: 'role' });
    expect(await expectRefused('POST', '/v1/deposits', { account_id: 'ghost', amount: '1' })).toMatchObject({ status: 404, param: 'account_id' });
    expect(await expectRefused('POST', '/v1/withdrawals', { account_id: 'ghost', amount: '1' })).toMatchObject({ status: 404, param: 'account_id' });
    expect(await expectRefused('POST', '/v1/bank_transfers', { from_account_id: 'ba', to_account_id: 'ghost', amount: '1' })).toMatchObject({ status: 404, param: 'to_account_id' });
    expect(await expectRefused('POST', '/v1/bank_payments', { from_account_id: 'ghost', beneficiary: 'DE00', amount: '1' })).toMatchObject({ status: 404, param: 'from_account_id' });
    expect(await expectRefused('POST', '/v1/bank_accounts', { customer_id: 'ghost', type: 'checking', currency: 'USD', regulatory_tier: 'retail' })).toMatchObject({ status: 404 });
    expect(await expectRefused('POST', '/v1/bank_accounts/ghost/freeze', { reason: 'x' })).toMatchObject({ status: 404 });
    expect(await expectRefused('POST', '/v1/customers/ghost', { full_name: 'A', email: 'a@b.co' })).toMatchObject({ status: 404 });
  });

  it('refuses bad banking input with the parameter named', async () => {
    expect(await expectRefused('POST', '/v1/deposits', { account_id: 'ba', amount: '-1' })).toMatchObject({ status: 400, param: 'amount' });
    expect(await expectRefused('POST', '/v1/deposits', { account_id: 'ba', amount: '0' })).toMatchObject({ status: 400 });
    expect(await expectRefused('POST', '/v1/deposits', { account_id: 'ba', amount: '1', currency: 'JPY' })).toMatchObject({ param: 'currency' });
    expect(await expectRefused('POST', '/v1/bank_transfers', { from_account_id: 'ba', to_account_id: 'bb', amount: '1', exchange_rate: '1.1234567' })).toMatchObject({ param: 'exchange_rate' });
    expect(await expectRefused('POST', '/v1/bank_accounts', { customer_id: 'cus', type: 'cheque', currency: 'USD', regulatory_tier: 'retail' })).toMatchObject({ param: 'type' });
    expect(await expectRefused('POST', '/v1/customers', { full_name: 'A', email: 'not-an-email' })).toMatchObject({ status: 400 });
    expect(await expectRefused('POST', '/v1/bank_accounts/ba/close', { reason: 'bored' })).toMatchObject({ param: 'reason' });
  });
});

describe('every GET route', () => {
  it.each([
    '/v1/accounts?limit=0', '/v1/accounts?limit=abc', '/v1/accounts?limit=101', '/v1/accounts?starting_after=ghost', '/v1/accounts?bogus=1',
    '/v1/accounts/ghost', `/v1/accounts/${'x'.repeat(200)}`, '/v1/accounts/ghost/balance', '/v1/accounts/a/balance?as_of=tomorrow', '/v1/accounts/a/balance?as_of=-1',
    '/v1/transfers/ghost', '/v1/transfers?limit=0', '/v1/transfers?starting_after=ghost', '/v1/transfers?created[gte]=soon', '/v1/transfers?bogus=1',
    '/v1/journal_entries/ghost', '/v1/events', '/v1/events?stream=', '/v1/events?stream=ledger-test&after_version=-1',
    '/v1/events?stream=bad%20stream', '/v1/events?stream=ghost-1', '/v1/api_keys?limit=-1', '/v1/stream?after=-1', '/v1/stream?types=bad%20type',
    '/v1/stream?category=a%20b', '/v1/accounts/%E0%A4%A', '/v1/customers/ghost', '/v1/bank_accounts/ghost', '/v1/bank_accounts/ghost/balance',
    '/v1/bank_accounts/ba/balance?as_of=yesterday', '/v1/bank_accounts/ba/transactions?limit=0', '/v1/bank_accounts/ba/transactions?cursor=garbage',
    '/v1/bank_accounts/ba/transactions?min_amount=-1', '/v1/bank_transactions/ghost',
    '/v1/accounts/a/balance?as_of=2025-02-30T00:00:00Z', '/v1/transfers?created[gte]=2026-01-01T24:00:00Z', '/v1/bank_accounts/ba/balance?as_of=0000-01-01T00:00:00Z',
    '/v1/bank_accounts/ba/transactions?from=2026-04-31T00:00:00Z', '/v1/accounts?starting_after=a&ending_before=b',
  ])('%s is a 4xx', async (url) => {
    await expectRefused('GET', url);
  });
});
