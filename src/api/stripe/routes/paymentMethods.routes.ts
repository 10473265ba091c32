/** PaymentMethods (cards): create from a number or a test token, retrieve, update, attach, detach, list. */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DaybookError } from '../../../kernel/index.ts';
import type { TestCard } from '../../../payments/index.ts';
import { billingDetailsOf, billingDetailsParam } from '../contactParams.ts';
import { contextOf, type PaymentsApi } from '../stripeObjects.ts';
import { expandParam, idParams, listParams, metadataParam, metadataPatchOf, retrieveQuery } from '../stripeParams.ts';
import { listQueryOf, newId, objectsOf, typed, writeConfig } from './routeKit.ts';

const cardParam = z.strictObject({
  number: z.string().max(30).optional(), exp_month: z.number().int().optional(), exp_year: z.number().int().optional(), cvc: z.string().max(4).optional(),
  token: z.string().max(255).optional(),
});
const createBody = z.strictObject({ type: z.enum(['card']), card: cardParam.optional(), billing_details: billingDetailsParam, metadata: metadataParam, expand: expandParam });

function cardOf(api: PaymentsApi, card: z.infer<typeof cardParam> | undefined): TestCard {
  if (card === undefined) throw new DaybookError('parameter_missing', 'Missing required param: card.', {}, 'card');
  if (card.token !== undefined) {
    const test = api.payments.cardOfToken(card.token);
    if (test === undefined) throw new DaybookError('resource_missing', `No such token: '${card.token}'`, {}, 'card[token]');
    return test;
  }
  if (card.number === undefined) throw new DaybookError('parameter_missing', 'Missing required param: card[number].', {}, 'card[number]');
  if (card.exp_month === undefined) throw new DaybookError('parameter_missing', 'Missing required param: card[exp_month].', {}, 'card[exp_month]');
  if (card.exp_year === undefined) throw new DaybookError('parameter_missing', 'Missing required param: card[exp_year].', {}, 'card[exp_year]');
  return api.payments.cardOf(card.number, card.exp_month, card.exp_year);
}

/** The id a route names: a test token (`pm_card_visa`) becomes a new PaymentMethod, as Stripe does. */
export async function paymentMethodIdOf(api: PaymentsApi, request: FastifyRequest, idOrToken: string, param = 'payment_method'): Promise<string> {
  return (await api.payments.resolvePaymentMethod(contextOf(request), idOrToken, newId(request, 'pm', param), param)).paymentMethodId;
}

export function paymentMethodRoutes(api: PaymentsApi): FastifyPluginAsync {
  return async (plain) => {
    const app = typed(plain);
    const tags = ['PaymentMethods'];

    app.post('/v1/payment_methods', { config: writeConfig(api, 'payments:write'), schema: { tags, summary: 'Create a card PaymentMethod', body: createBody } }, async (request) => {
      const { body } = request;
      const paymentMethodId = newId(request, 'pm');
      await api.payments.createPaymentMethod(contextOf(request), {
        paymentMethodId, card: cardOf(api, body.card), metadata: metadataPatchOf(body.metadata), billingDetails: billingDetailsOf(body.billing_details),
      });
      const objects = objectsOf(api, request);
      return objects.expand(await objects.paymentMethod(paymentMethodId), body.expand);
    });

    app.get('/v1/payment_methods/:id', { config: { permission: 'payments:read', pii: 'answer' }, schema: { tags, summary: 'Retrieve a PaymentMethod', params: idParams, querystring: retrieveQuery } }, async (request) => {
      const objects = objectsOf(api, request);
      return objects.expand(await objects.paymentMethod(request.params.id), request.query.expand);
    });

    app.post('/v1/payment_methods/:id', {
      config: writeConfig(api, 'payments:write'),
      schema: {
        tags, summary: "Update a PaymentMethod's billing details and metadata", params: idParams,
        body: z.strictObject({ billing_details: billingDetailsParam, metadata: metadataParam, expand: expandParam }),
      },
    }, async (request) => {
      const { body } = request;
      await api.payments.updatePaymentMethod(contextOf(request), request.params.id, metadataPatchOf(body.metadata), billingDetailsOf(body.billing_details));
      const objects = objectsOf(api, request);
      return objects.expand(await objects.paymentMethod(request.params.id), request.body.expand);
    });

    app.post('/v1/payment_methods/:id/attach', {
      config: writeConfig(api, 'payments:write'),
      schema: { tags, summary: 'Attach a PaymentMethod to a customer', params: idParams, body: z.strictObject({ customer: z.string().max(255), expand: expandParam }) },
    }, async (request) => {
      const paymentMethodId = await paymentMethodIdOf(api, request, request.params.id, 'id');
      await api.payments.attachPaymentMethod(contextOf(request), paymentMethodId, request.body.customer);
      const objects = objectsOf(api, request);
      return objects.expand(await objects.paymentMethod(paymentMethodId), request.body.expand);
    });

    app.post('/v1/payment_methods/:id/detach', {
      config: writeConfig(api, 'payments:write'),
      schema: { tags, summary: 'Detach a PaymentMethod from its customer', params: idParams, body: z.strictObject({ expand: expandParam }) },
    }, async (request) => {
      await api.payments.detachPaymentMethod(contextOf(request), request.params.id);
      const objects = objectsOf(api, request);
      return objects.expand(await objects.paymentMethod(request.params.id), request.body.expand);
    });

    app.get('/v1/payment_methods', {
      config: { permission: 'payments:read', pii: 'answer' },
      schema: { tags, summary: 'List PaymentMethods, newest first', querystring: z.strictObject({ ...listParams, customer: z.string().max(255).optional(), type: z.enum(['card']).optional() }) },
    }, async (request) => objectsOf(api, request).list(listQueryOf('payment_method', request.query, { customer: request.query.customer }), '/v1/payment_methods', request.query.expand));
  };
}
