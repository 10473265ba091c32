import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DaybookError } from '../../kernel/index.ts';
import { accountBalancesAsOf } from '../balanceAsOf.ts';
import { idFor } from '../idempotency.hooks.ts';
import { engineOf, executeLedger, type LedgerApi } from '../ledgerApi.ts';
import { nextCursorWire, SCAN_BUDGET_NOTE } from '../listScan.ts';
import { accountToWire } from '../ledger.presenters.ts';
import { useZod } from '../openapi.ts';
import { authOf } from '../security.ts';
import {
  amountInputWire, amountWire, balancesToWire, cursorOf, parseTimeParam, TIME_QUERY_PATTERN, balancesWire, codeWire, currencyWire, errorResponses, idempotencyHeaderWire, idParamsWire, idWire,
  listQueryWire, listQueryWithMetadataWire, metadataFiltersOf, metadataWire, parseAmount, userDataWire,
} from '../wire.ts';

const TAGS = ['Ledger accounts'];

const openAccountBody = z.strictObject({
  id: idWire.optional().meta({ description: 'Your id for the account; generated (acct_…) when absent. Opening the same id with the same fields again answers the account.' }),
  currency: currencyWire,
  ledger: idWire.optional().meta({ description: 'Accounts of one ledger may transfer to each other; defaults to the currency code.' }),
  code: codeWire.optional().meta({ description: 'Chart-of-accounts code, 0 to 65535.' }),
  flags: z.strictObject({
    debits_must_not_exceed_credits: z.boolean().optional(),
    credits_must_not_exceed_debits: z.boolean().optional(),
    history: z.boolean().optional().meta({ description: 'Keep balances after every movement, for fast as_of balances.' }),
  }).optional(),
  overdraft_limit: amountInputWire.optional(),
  credit_limit: amountInputWire.optional(),
  user_data: userDataWire.optional(),
  metadata: metadataWire.optional(),
});

export const accountWire = z.object({
  object: z.literal('account'),
  id: z.string(),
  livemode: z.boolean(),
  ledger: z.string(),
  currency: z.string(),
  code: z.number().int(),
  status: z.enum(['open', 'closed']),
  flags: z.object({ debits_must_not_exceed_credits: z.boolean(), credits_must_not_exceed_debits: z.boolean(), history: z.boolean() }),
  overdraft_limit: amountWire,
  credit_limit: amountWire,
  user_data: z.string(),
  metadata: z.record(z.string(), z.string()),
  created: z.string(),
  balances: balancesWire,
}).meta({ id: 'Account' });

const balanceWire = z.object({
  object: z.literal('balance'),
  account_id: z.string(),
  currency: z.string(),
  livemode: z.boolean(),
  as_of: z.string().nullable(),
  ...balancesWire.shape,
  /** Posted credits minus posted debits: what a liability account owes its holder. */
  net_posted: z.string().meta({ description: 'credits_posted - debits_posted, a signed integer string.' }),
}).meta({ id: 'Balance' });

/** Accounts of one ledger and/or with these metadata values; anything else in the query is refused, named. */
const listAccountsQuery = listQueryWithMetadataWire({
  ...listQueryWire.shape,
  ledger: idWire.optional().meta({ description: 'Only accounts of this ledger.' }),
});

const asOfQuery = z.strictObject({
  as_of: z.string().regex(TIME_QUERY_PATTERN, 'must be an ISO 8601 time with offset or Unix seconds')
    .optional().meta({ description: 'Balances as they stood then: ISO 8601 (2025-01-31T23:59:59Z) or Unix seconds.' }),
});

/** Accounts: open, get, list (cursor pagination), close, reopen, balances (current and as of a time). */
export function accountRoutes(ledger: LedgerApi): FastifyPluginAsync {
  return async (plain) => {
    useZod(plain);
    const app = plain.withTypeProvider<ZodTypeProvider>();

    app.post('/v1/accounts', {
      config: { permission: 'ledger:write' },
      schema: { tags: TAGS, summary: 'Open an account', headers: idempotencyHeaderWire, body: openAccountBody, response: { 200: accountWire, ...errorResponses } },
    }, async (request) => {
      const body = request.body;
      const accountId = body.id ?? idFor(request, 'acct');
      await executeLedger(ledger, request, {
        type: 'OpenAccount',
        data: {
          accountId, currency: body.currency as never, ledger: body.ledger ?? body.currency, code: body.code,
          flags: body.flags === undefined ? undefined : {
            debitsMustNotExceedCredits: body.flags.debits_must_not_exceed_credits,
            creditsMustNotExceedDebits: body.flags.credits_must_not_exceed_debits,
            history: body.flags.history,
          },
          overdraftLimitMinor: body.overdraft_limit === undefined ? undefined : parseAmount(body.overdraft_limit),
          creditLimitMinor: body.credit_limit === undefined ? undefined : parseAmount(body.credit_limit),
          userData: body.user_data, metadata: body.metadata,
        },
      });
      return accountToWire(engineOf(ledger, request).state.account(accountId)!, authOf(request).mode);
    });

    app.get('/v1/accounts', {
      config: { permission: 'ledger:read' },
      schema: {
        tags: TAGS, summary: 'List accounts, oldest first',
        description: 'Cursor pagination with `limit` and `starting_after` or `ending_before`. Filters (all must hold): `ledger`, and any number of `metadata[key]=value`. '
          + SCAN_BUDGET_NOTE,
        querystring: listAccountsQuery,
        response: { 200: z.object({ object: z.literal('list'), data: z.array(accountWire), has_more: z.boolean(), url: z.string(), next_cursor: nextCursorWire }), ...errorResponses },
      },
    }, async (request) => {
      const { mode } = authOf(request);
      const query = request.query;
      const state = engineOf(ledger, request).state;
      const cursor = cursorOf(query);
      const { ids, hasMore, known, resumeAfter } = ledger.directories[mode].page(cursor, query.limit, { ledger: query.ledger, metadata: metadataFiltersOf(query) });
      if (!known) throw new DaybookError('not_found', `No such account: '${cursor.after ?? cursor.before}'`, {}, cursor.param ?? undefined);
      return {
        object: 'list' as const, data: ids.map((id) => accountToWire(state.account(id)!, mode)), has_more: hasMore, url: '/v1/accounts',
        ...(resumeAfter === null ? {} : { next_cursor: resumeAfter }),
      };
    });

    app.get('/v1/accounts/:id', {
      config: { permission: 'ledger:read' },
      schema: { tags: TAGS, summary: 'Retrieve an account', params: idParamsWire, response: { 200: accountWire, ...errorResponses } },
    }, async (request) => accountToWire(await existingAccount(ledger, request, request.params.id), authOf(request).mode));

    for (const action of ['close', 'reopen'] as const) {
      app.post(`/v1/accounts/:id/${action}`, {
        config: { permission: 'ledger:write' },
        schema: {
          tags: TAGS, summary: action === 'close' ? 'Close an account (no movements until reopened)' : 'Reopen a closed account',
          headers: idempotencyHeaderWire, params: idParamsWire, body: z.strictObject({}).optional(), response: { 200: accountWire, ...errorResponses },
        },
      }, async (request) => {
        const accountId = (await existingAccount(ledger, request, request.params.id)).accountId;
        await executeLedger(ledger, request, { type: action === 'close' ? 'CloseAccount' : 'ReopenAccount', data: { accountId } }, '');
        return accountToWire(engineOf(ledger, request).state.account(accountId)!, authOf(request).mode);
      });
    }

    app.get('/v1/accounts/:id/balance', {
      config: { permission: 'ledger:read' },
      schema: { tags: TAGS, summary: 'Balances of an account, now or as of a time', params: idParamsWire, querystring: asOfQuery, response: { 200: balanceWire, ...errorResponses } },
    }, async (request) => {
      const account = await existingAccount(ledger, request, request.params.id);
      const asOfText = request.query.as_of;
      const atMs = asOfText === undefined ? undefined : parseTimeParam(asOfText, 'as_of');
      const engine = engineOf(ledger, request);
      const balances = atMs === undefined ? account.balances : await accountBalancesAsOf(ledger.store, engine.streamId, account, atMs);
      return {
        object: 'balance' as const, account_id: account.accountId, currency: account.currency, livemode: authOf(request).mode === 'live',
        as_of: atMs === undefined ? null : new Date(atMs).toISOString(), ...balancesToWire(balances),
        net_posted: (balances.creditsPosted - balances.debitsPosted).toString(),
      };
    });
  };
}

/** The account, or 404; on a miss the engine first catches up with the log (another process may have opened it). */
async function existingAccount(ledger: LedgerApi, request: Parameters<typeof engineOf>[1], accountId: string) {
  const engine = engineOf(ledger, request);
  let account = engine.state.account(accountId);
  if (account === undefined) {
    await engine.catchUp();
    account = engine.state.account(accountId);
  }
  if (account === undefined) throw new DaybookError('account_not_found', `No such account: '${accountId}'`, { accountId }, 'id');
  return account;
}

