/**
 * Splitting a large transfer into a batch of small ones (`app.inject()` on a
 * real SQLite store): the approval threshold and the fraud score judge what a
 * batch takes from each debit account (per ledger, so per currency), not each
 * item alone. A batch whose items from one account sum past the threshold is
 * refused, nothing written, naming the item where the sum crossed it; the
 * same items spread over two debit accounts, each below it, run. The fraud
 * score blocks a split batch as it blocks the one transfer it stands for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/index.ts';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

const POLICY = { makerChecker: true, transferThresholdMinor: 1_000_000n, expiresAfterMs: 60 * 60 * 1000, approvalsRequired: 1 };
const NIGHT_MS = Date.UTC(2026, 0, 5, 3);

function client(api: ApiHarness) {
  return {
    async post(url: string, payload: object) {
      const response = await api.app.inject({ method: 'POST', url, payload, headers: api.as('operator') });
      return { status: response.statusCode, body: response.json() };
    },
    async status(url: string) {
      return (await api.app.inject({ method: 'GET', url, headers: api.as('operator') })).statusCode;
    },
  };
}

describe('the approval threshold over a batch', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await openApiHarness({ approvals: POLICY, clock: fixedClock(Date.parse('2025-06-01T09:00:00Z')) });
    for (const id of ['bank', 'bank2', 'cust']) expect((await client(api).post('/v1/accounts', { id, currency: 'USD' })).status).toBe(200);
  });
  afterAll(async () => { await api.close(); });

  it('refuses items of one debit account that together reach the threshold, writing nothing', async () => {
    const { post, status } = client(api);
    const item = (id: string) => ({ id, debit_account_id: 'bank', credit_account_id: 'cust', amount: '400000' });
    const split = await post('/v1/transfers/batch', { transfers: [item('s-1'), item('s-2'), item('s-3')] });
    expect({ status: split.status, code: split.body.error?.code, param: split.body.error?.param }).toEqual({ status: 400, code: 'validation_failed', param: 'transfers.2.amount' });
    expect(split.body.error.message).toMatch(/takes 1200000 from bank .*threshold/);
    for (const id of ['s-1', 's-2', 's-3']) expect(await status(`/v1/transfers/${id}`)).toBe(404);
    // Not atomic changes nothing: the sum is what is judged.
    const loose = await post('/v1/transfers/batch', { atomic: false, transfers: [item('l-1'), item('l-2'), item('l-3')] });
    expect(loose.status).toBe(400);
  });

  it('runs the same amounts when no debit account reaches the threshold', async () => {
    const { post } = client(api);
    const fine = await post('/v1/transfers/batch', { transfers: [
      { id: 'f-1', debit_account_id: 'bank', credit_account_id: 'cust', amount: '400000' },
      { id: 'f-2', debit_account_id: 'bank2', credit_account_id: 'cust', amount: '400000' },
      { id: 'f-3', debit_account_id: 'bank', credit_account_id: 'cust', amount: '400000' },
    ] });
    expect({ status: fine.status, succeeded: fine.body.succeeded }).toEqual({ status: 200, succeeded: true });
  });
});

describe('the fraud score over a batch', () => {
  it('blocks a large transfer split into small items of one debit account, as it blocks the whole', async () => {
    const api = await openApiHarness({ clock: fixedClock(NIGHT_MS), fraudEnforce: 'all' });
    try {
      const { post, status } = client(api);
      for (const id of ['from', 'to']) expect((await post('/v1/accounts', { id, currency: 'USD' })).status).toBe(200);
      // 500 000 alone is blocked; each 100 000 alone is not (only reviewed).
      expect((await post('/v1/transfers', { id: 'alone', debit_account_id: 'from', credit_account_id: 'to', amount: '500000' })).status).toBe(402);
      expect((await post('/v1/transfers', { id: 'fifth', debit_account_id: 'from', credit_account_id: 'to', amount: '100000' })).status).toBe(200);
      const items = Array.from({ length: 5 }, (_, index) => ({ id: `p-${index}`, debit_account_id: 'from', credit_account_id: 'to', amount: '100000' }));
      const split = await post('/v1/transfers/batch', { transfers: items });
      expect({ status: split.status, code: split.body.error?.code }).toEqual({ status: 402, code: 'fraud_blocked' });
      expect(split.body.error.param).toMatch(/^transfers\.\d+\.amount$/);
      expect(await status('/v1/transfers/p-0')).toBe(404);
    } finally {
      await api.close();
    }
  });
});
