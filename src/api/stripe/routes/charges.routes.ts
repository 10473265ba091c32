/** Charges (made by confirming PaymentIntents): retrieve and list. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { PaymentsApi } from '../stripeObjects.ts';
import { idParams, listParams, retrieveQuery } from '../stripeParams.ts';
import { listQueryOf, objectsOf, typed } from './routeKit.ts';

export function chargeRoutes(api: PaymentsApi): FastifyPluginAsync {
  return async (plain) => {
    const app = typed(plain);
    const tags = ['Charges'];
    app.get('/v1/charges/:id', { config: { permission: 'payments:read', pii: 'answer' }, schema: { tags, summary: 'Retrieve a charge', params: idParams, querystring: retrieveQuery } }, async (request) => {
      const objects = objectsOf(api, request);
      return objects.expand(await objects.charge(request.params.id), request.query.expand);
    });
    app.get('/v1/charges', {
      config: { permission: 'payments:read', pii: 'answer' },
      schema: { tags, summary: 'List charges, newest first', querystring: z.strictObject({ ...listParams, customer: z.string().max(255).optional(), payment_intent: z.string().max(255).optional() }) },
    }, async (request) => objectsOf(api, request).list(
      listQueryOf('charge', request.query, { customer: request.query.customer, paymentIntent: request.query.payment_intent }), '/v1/charges', request.query.expand));
  };
}
