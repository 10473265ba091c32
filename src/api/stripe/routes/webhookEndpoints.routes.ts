/**
 * Webhook endpoints: create (the `whsec_` secret shown in this answer only),
 * retrieve, update (`disabled` stops deliveries), delete, list; and, a
 * Daybook extension, `GET /v1/webhook_endpoints/:id/deliveries`: the
 * endpoint's deliveries with their attempts, newest event first.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DaybookError, PAYMENT_TEXT_LENGTH_MAX } from '../../../kernel/index.ts';
import { checkWebhookUrl, type ExistingWebhookEndpoint } from '../../../payments/index.ts';
import { contextOf, modeOf } from '../stripeObjects.ts';
import { idParams, metadataParam, metadataPatchOf, textPatchOf } from '../stripeParams.ts';
import { deliveryToWire, endpointToWire, type WebhooksApi } from '../stripeWebhooks.ts';
import { newId, typed, writeConfig } from './routeKit.ts';

const url = z.string().min(1).max(2048);
const enabledEvents = z.array(z.string().min(1).max(100)).min(1);
const description = z.string().max(PAYMENT_TEXT_LENGTH_MAX).nullable().optional();
const createBody = z.strictObject({ url, enabled_events: enabledEvents, description, metadata: metadataParam, expand: z.array(z.string()).max(0).optional() });
const updateBody = z.strictObject({ url: url.optional(), enabled_events: enabledEvents.optional(), description, disabled: z.boolean().optional(), metadata: metadataParam });
const listQuery = z.strictObject({ limit: z.number().int().min(1).max(100).optional(), starting_after: z.string().max(255).optional() });
const deliveriesQuery = z.strictObject({ limit: z.number().int().min(1).max(100).optional(), status: z.enum(['pending', 'succeeded', 'failed', 'skipped']).optional() });

export function webhookEndpointRoutes(api: WebhooksApi): FastifyPluginAsync {
  return async (plain) => {
    const app = typed(plain);
    const tags = ['Webhook endpoints'];
    const existing = async (request: FastifyRequest, id: string): Promise<ExistingWebhookEndpoint> => {
      const state = await api.endpoints.endpoint(modeOf(request), id);
      if (state.status !== 'active') throw new DaybookError('resource_missing', `No such webhook endpoint: '${id}'`, { id }, 'id');
      return state;
    };
    const livemode = (request: FastifyRequest): boolean => modeOf(request) === 'live';

    app.post('/v1/webhook_endpoints', { config: writeConfig(api.payments, 'payments:write'), schema: { tags, summary: 'Create a webhook endpoint', body: createBody } }, async (request) => {
      const { body } = request;
      const mode = modeOf(request);
      checkWebhookUrl(body.url, mode, api.privateTargets);
      const webhookEndpointId = newId(request, 'we');
      const { state } = await api.endpoints.create(contextOf(request), {
        webhookEndpointId, url: body.url, enabledEvents: body.enabled_events, description: textPatchOf(body.description) ?? null, metadata: metadataPatchOf(body.metadata),
      }, () => api.events.endpointCount(mode));
      return endpointToWire(state as ExistingWebhookEndpoint, livemode(request), true);
    });

    app.get('/v1/webhook_endpoints/:id', { config: { permission: 'payments:read' }, schema: { tags, summary: 'Retrieve a webhook endpoint', params: idParams } }, async (request) =>
      endpointToWire(await existing(request, request.params.id), livemode(request)));

    app.post('/v1/webhook_endpoints/:id', { config: writeConfig(api.payments, 'payments:write'), schema: { tags, summary: 'Update a webhook endpoint', params: idParams, body: updateBody } }, async (request) => {
      const { body } = request;
      if (body.url !== undefined) checkWebhookUrl(body.url, modeOf(request), api.privateTargets);
      const { state } = await api.endpoints.update(contextOf(request), request.params.id, {
        url: body.url, enabledEvents: body.enabled_events, description: textPatchOf(body.description), disabled: body.disabled, metadata: metadataPatchOf(body.metadata),
      });
      return endpointToWire(state as ExistingWebhookEndpoint, livemode(request));
    });

    app.delete('/v1/webhook_endpoints/:id', { config: { permission: 'payments:write' }, schema: { tags, summary: 'Delete a webhook endpoint', params: idParams } }, async (request) => {
      await api.endpoints.delete(contextOf(request), request.params.id);
      return { id: request.params.id, object: 'webhook_endpoint', deleted: true };
    });

    app.get('/v1/webhook_endpoints', { config: { permission: 'payments:read' }, schema: { tags, summary: 'List webhook endpoints, newest first', querystring: listQuery } }, async (request) => {
      const page = await api.events.endpointIds(modeOf(request), request.query.limit ?? 10, request.query.starting_after);
      const data = [];
      for (const id of page.items) data.push(endpointToWire(await existing(request, id), livemode(request)));
      return { object: 'list', data, has_more: page.hasMore, url: '/v1/webhook_endpoints' };
    });

    app.get('/v1/webhook_endpoints/:id/deliveries', {
      config: { permission: 'payments:read' },
      schema: { tags, summary: "An endpoint's deliveries and their attempts, newest event first (Daybook extension)", params: idParams, querystring: deliveriesQuery },
    }, async (request) => {
      await existing(request, request.params.id);
      const page = await api.events.deliveries(modeOf(request), request.params.id, request.query.limit ?? 10, request.query.status);
      return { object: 'list', data: page.items.map(deliveryToWire), has_more: page.hasMore, url: `/v1/webhook_endpoints/${request.params.id}/deliveries` };
    });
  };
}
