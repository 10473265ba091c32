/**
 * Maker-checker and the access audit as the server wires them from its
 * configuration (`startServer`, real HTTP), on SQLite and on PostgreSQL:
 * DAYBOOK_APPROVAL_TRANSFER_THRESHOLD_MINOR holds a transfer for a checker
 * and the approval runs it once; a Stripe-compatible customer list read is
 * recorded with its purpose and found by an auditor on the native API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIfPostgres } from '../../test/support/postgres.ts';
import { type Backend, STRIPE_TEST_SECRET, type StripeServer, startStripeServer, stripeClient } from './stripe/stripeTestkit.ts';

function describeSox(backend: Backend): void {
  let stripe: StripeServer;
  let approver: string;
  beforeAll(async () => {
    stripe = await startStripeServer(backend, { DAYBOOK_APPROVAL_TRANSFER_THRESHOLD_MINOR: '1000' });
    approver = (await stripe.server.services.keys.create({ role: 'approver', mode: 'test', owner: 'checker', createdBy: 'test' })).secret;
  });
  afterAll(async () => { await stripe.close(); });

  const native = async (method: 'GET' | 'POST', path: string, body?: object, secret = STRIPE_TEST_SECRET) => {
    const response = await fetch(`${stripe.server.url}${path}`, {
      method, headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() as Record<string, any> };
  };

  it('holds a transfer at the threshold for a checker, and runs it once on approval', async () => {
    for (const id of ['vault', 'client']) expect((await native('POST', '/v1/accounts', { id, currency: 'USD' })).status).toBe(200);
    expect((await native('POST', '/v1/transfers', { id: 't-small', debit_account_id: 'vault', credit_account_id: 'client', amount: '999' })).status).toBe(200);
    const asked = await native('POST', '/v1/transfers', { id: 't-big', debit_account_id: 'vault', credit_account_id: 'client', amount: '1000' });
    expect(asked).toMatchObject({ status: 202, body: { object: 'approval_request', status: 'pending', action: 'transfer' } });
    expect((await native('POST', `/v1/approval_requests/${asked.body.id}/approve`, {})).body.error.code).toBe('approval_self_approval');
    const approved = await native('POST', `/v1/approval_requests/${asked.body.id}/approve`, {}, approver);
    expect(approved.body).toMatchObject({ status: 'executed', result: { object: 'transfer', id: 't-big' } });
    expect((await native('POST', `/v1/approval_requests/${asked.body.id}/approve`, {}, approver)).status).toBe(409);
    expect((await native('GET', '/v1/accounts/client')).body.balances.credits_posted).toBe('1999');
  });

  it('records a Stripe customer list read with its purpose, for auditors', async () => {
    const client = stripeClient(stripe.url);
    const created = await client('POST', '/v1/customers', { name: 'Jane Roe', email: 'jane@example.com' });
    expect(created.status).toBe(200);
    const listed = await client('GET', '/v1/customers', { limit: 3 }, { 'daybook-purpose': 'chargeback review' });
    expect(listed.body.data.map((customer: { id: string }) => customer.id)).toContain(created.body.id);
    const audit = await native('GET', `/v1/access_audit?subject=${created.body.id}`);
    expect(audit.body.data).toEqual([expect.objectContaining({ channel: 'stripe', route: '/v1/customers', purpose: 'chargeback review', subjects: [created.body.id] })]);
  });

  it('records reads of payment objects that carry personal data, and none of a bare payment', async () => {
    const client = stripeClient(stripe.url);
    const method = await client('POST', '/v1/payment_methods', { type: 'card', card: { token: 'tok_visa' }, billing_details: { name: 'Jane Roe', email: 'jane@example.com' } });
    expect(method.status).toBe(200);
    const described = await client('POST', '/v1/payment_intents', { amount: 1200, currency: 'usd', description: 'order for Jane Roe', receipt_email: 'jane@example.com' });
    const bare = await client('POST', '/v1/payment_intents', { amount: 1300, currency: 'usd' });
    expect([described.status, bare.status]).toEqual([200, 200]);
    const why = { 'daybook-purpose': 'dispute evidence' };
    expect((await client('GET', `/v1/payment_methods/${method.body.id}`, undefined, why)).status).toBe(200);
    expect((await client('GET', `/v1/payment_intents/${described.body.id}`, undefined, why)).status).toBe(200);
    expect((await client('GET', `/v1/payment_intents/${bare.body.id}`, undefined, why)).status).toBe(200);
    const listed = await client('GET', '/v1/payment_intents', { limit: 100 }, why);
    expect(listed.body.data.map((intent: { id: string }) => intent.id)).toEqual(expect.arrayContaining([described.body.id, bare.body.id]));
    const auditOf = async (subject: string) => (await native('GET', `/v1/access_audit?subject=${subject}`)).body.data as Array<Record<string, unknown>>;
    expect(await auditOf(method.body.id)).toEqual([expect.objectContaining({ channel: 'stripe', route: '/v1/payment_methods/:id', purpose: 'dispute evidence', subjects: [method.body.id] })]);
    const intentReads = await auditOf(described.body.id);
    expect(intentReads.map((entry) => entry.route).sort()).toEqual(['/v1/payment_intents', '/v1/payment_intents/:id']);
    expect(await auditOf(bare.body.id)).toEqual([]);
    expect(intentReads.find((entry) => entry.route === '/v1/payment_intents')!.subjects).not.toContain(bare.body.id);

    // The raw stream of a payment object is personal data too: recorded; and the support role's live feed may not carry it.
    const auditor = (await stripe.server.services.keys.create({ role: 'auditor', mode: 'test', owner: 'auditor', createdBy: 'test' })).secret;
    const raw = await native('GET', `/v1/events?stream=pintent-test.${described.body.id}`, undefined, auditor);
    expect(raw.status).toBe(200);
    expect((await auditOf(described.body.id)).map((entry) => entry.route)).toContain('/v1/events');
    const support = (await stripe.server.services.keys.create({ role: 'support', mode: 'test', owner: 'support', createdBy: 'test' })).secret;
    for (const category of ['pintent', 'pmethod', 'ppayout']) {
      const feed = await fetch(`${stripe.server.url}/v1/stream?category=${category}`, { headers: { authorization: `Bearer ${support}` } });
      expect(feed.status).toBe(403);
      await feed.body?.cancel();
    }
  });
}

describe('maker-checker and access audit in the server, on SQLite', () => describeSox('sqlite'));
describeIfPostgres('maker-checker and access audit in the server, on PostgreSQL', () => describeSox('postgres'));
