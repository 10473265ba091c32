/**
 * `GET /v1/reports/{name}` through `app.inject()` on a real store: auditors
 * and admins read reports of their key's mode (JSON, or CSV that parses
 * back); roles without `reports:read` get 403; bad periods and names 400;
 * another mode's account is as absent as one that never was; a cursor the
 * server did not sign (forged for the trial balance, which never issues
 * one) is 400 on `cursor`.
 */
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

let api: ApiHarness;

async function post(url: string, payload: object, headers: Record<string, string> = api.as('operator')) {
  const response = await api.app.inject({ method: 'POST', url, payload, headers });
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

const get = (url: string, headers: Record<string, string> = api.as('auditor')) => api.app.inject({ method: 'GET', url, headers });

beforeAll(async () => {
  api = await openApiHarness();
  await post('/v1/customers', { id: 'ada', full_name: 'Ada Lovelace', email: 'ada@example.com' });
  await post('/v1/bank_accounts', { id: 'chk', customer_id: 'ada', type: 'checking', currency: 'USD', regulatory_tier: 'professional', initial_balance: '100000' });
  await post('/v1/bank_accounts', { id: 'sav', customer_id: 'ada', type: 'savings', currency: 'USD', regulatory_tier: 'retail' });
  await post('/v1/deposits', { account_id: 'chk', amount: '1000001' });
  await post('/v1/bank_transfers', { from_account_id: 'chk', to_account_id: 'sav', amount: '5000' });
  await post('/v1/withdrawals', { account_id: 'chk', amount: '2000', fee: '50' });
  const live = api.as('operator', 'live');
  await post('/v1/customers', { id: 'bob', full_name: 'Bob', email: 'bob@example.com' }, live);
  await post('/v1/bank_accounts', { id: 'chk', customer_id: 'bob', type: 'checking', currency: 'USD', regulatory_tier: 'retail', initial_balance: '777' }, live);
});

afterAll(async () => { await api.close(); });

describe('GET /v1/reports/{name}', () => {
  it('answers an auditor the trial balance of its mode, balanced', async () => {
    const response = await get('/v1/reports/trial-balance');
    expect(response.statusCode, response.body).toBe(200);
    const report = response.json();
    expect(report).toMatchObject({ object: 'report', name: 'trial-balance', params: { mode: 'test' }, summary: { balanced: true } });
    expect(new Set(report.data.map((row: { partition: string }) => row.partition))).toEqual(new Set(['banking-test']));
    const totals = report.data.filter((row: { account_id: string }) => row.account_id === '(total)');
    expect(totals.length).toBeGreaterThan(0);
    for (const total of totals) expect(total.net_debit_minor).toBe('0');
  });

  it('answers a statement with its running balance, as JSON and as CSV', async () => {
    const json = (await get('/v1/reports/account-statement?account_id=chk')).json();
    expect(json.data.map((row: { type: string; amount_minor: string; balance_minor: string }) => [row.type, row.amount_minor, row.balance_minor])).toEqual([
      ['deposit', '100000', '100000'], ['deposit', '1000001', '1100001'], ['transfer', '-5000', '1095001'], ['withdrawal', '-2050', '1092951'],
    ]);
    expect(json.summary).toMatchObject({ closing_balance_minor: '1092951', currency: 'USD' });
    const csv = await get('/v1/reports/account-statement?account_id=chk&format=csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const rows = parse(csv.body, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((row) => row.balance_minor)).toEqual(['100000', '1100001', '1095001', '1092951']);
  });

  it('answers an admin too, and keeps the audit trail to what the key may see', async () => {
    const response = await get('/v1/reports/audit-trail', api.as('admin'));
    expect(response.statusCode).toBe(200);
    const streams = response.json().data.map((row: { stream_id: string }) => row.stream_id) as string[];
    expect(streams).toContain('bankaccount-test.chk');
    expect(streams.some((stream) => stream.includes('live.'))).toBe(false);
  });

  it('refuses roles without reports:read with 403', async () => {
    for (const role of ['support', 'operator', 'service'] as const) {
      const response = await get('/v1/reports/trial-balance', api.as(role));
      expect(response.statusCode).toBe(403);
      expect(response.json().error).toMatchObject({ type: 'invalid_request_error', code: 'permission_denied' });
    }
    expect((await get('/v1/reports/trial-balance', {})).statusCode).toBe(401);
  });

  it('refuses a bad period, an unknown report and a missing account with 400, naming the field', async () => {
    const bad = await get('/v1/reports/audit-trail?from=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'validation_failed', param: 'from' });
    const backwards = await get('/v1/reports/audit-trail?from=2024-05-02&to=2024-05-01');
    expect(backwards.json().error).toMatchObject({ code: 'validation_failed', param: 'to' });
    expect((await get('/v1/reports/nonsense')).statusCode).toBe(400);
    expect((await get('/v1/reports/account-statement')).json().error).toMatchObject({ code: 'validation_failed', param: 'account_id' });
  });

  it('refuses a forged cursor with 400 on cursor', async () => {
    const body = { f: JSON.stringify(['trial-balance', { from: null, to: null, mode: 'test', accountId: null }]), h: '1', a: '1', s: {} };
    const forged = `rc_${Buffer.from(JSON.stringify(body), 'utf8').toString('base64url')}`;
    for (const cursor of [forged, `${forged}.c2lnbmF0dXJl`]) {
      const response = await get(`/v1/reports/trial-balance?cursor=${cursor}`);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'validation_failed', param: 'cursor' });
    }
  });

  it('does not show another mode\'s account', async () => {
    const response = await get('/v1/reports/account-statement?account_id=chk', api.as('auditor', 'live'));
    expect(response.statusCode).toBe(200);
    expect(response.json().summary).toMatchObject({ closing_balance_minor: '777' });
    expect((await get('/v1/reports/account-statement?account_id=sav', api.as('auditor', 'live'))).statusCode).toBe(404);
  });
});
