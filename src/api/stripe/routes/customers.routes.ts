/** Stripe customers: create, retrieve, update, delete, list, and their payment methods. Personal data: `customers:*` permissions. */
import { subjectsIn } from '../../accessAudit.hooks.ts';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { PiiPatch } from '../../../payments/index.ts';
import { PAYMENT_TEXT_LENGTH_MAX } from '../../../kernel/index.ts';
import type { PaymentsApi } from '../stripeObjects.ts';
import { contextOf, stripeCustomerSubject } from '../stripeObjects.ts';
import { authOf } from '../../security.ts';
import type { FastifyRequest } from 'fastify';
import { expandParam, idParams, listParams, metadataParam, metadataPatchOf, retrieveQuery, textPatchOf } from '../stripeParams.ts';
import { listQueryOf, newId, objectsOf, typed, writeConfig } from './routeKit.ts';

const text = z.string().max(PAYMENT_TEXT_LENGTH_MAX);
const addressParam = z.union([z.strictObject({
  line1: text.optional(), line2: text.optional(), city: text.optional(), state: text.optional(), postal_code: text.optional(), country: text.optional(),
}), z.literal('')]).nullable().optional();

const customerFields = {
  name: text.nullable().optional(), email: text.nullable().optional(), phone: text.nullable().optional(), description: text.nullable().optional(),
  address: addressParam, metadata: metadataParam, expand: expandParam,
};
const customerBody = z.strictObject(customerFields);
type CustomerBody = z.infer<typeof customerBody>;

function piiPatchOf(body: CustomerBody): PiiPatch {
  const address = body.address;
  return {
    name: textPatchOf(body.name), email: textPatchOf(body.email), phone: textPatchOf(body.phone),
    address: address === undefined ? undefined : address === null || address === '' ? null : {
      line1: address.line1 ?? null, line2: address.line2 ?? null, city: address.city ?? null, state: address.state ?? null,
      postalCode: address.postal_code ?? null, country: address.country ?? null,
    },
  };
}

/** Screens a customer's name when it was given (created or renamed), after the write, before the answer. */
async function screenName(api: PaymentsApi, request: FastifyRequest, customerId: string, name: string | null | undefined): Promise<void> {
  if (api.compliance === undefined || typeof name !== 'string' || name === '') return;
  const { mode, keyId } = authOf(request);
  await api.compliance.screen(stripeCustomerSubject(mode, customerId), name, keyId);
}

export function customerRoutes(api: PaymentsApi): FastifyPluginAsync {
  return async (plain) => {
    const app = typed(plain);
    const tags = ['Customers'];

    app.post('/v1/customers', { config: writeConfig(api, 'customers:write'), schema: { tags, summary: 'Create a customer', body: customerBody } }, async (request) => {
      const body = request.body;
      const customerId = newId(request, 'cus');
      await api.payments.createCustomer(contextOf(request), {
        customerId, pii: piiPatchOf(body), description: textPatchOf(body.description), metadata: metadataPatchOf(body.metadata),
      });
      await screenName(api, request, customerId, body.name);
      const objects = objectsOf(api, request);
      return objects.expand(await objects.customer(customerId), body.expand);
    });

    app.get('/v1/customers/:id', { config: { permission: 'customers:read', pii: 'answer' }, schema: { tags, summary: 'Retrieve a customer', params: idParams, querystring: retrieveQuery } }, async (request) => {
      const objects = objectsOf(api, request);
      return objects.expand(await objects.customer(request.params.id), request.query.expand);
    });

    app.post('/v1/customers/:id', { config: writeConfig(api, 'customers:write'), schema: { tags, summary: 'Update a customer', params: idParams, body: customerBody } }, async (request) => {
      const body = request.body;
      await api.payments.updateCustomer(contextOf(request), request.params.id, { pii: piiPatchOf(body), description: textPatchOf(body.description), metadata: metadataPatchOf(body.metadata) });
      await screenName(api, request, request.params.id, body.name);
      const objects = objectsOf(api, request);
      return objects.expand(await objects.customer(request.params.id), body.expand);
    });

    app.delete('/v1/customers/:id', { config: { permission: 'customers:write' }, schema: { tags, summary: 'Delete a customer', params: idParams } }, async (request) => {
      await api.payments.deleteCustomer(contextOf(request), request.params.id);
      return { id: request.params.id, object: 'customer', deleted: true };
    });

    app.get('/v1/customers', { config: { permission: 'customers:read', pii: 'answer' }, schema: { tags, summary: 'List customers, newest first', querystring: z.strictObject(listParams) } }, async (request) =>
      objectsOf(api, request).list(listQueryOf('customer', request.query), '/v1/customers', request.query.expand));

    app.get('/v1/customers/:id/payment_methods', {
      // The customer's cards: the customer is a subject whatever the page holds, and so is each card with billing details.
      config: { permission: 'customers:read', pii: (request, answer) => [(request.params as { id: string }).id, ...subjectsIn(answer, [], true)] },
      schema: { tags, summary: "List a customer's payment methods", params: idParams, querystring: z.strictObject({ ...listParams, type: z.enum(['card']).optional() }) },
    }, async (request) => {
      const objects = objectsOf(api, request);
      await objects.customer(request.params.id);
      return objects.list(listQueryOf('payment_method', request.query, { customer: request.params.id }), `/v1/customers/${request.params.id}/payment_methods`, request.query.expand);
    });
  };
}
