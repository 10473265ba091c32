/**
 * Maker-checker over HTTP (`app.inject()` on a real SQLite store): the
 * guarded routes answer 202 with an approval request instead of acting; the
 * role matrix (the maker, a checker of the maker's own identity, a checker
 * without the permission, the right checker); a transfer below the threshold
 * runs at once, one above it waits and runs on approval exactly once (the
 * approve retried, with and without its Idempotency-Key, and resumed after a
 * crash between grant and execution), with the balances right after;
 * journal entries and their rejection; unfreezes; expiry on the clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalStreamId } from '../../compliance/approvals/index.ts';
import { fixedClock } from '../../kernel/index.ts';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

const POLICY = { makerChecker: true, transferThresholdMinor: 1_000_000n, expiresAfterMs: 60 * 60 * 1000, approvalsRequired: 1 };
const clock = fixedClock(Date.parse('2025-06-01T09:00:00Z'));
let api: ApiHarness;
/** A second approver key of the operator's owner ('alice'), and an operator of hers that makes requests. */
let aliceMaker: { authorization: string };
let aliceChecker: { authorization: string };

beforeAll(async () => {
  api = await openApiHarness({ approvals: POLICY, clock });
  const auth = (secret: string) => ({ authorization: `Bearer ${secret}` });
  aliceMaker = auth((await api.services.keys.create({ role: 'operator', mode: 'test', owner: 'alice', createdBy: 'test' })).secret);
  aliceChecker = auth((await api.services.keys.create({ role: 'approver', mode: 'test', owner: 'alice', createdBy: 'test' })).secret);
  for (const id of ['bank', 'cust']) expect((await post('/v1/accounts', { id, currency: 'USD' })).status).toBe(200);
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
const creditsOf = async (id: string): Promise<string> => (await get(`/v1/accounts/${id}`)).body.balances.credits_posted;

describe('transfers and the threshold', () => {
  it('runs a transfer below the threshold at once', async () => {
    const small = await post('/v1/transfers', { id: 'small', debit_account_id: 'bank', credit_account_id: 'cust', amount: '999999' });
    expect({ status: small.status, object: small.body.object, state: small.body.status }).toEqual({ status: 200, object: 'transfer', state: 'posted' });
  });

  it('holds one at the threshold for a checker, then runs it once on approval', async () => {
    const before = BigInt(await creditsOf('cust'));
    const asked = await post('/v1/transfers', { id: 'big', debit_account_id: 'bank', credit_account_id: 'cust', amount: '1000000' }, aliceMaker);
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ object: 'approval_request', status: 'pending', action: 'transfer', payload: { id: 'big', amount: '1000000', ledger: 'USD' }, result: null });
    const id: string = asked.body.id;
    expect((await get('/v1/transfers/big')).status).toBe(404);
    expect(BigInt(await creditsOf('cust'))).toBe(before);
    const pending = await get('/v1/approval_requests?status=pending', api.as('approver'));
    expect(pending.body.data.map((item: { id: string }) => item.id)).toContain(id);

    // The role matrix: the maker, a checker of the maker's own identity, a checker without the permission, the right checker.
    expect((await post(`/v1/approval_requests/${id}/approve`, {}, aliceMaker)).body.error.code).toBe('permission_denied');
    const self = await post(`/v1/approval_requests/${id}/approve`, {}, aliceChecker);
    expect({ status: self.status, code: self.body.error.code }).toEqual({ status: 403, code: 'approval_self_approval' });
    const wrongRole = await post(`/v1/approval_requests/${id}/approve`, {}, api.as('support'));
    expect({ status: wrongRole.status, code: wrongRole.body.error.code }).toEqual({ status: 403, code: 'permission_denied' });
    const approved = await post(`/v1/approval_requests/${id}/approve`, {}, { ...api.as('approver'), 'idempotency-key': 'approve-big' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'executed', result: { object: 'transfer', id: 'big' }, failure: null, approvals: [{ role: 'approver' }] });
    expect(BigInt(await creditsOf('cust'))).toBe(before + 1_000_000n);

    // Retried: with its key, the first answer; without, refused; either way the money moved once.
    const replay = await post(`/v1/approval_requests/${id}/approve`, {}, { ...api.as('approver'), 'idempotency-key': 'approve-big' });
    expect({ status: replay.status, replayed: replay.headers['idempotent-replayed'], body: replay.body }).toEqual({ status: 200, replayed: 'true', body: approved.body });
    expect((await post(`/v1/approval_requests/${id}/approve`, {}, api.as('approver'))).body.error.code).toBe('approval_already_granted');
    expect((await post(`/v1/approval_requests/${id}/approve`, {}, api.as('admin'))).body.error.code).toBe('approval_not_pending');
    expect(BigInt(await creditsOf('cust'))).toBe(before + 1_000_000n);
    expect((await get(`/v1/approval_requests/${id}`)).body.status).toBe('executed');
  });

  it('refuses the maker approving their own request, whatever the role', async () => {
    const asked = await post('/v1/transfers', { debit_account_id: 'bank', credit_account_id: 'cust', amount: '5000000' }, api.as('admin'));
    expect(asked.status).toBe(202);
    expect((await post(`/v1/approval_requests/${asked.body.id}/approve`, {}, api.as('admin'))).body.error.code).toBe('approval_self_approval');
  });

  it('names the same request again for the same Idempotency-Key', async () => {
    const headers = { ...api.as('operator'), 'idempotency-key': 'big-2' };
    const first = await post('/v1/transfers', { debit_account_id: 'bank', credit_account_id: 'cust', amount: '2000000' }, headers);
    const again = await post('/v1/transfers', { debit_account_id: 'bank', credit_account_id: 'cust', amount: '2000000' }, headers);
    expect(first.status).toBe(202);
    expect({ status: again.status, id: again.body.id, replayed: again.headers['idempotent-replayed'] }).toEqual({ status: 202, id: first.body.id, replayed: 'true' });
  });

  it('resumes an approved transfer whose execution was not recorded (a crash between the two), once', async () => {
    const asked = await post('/v1/transfers', { id: 'resumed', debit_account_id: 'bank', credit_account_id: 'cust', amount: '3000000' });
    const before = BigInt(await creditsOf('cust'));
    const checker = api.services.keys.list().find((key) => key.role === 'approver' && key.mode === 'test' && key.owner === key.keyId)!;
    // The grant is durable, the action never ran: what a crash right after the grant leaves.
    await api.store.append({
      streamId: approvalStreamId(asked.body.id), expectedVersion: 1n,
      events: [{ type: 'ApprovalGranted', data: { approvalId: asked.body.id, by: { keyId: checker.keyId, role: 'approver', owner: checker.owner }, at: new Date(clock.nowMs()).toISOString() } }],
    });
    expect((await get(`/v1/approval_requests/${asked.body.id}`)).body.status).toBe('approved');
    const resumed = await post(`/v1/approval_requests/${asked.body.id}/approve`, {}, api.as('approver'));
    expect(resumed.body).toMatchObject({ status: 'executed', result: { id: 'resumed' } });
    expect((await post(`/v1/approval_requests/${asked.body.id}/approve`, {}, api.as('approver'))).body.error.code).toBe('approval_already_granted');
    expect(BigInt(await creditsOf('cust'))).toBe(before + 3_000_000n);
  });

  it('refuses a batch holding a transfer at the threshold, writing nothing', async () => {
    const batch = await post('/v1/transfers/batch', { transfers: [{ id: 'b-1', debit_account_id: 'bank', credit_account_id: 'cust', amount: '1' }, { id: 'b-2', debit_account_id: 'bank', credit_account_id: 'cust', amount: '1000000' }] });
    expect({ status: batch.status, code: batch.body.error.code, param: batch.body.error.param }).toEqual({ status: 400, code: 'validation_failed', param: 'transfers.1.amount' });
    expect((await get('/v1/transfers/b-1')).status).toBe(404);
  });
});

describe('journal entries', () => {
  const entry = { id: 'adj-1', postings: [{ account_id: 'bank', side: 'debit', amount: '70', currency: 'USD' }, { account_id: 'cust', side: 'credit', amount: '70', currency: 'USD' }] };

  it('waits for a checker; a rejection records nothing, and nothing can approve it after', async () => {
    const asked = await post('/v1/journal_entries', entry);
    expect(asked.body).toMatchObject({ object: 'approval_request', status: 'pending', action: 'journal_entry', payload: { id: 'adj-1' } });
    expect((await post(`/v1/approval_requests/${asked.body.id}/reject`, { reason: '' }, api.as('approver'))).status).toBe(400);
    const rejected = await post(`/v1/approval_requests/${asked.body.id}/reject`, { reason: 'no ticket' }, api.as('approver'));
    expect(rejected.body).toMatchObject({ status: 'rejected', rejection: { role: 'approver', reason: 'no ticket' } });
    expect((await post(`/v1/approval_requests/${asked.body.id}/approve`, {}, api.as('admin'))).body.error.code).toBe('approval_not_pending');
    expect((await get('/v1/journal_entries/adj-1')).status).toBe(404);
  });

  it('records the entry once approved, and its reversal waits too', async () => {
    const asked = await post('/v1/journal_entries', { ...entry, id: 'adj-2' });
    const approved = await post(`/v1/approval_requests/${asked.body.id}/approve`, {}, api.as('approver'));
    expect(approved.body).toMatchObject({ status: 'executed', result: { object: 'journal_entry', id: 'adj-2' } });
    expect((await get('/v1/journal_entries/adj-2')).body.status).toBe('recorded');
    const reversal = await post('/v1/journal_entries/adj-2/reverse', { id: 'adj-2-rev' });
    expect(reversal.body).toMatchObject({ status: 'pending', action: 'journal_entry_reversal', payload: { id: 'adj-2-rev', entry_id: 'adj-2' } });
    await post(`/v1/approval_requests/${reversal.body.id}/approve`, {}, api.as('approver'));
    expect((await get('/v1/journal_entries/adj-2')).body.reversed_by).toBe('adj-2-rev');
  });

  it('records a refusal met when it runs as the failure of the request', async () => {
    const asked = await post('/v1/journal_entries', { id: 'adj-3', postings: [{ account_id: 'bank', side: 'debit', amount: '5', currency: 'USD' }, { account_id: 'cust', side: 'credit', amount: '6', currency: 'USD' }] });
    const approved = await post(`/v1/approval_requests/${asked.body.id}/approve`, {}, api.as('approver'));
    expect(approved.body).toMatchObject({ status: 'failed', result: null, failure: { code: 'entry_not_balanced' } });
  });
});

describe('unfreezes', () => {
  it('unfreezes a frozen account once a checker approves', async () => {
    await post('/v1/customers', { id: 'grace', full_name: 'Grace Hopper', email: 'grace@example.com' });
    await post('/v1/bank_accounts', { id: 'gchk', customer_id: 'grace', type: 'checking', currency: 'USD', regulatory_tier: 'retail' });
    expect((await post('/v1/bank_accounts/gchk/freeze', { reason: 'fraud alert' })).body.status).toBe('frozen');
    const asked = await post('/v1/bank_accounts/gchk/unfreeze', {});
    expect(asked).toMatchObject({ status: 202, body: { action: 'bank_account_unfreeze', payload: { account_id: 'gchk' } } });
    expect((await get('/v1/bank_accounts/gchk')).body.status).toBe('frozen');
    const approved = await post(`/v1/approval_requests/${asked.body.id}/approve`, {}, api.as('approver'));
    expect(approved.body).toMatchObject({ status: 'executed', result: { object: 'bank_account', id: 'gchk' } });
    expect((await get('/v1/bank_accounts/gchk')).body.status).toBe('open');
    // Not frozen: refused at once, nothing to approve.
    expect((await post('/v1/bank_accounts/gchk/unfreeze', {})).body.error.code).toBe('account_not_frozen');
  });
});

describe('expiry and modes', () => {
  it('expires a pending request on the clock and refuses to approve it', async () => {
    const asked = await post('/v1/transfers', { id: 'late', debit_account_id: 'bank', credit_account_id: 'cust', amount: '4000000' });
    clock.advance(POLICY.expiresAfterMs);
    expect((await get(`/v1/approval_requests/${asked.body.id}`)).body.status).toBe('expired');
    expect((await get('/v1/approval_requests?status=expired')).body.data.map((item: { id: string }) => item.id)).toContain(asked.body.id);
    const late = await post(`/v1/approval_requests/${asked.body.id}/approve`, {}, api.as('approver'));
    expect({ status: late.status, code: late.body.error.code }).toEqual({ status: 409, code: 'approval_expired' });
    expect((await get('/v1/transfers/late')).status).toBe(404);
  });

  it('keeps test requests out of live keys', async () => {
    const asked = await post('/v1/transfers', { debit_account_id: 'bank', credit_account_id: 'cust', amount: '4000000' });
    expect((await get(`/v1/approval_requests/${asked.body.id}`, api.as('approver', 'live'))).status).toBe(404);
    expect((await post(`/v1/approval_requests/${asked.body.id}/approve`, {}, api.as('approver', 'live'))).body.error.code).toBe('approval_request_not_found');
  });
});

describe('an approved transfer is fraud-scored when it executes', () => {
  it('fails the request with fraud_blocked when the model blocks it (enforced), moving nothing', async () => {
    // 03:00 UTC: the demo model blocks 50,000.00 at night.
    const night = await openApiHarness({ approvals: POLICY, clock: fixedClock(Date.parse('2025-06-01T03:00:00Z')), fraudEnforce: 'all' });
    try {
      const as = (role: Parameters<ApiHarness['as']>[0]) => night.as(role);
      const call = async (url: string, payload: object, headers: Record<string, string>) => {
        const response = await night.app.inject({ method: 'POST', url, payload, headers });
        return { status: response.statusCode, body: response.json() };
      };
      for (const id of ['bank', 'cust']) expect((await call('/v1/accounts', { id, currency: 'USD' }, as('operator'))).status).toBe(200);
      const asked = await call('/v1/transfers', { id: 'night-big', debit_account_id: 'bank', credit_account_id: 'cust', amount: '5000000' }, as('operator'));
      expect(asked.status).toBe(202);
      const approved = await call(`/v1/approval_requests/${asked.body.id}/approve`, {}, as('approver'));
      expect(approved.body).toMatchObject({ status: 'failed', failure: { code: 'fraud_blocked' } });
      expect((await night.app.inject({ method: 'GET', url: '/v1/transfers/night-big', headers: as('operator') })).statusCode).toBe(404);
      const [check] = await night.store.readStream('fraudcheck-ledger.test.night-big');
      expect(check).toMatchObject({ data: { decision: 'block' } });
    } finally {
      await night.close();
    }
  });
});
