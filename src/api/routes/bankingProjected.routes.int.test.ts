/**
 * The banking routes' read side on the projection engine, as the server runs
 * it (`useProjectedReadModel`), through `app.inject()` on a real SQLite store:
 * a GET right after a POST sees it (read-your-writes: the query waits for the
 * projection to reach the head); every balance, as-of balance and history
 * page answers exactly as the in-memory read model does on the same log; and
 * with the projection not running, a query answers 503 instead of stale data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlBankingReadModel } from '../../banking/index.ts';
import { builtinProjections } from '../../projections/builtin/index.ts';
import { createProjectionEngine, openReadModelStore, type ProjectionEngine, type ReadModelStore } from '../../projections/index.ts';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';
import { useProjectedReadModel } from '../bankingApi.ts';

let api: ApiHarness;
let readModels: ReadModelStore;
let engine: ProjectionEngine;
let projected: SqlBankingReadModel;

beforeAll(async () => {
  api = await openApiHarness();
  readModels = await openReadModelStore(`sqlite:${api.dir}/daybook.db`);
  engine = createProjectionEngine({ store: api.store, readModels, projections: builtinProjections(api.store) });
  await engine.start();
  projected = new SqlBankingReadModel(readModels, engine);
  useProjectedReadModel(api.services.banking, projected);
});
afterAll(async () => {
  await engine.stop();
  await readModels.close();
  await api.close();
});

async function post(url: string, payload: object) {
  const response = await api.app.inject({ method: 'POST', url, payload, headers: api.as('operator') });
  expect(response.statusCode, `${url}: ${response.body}`).toBeLessThan(300);
  return response.json() as { id: string };
}
async function get(url: string) {
  const response = await api.app.inject({ method: 'GET', url, headers: api.as('operator') });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

/** The same GET answered by the in-memory read model. */
async function getFromMemory(url: string) {
  api.services.banking.projected = undefined;
  try {
    return await get(url);
  } finally {
    useProjectedReadModel(api.services.banking, projected);
  }
}

describe('banking reads on the projection', () => {
  it('answers a GET right after each POST with that write in it', async () => {
    await post('/v1/customers', { id: 'ada', full_name: 'Ada Lovelace', email: 'ada@example.com' });
    await post('/v1/bank_accounts', { id: 'chk', customer_id: 'ada', type: 'checking', currency: 'USD', regulatory_tier: 'retail', initial_balance: '100000' });
    expect((await get('/v1/bank_accounts/chk')).body).toMatchObject({ balance: { posted: '100000', available: '100000' } });
    await post('/v1/bank_accounts', { id: 'sav', customer_id: 'ada', type: 'savings', currency: 'USD', regulatory_tier: 'retail' });
    let posted = 100_000;
    for (let i = 1; i <= 5; i += 1) {
      const deposit = await post('/v1/deposits', { account_id: 'chk', amount: String(i * 1000), reference: `d${i}` });
      posted += i * 1000;
      expect((await get('/v1/bank_accounts/chk/balance')).body.posted).toBe(String(posted));
      const latest = (await get('/v1/bank_accounts/chk/transactions?limit=1')).body.data as Array<{ transaction_id: string }>;
      expect(latest[0]!.transaction_id).toBe(deposit.id);
    }
    await post('/v1/bank_transfers', { from_account_id: 'chk', to_account_id: 'sav', amount: '3000', fee: '10' });
    expect((await get('/v1/bank_accounts/sav/balance')).body.posted).toBe('3000');
    expect((await get('/v1/bank_accounts/chk/balance')).body.posted).toBe(String(posted - 3010));
  });

  it('answers every balance, as-of balance and history page as the in-memory read model does', async () => {
    const refused = await api.app.inject({ method: 'POST', url: '/v1/bank_transfers', payload: { from_account_id: 'sav', to_account_id: 'chk', amount: '999999' }, headers: api.as('operator') });
    expect(refused.json()).toMatchObject({ status: 'failed', failure_code: 'exceeds_credits' }); // refused by the ledger: a failed transaction
    await post('/v1/bank_payments', { from_account_id: 'chk', beneficiary: 'DE89370400440532013000', amount: '1000' });
    const urls = [
      '/v1/bank_accounts/chk', '/v1/bank_accounts/sav', '/v1/bank_accounts/chk/balance', '/v1/bank_accounts/sav/balance',
      `/v1/bank_accounts/chk/balance?as_of=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`,
      `/v1/bank_accounts/chk/balance?as_of=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`,
      '/v1/bank_accounts/chk/transactions?limit=100', '/v1/bank_accounts/sav/transactions', '/v1/bank_accounts/chk/transactions?min_amount=2000&max_amount=4000',
      '/v1/bank_accounts/ghost/balance',
    ];
    for (const url of urls) expect(await get(url), url).toEqual(await getFromMemory(url));
    // Cursors too: each page of three, followed to the end.
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/bank_accounts/chk/transactions?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await get(url);
      expect(page, url).toEqual(await getFromMemory(url));
      cursor = page.body.next_cursor as string | null;
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBeGreaterThan(2);
  });

  it('answers 503 rather than stale data while the projection does not run', async () => {
    await engine.stop();
    try {
      await post('/v1/deposits', { account_id: 'sav', amount: '5' });
      const stale = await get('/v1/bank_accounts/sav/balance');
      expect(stale.status).toBe(503);
      expect(stale.body).toMatchObject({ error: { code: 'projection_wait_timeout' } });
    } finally {
      await engine.start();
    }
    expect((await get('/v1/bank_accounts/sav/balance')).body.posted).toBe('3005');
  });
});
