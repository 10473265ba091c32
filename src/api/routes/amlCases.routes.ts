import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AML_ALERT_CATEGORY, type AmlAlertRaised, AmlCaseService, type AmlCaseState, type AmlCaseStep } from '../../compliance/aml/index.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/index.ts';
import { type Clock, DaybookError, PAGE_SIZE_MAX, READ_BATCH_MAX } from '../../kernel/index.ts';
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
export function amlCaseRoutes(store: EventStore, clock: Clock): FastifyPluginAsync {
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
        tags, summary: 'List AML alerts, oldest first, with their case status',
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).default(20), after: z.string().regex(/^\d{1,19}$/).optional() }),
        response: { 200: z.object({ object: z.literal('list'), data: z.array(alertWire), has_more: z.boolean(), next_cursor: z.string().nullable() }), ...errorResponses },
      },
    }, async (request) => {
      const { mode } = authOf(request);
      const { limit } = request.query;
      let after = request.query.after === undefined ? 0n : BigInt(request.query.after);
      const data: Array<Awaited<ReturnType<typeof toWire>>> = [];
      let hasMore = false;
      // Pages of the alert category; other modes' alerts are skipped, so a page may take several reads.
      for (;;) {
        const page = await store.readAll({ after, category: AML_ALERT_CATEGORY, limit: READ_BATCH_MAX });
        for (const event of page) {
          if (!visible(event.data as AmlAlertRaised['data'], mode)) continue;
          if (data.length === limit) { hasMore = true; break; }
          data.push(await toWire(event));
        }
        if (hasMore || page.length < READ_BATCH_MAX) break;
        after = page.at(-1)!.position;
      }
      return { object: 'list' as const, data, has_more: hasMore, next_cursor: hasMore ? data.at(-1)!.position : null };
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

function caseOf(state: AmlCaseState) {
  return state.status === 'none' ? null : { status: state.status, analyst: state.analyst, notes: state.notes };
}

function caseWireOf(state: AmlCaseState) {
  if (state.status === 'none') throw new DaybookError('not_found', 'no such AML case', {}, 'id');
  return { id: state.caseId, object: 'aml_case' as const, status: state.status, alert_id: state.alertId, analyst: state.analyst, notes: state.notes };
}
