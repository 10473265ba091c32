/**
 * GDPR erasure end to end, on a real server (SQLite, and PostgreSQL when
 * available): personal data of bank customers, Stripe customers and
 * connected accounts is stored only as ciphertext; after erasing a subject,
 * (1) the API reads "[erased]" (and other subjects stay readable),
 * (2) projections rebuilt from zero answer the same, (3) the ledger still
 * balances, (4) `daybook verify` (hash chains and seals) still passes.
 * Also: erasing twice, an unknown subject, another mode's subject, and
 * new personal data for an erased subject are refused with clear codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIfPostgres } from '../../test/support/postgres.ts';
import { type Backend, STRIPE_TEST_SECRET, startStripeServer, stripeClient, type StripeServer } from '../api/stripe/stripeTestkit.ts';
import { cashAccount, customerLedgerAccount, feeAccount } from '../banking/index.ts';
import { runCli } from '../cli/daybook.ts';
import type { RawEvent } from '../eventstore/index.ts';

function nativeClient(baseUrl: string) {
  return async (method: 'GET' | 'POST', path: string, body?: object): Promise<{ status: number; body: Record<string, any> }> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { authorization: `Bearer ${STRIPE_TEST_SECRET}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
    return { status: response.status, body: await response.json() as Record<string, any> };
  };
}

async function rawLogText(running: StripeServer): Promise<string> {
  const events: RawEvent[] = [];
  for (let after = 0n; ;) {
    const page = await running.server.store.readRawLog({ after, limit: 1000 });
    if (page.length === 0) return events.map((event) => event.dataJson).join('\n');
    events.push(...page);
    after = page.at(-1)!.position;
  }
}

function describeErasure(backend: Backend): void {
  let running: StripeServer;
  let native: ReturnType<typeof nativeClient>;
  let stripe: ReturnType<typeof stripeClient>;
  let stripeCustomerId: string;
  let connectedAccountId: string;
  /** The Stripe customer's card and payment, neither holding personal data of its own (no key): erased with it all the same. */
  let paymentMethodId: string;
  let paymentIntentId: string;

  beforeAll(async () => {
    running = await startStripeServer(backend, { DAYBOOK_SEAL_EVERY_EVENTS: '5', DAYBOOK_SEAL_EVERY_MS: '0' });
    native = nativeClient(running.server.url);
    stripe = stripeClient(running.url);
    const customer = (pii: Record<string, string>) => ({ kind: 'individual', ...pii });
    expect((await native('POST', '/v1/customers', customer({ id: 'ada', full_name: 'Ada Lovelace', email: 'ada@example.com', date_of_birth: '1815-12-10' }))).status).toBe(200);
    expect((await native('POST', '/v1/customers', customer({ id: 'bob', full_name: 'Bob Builder', email: 'bob@example.com' }))).status).toBe(200);
    const open = (id: string, customerId: string) => native('POST', '/v1/bank_accounts', { id, customer_id: customerId, type: 'checking', currency: 'USD', regulatory_tier: 'retail', initial_balance: '10000' });
    expect((await open('acc-ada', 'ada')).status).toBe(200);
    expect((await open('acc-bob', 'bob')).status).toBe(200);
    expect((await native('POST', '/v1/bank_transfers', { from_account_id: 'acc-ada', to_account_id: 'acc-bob', amount: '2500' })).status).toBe(200);
    const created = await stripe('POST', '/v1/customers', { name: 'Grace Hopper', email: 'grace@example.com', address: { line1: '1 Navy Yard', city: 'Arlington' } });
    expect(created.status).toBe(200);
    stripeCustomerId = created.body.id;
    const pm = await stripe('POST', '/v1/payment_methods/pm_card_visa/attach', { customer: stripeCustomerId });
    paymentMethodId = pm.body.id;
    const intent = await stripe('POST', '/v1/payment_intents', { amount: 5000, currency: 'usd', customer: stripeCustomerId, payment_method: pm.body.id, confirm: true });
    expect(intent.status).toBe(200);
    paymentIntentId = intent.body.id;
    const account = await stripe('POST', '/v1/accounts', {
      type: 'custom', country: 'US', business_type: 'individual',
      individual: { first_name: 'Katherine', last_name: 'Johnson', email: 'kj@example.com', dob: { day: 26, month: 8, year: 1918 } }, tos_acceptance: { date: 1_700_000_000, ip: '203.0.113.8' },
    });
    expect(account.status).toBe(200);
    connectedAccountId = account.body.id;
  });

  afterAll(async () => { await running?.close(); });

  it('stores personal data only as ciphertext, and reads it back decrypted', async () => {
    const raw = await rawLogText(running);
    for (const secret of ['Lovelace', 'ada@example.com', '1815-12-10', 'Bob Builder', 'Grace Hopper', 'grace@example.com', 'Navy Yard', 'Katherine', 'kj@example.com', '203.0.113.8']) expect(raw).not.toContain(secret);
    expect(raw).toContain('"$enc":"v1"');
    expect((await native('GET', '/v1/customers/ada')).body).toMatchObject({ full_name: 'Ada Lovelace', email: 'ada@example.com' });
    expect((await stripe('GET', `/v1/customers/${stripeCustomerId}`)).body).toMatchObject({ name: 'Grace Hopper', address: { city: 'Arlington' } });
  });

  it('erases subjects: reads, rebuilt projections, ledger and verify all agree', async () => {
    const erased = await native('POST', '/v1/admin/erasures', { subject: 'bankcustomer:test.ada' });
    expect(erased).toMatchObject({ status: 200, body: { object: 'erasure', subject: 'bankcustomer:test.ada' } });
    expect((await native('POST', '/v1/admin/erasures', { subject: `pcustomer:test:${stripeCustomerId}` })).status).toBe(200);
    expect((await native('POST', '/v1/admin/erasures', { subject: `paccount:test:${connectedAccountId}` })).status).toBe(200);

    // (1) Reads: placeholders for the erased, nulls stay null, others untouched.
    expect((await native('GET', '/v1/customers/ada')).body).toMatchObject({ full_name: '[erased]', email: '[erased]', date_of_birth: '[erased]', phone: null, address: null });
    expect((await native('GET', '/v1/customers/bob')).body).toMatchObject({ full_name: 'Bob Builder', email: 'bob@example.com' });
    expect((await stripe('GET', `/v1/customers/${stripeCustomerId}`)).body).toMatchObject({ name: '[erased]', email: '[erased]', phone: null, address: { line1: '[erased]', city: '[erased]', line2: null } });
    expect((await stripe('GET', `/v1/accounts/${connectedAccountId}`)).body.individual).toMatchObject({ first_name: '[erased]', last_name: '[erased]' });
    const events = await native('GET', '/v1/events?stream=privacy-erasures');
    expect(events.body.data.map((event: { data: { subject: string } }) => event.data.subject)).toEqual([
      'bankcustomer:test.ada', `pmethod:test:${paymentMethodId}`, `pintent:test:${paymentIntentId}`, `pcustomer:test:${stripeCustomerId}`, `paccount:test:${connectedAccountId}`,
    ]);

    // (2) Projections rebuilt from zero answer the same.
    for (const name of running.server.projections.registry.names()) await running.server.projections.rebuild(name);
    expect((await native('GET', '/v1/bank_accounts/acc-ada/balance')).body).toMatchObject({ available: '7500' });
    const listed = await stripe('GET', '/v1/customers');
    expect(listed.body.data.find((item: { id: string }) => item.id === stripeCustomerId)).toMatchObject({ name: '[erased]' });
    const intents = await stripe('GET', '/v1/payment_intents', { customer: stripeCustomerId });
    expect(intents.body.data).toHaveLength(1);

    // (3) The ledger balances: customer accounts, cash and fees sum to zero.
    const bank = running.server.services.banking.services.test;
    const net = (id: string): bigint => {
      const balances = bank.ledger.state.account(id)?.balances;
      return balances === undefined ? 0n : balances.creditsPosted - balances.debitsPosted;
    };
    const sum = [customerLedgerAccount('test.acc-ada'), customerLedgerAccount('test.acc-bob'), cashAccount('USD'), feeAccount('USD')].reduce((total, id) => total + net(id), 0n);
    expect(bank.ledgerBalanceMinor('test.acc-ada')).toBe(7500n);
    expect(sum).toBe(0n);

    // (4) Hash chains and seals still verify.
    await running.server.sealer?.sealNow();
    const out: string[] = [];
    const io = { stdout: { write: (text: string) => out.push(text) }, stderr: { write: (text: string) => out.push(text) }, env: { DAYBOOK_DATA_DIR: running.dataDir } };
    const args = running.databaseUrl === undefined ? ['verify', '--json'] : ['verify', '--json', '--database-url', running.databaseUrl];
    expect(await runCli(args, io)).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({ ok: true });
  });

  it('refuses erasing twice, an unknown subject, another mode, a malformed subject, and new personal data for the erased', async () => {
    expect((await native('POST', '/v1/admin/erasures', { subject: 'bankcustomer:test.ada' })).body.error).toMatchObject({ code: 'subject_already_erased', param: 'subject' });
    expect((await native('POST', '/v1/admin/erasures', { subject: 'bankcustomer:test.nobody' })).body.error).toMatchObject({ code: 'subject_not_found' });
    expect((await native('POST', '/v1/admin/erasures', { subject: 'bankcustomer:live.bob' })).status).toBe(404);
    expect((await native('POST', '/v1/admin/erasures', { subject: 'ada' })).body.error).toMatchObject({ code: 'validation_failed' });
    const update = await native('POST', '/v1/customers/ada', { full_name: 'Ada King', email: 'ada@example.org' });
    expect(update).toMatchObject({ status: 409, body: { error: { code: 'subject_already_erased' } } });
    expect((await native('GET', '/v1/customers/bob')).body.full_name).toBe('Bob Builder');
  });

  it('exports what is held about a subject (SAR), decrypted, with events and related ids', async () => {
    const bob = await native('GET', `/v1/admin/subjects/${encodeURIComponent('bankcustomer:test.bob')}/export`);
    expect(bob.body).toMatchObject({ subject: 'bankcustomer:test.bob', status: 'active', personalData: { fullName: 'Bob Builder' }, related: { bankAccounts: ['test.acc-bob'] } });
    expect(bob.body.events[0]).toMatchObject({ type: 'CustomerRegistered', version: '1', streamId: 'customer-test.bob' });
    expect(bob.body.related.bankTransactions.length).toBeGreaterThanOrEqual(2);
    const ada = await native('GET', `/v1/admin/subjects/${encodeURIComponent('bankcustomer:test.ada')}/export`);
    expect(ada.body).toMatchObject({ status: 'erased', personalData: { fullName: '[erased]' }, erasure: { type: 'DataSubjectErased' } });
    const grace = await native('GET', `/v1/admin/subjects/${encodeURIComponent(`pcustomer:test:${stripeCustomerId}`)}/export`);
    expect(grace.body.related.paymentIntents).toHaveLength(1);
    expect(grace.body.related.paymentMethods).toHaveLength(1);
  });
}

describe('erasure on SQLite', () => describeErasure('sqlite'));
describeIfPostgres('erasure on PostgreSQL', () => describeErasure('postgres'));
