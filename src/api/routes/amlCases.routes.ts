import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AML_ALERT_CATEGORY, type AmlAlertRaised, AmlCaseService, type AmlCaseState, type AmlCaseStep } from '../../compliance/aml/index.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/index.ts';
import { type Clock, DaybookError, LIST_SCAN_MAX, PAGE_SIZE_MAX, READ_BATCH_MAX } from '../../kernel/index.ts';
import { SCAN_BUDGET_NOTE } from '../listScan.ts';
import { useZod } from '../openapi.ts';
import { authOf } from '../security.ts';
import { errorResponses } from '../wire.ts';

const alertWire = z.object({
  id: z.string(), object: z.literal('aml_alert'), rule: z.string(), subject_kind: z.string(), customer_id: z.string(), mode: z.string().nullable(),
  position: z.string().meta({ description: 'Global position of the alert event (the list cursor).' }),
  data: z.record(z.string(), z.unknown()).meta({ description: 'The alert as the monitor raised it: amounts, window, evidence positions.' }),
  case: z.object({ status: z.string(), analyst: z.string().nullable(), notes: z.number() }).nullable(),
}).meta({ id: 'AmlAlert' });

const caseWire = z.object({ id: z.string(), object: z.literal('aml_case'), status: z.string(), alert_id: z.string(), analyst: z.string().nullable(), notes: z.number() }).meta({ id: 'AmlCase' });

const STEPS = { investigate: 'StartInvestigation', note: 'AddCaseNote', close: 'CloseNoAction', escalate: 'EscalateSar' } as const satisfies Record<string, AmlCaseStep['type']>;
const idParams = z.object({ id: z.string().min(1).max(200) });

/**
 * The AML case queue for analysts: the alerts the monitor raised (with
 * their case's status), opening a case on an alert, and its steps
 * (investigate, note, close with no action, escalate as a SAR). The
 * analyst is the calling key; each step is an event of `amlcase-<alertId>`.
 * A key sees the alerts of its own mode and those of banking customers.
 */
export function amlCaseRoutes(store: EventStore, clock: Clock, scanBudget: number = LIST_SCAN_MAX): FastifyPluginAsync {
  return async (plain) => {
    useZod(plain);
    const app = plain.withTypeProvider<ZodTypeProvider>();
    const cases = new AmlCaseService(store, clock);
    const tags = ['AML'];
    const visible = (alert: AmlAlertRaised['data'], mode: string) => alert.mode === null || alert.mode === mode;
    const toWire = async (event: RecordedEvent) => {
      const alert = event.data as AmlAlertRaised['data'];
      const state = await cases.get(alert.alertId);
      return {
        id: alert.alertId, object: 'aml_alert' as const, rule: alert.rule, subject_kind: alert.subjectKind, customer_id: alert.customerId, mode: alert.mode,
        position: event.position.toString(), data: alert as unknown as Record<string, unknown>, case: caseOf(state),
      };
    };
    const alertEvent = async (id: string, mode: string): Promise<RecordedEvent> => {
      const [event] = await store.readStream(`${AML_ALERT_CATEGORY}-${id}`, { limit: 1 });
      if (event === undefined || !visible(event.data as AmlAlertRaised['data'], mode)) throw new DaybookError('not_found', `no AML alert ${id}`, { id }, 'id');
      return event;
    };

    app.get('/v1/aml_alerts', {
      config: { permission: 'aml:read' },
      schema: {
        tags, summary: 'List AML alerts, oldest first, with their case status', description: ALERTS_SCAN_NOTE,
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).default(20), after: z.string().regex(/^\d{1,19}$/).optional() }),
        response: { 200: z.object({ object: z.literal('list'), data: z.array(alertWire), has_more: z.boolean(), next_cursor: z.string().nullable() }), ...errorResponses },
      },
    }, async (request) => {
      const { mode } = authOf(request);
      const { limit } = request.query;
      const after = request.query.after === undefined ? 0n : BigInt(request.query.after);
      const page = await visibleAlerts(store, after, limit, (event) => visible(event.data as AmlAlertRaised['data'], mode), scanBudget);
      const data = await Promise.all(page.events.map(toWire));
      return { object: 'list' as const, data, has_more: page.hasMore, next_cursor: page.hasMore ? page.nextCursor : null };
    });

    app.get('/v1/aml_alerts/:id', {
      config: { permission: 'aml:read' },
      schema: { tags, summary: 'Retrieve an AML alert and its case status', params: idParams, response: { 200: alertWire, ...errorResponses } },
    }, async (request) => toWire(await alertEvent(request.params.id, authOf(request).mode)));

    app.post('/v1/aml_alerts/:id/case', {
      config: { permission: 'aml:review' },
      schema: { tags, summary: 'Open the case of an AML alert', params: idParams, response: { 200: caseWire, ...errorResponses } },
    }, async (request) => {
      await alertEvent(request.params.id, authOf(request).mode);
      return caseWireOf(await cases.open(request.params.id, authOf(request).keyId));
    });

    app.post('/v1/aml_cases/:id/:step', {
      config: { permission: 'aml:review' },
      schema: {
        tags, summary: 'A step of an AML case: investigate, note, close (no action) or escalate (SAR)',
        params: z.object({ id: z.string().min(1).max(200), step: z.enum(Object.keys(STEPS) as [keyof typeof STEPS, ...Array<keyof typeof STEPS>]) }),
        body: z.strictObject({ note: z.string().min(1).max(5_000) }),
        response: { 200: caseWire, ...errorResponses },
      },
    }, async (request) => {
      await alertEvent(request.params.id, authOf(request).mode);
      const step: AmlCaseStep = { type: STEPS[request.params.step], caseId: request.params.id, analyst: authOf(request).keyId, note: request.body.note };
      return caseWireOf(await cases.step(step));
    });
  };
}

/** The list's budget, in the words of the other filtered lists (its cursor is `after`). */
const ALERTS_SCAN_NOTE = `Other modes' alerts are skipped, so the list is filtered: ${SCAN_BUDGET_NOTE.replace('`starting_after` (or `ending_before`, paging backwards)', '`after`')}`;

/**
 * One page of the alerts `accept` lets through, after a position, that
 * examines at most `budget` alert events: when the budget ends the page
 * early, `hasMore` is set and `nextCursor` is the last position examined
 * (the alerts between the page's last row and it were all skipped), so a
 * key of a mode with few alerts never makes one request walk the whole
 * category.
 */
async function visibleAlerts(store: EventStore, after: bigint, limit: number, accept: (event: RecordedEvent) => boolean, budget: number) {
  const events: RecordedEvent[] = [];
  let examined = 0;
  let last = after;
  for (;;) {
    const want = Math.min(READ_BATCH_MAX, budget - examined + 1);
    const page = await store.readAll({ after: last, category: AML_ALERT_CATEGORY, limit: want });
    for (const event of page) {
      // Alerts are left but the budget is spent: continue after the last one examined.
      if (examined === budget) return { events, hasMore: true, nextCursor: last.toString() };
      if (!accept(event)) { examined += 1; last = event.position; continue; }
      if (events.length === limit) return { events, hasMore: true, nextCursor: events.at(-1)!.position.toString() };
      examined += 1;
      last = event.position;
      events.push(event);
    }
    if (page.length < want) return { events, hasMore: false, nextCursor: null };
  }
}

function caseOf(state: AmlCaseState) {
  return state.status === 'none' ? null : { status: state.status, analyst: state.analyst, notes: state.notes };
}

function caseWireOf(state: AmlCaseState) {
  if (state.status === 'none') throw new DaybookError('not_found', 'no such AML case', {}, 'id');
  return { id: state.caseId, object: 'aml_case' as const, status: state.status, alert_id: state.alertId, analyst: state.analyst, notes: state.notes };
}
