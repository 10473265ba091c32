/**
 * The access audit over HTTP (`app.inject()` on a real SQLite store): a
 * read of personal data records who, what and why (Daybook-Purpose or
 * X-Purpose, null when absent); a read of no personal data, and a refused
 * one, record nothing; auditors query by subject, actor and period, writer
 * roles get 403; DAYBOOK_REQUIRE_PURPOSE refuses a read without a purpose
 * before anything is read; the buffered log keeps its records until it
 * flushes, and flushes on close. Reads of sanctions screening cases (they
 * show the screened name) and of their raw streams are recorded with the
 * screened customer as subject, and need a purpose when one is required.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_AUDIT_CATEGORY, PII_ACCESSED } from '../compliance/accessAudit/index.ts';
import { readSanctionsFiles, replaceActiveSanctionsList } from '../compliance/index.ts';
import { FIXTURE_ALT_URL, FIXTURE_SDN_URL } from '../compliance/sanctions/fixtures/fixtureList.ts';
import { type ApiHarness, openApiHarness } from './apiTestkit.ts';

async function auditCount(api: ApiHarness): Promise<number> {
  return (await api.store.readAll({ category: ACCESS_AUDIT_CATEGORY, types: [PII_ACCESSED] })).length;
}
async function inject(api: ApiHarness, method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: object) {
  const response = await api.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
  return { status: response.statusCode, body: response.json(), headers: response.headers };
}
async function registerAda(api: ApiHarness): Promise<void> {
  const registered = await inject(api, 'POST', '/v1/customers', api.as('operator'), { id: 'ada', full_name: 'Ada Lovelace', email: 'ada@example.com' });
  expect(registered.status).toBe(200);
}

describe('recording reads of personal data', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await openApiHarness();
    await registerAda(api);
  });
  afterAll(async () => { await api.close(); });
  const operatorKey = () => api.services.keys.list().find((key) => key.role === 'operator' && key.mode === 'test')!.keyId;

  it('records who read which customer, on which route, and why', async () => {
    const read = await inject(api, 'GET', '/v1/customers/ada', { ...api.as('operator'), 'daybook-purpose': 'support ticket 4711' });
    expect(read.body.full_name).toBe('Ada Lovelace');
    const audit = await inject(api, 'GET', '/v1/access_audit?subject=ada', api.as('auditor'));
    expect(audit.status).toBe(200);
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({
      object: 'access_record', actor: { key_id: operatorKey(), role: 'operator', livemode: false }, channel: 'api', method: 'GET',
      route: '/v1/customers/:id', subjects: ['ada'], purpose: 'support ticket 4711',
    });
    expect(JSON.stringify(audit.body)).not.toContain('Lovelace');
  });

  it('takes X-Purpose too, and records null without a purpose', async () => {
    await inject(api, 'GET', '/v1/customers/ada', { ...api.as('admin'), 'x-purpose': 'kyc review' });
    await inject(api, 'GET', '/v1/customers/ada', api.as('auditor'));
    const purposes = (await inject(api, 'GET', '/v1/access_audit?subject=ada', api.as('auditor'))).body.data.map((record: { purpose: string | null }) => record.purpose);
    expect(purposes).toEqual(['support ticket 4711', 'kyc review', null]);
  });

  it('records nothing for a read of no personal data, nor for a refused or missing one', async () => {
    const before = await auditCount(api);
    expect((await inject(api, 'GET', '/v1/accounts', api.as('operator'))).status).toBe(200);
    expect((await inject(api, 'GET', '/v1/customers/nobody', api.as('operator'))).status).toBe(404);
    expect((await inject(api, 'GET', '/v1/customers/ada', api.as('support'))).status).toBe(403);
    expect(await auditCount(api)).toBe(before);
  });

  it('records a raw read of a customer\'s stream with the customer as subject', async () => {
    const events = await inject(api, 'GET', '/v1/events?stream=customer-test.ada', { ...api.as('auditor'), 'daybook-purpose': 'audit' });
    expect(events.status).toBe(200);
    const records = (await inject(api, 'GET', '/v1/access_audit?subject=ada', api.as('auditor'))).body.data;
    expect(records.at(-1)).toMatchObject({ route: '/v1/events', subjects: ['ada'], purpose: 'audit' });
  });

  it('records a subject access export, which hands out the personal data decrypted', async () => {
    const before = await auditCount(api);
    const exported = await inject(api, 'GET', '/v1/admin/subjects/bankcustomer:test.ada/export', { ...api.as('auditor'), 'daybook-purpose': 'SAR 12' });
    expect(exported.status, JSON.stringify(exported.body)).toBe(200);
    expect(await auditCount(api)).toBe(before + 1);
    const [record] = (await api.store.readAll({ category: ACCESS_AUDIT_CATEGORY, types: [PII_ACCESSED], after: 0n, limit: 10_000 })).slice(-1);
    expect(record!.data).toMatchObject({ route: '/v1/admin/subjects/:subject/export', subjects: ['bankcustomer:test.ada'], purpose: 'SAR 12' });
  });

  it('filters by actor and by period, and refuses a period past its bound', async () => {
    const byActor = (await inject(api, 'GET', `/v1/access_audit?actor=${operatorKey()}`, api.as('admin'))).body.data;
    expect(byActor.map((record: { actor: { role: string } }) => record.actor.role)).toEqual(['operator']);
    const past = await inject(api, 'GET', '/v1/access_audit?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z', api.as('auditor'));
    expect(past.body).toMatchObject({ data: [], has_more: false });
    const tooLong = await inject(api, 'GET', '/v1/access_audit?from=2020-01-01T00:00:00Z&to=2022-01-01T00:00:00Z', api.as('auditor'));
    expect({ status: tooLong.status, code: tooLong.body.error.code }).toEqual({ status: 400, code: 'limit_exceeded' });
  });

  it('lets auditors and admins query, and refuses writer roles', async () => {
    for (const role of ['operator', 'service', 'support', 'approver'] as const) {
      const refused = await inject(api, 'GET', '/v1/access_audit', api.as(role));
      expect({ role, status: refused.status, code: refused.body.error.code }).toEqual({ role, status: 403, code: 'permission_denied' });
    }
    expect((await inject(api, 'GET', '/v1/access_audit', api.as('admin'))).status).toBe(200);
  });

  it('keeps a test read out of a live auditor\'s answer', async () => {
    expect((await inject(api, 'GET', '/v1/access_audit?subject=ada', api.as('auditor', 'live'))).body.data).toEqual([]);
  });
});

describe('DAYBOOK_REQUIRE_PURPOSE=true', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await openApiHarness({ accessAudit: { requirePurpose: true, write: 'sync' } });
    await registerAda(api);
  });
  afterAll(async () => { await api.close(); });

  it('refuses a read of personal data without a purpose, recording nothing, and answers one with it', async () => {
    const refused = await inject(api, 'GET', '/v1/customers/ada', api.as('operator'));
    expect({ status: refused.status, code: refused.body.error.code, param: refused.body.error.param }).toEqual({ status: 400, code: 'access_purpose_required', param: 'Daybook-Purpose' });
    expect(await auditCount(api)).toBe(0);
    expect((await inject(api, 'GET', '/v1/customers/ada', { ...api.as('operator'), 'daybook-purpose': '   ' })).status).toBe(400);
    expect((await inject(api, 'GET', '/v1/customers/ada', { ...api.as('operator'), 'daybook-purpose': 'ticket 9' })).status).toBe(200);
    expect(await auditCount(api)).toBe(1);
  });

  it('still answers reads of no personal data without a purpose', async () => {
    expect((await inject(api, 'GET', '/v1/accounts', api.as('operator'))).status).toBe(200);
  });
});

describe('the buffered log (DAYBOOK_ACCESS_AUDIT_WRITE=buffered)', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await openApiHarness({ accessAudit: { requirePurpose: false, write: 'buffered' } });
    await registerAda(api);
  });
  afterAll(async () => { await api.close(); });

  it('holds records until it flushes, and appends them all on close', async () => {
    const log = api.services.security.accessAudit!.log;
    for (let index = 0; index < 5; index++) await inject(api, 'GET', '/v1/customers/ada', api.as('operator'));
    expect(log.pending + await auditCount(api)).toBe(5);
    await log.flush();
    expect({ pending: log.pending, stored: await auditCount(api) }).toEqual({ pending: 0, stored: 5 });
    await inject(api, 'GET', '/v1/customers/ada', api.as('operator'));
    await log.close();
    expect(await auditCount(api)).toBe(6);
  });
});

describe('reads of sanctions screening cases, DAYBOOK_REQUIRE_PURPOSE=true', () => {
  let api: ApiHarness;
  const dir = mkdtempSync(join(tmpdir(), 'daybook-audit-screening-'));
  const why = (purpose: string) => ({ ...api.as('analyst'), 'daybook-purpose': purpose });
  beforeAll(async () => {
    replaceActiveSanctionsList(dir, readSanctionsFiles(fileURLToPath(FIXTURE_SDN_URL), fileURLToPath(FIXTURE_ALT_URL)), 0);
    api = await openApiHarness({ dir, accessAudit: { requirePurpose: true, write: 'sync' } });
    const registered = await inject(api, 'POST', '/v1/customers', api.as('operator'), { id: 'boris', full_name: 'Boris Testovich Fakename', email: 'boris@example.com' });
    expect(registered.status).toBe(200);
  });
  afterAll(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const lastRecord = async () => (await inject(api, 'GET', '/v1/access_audit?subject=boris', api.as('auditor'))).body.data.at(-1);

  it('refuses a list or a read of a case without a purpose, recording nothing', async () => {
    const listed = await inject(api, 'GET', '/v1/screening_cases', api.as('analyst'));
    expect({ status: listed.status, code: listed.body.error?.code }).toEqual({ status: 400, code: 'access_purpose_required' });
    const read = await inject(api, 'GET', '/v1/screening_cases/customer.boris@00000000', api.as('analyst'));
    expect({ status: read.status, code: read.body.error?.code }).toEqual({ status: 400, code: 'access_purpose_required' });
    expect(await auditCount(api)).toBe(0);
  });

  it('records who listed the cases, the screened customers, and why', async () => {
    const listed = await inject(api, 'GET', '/v1/screening_cases', why('sanctions review 7'));
    expect(listed.status).toBe(200);
    expect(listed.body.data[0]).toMatchObject({ subject: 'customer.boris', screened_name: 'Boris Testovich Fakename' });
    expect(await lastRecord()).toMatchObject({
      object: 'access_record', actor: { role: 'analyst', livemode: false }, channel: 'api', method: 'GET',
      route: '/v1/screening_cases', subjects: ['boris'], purpose: 'sanctions review 7',
    });
  });

  it('records a read of one case, and of its raw stream', async () => {
    const caseId = (await inject(api, 'GET', '/v1/screening_cases', why('find the case'))).body.data[0].id as string;
    const before = await auditCount(api);
    expect((await inject(api, 'GET', `/v1/screening_cases/${caseId}`, why('case 12'))).status).toBe(200);
    expect(await lastRecord()).toMatchObject({ route: '/v1/screening_cases/:id', subjects: ['boris'], purpose: 'case 12' });
    const raw = await inject(api, 'GET', `/v1/events?stream=screening-test.${caseId}`, { ...api.as('auditor'), 'daybook-purpose': 'audit 3' });
    expect(raw.status).toBe(200);
    expect(await lastRecord()).toMatchObject({ route: '/v1/events', subjects: ['boris'], purpose: 'audit 3' });
    expect(await auditCount(api)).toBe(before + 2);
  });

  it('records a decision on a case, and its Idempotency-Key replay (sent as text) too', async () => {
    const caseId = (await inject(api, 'GET', '/v1/screening_cases', why('find the case'))).body.data[0].id as string;
    const before = await auditCount(api);
    const decide = () => inject(api, 'POST', `/v1/screening_cases/${caseId}/clear`, { ...why('false positive 9'), 'idempotency-key': 'clear-boris-1' }, { note: 'same birth date differs' });
    const first = await decide();
    expect(first.status).toBe(200);
    expect(await lastRecord()).toMatchObject({ method: 'POST', route: '/v1/screening_cases/:id/clear', subjects: ['boris'], purpose: 'false positive 9' });
    const replay = await decide();
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toMatchObject({ screened_name: 'Boris Testovich Fakename' });
    expect(await auditCount(api)).toBe(before + 2);
  });
});
