/**
 * Compliance in the request path, through `app.inject()` on a real SQLite
 * store with the fixture sanctions list loaded into the data folder: a
 * listed customer's name opens a screening case before the answer; money
 * out of its accounts is refused while the case is open, after it is
 * confirmed too, and allowed once an analyst clears it (the analyst's key
 * recorded); a clean name opens nothing; renaming to a listed name opens a
 * case; fraud scoring records every native transfer's verdict and refuses
 * a block when DAYBOOK_FRAUD_ENFORCE=all; no list, no screening.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSanctionsFiles, replaceActiveSanctionsList } from '../../compliance/index.ts';
import { FIXTURE_ALT_URL, FIXTURE_SDN_URL } from '../../compliance/sanctions/fixtures/fixtureList.ts';
import { fixedClock } from '../../kernel/index.ts';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

/** 03:00 UTC: the demo model blocks 50,000.00 at night (and only reviews it by day). */
const NIGHT_MS = Date.UTC(2026, 0, 5, 3);

function dirWithList(): string {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-screening-'));
  replaceActiveSanctionsList(dir, readSanctionsFiles(fileURLToPath(FIXTURE_SDN_URL), fileURLToPath(FIXTURE_ALT_URL)), 0);
  return dir;
}

function client(api: ApiHarness) {
  const call = async (method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = api.as('operator')) => {
    const response = await api.app.inject({ method, url, payload, headers });
    return { status: response.statusCode, body: response.json() };
  };
  return { post: (url: string, payload: object, headers?: Record<string, string>) => call('POST', url, payload, headers), get: (url: string, headers?: Record<string, string>) => call('GET', url, undefined, headers) };
}

async function customerWithAccount(api: ApiHarness, id: string, name: string) {
  const { post } = client(api);
  const customer = await post('/v1/customers', { id, full_name: name, email: `${id}@example.com` });
  expect(customer.status).toBe(200);
  const account = await post('/v1/bank_accounts', { id: `${id}_chk`, customer_id: id, type: 'checking', currency: 'USD', regulatory_tier: 'retail', initial_balance: '100000' });
  expect(account.status).toBe(200);
}

describe('sanctions screening of banking customers', () => {
  let api: ApiHarness;
  beforeAll(async () => { api = await openApiHarness({ dir: dirWithList() }); });
  afterAll(async () => { await api.close(); });

  it('opens a case for a listed name, holds its money out until an analyst clears it', async () => {
    const { post, get } = client(api);
    await customerWithAccount(api, 'boris', 'Boris Testovich Fakename');
    const open = await get('/v1/screening_cases?status=open', api.as('analyst'));
    expect(open.status).toBe(200);
    const found = open.body.data.filter((item: { subject: string }) => item.subject === 'customer.boris');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ object: 'screening_case', status: 'open', screened_name: 'Boris Testovich Fakename', livemode: false, decided_by: null });
    expect(found[0].hits[0]).toMatchObject({ ent_num: 9001 });
    const caseId = found[0].id as string;

    const withdrawal = await post('/v1/withdrawals', { account_id: 'boris_chk', amount: '100' });
    expect(withdrawal.status).toBe(403);
    expect(withdrawal.body.error).toMatchObject({ type: 'invalid_request_error', code: 'compliance_review_pending' });
    const payment = await post('/v1/bank_payments', { from_account_id: 'boris_chk', beneficiary: 'ACME', amount: '100' });
    expect(payment.body.error.code).toBe('compliance_review_pending');
    // Money in is not held.
    expect((await post('/v1/deposits', { account_id: 'boris_chk', amount: '100' })).status).toBe(200);

    // An operator may not decide a case; the analyst may, and is recorded.
    expect((await post(`/v1/screening_cases/${caseId}/clear`, {})).status).toBe(403);
    const cleared = await post(`/v1/screening_cases/${caseId}/clear`, { note: 'date of birth differs' }, api.as('analyst'));
    expect(cleared.status).toBe(200);
    expect(cleared.body.status).toBe('cleared');
    expect(cleared.body.decided_by).toMatch(/^key_/);
    expect((await get(`/v1/screening_cases/${caseId}`, api.as('analyst'))).body.status).toBe('cleared');
    expect((await post(`/v1/screening_cases/${caseId}/confirm`, {}, api.as('analyst'))).body.error.code).toBe('screening_case_closed');

    const after = await post('/v1/withdrawals', { account_id: 'boris_chk', amount: '100' });
    expect(after.status).toBe(200);
    expect(after.body.status).toBe('completed');
  });

  it('keeps refusing after a case is confirmed, transfers out included', async () => {
    const { post, get } = client(api);
    await customerWithAccount(api, 'olga', 'Olga Zanzibarova');
    await customerWithAccount(api, 'clean', 'Grace Hopper');
    const cases = (await get('/v1/screening_cases', api.as('admin'))).body.data as Array<{ id: string; subject: string }>;
    expect(cases.some((item) => item.subject === 'customer.clean')).toBe(false);
    const olga = cases.find((item) => item.subject === 'customer.olga')!;
    expect((await post(`/v1/screening_cases/${olga.id}/confirm`, {}, api.as('analyst'))).body.status).toBe('confirmed');
    const transfer = await post('/v1/bank_transfers', { from_account_id: 'olga_chk', to_account_id: 'clean_chk', amount: '100' });
    expect(transfer.status).toBe(403);
    expect(transfer.body.error.code).toBe('compliance_review_pending');
    // Into a held customer's account is not money out of it.
    expect((await post('/v1/bank_transfers', { from_account_id: 'clean_chk', to_account_id: 'olga_chk', amount: '100' })).status).toBe(200);
  });

  it('screens a rename, and answers 404 for an unknown case', async () => {
    const { post, get } = client(api);
    await customerWithAccount(api, 'archie', 'Archie Smith');
    expect((await post('/v1/withdrawals', { account_id: 'archie_chk', amount: '1' })).status).toBe(200);
    expect((await post('/v1/customers/archie', { full_name: 'Archibald Ignatius Quuxley', email: 'archie@example.com' })).status).toBe(200);
    expect((await post('/v1/withdrawals', { account_id: 'archie_chk', amount: '1' })).body.error.code).toBe('compliance_review_pending');
    expect((await get('/v1/screening_cases/customer.nobody@00000000', api.as('analyst'))).status).toBe(404);
    // Live keys see no test-mode case.
    expect((await get('/v1/screening_cases', api.as('analyst', 'live'))).body.data).toEqual([]);
  });
});

describe('without a sanctions list', () => {
  it('screens nothing and holds nothing', async () => {
    const api = await openApiHarness();
    try {
      await customerWithAccount(api, 'boris', 'Boris Testovich Fakename');
      expect((await client(api).post('/v1/withdrawals', { account_id: 'boris_chk', amount: '100' })).status).toBe(200);
      expect((await client(api).get('/v1/screening_cases', api.as('analyst'))).body.data).toEqual([]);
    } finally {
      await api.close();
    }
  });
});

describe('fraud scoring of native transfers', () => {
  async function ledgerWithAccounts(api: ApiHarness) {
    const { post } = client(api);
    for (const id of ['from', 'to']) expect((await post('/v1/accounts', { id, currency: 'USD' })).status).toBe(200);
  }

  it('refuses a block with DAYBOOK_FRAUD_ENFORCE=all and records the verdict', async () => {
    const api = await openApiHarness({ clock: fixedClock(NIGHT_MS), fraudEnforce: 'all' });
    try {
      await ledgerWithAccounts(api);
      const { post } = client(api);
      const blocked = await post('/v1/transfers', { id: 'big', debit_account_id: 'from', credit_account_id: 'to', amount: '5000000' });
      expect(blocked.status).toBe(402);
      expect(blocked.body.error).toMatchObject({ type: 'invalid_request_error', code: 'fraud_blocked' });
      const [check] = await api.store.readStream('fraudcheck-ledger.test.big');
      expect(check).toMatchObject({ type: 'FraudCheckCompleted', data: { decision: 'block', subjectRef: 'ledger.test.big' }, metadata: { mode: 'test' } });
      expect((await post('/v1/transfers', { id: 'small', debit_account_id: 'from', credit_account_id: 'to', amount: '2000' })).status).toBe(200);
      const blockedOut = await post('/v1/withdrawals', { account_id: 'nobody', amount: '5000000' });
      expect(blockedOut.status).toBe(404);
    } finally {
      await api.close();
    }
  });

  it('scores every new transfer of a batch: a block refuses the whole batch, naming it, and nothing moves', async () => {
    const api = await openApiHarness({ clock: fixedClock(NIGHT_MS), fraudEnforce: 'all' });
    try {
      await ledgerWithAccounts(api);
      const { post } = client(api);
      const small = { debit_account_id: 'from', credit_account_id: 'to', amount: '2000' };
      const blocked = await post('/v1/transfers/batch', { transfers: [{ id: 'b-small', ...small }, { id: 'b-big', ...small, amount: '5000000' }] });
      expect(blocked.status).toBe(402);
      expect(blocked.body.error).toMatchObject({ code: 'fraud_blocked', param: 'transfers.1.amount' });
      expect((await api.app.inject({ method: 'GET', url: '/v1/transfers/b-small', headers: api.as('admin') })).statusCode).toBe(404);
      const fine = await post('/v1/transfers/batch', { transfers: [{ id: 'b-ok', ...small }] });
      expect(fine.status).toBe(200);
      const [check] = await api.store.readStream('fraudcheck-ledger.test.b-ok');
      expect(check).toMatchObject({ type: 'FraudCheckCompleted', data: { subjectRef: 'ledger.test.b-ok' } });
    } finally {
      await api.close();
    }
  });

  it("commits a transfer's verdict in the transfer's own append, once: a retry and a repeat of the id write no second verdict", async () => {
    const api = await openApiHarness({ clock: fixedClock(NIGHT_MS) });
    try {
      await ledgerWithAccounts(api);
      const { post } = client(api);
      const body = { id: 'paid', debit_account_id: 'from', credit_account_id: 'to', amount: '2500' };
      const keyed = { ...api.as('operator'), 'idempotency-key': 'fraud-once' };
      expect((await post('/v1/transfers', body, keyed)).status).toBe(200);
      const [posted] = (await api.store.readStream('ledger-test')).filter((event) => event.type === 'TransferPosted');
      const checks = await api.store.readStream('fraudcheck-ledger.test.paid');
      expect(checks).toHaveLength(1);
      // Right after the transfer's event in the log, the key's record between them (one append holds all three).
      expect(checks[0]!.position - posted!.position).toBe(2n);
      expect((await post('/v1/transfers', body, keyed)).status).toBe(200);
      expect((await post('/v1/transfers', body, { ...api.as('operator'), 'idempotency-key': 'fraud-again' })).status).toBe(200);
      expect((await post('/v1/transfers', body)).status).toBe(200);
      expect(await api.store.readStream('fraudcheck-ledger.test.paid')).toHaveLength(1);
      // A transfer refused records no verdict.
      expect((await post('/v1/transfers', { ...body, id: 'nowhere', credit_account_id: 'missing' })).status).toBe(404);
      expect(await api.store.readStream('fraudcheck-ledger.test.nowhere')).toHaveLength(0);
    } finally {
      await api.close();
    }
  });

  it('lets a block through in test mode under the default (live) and records it', async () => {
    const api = await openApiHarness({ clock: fixedClock(NIGHT_MS) });
    try {
      await ledgerWithAccounts(api);
      const answer = await client(api).post('/v1/transfers', { id: 'big', debit_account_id: 'from', credit_account_id: 'to', amount: '5000000' });
      expect(answer.status).toBe(200);
      const [check] = await api.store.readStream('fraudcheck-ledger.test.big');
      expect(check).toMatchObject({ data: { decision: 'block' } });
    } finally {
      await api.close();
    }
  });

  it('blocks a bank withdrawal with enforcement all', async () => {
    const api = await openApiHarness({ clock: fixedClock(NIGHT_MS), fraudEnforce: 'all' });
    try {
      await customerWithAccount(api, 'ada', 'Ada Lovelace');
      const answer = await client(api).post('/v1/withdrawals', { account_id: 'ada_chk', amount: '5000000' });
      expect(answer.status).toBe(402);
      expect(answer.body.error.code).toBe('fraud_blocked');
    } finally {
      await api.close();
    }
  });
});
