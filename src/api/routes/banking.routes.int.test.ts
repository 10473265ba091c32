/**
 * The banking routes through `app.inject()` on a real store: customers (their
 * personal data closed to support), bank accounts with an opening deposit,
 * deposits, withdrawals, transfers, payments, refusals recorded as failed
 * transactions, history with filters and cursors, balances now and as of a
 * time, freeze / unfreeze / close with a sweep, an Idempotency-Key replayed,
 * and test and live banking data kept apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

let api: ApiHarness;
beforeAll(async () => {
  api = await openApiHarness();
  await post('/v1/customers', { id: 'ada', full_name: 'Ada Lovelace', email: 'ada@example.com', date_of_birth: '1815-12-10' });
  await post('/v1/bank_accounts', { id: 'chk', customer_id: 'ada', type: 'checking', currency: 'USD', regulatory_tier: 'retail', initial_balance: '100000' });
  await post('/v1/bank_accounts', { id: 'sav', customer_id: 'ada', type: 'savings', currency: 'USD', regulatory_tier: 'retail' });
});
afterAll(async () => { await api.close(); });

async function post(url: string, payload: object, headers: Record<string, string> = api.as('operator')) {
  const response = await api.app.inject({ method: 'POST', url, payload, headers });
  return { status: response.statusCode, body: response.json(), headers: response.headers };
}
async function get(url: string, headers: Record<string, string> = api.as('operator')) {
  const response = await api.app.inject({ method: 'GET', url, headers });
  return { status: response.statusCode, body: response.json() };
}

describe('customers', () => {
  it('registers and answers personal data to roles that may read it', async () => {
    const ada = await get('/v1/customers/ada');
    expect(ada.body).toEqual({
      object: 'customer', id: 'ada', livemode: false, kind: 'individual', full_name: 'Ada Lovelace', email: 'ada@example.com',
      phone: null, date_of_birth: '1815-12-10', address: null,
    });
    expect((await get('/v1/customers/ada', api.as('support'))).status).toBe(403);
    const updated = await post('/v1/customers/ada', { full_name: 'Augusta Ada King', email: 'ada@example.com' });
    expect(updated.body.full_name).toBe('Augusta Ada King');
  });
});

describe('bank accounts and movements', () => {
  it('opens with only some compliance flags given, the others false (found by fuzz.int.test.ts)', async () => {
    const opened = await post('/v1/bank_accounts', { id: 'flags-1', customer_id: 'ada', type: 'savings', currency: 'USD', regulatory_tier: 'retail', compliance_flags: { politically_exposed: true } });
    expect({ status: opened.status, body: opened.body }).toMatchObject({
      status: 200, body: { id: 'flags-1', compliance_flags: { kyc_verified: false, sanctions_screened: false, politically_exposed: true, enhanced_due_diligence: false } },
    });
    const none = await post('/v1/bank_accounts', { id: 'flags-2', customer_id: 'ada', type: 'savings', currency: 'USD', regulatory_tier: 'retail', compliance_flags: {} });
    expect({ status: none.status, flags: none.body.compliance_flags }).toEqual({ status: 200, flags: { kyc_verified: false, sanctions_screened: false, politically_exposed: false, enhanced_due_diligence: false } });
  });

  it('answers an id opened again with other details naming the fields as sent on the wire', async () => {
    await post('/v1/bank_accounts', { id: 'twice', customer_id: 'ada', type: 'checking', currency: 'USD', regulatory_tier: 'retail', initial_balance: '5' });
    const again = await post('/v1/bank_accounts', { id: 'twice', customer_id: 'ada', type: 'savings', currency: 'USD', regulatory_tier: 'retail', initial_balance: 7 });
    expect(again.body.error).toMatchObject({ code: 'account_exists_with_different_fields', param: 'type', message: 'account twice exists with different type, initial_balance' });
  });
  it('opens with an initial deposit and shows the balance', async () => {
    const account = await get('/v1/bank_accounts/chk');
    expect(account.body).toMatchObject({ object: 'bank_account', id: 'chk', customer_id: 'ada', type: 'checking', currency: 'USD', status: 'open', balance: { posted: '100000', available: '100000' } });
    expect((await get('/v1/bank_accounts/chk', api.as('support'))).status).toBe(200);
  });

  it('deposits, withdraws, transfers and pays, each a completed transaction', async () => {
    const deposit = await post('/v1/deposits', { account_id: 'chk', amount: '5000', reference: 'salary' });
    expect(deposit.body).toMatchObject({ object: 'bank_transaction', type: 'deposit', status: 'completed', to_account_id: 'chk', amount: '5000' });
    expect((await get(`/v1/bank_transactions/${deposit.body.id}`)).body).toEqual(deposit.body);
    expect((await post('/v1/withdrawals', { account_id: 'chk', amount: '2000', fee: '100' })).body).toMatchObject({ status: 'completed', debited_amount: '2100' });
    expect((await post('/v1/bank_transfers', { from_account_id: 'chk', to_account_id: 'sav', amount: '3000' })).body).toMatchObject({ status: 'completed', from_account_id: 'chk', to_account_id: 'sav' });
    expect((await post('/v1/bank_payments', { from_account_id: 'chk', beneficiary: 'DE89370400440532013000', amount: '1000' })).body).toMatchObject({ type: 'payment', status: 'completed' });
    expect((await get('/v1/bank_accounts/chk/balance')).body).toMatchObject({ object: 'bank_balance', posted: String(100000 + 5000 - 2100 - 3000 - 1000) });
    expect((await get('/v1/bank_accounts/sav/balance')).body.posted).toBe('3000');
  });

  it('records a refused movement as a failed transaction', async () => {
    const refused = await post('/v1/bank_transfers', { from_account_id: 'sav', to_account_id: 'chk', amount: '999999' });
    // The transaction exists (retrievable, in the history): its answer is the transaction, failed, with the ledger's code.
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ status: 'failed', failure_code: 'exceeds_credits', failure_message: 'account sav has insufficient funds' });
    expect((await get('/v1/bank_accounts/sav/balance')).body.posted).toBe('3000');
  });

  it('replays a movement sent twice with one Idempotency-Key, and moves the money once', async () => {
    const headers = { ...api.as('operator'), 'idempotency-key': 'dep-1' };
    const before = (await get('/v1/bank_accounts/sav/balance')).body.posted;
    const first = await post('/v1/deposits', { account_id: 'sav', amount: '7' }, headers);
    const again = await post('/v1/deposits', { account_id: 'sav', amount: '7' }, headers);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect((await get('/v1/bank_accounts/sav/balance')).body.posted).toBe(String(Number(before) + 7));
  });

  it('pages the history newest first, with filters', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: Array<{ transaction_id: string; amount: string }>; next_cursor: string | null } } = await get(`/v1/bank_accounts/chk/transactions?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.data.map((item) => item.transaction_id));
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(new Set(seen).size).toBe(seen.length);
    const big = await get('/v1/bank_accounts/chk/transactions?min_amount=4000');
    expect(big.body.data.every((item: { amount: string }) => BigInt(item.amount) >= 4000n)).toBe(true);
  });

  it('answers the balance as of a past time', async () => {
    const before = await get(`/v1/bank_accounts/sav/balance?as_of=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`);
    expect(before.body).toMatchObject({ posted: '0' });
  });

  it('freezes, unfreezes, and closes with a sweep', async () => {
    await post('/v1/bank_accounts', { id: 'tmp', customer_id: 'ada', type: 'checking', currency: 'USD', regulatory_tier: 'retail', initial_balance: '50' });
    expect((await post('/v1/bank_accounts/tmp/freeze', { reason: 'suspicious' })).body.status).toBe('frozen');
    expect((await post('/v1/deposits', { account_id: 'tmp', amount: '1' })).status).toBeGreaterThanOrEqual(400);
    expect((await post('/v1/bank_accounts/tmp/unfreeze', {})).body.status).toBe('open');
    const closed = await post('/v1/bank_accounts/tmp/close', { reason: 'customer_request', sweep_to_account_id: 'sav' });
    expect(closed.status).toBe(200);
    expect(closed.body.account.status).toBe('closed');
    expect(closed.body.sweep).toMatchObject({ status: 'completed', amount: '50', to_account_id: 'sav' });
  });
});

describe('audit', () => {
  it('writes the correlation id and the key into the banking events, and auditors read them', async () => {
    const deposit = await post('/v1/deposits', { account_id: 'sav', amount: '3' }, { ...api.as('operator'), 'x-correlation-id': 'corr-bank' });
    const events = await get(`/v1/events?stream=banktxn-test.${deposit.body.id}`, api.as('auditor'));
    expect(events.status).toBe(200);
    expect(events.body.data.map((event: { type: string }) => event.type)).toEqual(['TransactionInitiated', 'TransactionCompleted']);
    for (const event of events.body.data) expect(event.metadata).toMatchObject({ correlationId: 'corr-bank', actor: expect.stringMatching(/^key_/) });
    expect((await get(`/v1/events?stream=banktxn-test.${deposit.body.id}`, api.as('auditor', 'live'))).status).toBe(404);
  });
});

describe('modes', () => {
  it('keeps test and live banking apart', async () => {
    expect((await get('/v1/bank_accounts/chk', api.as('operator', 'live'))).status).toBe(404);
    expect((await get('/v1/customers/ada', api.as('operator', 'live'))).status).toBe(404);
    await post('/v1/customers', { id: 'ada', full_name: 'Live Ada', email: 'live@example.com' }, api.as('operator', 'live'));
    expect((await get('/v1/customers/ada', api.as('operator', 'live'))).body).toMatchObject({ full_name: 'Live Ada', livemode: true });
    expect((await get('/v1/customers/ada')).body.full_name).toBe('Augusta Ada King');
    const deposit = await post('/v1/deposits', { account_id: 'chk', amount: '1' });
    expect((await get(`/v1/bank_transactions/${deposit.body.id}`, api.as('operator', 'live'))).status).toBe(404);
  });
});
