/**
 * Disputes: retrieve, list, update (evidence, metadata, `submit`), close
 * (accept). Disputes open on their own after capture of a dispute test card
 * (pm_card_createDispute, 4000000000000259). Test mode resolves submitted
 * evidence: `uncategorized_text` with `winning_evidence` wins, with
 * `losing_evidence` loses.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { PAYMENT_TEXT_LENGTH_MAX } from '../../../kernel/index.ts';
import { DISPUTE_EVIDENCE_FIELDS, type DisputeEvidenceField } from '../../../payments/index.ts';
import { contextOf, type PaymentsApi } from '../stripeObjects.ts';
import { expandParam, idParams, listParams, metadataParam, metadataPatchOf, retrieveQuery } from '../stripeParams.ts';
import { listQueryOf, objectsOf, typed, writeConfig } from './routeKit.ts';

const evidenceParam = z.strictObject(
  Object.fromEntries(DISPUTE_EVIDENCE_FIELDS.map((field) => [field, z.string().max(PAYMENT_TEXT_LENGTH_MAX).optional()])) as Record<DisputeEvidenceField, z.ZodOptional<z.ZodString>>,
).optional();
const updateBody = z.strictObject({ evidence: evidenceParam, metadata: metadataParam, submit: z.boolean().optional(), expand: expandParam });
const closeBody = z.strictObject({ expand: expandParam });

export function disputeRoutes(api: PaymentsApi): FastifyPluginAsync {
  return async (plain) => {
    const app = typed(plain);
    const tags = ['Disputes'];

    app.get('/v1/disputes/:id', { config: { permission: 'payments:read', pii: 'answer' }, schema: { tags, summary: 'Retrieve a dispute', params: idParams, querystring: retrieveQuery } }, async (request) => {
      const objects = objectsOf(api, request);
      return objects.expand(await objects.dispute(request.params.id), request.query.expand);
    });

    app.post('/v1/disputes/:id', {
      config: writeConfig(api, 'payments:write'),
      schema: { tags, summary: 'Update a dispute: save evidence and metadata; submit=true submits the evidence', params: idParams, body: updateBody },
    }, async (request) => {
      const objects = objectsOf(api, request);
      const { body } = request;
      const intent = await objects.holderOf('dispute', request.params.id);
      await api.payments.updateDispute(contextOf(request), {
        paymentIntentId: intent.paymentIntentId, disputeId: request.params.id, evidence: body.evidence as Partial<Record<DisputeEvidenceField, string>> | undefined,
        metadata: metadataPatchOf(body.metadata), submit: body.submit === true,
      });
      return objects.expand(await objects.dispute(request.params.id), body.expand);
    });

    app.post('/v1/disputes/:id/close', {
      config: writeConfig(api, 'payments:write'), schema: { tags, summary: 'Close (accept) a dispute: it is lost', params: idParams, body: closeBody },
    }, async (request) => {
      const objects = objectsOf(api, request);
      const intent = await objects.holderOf('dispute', request.params.id);
      await api.payments.closeDispute(contextOf(request), intent.paymentIntentId, request.params.id);
      return objects.expand(await objects.dispute(request.params.id), request.body.expand);
    });

    app.get('/v1/disputes', {
      config: { permission: 'payments:read', pii: 'answer' },
      schema: { tags, summary: 'List disputes, newest first', querystring: z.strictObject({ ...listParams, charge: z.string().max(255).optional(), payment_intent: z.string().max(255).optional() }) },
    }, async (request) => objectsOf(api, request).list(
      listQueryOf('dispute', request.query, { charge: request.query.charge, paymentIntent: request.query.payment_intent }), '/v1/disputes', request.query.expand));
  };
}
