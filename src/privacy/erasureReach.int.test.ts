/**
 * Erasure reaches personal data outside the customers' own fields, on a
 * real server (SQLite, and PostgreSQL when available) with the fixture
 * sanctions list loaded: a screening case's screened name, the listed
 * names it matched and the analyst's note, and a Stripe customer's
 * `description` and `metadata` values are stored only as ciphertext under
 * the customer's key. After erasing the customers, the screening case
 * read, the customer read, the Stripe event rendering and projections
 * rebuilt from zero answer "[erased]" (metadata keys stay), the raw stored
 * rows hold none of the plaintext, and `daybook verify` still passes. The
 * subject access export carries the cases too; an analyst may still decide
 * an erased customer's case, and its note is not kept.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeIfPostgres } from '../../test/support/postgres.ts';
import { type Backend, STRIPE_TEST_SECRET, startStripeServer, storedRows, stripeClient, type StripeServer } from '../api/stripe/stripeTestkit.ts';
import { runCli } from '../cli/daybook.ts';
import { readSanctionsFiles, replaceActiveSanctionsList } from '../compliance/index.ts';
import { FIXTURE_ALT_URL, FIXTURE_SDN_URL } from '../compliance/sanctions/fixtures/fixtureList.ts';

const BANK_NAME = 'Boris Testovich Fakename';
const STRIPE_NAME = 'Helga Maria Frobnitz';
const DESCRIPTION = 'VIP client, passport X1234567';
const METADATA = { note: 'met Helga at the Berlin office', tier: 'gold-secret-tier' };
const ANALYST_NOTE = 'born 1970 in Minsk per passport scan';
/** What must not be found in the stored rows once written, nor read back once erased (the listed names matched included). */
const SECRETS = ['Fakename', 'FAKENAME', 'Frobnitz', 'FROBNITZ', 'Helga', DESCRIPTION, METADATA.note, METADATA.tier, ANALYST_NOTE];

/** Names the secret found, without dumping the whole text. */
function expectNoneOf(text: string): void {
  expect(SECRETS.filter((secret) => text.includes(secret))).toEqual([]);
}

function nativeClient(baseUrl: string) {
  return async (method: 'GET' | 'POST', path: string, body?: object, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, any>; replayed: boolean }> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { authorization: `Bearer ${STRIPE_TEST_SECRET}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    });
    return { status: response.status, body: await response.json() as Record<string, any>, replayed: response.headers.get('idempotent-replayed') === 'true' };
  };
}


function describeErasureReach(backend: Backend): void {
  let running: StripeServer;
  let native: ReturnType<typeof nativeClient>;
  let stripe: ReturnType<typeof stripeClient>;
  let customerId: string;
  let bankCaseId: string;
  let stripeCaseId: string;

  const casesOf = async (): Promise<Array<Record<string, any>>> => {
    const listed = await native('GET', '/v1/screening_cases');
    expect(listed.status).toBe(200);
    return listed.body.data;
  };

  beforeAll(async () => {
    running = await startStripeServer(backend, { DAYBOOK_SEAL_EVERY_EVENTS: '5', DAYBOOK_SEAL_EVERY_MS: '0' });
    replaceActiveSanctionsList(running.dataDir, readSanctionsFiles(fileURLToPath(FIXTURE_SDN_URL), fileURLToPath(FIXTURE_ALT_URL)), 0);
    native = nativeClient(running.server.url);
    stripe = stripeClient(running.url);
    expect((await native('POST', '/v1/customers', { id: 'boris', kind: 'individual', full_name: BANK_NAME, email: 'boris@example.com' })).status).toBe(200);
    const created = await stripe('POST', '/v1/customers', { name: STRIPE_NAME, email: 'helga@example.com', description: DESCRIPTION, metadata: METADATA });
    expect(created.status).toBe(200);
    customerId = created.body.id;
    const cases = await casesOf();
    bankCaseId = cases.find((item) => item.subject === 'customer.boris')!.id;
    stripeCaseId = cases.find((item) => item.subject === `stripe_customer.${customerId}`)!.id;
    // With an Idempotency-Key: the record of the decision must not keep the screened name (it outlives an erasure).
    const cleared = await native('POST', `/v1/screening_cases/${bankCaseId}/clear`, { note: ANALYST_NOTE }, { 'idempotency-key': 'clear-boris' });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ screened_name: BANK_NAME, status: 'cleared' });
    const replayed = await native('POST', `/v1/screening_cases/${bankCaseId}/clear`, { note: ANALYST_NOTE }, { 'idempotency-key': 'clear-boris' });
    expect(replayed).toMatchObject({ status: 200, replayed: true, body: { id: bankCaseId, screened_name: BANK_NAME, status: 'cleared' } });
  });

  afterAll(async () => { await running?.close(); });

  it('stores the screened and matched names, the note, description and metadata values only as ciphertext, and reads them back', async () => {
    const stored = await storedRows(running);
    expectNoneOf(stored);
    expect((await native('GET', `/v1/screening_cases/${bankCaseId}`)).body).toMatchObject({ screened_name: BANK_NAME, status: 'cleared', hits: [{ ent_num: 9001 }] });
    expect((await native('GET', `/v1/screening_cases/${stripeCaseId}`)).body).toMatchObject({ screened_name: STRIPE_NAME, status: 'open' });
    expect((await stripe('GET', `/v1/customers/${customerId}`)).body).toMatchObject({ description: DESCRIPTION, metadata: METADATA });
  });

  it('exports a customer\'s screening cases with what is held about it (subject access)', async () => {
    const exported = await native('GET', `/v1/admin/subjects/${encodeURIComponent(`pcustomer:test:${customerId}`)}/export`);
    expect(exported.status).toBe(200);
    expect(exported.body.related.screeningCases).toEqual([`test.${stripeCaseId}`]);
    expect(exported.body.events.map((event: { type: string }) => event.type)).toEqual(['StripeCustomerCreated', 'SanctionsHitRecorded']);
    expect(exported.body.events[1].data).toMatchObject({ screenedName: STRIPE_NAME });
    const bank = await native('GET', `/v1/admin/subjects/${encodeURIComponent('bankcustomer:test.boris')}/export`);
    expect(bank.body.events.map((event: { type: string }) => event.type)).toEqual(['CustomerRegistered', 'SanctionsHitRecorded', 'ScreeningCaseCleared']);
    expect(bank.body.events[2].data).toMatchObject({ note: ANALYST_NOTE });
  });

  it('erases them with the customer: case reads, customer reads, event renderings, rebuilt projections and verify agree', async () => {
    expect((await native('POST', '/v1/admin/erasures', { subject: 'bankcustomer:test.boris' })).status).toBe(200);
    expect((await native('POST', '/v1/admin/erasures', { subject: `pcustomer:test:${customerId}` })).status).toBe(200);

    const expectErased = async (): Promise<void> => {
      for (const caseId of [bankCaseId, stripeCaseId]) {
        const read = await native('GET', `/v1/screening_cases/${caseId}`);
        expect(read.status).toBe(200);
        expect(read.body.screened_name).toBe('[erased]');
        expect(read.body.hits[0]).toMatchObject({ name: '[erased]', matched_name: '[erased]' });
      }
      const listed = (await casesOf()).filter((item) => item.id === bankCaseId || item.id === stripeCaseId);
      expect(listed.map((item) => item.screened_name)).toEqual(['[erased]', '[erased]']);
      expect((await native('GET', `/v1/screening_cases/${bankCaseId}`)).body.status).toBe('cleared');
      const customer = await stripe('GET', `/v1/customers/${customerId}`);
      expect(customer.body).toMatchObject({ name: '[erased]', description: '[erased]', metadata: { note: '[erased]', tier: '[erased]' } });
      const events = await stripe('GET', '/v1/events', { type: 'customer.created' });
      const rendered = events.body.data.find((event: { data: { object: { id: string } } }) => event.data.object.id === customerId);
      expect(rendered.data.object).toMatchObject({ description: '[erased]', metadata: { note: '[erased]', tier: '[erased]' } });
      const everything = JSON.stringify([listed, customer.body, events.body]);
      expectNoneOf(everything);
    };
    await expectErased();

    for (const name of running.server.projections.registry.names()) await running.server.projections.rebuild(name);
    await expectErased();

    const stored = await storedRows(running);
    expectNoneOf(stored);
    const exported = await native('GET', `/v1/admin/subjects/${encodeURIComponent('bankcustomer:test.boris')}/export`);
    expect(exported.body.events.slice(1).map((event: { data: Record<string, unknown> }) => event.data.screenedName ?? event.data.note)).toEqual(['[erased]', '[erased]']);

    await running.server.sealer?.sealNow();
    const out: string[] = [];
    const io = { stdout: { write: (text: string) => out.push(text) }, stderr: { write: (text: string) => out.push(text) }, env: { DAYBOOK_DATA_DIR: running.dataDir } };
    const args = running.databaseUrl === undefined ? ['verify', '--json'] : ['verify', '--json', '--database-url', running.databaseUrl];
    expect(await runCli(args, io)).toBe(0);
    expect(JSON.parse(out.join(''))).toMatchObject({ ok: true });
  });

  it('still lets an analyst decide the case of an erased customer, keeping no note', async () => {
    const confirmed = await native('POST', `/v1/screening_cases/${stripeCaseId}/confirm`, { note: 'Helga again' });
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
    expect(confirmed.body).toMatchObject({ status: 'confirmed', screened_name: '[erased]' });
    expect((await storedRows(running)).includes('Helga again')).toBe(false);
  });
}

describe('erasure reach on SQLite', () => describeErasureReach('sqlite'));
describeIfPostgres('erasure reach on PostgreSQL', () => describeErasureReach('postgres'));
