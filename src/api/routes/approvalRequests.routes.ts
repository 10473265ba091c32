import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type ApprovalStatus, APPROVAL_STATUSES } from '../../compliance/approvals/index.ts';
import { DaybookError, PAGE_SIZE_MAX } from '../../kernel/index.ts';
import { actorOf, approvalRequestWire, type ApprovalsApi, approvalToWire } from '../approvalsApi.ts';
import { useZod } from '../openapi.ts';
import { authOf } from '../security.ts';
import { errorResponses, eventMetadataOf, idempotencyHeaderWire, idParamsWire, idWire } from '../wire.ts';

const TAGS = ['Approval requests'];

const listQuery = z.strictObject({
  status: z.enum(APPROVAL_STATUSES as [ApprovalStatus, ...ApprovalStatus[]]).optional().meta({ description: 'Only requests with this status now (a pending request past its expiry is expired).' }),
  limit: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).default(10),
  starting_after: idWire.optional().meta({ description: 'The id of the last request of the previous page.' }),
});

/**
 * Maker-checker: the requests that wait for a second person, and the
 * checker's approve and reject. Approving runs the action once the
 * required approvals are in, and answers the request with its result.
 */
export function approvalRequestRoutes(approvals: ApprovalsApi): FastifyPluginAsync {
  return async (plain) => {
    useZod(plain);
    const app = plain.withTypeProvider<ZodTypeProvider>();

    app.get('/v1/approval_requests', {
      config: { permission: 'approvals:read' },
      schema: {
        tags: TAGS, summary: 'List approval requests, newest first', querystring: listQuery,
        response: { 200: z.object({ object: z.literal('list'), data: z.array(approvalRequestWire), has_more: z.boolean(), url: z.string() }), ...errorResponses },
      },
    }, async (request) => {
      const { mode } = authOf(request);
      const { status, limit, starting_after: startingAfter } = request.query;
      const page = await approvals.service.list({ mode, status, limit, startingAfter });
      if (!page.known) throw new DaybookError('approval_request_not_found', `No such approval request: '${startingAfter}'`, {}, 'starting_after');
      return { object: 'list' as const, data: page.items.map((view) => approvalToWire(view, mode)), has_more: page.hasMore, url: '/v1/approval_requests' };
    });

    app.get('/v1/approval_requests/:id', {
      config: { permission: 'approvals:read' },
      schema: { tags: TAGS, summary: 'Retrieve an approval request', params: idParamsWire, response: { 200: approvalRequestWire, ...errorResponses } },
    }, async (request) => {
      const { mode } = authOf(request);
      return approvalToWire(await approvals.service.get(request.params.id, mode), mode);
    });

    app.post('/v1/approval_requests/:id/approve', {
      config: { permission: 'approvals:approve' },
      schema: {
        tags: TAGS, summary: 'Approve (a checker, never the maker); the action runs once the approvals required are in',
        headers: idempotencyHeaderWire, params: idParamsWire, body: z.strictObject({}).optional(), response: { 200: approvalRequestWire, ...errorResponses },
      },
    }, async (request) => {
      const { mode } = authOf(request);
      return approvalToWire(await approvals.service.grant(request.params.id, mode, actorOf(approvals, request), eventMetadataOf(request)), mode);
    });

    app.post('/v1/approval_requests/:id/reject', {
      config: { permission: 'approvals:approve' },
      schema: {
        tags: TAGS, summary: 'Reject with a reason (a checker, or the maker withdrawing it)', headers: idempotencyHeaderWire, params: idParamsWire,
        body: z.strictObject({ reason: z.string().min(1).max(500) }), response: { 200: approvalRequestWire, ...errorResponses },
      },
    }, async (request) => {
      const { mode } = authOf(request);
      return approvalToWire(await approvals.service.reject(request.params.id, mode, actorOf(approvals, request), request.body.reason, eventMetadataOf(request)), mode);
    });
  };
}
