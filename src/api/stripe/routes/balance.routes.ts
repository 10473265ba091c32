/** The balance (available and pending per currency, from the ledger's merchant accounts) and balance transactions. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { modeOf, type PaymentsApi } from '../stripeObjects.ts';
import { idParams, listParams, retrieveQuery } from '../stripeParams.ts';
import { wireAmount } from '../stripeWire.ts';
import { listQueryOf, objectsOf, typed } from './routeKit.ts';

export function balanceRoutes(api: PaymentsApi): FastifyPluginAsync {
  return async (plain) => {
    const app = typed(plain);
    const tags = ['Balance'];

    app.get('/v1/balance', { config: { permission: 'payments:read' }, schema: { tags, summary: 'Retrieve the balance', querystring: z.strictObject({}) } }, async (request) => {
      const mode = modeOf(request);
      const amounts = (await api.payments.balance(mode, api.readModel)).filter((item, index) => index === 0 || item.availableMinor !== 0n || item.pendingMinor !== 0n);
      const entry = (amount: bigint, currency: string) => ({ amount: wireAmount(amount), currency, source_types: { card: wireAmount(amount) } });
      return {
        object: 'balance', livemode: mode === 'live',
        available: amounts.map((item) => entry(item.availableMinor, item.currency)),
        pending: amounts.map((item) => entry(item.pendingMinor, item.currency)),
      };
    });

    app.get('/v1/balance_transactions/:id', {
      config: { permission: 'payments:read' }, schema: { tags, summary: 'Retrieve a balance transaction', params: idParams, querystring: retrieveQuery },
    }, async (request) => {
      await api.payments.settleDue(modeOf(request), api.readModel);
      const objects = objectsOf(api, request);
      return objects.expand(await objects.balanceTransaction(request.params.id), request.query.expand);
    });

    app.get('/v1/balance_transactions', {
      config: { permission: 'payments:read' },
      schema: {
        tags, summary: 'List balance transactions, newest first',
        querystring: z.strictObject({ ...listParams, type: z.enum(['charge', 'refund', 'adjustment', 'payout', 'payout_failure', 'payout_cancel']).optional(), source: z.string().max(255).optional() }),
      },
    }, async (request) => {
      await api.payments.settleDue(modeOf(request), api.readModel);
      return objectsOf(api, request).list(listQueryOf('balance_transaction', request.query, { kind: request.query.type, source: request.query.source }), '/v1/balance_transactions', request.query.expand);
    });
  };
}
