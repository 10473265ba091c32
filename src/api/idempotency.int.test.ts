/**
 * Idempotency-Key on POST (Stripe's rules) and rate limits, through
 * `app.inject()` on a real store: replay of the first response without
 * running the handler, 400 idempotency_error for another body, concurrent
 * duplicates executed once, records that survive a restart, the domain's
 * refusals recorded but not validation, limit, conflict or transient
 * failures; 429 with Retry-After past a key's rate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiHarness, openApiHarness } from './apiTestkit.ts';
import type { FastifyPluginAsync } from 'fastify';
import { DaybookError, type ErrorCode } from '../kernel/index.ts';
import { buildApp } from './buildApp.ts';
import { IDEMPOTENCY_CATEGORY } from './idempotencyStore.ts';
import { TRANSFERS_PER_BATCH_MAX } from './routes/transfers.routes.ts';

let api: ApiHarness;
afterEach(async () => { await api?.close(); });

async function post(url: string, payload: unknown, headers: Record<string, string>) {
  const response = await api.app.inject({ method: 'POST', url, payload: payload as object, headers });
  return { status: response.statusCode, body: response.json(), headers: response.headers, raw: response.body };
}

/** A fresh harness with accounts `src` (its debits capped by its credits when `capped`) and `dst`. */
async function openWithTwoAccounts(capped: boolean): Promise<void> {
  api = await openApiHarness();
  await post('/v1/accounts', { id: 'src', currency: 'USD', flags: { debits_must_not_exceed_credits: capped } }, api.as('operator'));
  await post('/v1/accounts', { id: 'dst', currency: 'USD' }, api.as('operator'));
}

/** A route that fails the first time with the code it is sent, then answers: how the hooks see a transient failure, or a refusal. */
const failingOnceRoute: FastifyPluginAsync = async (app) => {
  const failed = new Set<string>();
  app.post('/v1/failing_once', { config: { permission: 'ledger:write' } }, async (request) => {
    const { code } = request.body as { code: ErrorCode };
    if (!failed.has(code)) {
      failed.add(code);
      throw new DaybookError(code, `failed once with ${code}`);
    }
    return { object: 'failing_once', code, answeredAtMs: Date.now() };
  });
};

async function ledgerEvents(): Promise<number> {
  return Number(await api.store.streamVersion('ledger-test'));
}

describe('Idempotency-Key', () => {
  it('replays the first response, status and body, without running the handler again', async () => {
    api = await openApiHarness();
    const headers = { ...api.as('operator'), 'idempotency-key': 'open-1' };
    const first = await post('/v1/accounts', { currency: 'USD' }, headers);
    expect(first.status).toBe(200);
    const written = await ledgerEvents();
    const again = await post('/v1/accounts', { currency: 'USD' }, headers);
    expect(again.raw).toBe(first.raw);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await ledgerEvents()).toBe(written);
  });

  it('never stores the secret of an API key it creates: auditors read the records, and a replay answers the key without it', async () => {
    api = await openApiHarness();
    const headers = { ...api.as('admin'), 'idempotency-key': 'new-admin-key' };
    const first = await post('/v1/api_keys', { role: 'admin', name: 'ops' }, headers);
    expect(first.status).toBe(200);
    const secret = first.body.secret as string;
    expect(secret).toMatch(/^sk_test_/);
    const records = await api.store.readAll({ category: IDEMPOTENCY_CATEGORY });
    expect(records.length).toBeGreaterThan(0);
    expect(JSON.stringify(records.map((event) => event.data))).not.toContain(secret);
    const again = await post('/v1/api_keys', { role: 'admin', name: 'ops' }, headers);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const { secret: _secret, ...withoutSecret } = first.body;
    expect(again.body).toEqual(withoutSecret);
    for (const stream of new Set(records.map((event) => event.streamId))) {
      const read = await api.app.inject({ method: 'GET', url: `/v1/events?stream=${stream}`, headers: api.as('auditor') });
      expect(read.statusCode).toBe(200);
      expect(read.body).not.toContain(secret);
    }
  });

  it('derives generated ids from the key, so a retry that lost its record names the same thing', async () => {
    api = await openApiHarness();
    const first = await post('/v1/accounts', { currency: 'USD' }, { ...api.as('operator'), 'idempotency-key': 'derive' });
    expect(first.body.id).toMatch(/^acct_[0-9A-Za-z]{27}$/);
    const other = await post('/v1/accounts', { currency: 'USD' }, { ...api.as('operator'), 'idempotency-key': 'derive-2' });
    expect(other.body.id).not.toBe(first.body.id);
  });

  it('refuses the same key with another body: 400 idempotency_error, nothing written', async () => {
    api = await openApiHarness();
    const headers = { ...api.as('operator'), 'idempotency-key': 'k-1' };
    await post('/v1/accounts', { id: 'a', currency: 'USD' }, headers);
    const written = await ledgerEvents();
    const other = await post('/v1/accounts', { id: 'b', currency: 'USD' }, headers);
    expect(other.status).toBe(400);
    expect(other.body.error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_reused', param: 'Idempotency-Key' });
    expect(await ledgerEvents()).toBe(written);
    const otherRoute = await post('/v1/accounts/a/close', {}, headers);
    expect(otherRoute.body.error.type).toBe('idempotency_error');
  });

  it('keeps keys per API key: another key may use the same idempotency key', async () => {
    api = await openApiHarness();
    const mine = await post('/v1/accounts', { currency: 'USD' }, { ...api.as('operator'), 'idempotency-key': 'shared' });
    const theirs = await post('/v1/accounts', { currency: 'USD' }, { ...api.as('service'), 'idempotency-key': 'shared' });
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.body.id).not.toBe(mine.body.id);
  });

  it('executes concurrent duplicates once', async () => {
    await openWithTwoAccounts(false);
    const headers = { ...api.as('operator'), 'idempotency-key': 'pay-once' };
    const answers = await Promise.all(Array.from({ length: 20 }, () => post('/v1/transfers', { debit_account_id: 'src', credit_account_id: 'dst', amount: '5' }, headers)));
    expect(new Set(answers.map((answer) => answer.raw)).size).toBe(1);
    expect(answers.filter((answer) => answer.headers['idempotent-replayed'] === 'true')).toHaveLength(19);
    const balance = await api.app.inject({ method: 'GET', url: '/v1/accounts/dst/balance', headers: api.as('operator') });
    expect(balance.json().credits_posted).toBe('5');
  });

  it('commits a transfer\'s record in the same append as the transfer, and replays it byte for byte', async () => {
    await openWithTwoAccounts(true);
    const headers = { ...api.as('operator'), 'idempotency-key': 'one-append' };
    const first = await post('/v1/transfers', { debit_account_id: 'dst', credit_account_id: 'src', amount: '9' }, headers);
    expect(first.status).toBe(200);
    const [posted] = await api.store.readStream('ledger-test', { direction: 'backwards', limit: 1 });
    const records = await api.store.readAll({ category: IDEMPOTENCY_CATEGORY });
    expect(records).toHaveLength(1);
    expect(posted!.type).toBe('TransferPosted');
    expect(records[0]!.position).toBe(posted!.position + 1n);
    expect(records[0]!.recordedAt).toEqual(posted!.recordedAt);
    const head = await api.store.headPosition();
    const again = await post('/v1/transfers', { debit_account_id: 'dst', credit_account_id: 'src', amount: '9' }, headers);
    expect(again.raw).toBe(first.raw);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const other = await post('/v1/transfers', { debit_account_id: 'dst', credit_account_id: 'src', amount: '10' }, headers);
    expect(other.body.error).toMatchObject({ type: 'idempotency_error', code: 'idempotency_key_reused' });
    expect(await api.store.headPosition()).toBe(head);
  });

  it('records a refusal of the ledger with the failure it writes, and replays it', async () => {
    await openWithTwoAccounts(true);
    const headers = { ...api.as('operator'), 'idempotency-key': 'overdrawn' };
    const refused = await post('/v1/transfers', { debit_account_id: 'src', credit_account_id: 'dst', amount: '5' }, headers);
    expect(refused.status).toBe(409);
    expect(refused.body.error.type).toBe('invalid_request_error');
    const head = await api.store.headPosition();
    const replayed = await post('/v1/transfers', { debit_account_id: 'src', credit_account_id: 'dst', amount: '5' }, headers);
    expect(replayed.status).toBe(409);
    expect(replayed.raw).toBe(refused.raw);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(await api.store.headPosition()).toBe(head);
    const records = await api.store.readAll({ category: IDEMPOTENCY_CATEGORY });
    expect(records.map((record) => (record.data as { statusCode: number }).statusCode)).toEqual([409]);
  });

  it('records the domain refusals too, but not validation errors', async () => {
    api = await openApiHarness();
    const headers = { ...api.as('operator'), 'idempotency-key': 'refused' };
    const invalid = await post('/v1/transfers', { debit_account_id: 'x', credit_account_id: 'y', amount: -1 }, headers);
    expect(invalid.status).toBe(400);
    const missing = await post('/v1/transfers', { debit_account_id: 'x', credit_account_id: 'y', amount: '1' }, headers);
    expect(missing.status).toBe(404);
    const replayed = await post('/v1/transfers', { debit_account_id: 'x', credit_account_id: 'y', amount: '1' }, headers);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.body).toEqual(missing.body);
  });

  it('does not keep a failure of the handler\'s own validation: the same key then runs the corrected request', async () => {
    await openWithTwoAccounts(false);
    const headers = { ...api.as('operator'), 'idempotency-key': 'too-many' };
    const transfer = { debit_account_id: 'src', credit_account_id: 'dst', amount: '1' };
    const tooMany = await post('/v1/transfers/batch', { transfers: Array.from({ length: TRANSFERS_PER_BATCH_MAX + 1 }, () => transfer) }, headers);
    expect(tooMany.body.error.code).toBe('limit_exceeded');
    expect(await api.store.readAll({ category: IDEMPOTENCY_CATEGORY })).toHaveLength(0);
    const corrected = await post('/v1/transfers/batch', { transfers: [transfer] }, headers);
    expect(corrected.status).toBe(200);
    expect(corrected.headers['idempotent-replayed']).toBeUndefined();
  });

  it('does not keep a transient failure or a conflict: the retry with the same key and body runs; a domain refusal is kept', async () => {
    api = await openApiHarness();
    const app = await buildApp({ store: api.store, security: api.services.security, plugins: [failingOnceRoute] });
    const send = (code: ErrorCode) => app.inject({ method: 'POST', url: '/v1/failing_once', payload: { code }, headers: { ...api.as('operator'), 'idempotency-key': `once-${code}` } });
    try {
      for (const code of ['limit_exceeded', 'stream_version_conflict', 'store_unavailable', 'validation_failed', 'rate_limited'] as const) {
        expect((await send(code)).json().error.code).toBe(code);
        const retried = await send(code);
        expect(retried.statusCode).toBe(200);
        expect(retried.headers['idempotent-replayed']).toBeUndefined();
        const replayed = await send(code);
        expect(replayed.headers['idempotent-replayed']).toBe('true');
        expect(replayed.body).toBe(retried.body);
      }
      const refused = await send('exceeds_credits');
      expect(refused.statusCode).toBe(409);
      const again = await send('exceeds_credits');
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toBe(refused.body);
    } finally {
      await app.close();
    }
  });

  it('keeps no personal data in the records of the customer routes; a replay reads the customer as it is now', async () => {
    api = await openApiHarness();
    const pii = { full_name: 'Grace Hopper', email: 'grace@example.com', phone: '+1 555 0100', date_of_birth: '1906-12-09', address: '1 Navy Yard, Washington' };
    const registerHeaders = { ...api.as('operator'), 'idempotency-key': 'register-g' };
    const registered = await post('/v1/customers', pii, registerHeaders);
    expect(registered.status).toBe(200);
    expect(registered.body).toMatchObject({ object: 'customer', email: pii.email, phone: pii.phone });
    const updateHeaders = { ...api.as('operator'), 'idempotency-key': 'update-g' };
    const renamed = { ...pii, full_name: 'Grace Brewster Hopper', email: 'gbh@example.com' };
    const updated = await post(`/v1/customers/${registered.body.id}`, renamed, updateHeaders);
    expect(updated.status).toBe(200);

    const records = await api.store.readAll({ category: IDEMPOTENCY_CATEGORY });
    expect(records).toHaveLength(2);
    const recorded = JSON.stringify(records.map((event) => event.data));
    for (const value of [...Object.values(pii), ...Object.values(renamed)]) expect(recorded).not.toContain(value);
    expect(recorded).toContain(registered.body.id);

    const replayed = await post('/v1/customers', pii, registerHeaders);
    expect(replayed.status).toBe(200);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.body).toEqual({ ...registered.body, full_name: renamed.full_name, email: renamed.email });
    const replayedUpdate = await post(`/v1/customers/${registered.body.id}`, renamed, updateHeaders);
    expect(replayedUpdate.headers['idempotent-replayed']).toBe('true');
    expect(replayedUpdate.body).toEqual(updated.body);
  });

  it('keeps records durably: a restarted server replays them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daybook-idem-'));
    try {
      api = await openApiHarness({ dir });
      const headers = { ...api.as('operator'), 'idempotency-key': 'durable' };
      const first = await post('/v1/accounts', { currency: 'USD' }, headers);
      await api.close();
      api = await openApiHarness({ dir });
      // The old operator key is still registered (keys are events in the same store).
      const reopened = await post('/v1/accounts', { currency: 'USD' }, headers);
      expect(reopened.status).toBe(200);
      expect(reopened.raw).toBe(first.raw);
      expect(reopened.headers['idempotent-replayed']).toBe('true');
      const records = await api.store.readAll({ category: IDEMPOTENCY_CATEGORY });
      expect(records).toHaveLength(1);
      expect(records[0]!.metadata).toMatchObject({ correlationId: expect.any(String), mode: 'test' });
    } finally {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a malformed key', async () => {
    api = await openApiHarness();
    for (const key of ['', ' leading', 'x'.repeat(256), 'tab\there']) {
      const answer = await post('/v1/accounts', { currency: 'USD' }, { ...api.as('operator'), 'idempotency-key': key });
      expect(answer.status).toBe(400);
      expect(answer.body.error.param).toBe('Idempotency-Key');
    }
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After once a key has spent its burst, per key', async () => {
    api = await openApiHarness({ rateLimit: { perSecond: 1, burst: 3 } });
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 5; i += 1) {
      const response = await api.app.inject({ method: 'GET', url: '/v1/accounts', headers: api.as('auditor') });
      statuses.push(response.statusCode);
      if (response.statusCode === 429) {
        retryAfter = response.headers['retry-after'] as string;
        expect(response.json().error).toMatchObject({ code: 'rate_limited', type: 'invalid_request_error' });
      }
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    const other = await api.app.inject({ method: 'GET', url: '/v1/accounts', headers: api.as('support') });
    expect(other.statusCode).toBe(200);
  });
});
