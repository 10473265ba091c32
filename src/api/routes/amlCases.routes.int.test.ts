/**
 * The AML case queue over HTTP (`app.inject()` on a real store): alerts as
 * the monitor appends them are listed with their case status, for the key's
 * mode and banking's; an admin opens a case and takes its steps (recorded
 * with the calling key as analyst); an auditor reads but cannot act; a step
 * the case's state refuses is a 409; another mode's alert is absent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AML_ALERT_CATEGORY, AML_ALERT_RAISED, AML_CASE_CATEGORY } from '../../compliance/aml/index.ts';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

let api: ApiHarness;

async function raise(alertId: string, mode: string | null): Promise<void> {
  await api.store.append({
    streamId: `${AML_ALERT_CATEGORY}-${alertId}`, expectedVersion: 'no_stream',
    events: [{ type: AML_ALERT_RAISED, data: { alertId, rule: 'ctr', subjectKind: 'bank_customer', customerId: 'cus-1', mode, amountMinor: '1000001', currency: 'USD' } }],
  });
}

const call = (method: 'GET' | 'POST', url: string, role: Parameters<ApiHarness['as']>[0], payload?: object) =>
  api.app.inject({ method, url, payload, headers: api.as(role) });

beforeAll(async () => {
  api = await openApiHarness();
  await raise('al_bank', null);
  await raise('al_test', 'test');
  await raise('al_live', 'live');
});
afterAll(async () => { await api.close(); });

describe('AML alerts and cases', () => {
  it('lists the alerts of the key\'s mode and banking\'s, oldest first, pages with a cursor', async () => {
    const first = await call('GET', '/v1/aml_alerts?limit=1', 'auditor');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ data: [{ id: 'al_bank', rule: 'ctr', case: null }], has_more: true });
    const rest = await call('GET', `/v1/aml_alerts?limit=5&after=${first.json().next_cursor}`, 'auditor');
    expect(rest.json().data.map((alert: { id: string }) => alert.id)).toEqual(['al_test']);
    expect(rest.json().has_more).toBe(false);
    expect((await call('GET', '/v1/aml_alerts/al_live', 'auditor')).statusCode).toBe(404);
    expect((await call('GET', '/v1/aml_alerts', 'support')).statusCode).toBe(403);
  });

  it('lets an admin open a case and take its steps; an auditor only reads; a refused step is a 409', async () => {
    expect((await call('POST', '/v1/aml_alerts/al_test/case', 'auditor', {})).statusCode).toBe(403);
    const opened = await call('POST', '/v1/aml_alerts/al_test/case', 'admin', {});
    expect(opened.statusCode, opened.body).toBe(200);
    expect(opened.json()).toMatchObject({ id: 'al_test', object: 'aml_case', status: 'open' });
    const investigating = await call('POST', '/v1/aml_cases/al_test/investigate', 'admin', { note: 'pulling the statements' });
    expect(investigating.json()).toMatchObject({ status: 'investigating' });
    const escalated = await call('POST', '/v1/aml_cases/al_test/escalate', 'admin', { note: 'funds routed through a shell company' });
    expect(escalated.json()).toMatchObject({ status: 'escalated_sar', notes: 2 });
    const refused = await call('POST', '/v1/aml_cases/al_test/close', 'admin', { note: 'too late' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'aml_case_unexpected_state' });
    expect((await call('GET', '/v1/aml_alerts/al_test', 'auditor')).json()).toMatchObject({ case: { status: 'escalated_sar' } });
    const steps = await api.store.readStream(`${AML_CASE_CATEGORY}-al_test`);
    expect(steps.map((event) => event.metadata.actor)).toEqual(steps.map(() => steps[0]!.metadata.actor));
    expect(typeof steps[0]!.metadata.actor).toBe('string');
    expect((await call('POST', '/v1/aml_cases/al_live/investigate', 'admin', { note: 'x' })).statusCode).toBe(404);
    expect((await call('POST', '/v1/aml_cases/al_bank/dance', 'admin', { note: 'x' })).statusCode).toBe(400);
  });
});
