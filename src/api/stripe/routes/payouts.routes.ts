/**
 * Payouts: create (out of the available balance, to a test bank account),
 * retrieve, update (metadata), list, cancel while pending. A payout stays
 * `pending` until Daybook's test helper `POST
 * /v1/test_helpers/payouts/{id}/process` (test mode only) makes the bank
 * answer: paid, or failed as the destination's test number says
 * (000111111116 fails with `no_account`, …), which returns the money.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { DaybookError, PAYMENT_TEXT_LENGTH_MAX } from '../../../kernel/index.ts';
import { payoutDestinationOf } from '../../../payments/index.ts';
import { contextOf, modeOf, type PaymentsApi } from '../stripeObjects.ts';
import { amountParam, expandParam, idParams, listParams, metadataParam, metadataPatchOf, retrieveQuery } from '../stripeParams.ts';
import { listQueryOf, newId, objectsOf, typed, writeConfig } from './routeKit.ts';

const createBody = z.strictObject({
  amount: amountParam, currency: z.string().min(3).max(3), destination: z.string().max(255).optional(), description: z.string().max(PAYMENT_TEXT_LENGTH_MAX).optional(),
  statement_descriptor: z.string().max(22).optional(), method: z.enum(['standard']).optional(), source_type: z.enum(['card']).optional(),
  metadata: metadataParam, expand: expandParam,
});
const updateBody = z.strictObject({ metadata: metadataParam, expand: expandParam });
const expandBody = z.strictObject({ expand: expandParam });

export function payoutRoutes(api: PaymentsApi): FastifyPluginAsync {
  return async (plain) => {
    const app = typed(plain);
    const tags = ['Payouts'];
    const answer = async (request: Parameters<typeof objectsOf>[1], id: string, expand: string[] | undefined) => {
      const objects = objectsOf(api, request);
      return objects.expand(await objects.payout(id), expand);
    };

    app.post('/v1/payouts', { config: writeConfig(api, 'payments:write'), schema: { tags, summary: 'Pay out of the available balance', body: createBody } }, async (request) => {
      const { body } = request;
      const destination = payoutDestinationOf(body.destination);
      const payoutId = newId(request, 'po');
      await api.payments.createPayout(contextOf(request), api.readModel, {
        payoutId, amount: BigInt(body.amount), currency: body.currency.toLowerCase(), destination, description: body.description ?? null,
        statementDescriptor: body.statement_descriptor ?? null, metadata: metadataPatchOf(body.metadata),
      });
      return answer(request, payoutId, body.expand);
    });

    app.get('/v1/payouts/:id', { config: { permission: 'payments:read', pii: 'answer' }, schema: { tags, summary: 'Retrieve a payout', params: idParams, querystring: retrieveQuery } }, async (request) =>
      answer(request, request.params.id, request.query.expand));

    app.post('/v1/payouts/:id', { config: writeConfig(api, 'payments:write'), schema: { tags, summary: 'Update a payout\'s metadata', params: idParams, body: updateBody } }, async (request) => {
      await api.payments.updatePayout(contextOf(request), request.params.id, metadataPatchOf(request.body.metadata));
      return answer(request, request.params.id, request.body.expand);
    });

    app.post('/v1/payouts/:id/cancel', { config: writeConfig(api, 'payments:write'), schema: { tags, summary: 'Cancel a pending payout (the money returns)', params: idParams, body: expandBody } }, async (request) => {
      await api.payments.cancelPayout(contextOf(request), request.params.id);
      return answer(request, request.params.id, request.body.expand);
    });

    app.post('/v1/test_helpers/payouts/:id/process', {
      config: writeConfig(api, 'payments:write'),
      schema: { tags, summary: 'Daybook test helper: the bank answers a pending payout now (paid, or failed by the test account number)', params: idParams, body: expandBody },
    }, async (request) => {
      if (modeOf(request) !== 'test') throw new DaybookError('validation_failed', 'Test helpers work with test keys only.', {}, 'id');
      await api.payments.processPayout(contextOf(request), request.params.id);
      return answer(request, request.params.id, request.body.expand);
    });

    app.get('/v1/payouts', { config: { permission: 'payments:read', pii: 'answer' }, schema: { tags, summary: 'List payouts, newest first', querystring: z.strictObject(listParams) } }, async (request) =>
      objectsOf(api, request).list(listQueryOf('payout', request.query), '/v1/payouts', request.query.expand));
  };
}
