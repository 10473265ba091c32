/**
 * `GET /v1/reports/{name}` under a scan budget (`app.inject()` on a real
 * store, the budget set small): each answer reads at most the budget
 * (`events_scanned`), says `has_more` with a `next_cursor` (CSV: the
 * `Daybook-Next-Cursor` header), and following the cursors gives every
 * event the key may see once, in log order; a foreign cursor is a 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

const BUDGET = 10;
let api: ApiHarness;

const get = (url: string) => api.app.inject({ method: 'GET', url, headers: api.as('admin') });

beforeAll(async () => {
  api = await openApiHarness({ reportScanBudget: BUDGET });
  const post = async (url: string, payload: object) => {
    const response = await api.app.inject({ method: 'POST', url, payload, headers: api.as('operator') });
    expect(response.statusCode, response.body).toBe(200);
  };
  await post('/v1/customers', { id: 'ada', full_name: 'Ada Lovelace', email: 'ada@example.com' });
  await post('/v1/bank_accounts', { id: 'chk', customer_id: 'ada', type: 'checking', currency: 'USD', regulatory_tier: 'retail', initial_balance: '100000' });
  for (let index = 0; index < 6; index += 1) await post('/v1/deposits', { account_id: 'chk', amount: '100' });
});
afterAll(async () => { await api.close(); });

describe('GET /v1/reports/{name} under the scan budget', () => {
  it('answers pages of at most the budget, whose cursors give the whole audit trail', async () => {
    const positions: number[] = [];
    let url = '/v1/reports/audit-trail';
    let answers = 0;
    for (;;) {
      const response = await get(url);
      expect(response.statusCode, response.body).toBe(200);
      const page = response.json();
      answers += 1;
      expect(page.events_scanned).toBeLessThanOrEqual(BUDGET);
      positions.push(...page.data.map((row: { position: string }) => Number(row.position)));
      if (!page.has_more) {
        expect(page.next_cursor).toBeNull();
        break;
      }
      expect(typeof page.next_cursor).toBe('string');
      url = `/v1/reports/audit-trail?cursor=${encodeURIComponent(page.next_cursor)}`;
      expect(answers).toBeLessThan(200);
    }
    expect(answers).toBeGreaterThan(1);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(new Set(positions).size).toBe(positions.length);
    const statement = (await get('/v1/reports/account-statement?account_id=chk')).json();
    expect(statement.has_more).toBe(true);
  });

  it('puts the cursor of a CSV page in a header, and refuses a cursor of another report', async () => {
    const csv = await get('/v1/reports/audit-trail?format=csv');
    expect(csv.statusCode).toBe(200);
    const cursor = csv.headers['daybook-next-cursor'];
    expect(typeof cursor).toBe('string');
    const next = await get(`/v1/reports/audit-trail?format=csv&cursor=${encodeURIComponent(cursor as string)}`);
    expect(next.statusCode).toBe(200);
    const foreign = await get(`/v1/reports/settlement?cursor=${encodeURIComponent(cursor as string)}`);
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().error).toMatchObject({ code: 'validation_failed', param: 'cursor' });
  });
});
