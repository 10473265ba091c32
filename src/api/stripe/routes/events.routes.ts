/** Stripe events: retrieve, list newest first (filters `type`, with `charge.*` wildcards, `types[]`, `created`; Stripe's cursors). */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import { hasPermission } from '../../../auth/index.ts';
import { DaybookError } from '../../../kernel/index.ts';
import { authOf } from '../../security.ts';
import { modeOf } from '../stripeObjects.ts';
import { idParams, listParams } from '../stripeParams.ts';
import type { WebhooksApi } from '../stripeWebhooks.ts';
import { typed } from './routeKit.ts';

const eventType = z.string().min(1).max(100);
const listQuery = z.strictObject({
  limit: listParams.limit, starting_after: listParams.starting_after, ending_before: listParams.ending_before, created: listParams.created,
  type: eventType.optional(), types: z.array(eventType).max(20).optional(), delivery_success: z.boolean().optional(),
});

/** Objects that hold personal data: only roles with `customers:read` see them in full, as on their own routes. */
const PERSONAL_OBJECTS = new Set(['customer', 'account']);

/**
 * An event as the caller's role may see it: a customer's or connected
 * account's `data.object` (name, email, phone, address) is cut to its id for
 * roles without `customers:read` (support), which may read events but not
 * customers.
 */
function forRole<E>(request: FastifyRequest, event: E): E {
  if (hasPermission(authOf(request).role, 'customers:read')) return event;
  const object = (event as { data?: { object?: { id?: unknown; object?: unknown; livemode?: unknown } } }).data?.object;
  if (object === undefined || !PERSONAL_OBJECTS.has(String(object.object))) return event;
  const data = (event as { data: Record<string, unknown> }).data;
  const { previous_attributes: _previous, ...rest } = data;
  return { ...event, data: { ...rest, object: { id: object.id, object: object.object, livemode: object.livemode } } } as E;
}

export function eventRoutes(api: WebhooksApi): FastifyPluginAsync {
  return async (plain) => {
    const app = typed(plain);
    const tags = ['Events'];

    app.get('/v1/events/:id', { config: { permission: 'payments:read', pii: 'answer' }, schema: { tags, summary: 'Retrieve an event', params: idParams } }, async (request) => {
      const row = await api.events.event(modeOf(request), request.params.id);
      if (row === undefined) throw new DaybookError('resource_missing', `No such event: '${request.params.id}'`, { id: request.params.id }, 'id');
      return forRole(request, await api.renderer.event(row));
    });

    app.get('/v1/events', { config: { permission: 'payments:read', pii: 'answer' }, schema: { tags, summary: 'List events, newest first', querystring: listQuery } }, async (request) => {
      const { query } = request;
      if (query.type !== undefined && query.types !== undefined) {
        throw new DaybookError('validation_failed', 'You may pass either type or types, but not both.', {}, 'types');
      }
      if (query.delivery_success !== undefined) {
        throw new DaybookError('validation_failed', 'Daybook does not filter events by delivery_success; see GET /v1/webhook_endpoints/:id/deliveries.', {}, 'delivery_success');
      }
      const wildcard = query.type?.endsWith('.*') === true;
      const created = typeof query.created === 'number' ? { gte: query.created, lte: query.created } : query.created;
      const page = await api.events.events(modeOf(request), {
        limit: query.limit ?? 10, startingAfter: query.starting_after, endingBefore: query.ending_before, created,
        types: query.types ?? (query.type !== undefined && !wildcard ? [query.type] : undefined), typePrefix: wildcard ? query.type!.slice(0, -1) : undefined,
      });
      const data = [];
      for (const row of page.items) data.push(forRole(request, await api.renderer.event(row)));
      return { object: 'list', data, has_more: page.hasMore, url: '/v1/events' };
    });
  };
}
