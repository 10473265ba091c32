import type { RecordedAnswer } from '../idempotency.hooks.ts';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ScreeningCaseView } from '../../compliance/index.ts';
import { DaybookError, PAGE_SIZE_MAX } from '../../kernel/index.ts';
import type { ComplianceApi } from '../complianceApi.ts';
import { nextCursorWire, SCAN_BUDGET_NOTE } from '../listScan.ts';
import { useZod } from '../openapi.ts';
import { authOf } from '../security.ts';
import { errorResponses, idempotencyHeaderWire, idWire } from '../wire.ts';

const TAGS = ['Screening cases'];
const STATUSES = ['open', 'cleared', 'confirmed'] as const;

export const screeningCaseWire = z.object({
  object: z.literal('screening_case'), id: z.string(), livemode: z.boolean(), status: z.enum(STATUSES),
  subject: z.string().meta({ description: 'customer.<id> (a banking customer) or stripe_customer.<id>.' }),
  screened_name: z.string(), list_version: z.string(),
  hits: z.array(z.object({ ent_num: z.number(), name: z.string(), score: z.number(), matched_on: z.enum(['name', 'alias']), matched_name: z.string() })),
  created: z.string(), decided_by: z.string().nullable(),
}).meta({ id: 'ScreeningCase' });

const MODE_PREFIX = /^(test|live)\./;

function caseToWire(view: ScreeningCaseView, mode: 'test' | 'live') {
  return {
    object: 'screening_case' as const, id: view.caseId.replace(MODE_PREFIX, ''), livemode: mode === 'live', status: view.status,
    subject: view.opened.subjectRef.replace(MODE_PREFIX, ''), screened_name: view.opened.screenedName, list_version: view.opened.listVersion,
    hits: view.opened.hits.map((hit) => ({ ent_num: hit.entNum, name: hit.name, score: hit.score, matched_on: hit.matchedOn, matched_name: hit.matchedName })),
    created: new Date(view.opened.atMs).toISOString(), decided_by: view.decidedBy,
  };
}

const CUSTOMER_SUBJECT = /^(?:customer|stripe_customer)\.(.+)$/;

/**
 * The customers a screening case answer shows the personal data of (its
 * screened name), named as their own routes name them (`boris`, `cus_…`),
 * for the access audit; a subject that is no customer is named as it is.
 */
export function screenedCustomersIn(answer: unknown): string[] {
  const body = answer as { object?: unknown; subject?: unknown; data?: Array<{ subject?: unknown }> } | null;
  const cases = body?.object === 'list' ? body.data ?? [] : [body ?? {}];
  const found = new Set<string>();
  for (const item of cases) {
    if (typeof item.subject === 'string') found.add(CUSTOMER_SUBJECT.exec(item.subject)?.[1] ?? item.subject);
  }
  return [...found];
}

/**
 * The analyst's queue of sanctions screening cases: list, read, clear (a
 * false positive: the customer's money moves again) or confirm (a true
 * match: it stays held). The deciding key's id is recorded as the analyst.
 * Reads show the screened name (personal data): they are recorded in the
 * access audit with the screened customers as subjects, and need a purpose
 * where one is required.
 */
export function screeningCaseRoutes(compliance: ComplianceApi): FastifyPluginAsync {
  return async (plain) => {
    useZod(plain);
    const app = plain.withTypeProvider<ZodTypeProvider>();
    const params = z.strictObject({ id: idWire });
    const internal = (request: FastifyRequest, id: string) => `${authOf(request).mode}.${id}`;

    app.get('/v1/screening_cases', {
      config: { permission: 'compliance:review', pii: (_request, answer) => screenedCustomersIn(answer) },
      schema: {
        tags: TAGS, summary: 'List screening cases, in case id order (the subject first)', description: SCAN_BUDGET_NOTE.replace(' (or `ending_before`, paging backwards)', ''),
        querystring: z.strictObject({
          status: z.enum(STATUSES).optional(),
          limit: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).default(10).meta({ description: `1 to ${PAGE_SIZE_MAX} (default 10).` }),
          starting_after: idWire.optional().meta({ description: 'A case id: the page starts after it (the last id of the previous page, or `next_cursor`).' }),
        }),
        response: {
          200: z.object({ object: z.literal('list'), data: z.array(screeningCaseWire), has_more: z.boolean(), next_cursor: nextCursorWire, url: z.string() }),
          ...errorResponses,
        },
      },
    }, async (request) => {
      const { mode } = authOf(request);
      const { status, limit, starting_after: startingAfter } = request.query;
      const page = await compliance.cases.list(`${mode}.`, { status, limit, startingAfter: startingAfter === undefined ? undefined : internal(request, startingAfter) });
      const cursor = page.resumeAfter === null ? {} : { next_cursor: page.resumeAfter.replace(MODE_PREFIX, '') };
      return { object: 'list' as const, data: page.views.map((view) => caseToWire(view, mode)), has_more: page.hasMore, ...cursor, url: '/v1/screening_cases' };
    });

    app.get('/v1/screening_cases/:id', {
      config: { permission: 'compliance:review', pii: (_request, answer) => screenedCustomersIn(answer) },
      schema: { tags: TAGS, summary: 'Retrieve a screening case', params, response: { 200: screeningCaseWire, ...errorResponses } },
    }, async (request) => {
      const view = await compliance.cases.get(internal(request, request.params.id));
      if (view === null) throw new DaybookError('screening_case_not_found', `No such screening case: '${request.params.id}'`, {}, 'id');
      return caseToWire(view, authOf(request).mode);
    });

    /**
     * The decision's answer names the screened person: its Idempotency-Key
     * record keeps only the case's id (a record outlives an erasure), and a
     * replay answers the case as it reads now.
     */
    const recordedAnswer: RecordedAnswer = {
      stored: (body) => {
        const answer = JSON.parse(body) as { object?: unknown; id?: unknown };
        return answer.object === 'screening_case' ? JSON.stringify({ object: answer.object, id: answer.id }) : body;
      },
      replayed: async (request, stored) => {
        const answer = JSON.parse(stored) as { object?: unknown; id?: unknown };
        if (answer.object !== 'screening_case' || typeof answer.id !== 'string') return stored;
        const view = await compliance.cases.get(internal(request, answer.id));
        if (view === null) throw new DaybookError('screening_case_not_found', `No such screening case: '${answer.id}'`, {}, 'id');
        return JSON.stringify(caseToWire(view, authOf(request).mode));
      },
    };

    for (const decision of ['clear', 'confirm'] as const) {
      app.post(`/v1/screening_cases/:id/${decision}`, {
        config: { permission: 'compliance:review', recordedAnswer, pii: (_request, answer) => screenedCustomersIn(answer) },
        schema: {
          tags: TAGS, summary: decision === 'clear' ? 'Clear a case (a false positive): the customer is released' : 'Confirm a case (a true match): the customer stays held',
          headers: idempotencyHeaderWire, params, body: z.strictObject({ note: z.string().max(1000).optional() }).optional(), response: { 200: screeningCaseWire, ...errorResponses },
        },
      }, async (request) => {
        const { mode, keyId } = authOf(request);
        const id = internal(request, request.params.id);
        if (await compliance.cases.get(id) === null) throw new DaybookError('screening_case_not_found', `No such screening case: '${request.params.id}'`, {}, 'id');
        const view = await compliance.cases.decideCase(id, decision, keyId, request.body?.note ?? '');
        return caseToWire(view, mode);
      });
    }
  };
}
