/**
 * Sanctions screening on the Stripe listener, over real HTTP with the
 * server as `main.ts` starts it: the list is loaded into the data folder
 * after the server started (it is read again when the file changes); a
 * Stripe customer created (or renamed) with a listed name opens a screening
 * case, its payment intents cannot be confirmed while the case is open
 * (`invalid_request_error`, code `compliance_review_pending`, 403), a clean
 * customer pays, and the analyst's clear on the native API releases it.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSanctionsFiles, replaceActiveSanctionsList } from '../../compliance/index.ts';
import { FIXTURE_ALT_URL, FIXTURE_SDN_URL } from '../../compliance/sanctions/fixtures/fixtureList.ts';
import { STRIPE_TEST_SECRET, startStripeServer, stripeClient, type StripeServer } from './stripeTestkit.ts';

let running: StripeServer;
beforeAll(async () => {
  running = await startStripeServer('sqlite');
  replaceActiveSanctionsList(running.dataDir, readSanctionsFiles(fileURLToPath(FIXTURE_SDN_URL), fileURLToPath(FIXTURE_ALT_URL)), 0);
});
afterAll(async () => running?.close());

async function native(method: 'GET' | 'POST', path: string, body?: object) {
  const response = await fetch(`${running.server.url}${path}`, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: `Bearer ${STRIPE_TEST_SECRET}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
  });
  return { status: response.status, body: await response.json() as Record<string, any> };
}

describe('screening Stripe customers', () => {
  it('holds a listed customer\'s payments until the case is cleared', async () => {
    const call = stripeClient(running.url);
    const listed = await call('POST', '/v1/customers', { name: 'Olga Zanzibarova', email: 'olga@example.com' });
    expect(listed.status).toBe(200);
    const clean = await call('POST', '/v1/customers', { name: 'Grace Hopper' });
    const pay = (customer: string) => call('POST', '/v1/payment_intents', { amount: 2000, currency: 'usd', customer, payment_method: 'pm_card_visa', confirm: true });

    const refused = await pay(listed.body.id);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', code: 'compliance_review_pending' });
    // Created unconfirmed it may be, but not confirmed.
    const pending = await call('POST', '/v1/payment_intents', { amount: 2000, currency: 'usd', customer: listed.body.id, payment_method: 'pm_card_visa' });
    expect(pending.status).toBe(200);
    expect((await call('POST', `/v1/payment_intents/${pending.body.id}/confirm`, {})).body.error.code).toBe('compliance_review_pending');
    expect((await pay(clean.body.id)).body.status).toBe('succeeded');

    const cases = await native('GET', '/v1/screening_cases?status=open');
    const found = cases.body.data.filter((item: { subject: string }) => item.subject === `stripe_customer.${listed.body.id}`);
    expect(found).toHaveLength(1);
    expect(cases.body.data.some((item: { subject: string }) => item.subject === `stripe_customer.${clean.body.id}`)).toBe(false);
    expect((await native('POST', `/v1/screening_cases/${found[0].id}/clear`, { note: 'another person' })).body.status).toBe('cleared');
    expect((await pay(listed.body.id)).body.status).toBe('succeeded');
  });

  it('screens a rename', async () => {
    const call = stripeClient(running.url);
    const customer = await call('POST', '/v1/customers', { name: 'Archie Smith' });
    expect((await call('POST', `/v1/customers/${customer.body.id}`, { name: 'Archibald Ignatius Quuxley' })).status).toBe(200);
    const refused = await call('POST', '/v1/payment_intents', { amount: 2000, currency: 'usd', customer: customer.body.id, payment_method: 'pm_card_visa', confirm: true });
    expect(refused.body.error.code).toBe('compliance_review_pending');
  });
});
