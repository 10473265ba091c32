import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type AccessRecord, queryAccessAudit } from '../../compliance/accessAudit/index.ts';
import type { EventStore } from '../../eventstore/index.ts';
import { type Clock, PAGE_SIZE_MAX } from '../../kernel/index.ts';
import { useZod } from '../openapi.ts';
import { authOf } from '../security.ts';
import { errorResponses, parseTimeParam, TIME_QUERY_PATTERN } from '../wire.ts';

const timeWire = z.string().regex(TIME_QUERY_PATTERN, 'must be an ISO 8601 time with offset or Unix seconds');
/** Without `from`, a query looks this far back from `to`. */
export const ACCESS_AUDIT_DEFAULT_PERIOD_MS = 30 * 24 * 60 * 60 * 1000;

const accessRecordWire = z.object({
  object: z.literal('access_record'),
  id: z.string(),
  actor: z.object({ key_id: z.string(), role: z.string(), livemode: z.boolean().nullable() }),
  channel: z.enum(['api', 'stripe', 'cli']),
  method: z.string(),
  route: z.string(),
  subjects: z.array(z.string()).meta({ description: 'Ids of the data subjects (customers, connected accounts) whose personal data was read.' }),
  purpose: z.string().nullable().meta({ description: 'The Daybook-Purpose (or X-Purpose) header; null when none was sent.' }),
  accessed_at: z.string(),
  request_id: z.string().nullable(),
  correlation_id: z.string().nullable(),
}).meta({ id: 'AccessRecord' });

function recordToWire(record: AccessRecord) {
  return {
    object: 'access_record' as const, id: record.id,
    actor: { key_id: record.actor.keyId, role: record.actor.role, livemode: record.actor.mode === null ? null : record.actor.mode === 'live' },
    channel: record.channel, method: record.method, route: record.route, subjects: record.subjects, purpose: record.purpose,
    accessed_at: record.at, request_id: record.requestId, correlation_id: record.correlationId,
  };
}

/** The access audit for auditors: who read whose personal data, when and why, oldest first. */
export function accessAuditRoutes(store: EventStore, clock: Clock): FastifyPluginAsync {
  return async (plain) => {
    useZod(plain);
    const app = plain.withTypeProvider<ZodTypeProvider>();
    app.get('/v1/access_audit', {
      config: { permission: 'audit:read' },
      schema: {
        tags: ['Audit'], summary: 'Reads of personal data: who, what, when, why',
        description: 'Filters: `subject` (a customer or connected account id), `actor` (an API key id, or `cli:<user>`), `from` and `to` (ISO 8601 or Unix seconds; '
          + 'default the last 30 days, at most 366). Records of the key\'s mode and of the CLI. A page that ends early carries `next_cursor`.',
        querystring: z.strictObject({
          subject: z.string().min(1).max(200).optional(),
          actor: z.string().min(1).max(200).optional(),
          from: timeWire.optional(),
          to: timeWire.optional(),
          limit: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).default(PAGE_SIZE_MAX),
          cursor: z.string().max(40).optional().meta({ description: 'The next_cursor of the previous page (same filters).' }),
        }),
        response: { 200: z.object({ object: z.literal('list'), data: z.array(accessRecordWire), has_more: z.boolean(), next_cursor: z.string().nullable(), url: z.string() }), ...errorResponses },
      },
    }, async (request) => {
      const query = request.query;
      const toMs = query.to === undefined ? clock.nowMs() : parseTimeParam(query.to, 'to');
      const fromMs = query.from === undefined ? toMs - ACCESS_AUDIT_DEFAULT_PERIOD_MS : parseTimeParam(query.from, 'from');
      const page = await queryAccessAudit(store, { fromMs, toMs, subject: query.subject, actor: query.actor, mode: authOf(request).mode, limit: query.limit, cursor: query.cursor });
      return { object: 'list' as const, data: page.items.map(recordToWire), has_more: page.nextCursor !== null, next_cursor: page.nextCursor, url: '/v1/access_audit' };
    });
  };
}
