/** Refunds: create (full, partial, several up to the captured amount), retrieve, list. The processing fee is kept, as Stripe does. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { DaybookError } from '../../../kernel/index.ts';
import { contextOf, type PaymentsApi } from '../stripeObjects.ts';
import { amountParam, expandParam, idParams, listParams, metadataParam, metadataPatchOf, retrieveQuery } from '../stripeParams.ts';
import { listQueryOf, newId, objectsOf, typed, writeConfig } from './routeKit.ts';

const createBody = z.strictObject({
  charge: z.string().max(255).optional(), payment_intent: z.string().max(255).optional(), amount: amountParam.optional(),
  reason: z.enum(['duplicate', 'fraudulent', 'requested_by_customer']).optional(), metadata: metadataParam, expand: expandParam,
});

export function refundRoutes(api: PaymentsApi): FastifyPluginAsync {
  return async (plain) => {
    const app = typed(plain);
    const tags = ['Refunds'];

    app.post('/v1/refunds', { config: writeConfig(api, 'payments:write'), schema: { tags, summary: 'Refund a charge or a PaymentIntent', body: createBody } }, async (request) => {
      const { body } = request;
      const objects = objectsOf(api, request);
      if (body.charge === undefined && body.payment_intent === undefined) {
        throw new DaybookError('parameter_missing', 'Missing required param: charge or payment_intent.', {}, 'charge');
      }
      const intent = body.charge !== undefined ? await objects.holderOf('charge', body.charge, 'charge') : await objects.intentState(body.payment_intent!, 'payment_intent');
      if (body.payment_intent !== undefined && intent.paymentIntentId !== body.payment_intent) {
        throw new DaybookError('validation_failed', `Charge ${body.charge} does not belong to PaymentIntent ${body.payment_intent}.`, {}, 'payment_intent');
      }
      const refundId = newId(request, 're');
      await api.payments.createRefund(contextOf(request), {
        paymentIntentId: intent.paymentIntentId, chargeId: body.charge ?? null, refundId, amount: body.amount === undefined ? null : BigInt(body.amount),
        reason: body.reason ?? null, metadata: metadataPatchOf(body.metadata),
      });
      const after = await objects.intentState(intent.paymentIntentId);
      return objects.expand(objects.refundOf(after, refundId), body.expand);
    });

    app.get('/v1/refunds/:id', { config: { permission: 'payments:read', pii: 'answer' }, schema: { tags, summary: 'Retrieve a refund', params: idParams, querystring: retrieveQuery } }, async (request) => {
      const objects = objectsOf(api, request);
      return objects.expand(await objects.refund(request.params.id), request.query.expand);
    });

    app.get('/v1/refunds', {
      config: { permission: 'payments:read', pii: 'answer' },
      schema: { tags, summary: 'List refunds, newest first', querystring: z.strictObject({ ...listParams, charge: z.string().max(255).optional(), payment_intent: z.string().max(255).optional() }) },
    }, async (request) => objectsOf(api, request).list(
      listQueryOf('refund', request.query, { charge: request.query.charge, paymentIntent: request.query.payment_intent }), '/v1/refunds', request.query.expand));
  };
}
