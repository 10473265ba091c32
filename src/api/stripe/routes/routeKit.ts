/** What every Stripe route module uses: the typed app, list queries, ids for new objects. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { CreatedFilter, ListQuery, PaymentObjectType } from '../../../payments/index.ts';
import { idFor } from '../../idempotency.hooks.ts';
import { type PaymentsApi, StripeObjects, stripeRecordedAnswer } from '../stripeObjects.ts';

export function typed(app: FastifyInstance) {
  return app.withTypeProvider<ZodTypeProvider>();
}

export type ListParams = { limit?: number; starting_after?: string; ending_before?: string; created?: number | CreatedFilter; expand?: string[] };

export function listQueryOf(object: PaymentObjectType, params: ListParams, filters: Omit<ListQuery, 'object' | 'limit'> = {}): ListQuery {
  const created = typeof params.created === 'number' ? { gte: params.created, lte: params.created } : params.created;
  return { object, limit: params.limit ?? 10, startingAfter: params.starting_after, endingBefore: params.ending_before, created, ...filters };
}

/**
 * The id of a new object: derived from the Idempotency-Key and the request's
 * payload when there is a key, so a retry after a crash (before the key's
 * record was kept) names the same object, which the domain then answers
 * again instead of refusing as existing; another payload under the same key
 * names another object.
 */
export function newId(request: FastifyRequest, prefix: string, part = ''): string {
  return idFor(request, prefix, `${part}\u0000${request.idempotency?.fingerprint ?? ''}`);
}

export function objectsOf(api: PaymentsApi, request: FastifyRequest): StripeObjects {
  return new StripeObjects(api, request);
}

/** Route config of a write: its permission, and answers recorded without personal data. */
export function writeConfig(api: PaymentsApi, permission: 'payments:write' | 'customers:write') {
  return { permission, recordedAnswer: stripeRecordedAnswer(api) };
}
