/**
 * `GET /v1/aml_alerts` under its scan budget (`app.inject()` on a real
 * store): a test-mode key whose alerts sit on either side of more than
 * LIST_SCAN_MAX live alerts gets a first page that ends where the budget
 * ran out, with `has_more` and a `next_cursor` that finds the rest; the
 * alerts it skipped are never answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AML_ALERT_CATEGORY, AML_ALERT_RAISED } from '../../compliance/aml/index.ts';
import { LIST_SCAN_MAX, STREAMS_PER_APPEND_MAX } from '../../kernel/index.ts';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

let api: ApiHarness;
const LIVE_ALERTS = LIST_SCAN_MAX + 5;

const alert = (alertId: string, mode: string) => ({
  streamId: `${AML_ALERT_CATEGORY}-${alertId}`, expectedVersion: 'no_stream' as const,
  events: [{ type: AML_ALERT_RAISED, data: { alertId, rule: 'ctr', subjectKind: 'stripe_customer', customerId: 'cus_1', mode, amountMinor: '1000001', currency: 'USD' } }],
});

beforeAll(async () => {
  api = await openApiHarness();
  await api.store.append(alert('al_first', 'test'));
  for (let start = 0; start < LIVE_ALERTS; start += STREAMS_PER_APPEND_MAX) {
    const count = Math.min(STREAMS_PER_APPEND_MAX, LIVE_ALERTS - start);
    await api.store.append(Array.from({ length: count }, (_, offset) => alert(`al_live${start + offset}`, 'live')));
  }
  await api.store.append(alert('al_last', 'test'));
}, 120_000);
afterAll(async () => { await api.close(); });

describe('GET /v1/aml_alerts past the scan budget', () => {
  it('ends the page where the budget ran out, with a cursor that finds the rest', async () => {
    const get = async (url: string) => {
      const response = await api.app.inject({ method: 'GET', url, headers: api.as('auditor') });
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    };
    const first = await get('/v1/aml_alerts?limit=10');
    expect(first.data.map((row: { id: string }) => row.id)).toEqual(['al_first']);
    expect(first.has_more).toBe(true);
    // The budget ends at the LIST_SCAN_MAX-th alert examined: al_first, then LIST_SCAN_MAX - 1 live ones.
    const [lastExamined] = await api.store.readStream(`${AML_ALERT_CATEGORY}-al_live${LIST_SCAN_MAX - 2}`);
    expect(first.next_cursor).toBe(lastExamined!.position.toString());
    const rest = await get(`/v1/aml_alerts?limit=10&after=${first.next_cursor}`);
    expect(rest.data.map((row: { id: string }) => row.id)).toEqual(['al_last']);
    expect(rest).toMatchObject({ has_more: false, next_cursor: null });
  });
});
