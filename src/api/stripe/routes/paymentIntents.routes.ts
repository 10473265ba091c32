/** PaymentIntents: create (optionally confirming), retrieve, update, confirm, capture, cancel, list. */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DaybookError, isDaybookError, PAYMENT_TEXT_LENGTH_MAX } from '../../../kernel/index.ts';
import type { CaptureMethod, CreateIntentInput, ExistingPaymentIntent, ResolvedPaymentMethod } from '../../../payments/index.ts';
import { AttachedRecord } from '../../attachedRecord.ts';
import { receiptEmailOf, receiptEmailParam, shippingOf, shippingParam } from '../contactParams.ts';
import { contextOf, type PaymentsApi, StripeObjects, stripeCustomerSubject } from '../stripeObjects.ts';
import { authOf } from '../../security.ts';
import { amountParam, expandParam, idParams, listParams, metadataParam, metadataPatchOf, retrieveQuery, textPatchOf } from '../stripeParams.ts';
import { paymentMethodIdOf } from './paymentMethods.routes.ts';
import { listQueryOf, newId, objectsOf, typed, writeConfig } from './routeKit.ts';

const captureMethodParam = z.enum(['automatic', 'automatic_async', 'manual']);
/** Accepted for compatibility; cards are the one payment method type. */
const compatibility = {
  payment_method_types: z.array(z.enum(['card'])).optional(),
  automatic_payment_methods: z.strictObject({ enabled: z.boolean(), allow_redirects: z.enum(['always', 'never']).optional() }).optional(),
  return_url: z.string().max(2048).optional(),
  off_session: z.boolean().optional(),
};
const createBody = z.strictObject({
  amount: amountParam, currency: z.string().min(3).max(3), customer: z.string().max(255).optional(), payment_method: z.string().max(255).optional(),
  capture_method: captureMethodParam.optional(), confirm: z.boolean().optional(), description: z.string().max(PAYMENT_TEXT_LENGTH_MAX).optional(),
  receipt_email: receiptEmailParam, shipping: shippingParam, metadata: metadataParam, expand: expandParam, ...compatibility,
});
const updateBody = z.strictObject({
  amount: amountParam.optional(), currency: z.string().min(3).max(3).optional(), customer: z.string().max(255).nullable().optional(),
  payment_method: z.string().max(255).optional(), capture_method: captureMethodParam.optional(), description: z.string().max(PAYMENT_TEXT_LENGTH_MAX).nullable().optional(),
  receipt_email: receiptEmailParam, shipping: shippingParam, metadata: metadataParam, expand: expandParam, payment_method_types: compatibility.payment_method_types,
});
const confirmBody = z.strictObject({ payment_method: z.string().max(255).optional(), expand: expandParam, return_url: compatibility.return_url, off_session: compatibility.off_session });
const captureBody = z.strictObject({ amount_to_capture: amountParam.optional(), expand: expandParam });
const cancelBody = z.strictObject({ cancellation_reason: z.enum(['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned']).optional(), expand: expandParam });

const captureMethodOf = (value: z.infer<typeof captureMethodParam> | undefined): CaptureMethod | undefined =>
  value === undefined ? undefined : value === 'manual' ? 'manual' : 'automatic';

/** A decline answers 402 with the intent as it now stands, its charge and the decline code (what Stripe's clients read). */
async function answeringDeclines<T>(objects: StripeObjects, paymentIntentId: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!isDaybookError(error, 'card_declined')) throw error;
    const intent = await objects.paymentIntent(paymentIntentId);
    const stripe = { decline_code: error.details.declineCode, charge: error.details.chargeId, payment_intent: intent, doc_url: 'https://docs.stripe.com/error-codes/card-declined' };
    throw new DaybookError('card_declined', error.message, { ...error.details, stripe }, error.param);
  }
}

async function requireCustomer(api: PaymentsApi, request: FastifyRequest, customerId: string | null | undefined): Promise<void> {
  if (customerId === undefined || customerId === null) return;
  await objectsOf(api, request).customer(customerId, 'customer');
}

/** A customer with an open or confirmed screening case pays nothing until an analyst clears it: `compliance_review_pending`. */
async function requireNotHeld(api: PaymentsApi, request: FastifyRequest, customerId: string | null | undefined): Promise<void> {
  if (api.compliance === undefined || customerId === undefined || customerId === null) return;
  await api.compliance.assertNotHeld(stripeCustomerSubject(authOf(request).mode, customerId), `customer '${customerId}'`);
}

async function confirm(api: PaymentsApi, request: FastifyRequest, paymentIntentId: string, paymentMethod: string | undefined): Promise<void> {
  const ctx = contextOf(request);
  const method: ResolvedPaymentMethod | undefined = paymentMethod === undefined
    ? undefined
    : await api.payments.resolvePaymentMethod(ctx, paymentMethod, newId(request, 'pm', 'confirm'));
  await answeringDeclines(objectsOf(api, request), paymentIntentId, () => api.payments.confirmPaymentIntent(ctx, paymentIntentId, { paymentMethod: method, chargeId: newId(request, 'ch') }));
}

/**
 * `confirm=true` with a payment method: one decision and one durable write
 * (the PaymentMethod a token makes, the intent, its charge, the ledger
 * movements and, without `expand`, the Idempotency-Key's record; see
 * PaymentsService.createAndConfirmPaymentIntent and AttachedRecord).
 */
async function createAndConfirm(
  api: PaymentsApi, request: FastifyRequest, reply: FastifyReply, input: CreateIntentInput & { paymentMethod: string }, expand: string[] | undefined,
): Promise<unknown> {
  const objects = objectsOf(api, request);
  const record = new AttachedRecord(request);
  // With `expand` the answer reads other objects (through the read model): it is recorded once sent, as for any route.
  const attach = expand === undefined || expand.length === 0 ? (intent: ExistingPaymentIntent) => record.attachment(JSON.stringify(objects.paymentIntentWire(intent))) : undefined;
  let decided;
  try {
    decided = await answeringDeclines(objects, input.paymentIntentId, () => api.payments.createAndConfirmPaymentIntent(contextOf(request), {
      ...input, newPaymentMethodId: newId(request, 'pm', 'payment_method'), chargeId: newId(request, 'ch'),
    }, attach));
  } catch (error) {
    // Another process recorded the key first: nothing of this request was written; it answers as a retry of the key would.
    const lost = await record.sendIfLost(reply, error);
    if (lost !== undefined) return lost;
    throw error;
  }
  const { answered, state } = decided;
  if (answered) return record.send(reply);
  if (state.status === 'none') throw new Error(`PaymentIntent ${input.paymentIntentId} was committed but its stream is empty`);
  return objects.expand(objects.paymentIntentWire(state), expand);
}

export function paymentIntentRoutes(api: PaymentsApi): FastifyPluginAsync {
  return async (plain) => {
    const app = typed(plain);
    const tags = ['PaymentIntents'];
    const answer = async (request: FastifyRequest, id: string, expand: string[] | undefined) => {
      const objects = objectsOf(api, request);
      return objects.expand(await objects.paymentIntent(id), expand);
    };

    app.post('/v1/payment_intents', { config: writeConfig(api, 'payments:write'), schema: { tags, summary: 'Create a PaymentIntent (confirm=true confirms it too)', body: createBody } }, async (request, reply) => {
      const { body } = request;
      await requireCustomer(api, request, body.customer);
      if (body.confirm === true) await requireNotHeld(api, request, body.customer);
      const paymentIntentId = newId(request, 'pi');
      const input = {
        paymentIntentId, amount: BigInt(body.amount), currency: body.currency.toLowerCase(), customerId: body.customer ?? null, paymentMethodId: null,
        captureMethod: captureMethodOf(body.capture_method) ?? 'automatic', description: body.description ?? null, metadata: metadataPatchOf(body.metadata),
        receiptEmail: receiptEmailOf(body.receipt_email) ?? null, shipping: shippingOf(body.shipping) ?? null,
      };
      if (body.confirm === true && body.payment_method !== undefined) return createAndConfirm(api, request, reply, { ...input, paymentMethod: body.payment_method }, body.expand);
      const paymentMethodId = body.payment_method === undefined ? null : await paymentMethodIdOf(api, request, body.payment_method);
      await api.payments.createPaymentIntent(contextOf(request), { ...input, paymentMethodId });
      if (body.confirm === true) await confirm(api, request, paymentIntentId, undefined);
      return answer(request, paymentIntentId, body.expand);
    });

    app.get('/v1/payment_intents/:id', { config: { permission: 'payments:read', pii: 'answer' }, schema: { tags, summary: 'Retrieve a PaymentIntent', params: idParams, querystring: retrieveQuery } }, async (request) =>
      answer(request, request.params.id, request.query.expand));

    app.post('/v1/payment_intents/:id', { config: writeConfig(api, 'payments:write'), schema: { tags, summary: 'Update a PaymentIntent', params: idParams, body: updateBody } }, async (request) => {
      const { body } = request;
      await requireCustomer(api, request, body.customer);
      const paymentMethodId = body.payment_method === undefined ? undefined : await paymentMethodIdOf(api, request, body.payment_method);
      await api.payments.updatePaymentIntent(contextOf(request), request.params.id, {
        amount: body.amount === undefined ? undefined : BigInt(body.amount), currency: body.currency?.toLowerCase(), customerId: textPatchOf(body.customer), paymentMethodId,
        captureMethod: captureMethodOf(body.capture_method), description: textPatchOf(body.description), metadata: metadataPatchOf(body.metadata),
        receiptEmail: receiptEmailOf(body.receipt_email), shipping: shippingOf(body.shipping),
      });
      return answer(request, request.params.id, body.expand);
    });

    app.post('/v1/payment_intents/:id/confirm', { config: writeConfig(api, 'payments:write'), schema: { tags, summary: 'Confirm a PaymentIntent', params: idParams, body: confirmBody } }, async (request) => {
      const intent = await objectsOf(api, request).paymentIntent(request.params.id) as { customer?: unknown };
      await requireNotHeld(api, request, typeof intent.customer === 'string' ? intent.customer : null);
      await confirm(api, request, request.params.id, request.body.payment_method);
      return answer(request, request.params.id, request.body.expand);
    });

    app.post('/v1/payment_intents/:id/capture', {
      config: writeConfig(api, 'payments:write'), schema: { tags, summary: 'Capture a PaymentIntent (partially with amount_to_capture)', params: idParams, body: captureBody },
    }, async (request) => {
      const amount = request.body.amount_to_capture;
      await api.payments.capturePaymentIntent(contextOf(request), request.params.id, amount === undefined ? null : BigInt(amount));
      return answer(request, request.params.id, request.body.expand);
    });

    app.post('/v1/payment_intents/:id/cancel', { config: writeConfig(api, 'payments:write'), schema: { tags, summary: 'Cancel a PaymentIntent', params: idParams, body: cancelBody } }, async (request) => {
      await api.payments.cancelPaymentIntent(contextOf(request), request.params.id, request.body.cancellation_reason ?? null);
      return answer(request, request.params.id, request.body.expand);
    });

    app.get('/v1/payment_intents', {
      config: { permission: 'payments:read', pii: 'answer' },
      schema: { tags, summary: 'List PaymentIntents, newest first', querystring: z.strictObject({ ...listParams, customer: z.string().max(255).optional() }) },
    }, async (request) => objectsOf(api, request).list(listQueryOf('payment_intent', request.query, { customer: request.query.customer }), '/v1/payment_intents', request.query.expand));
  };
}
