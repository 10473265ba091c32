import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ACCOUNT_TYPES, BANKING_CURRENCIES, CLOSURE_REASONS, type ComplianceFlags, CUSTOMER_KINDS, type OpenedAccountState, REGULATORY_TIERS } from '../../banking/index.ts';
import { DaybookError } from '../../kernel/index.ts';
import {
  BANKING_WIRE_ID_LENGTH_MAX, type BankingApi, bankAccountToWire, bankingOf, balanceToWire, freshReadModel, historyItemToWire, internalId,
  operationContext, runBanking, transactionToWire, wireId,
} from '../bankingApi.ts';
import { approvalRequestWire, type ApprovalsApi, askApproval } from '../approvalsApi.ts';
import { bankCustomerSubject, type ComplianceApi } from '../complianceApi.ts';
import { idFor, type RecordedAnswer } from '../idempotency.hooks.ts';
import { useZod } from '../openapi.ts';
import { authOf } from '../security.ts';
import { amountInputWire, amountWire, errorResponses, idempotencyHeaderWire, idWire, parseAmount, parseTimeParam } from '../wire.ts';

const bankIdWire = idWire.max(BANKING_WIRE_ID_LENGTH_MAX);
const bankIdParams = z.strictObject({ id: bankIdWire });

const piiFields = {
  full_name: z.string().min(1).max(300),
  email: z.string().min(3).max(300),
  phone: z.string().max(300).nullable().optional(),
  date_of_birth: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').nullable().optional(),
  address: z.string().max(300).nullable().optional(),
};

export const customerWire = z.object({
  object: z.literal('customer'), id: z.string(), livemode: z.boolean(), kind: z.enum(CUSTOMER_KINDS),
  full_name: z.string(), email: z.string(), phone: z.string().nullable(), date_of_birth: z.string().nullable(), address: z.string().nullable(),
}).meta({ id: 'Customer' });

const bankBalanceWire = z.object({ posted: amountWire, pending: z.string(), available: z.string() });

export const bankAccountWire = z.object({
  object: z.literal('bank_account'), id: z.string(), livemode: z.boolean(), customer_id: z.string(), type: z.enum(ACCOUNT_TYPES),
  currency: z.enum(BANKING_CURRENCIES), regulatory_tier: z.enum(REGULATORY_TIERS),
  compliance_flags: z.object({ kyc_verified: z.boolean(), sanctions_screened: z.boolean(), politically_exposed: z.boolean(), enhanced_due_diligence: z.boolean() }),
  status: z.enum(['open', 'frozen', 'closed']), created: z.string(), balance: bankBalanceWire.nullable(),
}).meta({ id: 'BankAccount' });

export const bankTransactionWire = z.object({
  object: z.literal('bank_transaction'), id: z.string(), livemode: z.boolean(), type: z.enum(['deposit', 'transfer', 'payment', 'withdrawal']),
  status: z.enum(['initiated', 'completed', 'failed']), from_account_id: z.string().nullable(), to_account_id: z.string().nullable(),
  beneficiary: z.string().nullable(), amount: amountWire, currency: z.string(), to_currency: z.string(), exchange_rate: z.string().nullable(),
  fee: amountWire, reference: z.string(), final_amount: z.string().nullable(), debited_amount: z.string().nullable(),
  failure_code: z.string().nullable(), failure_message: z.string().nullable(), created: z.string(), settled: z.string().nullable(),
}).meta({ id: 'BankTransaction' });

const historyQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(1000).optional().meta({ description: 'next_cursor of the previous page (same filters).' }),
  from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Initiated at or after (ISO 8601).' }),
  to: z.iso.datetime({ offset: true }).optional().meta({ description: 'Initiated before (ISO 8601).' }),
  min_amount: amountWire.optional(),
  max_amount: amountWire.optional(),
});

/** Customers (personal data) and bank accounts: open, get, freeze, unfreeze, close, balances, transaction history. */
export function bankAccountRoutes(banking: BankingApi, approvals: ApprovalsApi, compliance: ComplianceApi): FastifyPluginAsync {
  return async (plain) => {
    useZod(plain);
    const app = plain.withTypeProvider<ZodTypeProvider>();

    const customerToWire = (request: FastifyRequest, customer: { customerId: string; kind: (typeof CUSTOMER_KINDS)[number]; pii: { fullName: string; email: string; phone: string | null; dateOfBirth: string | null; address: string | null } }) => ({
      object: 'customer' as const, id: wireId(customer.customerId), livemode: authOf(request).mode === 'live', kind: customer.kind,
      full_name: customer.pii.fullName, email: customer.pii.email, phone: customer.pii.phone, date_of_birth: customer.pii.dateOfBirth, address: customer.pii.address,
    });

    /**
     * The customer routes' idempotency records keep no personal data (see
     * RecordedAnswer): of a customer answer, only `object`, `id`,
     * `livemode` and `kind`; error answers carry none and are kept whole. A
     * replay reads the customer again and answers its current data. Stripe
     * replays the first answer byte for byte; here the record cannot hold
     * it, and the customer as it is now is the honest answer: a replay after
     * an update shows the update, with status 200 and Idempotent-Replayed.
     */
    const recordedAnswer: RecordedAnswer = {
      stored: (body) => {
        const answer = JSON.parse(body) as { object?: unknown; id?: unknown; livemode?: unknown; kind?: unknown };
        if (answer.object !== 'customer') return body;
        return JSON.stringify({ object: answer.object, id: answer.id, livemode: answer.livemode, kind: answer.kind });
      },
      replayed: async (request, stored) => {
        const answer = JSON.parse(stored) as { object?: unknown; id?: unknown };
        if (answer.object !== 'customer' || typeof answer.id !== 'string') return stored;
        const state = await runBanking(() => bankingOf(banking, request).customer(internalId(request, answer.id as string)));
        if (state.status !== 'registered') throw new DaybookError('customer_not_found', `No such customer: '${answer.id}'`, {}, 'id');
        return JSON.stringify(customerToWire(request, state));
      },
    };

    app.post('/v1/customers', {
      config: { permission: 'customers:write', recordedAnswer },
      schema: {
        tags: ['Customers'], summary: 'Register a customer', headers: idempotencyHeaderWire,
        body: z.strictObject({ id: bankIdWire.optional(), kind: z.enum(CUSTOMER_KINDS).optional(), ...piiFields }), response: { 200: customerWire, ...errorResponses },
      },
    }, async (request) => {
      const body = request.body;
      const result = await runBanking(() => bankingOf(banking, request).registerCustomer({
        customerId: internalId(request, body.id ?? idFor(request, 'cus')), kind: body.kind,
        pii: { fullName: body.full_name, email: body.email, phone: body.phone, dateOfBirth: body.date_of_birth, address: body.address },
      }, operationContext(request)));
      // Screened after the customer is registered and before the answer: a hit's case exists when the caller learns the id.
      await compliance.screen(bankCustomerSubject(result.customerId), result.pii.fullName, authOf(request).keyId);
      return customerToWire(request, result);
    });

    app.get('/v1/customers/:id', {
      config: { permission: 'customers:read', pii: 'answer' },
      schema: { tags: ['Customers'], summary: 'Retrieve a customer (personal data)', params: bankIdParams, response: { 200: customerWire, ...errorResponses } },
    }, async (request) => {
      const state = await runBanking(() => bankingOf(banking, request).customer(internalId(request, request.params.id)));
      if (state.status !== 'registered') throw new DaybookError('customer_not_found', `No such customer: '${request.params.id}'`, {}, 'id');
      return customerToWire(request, state);
    });

    app.post('/v1/customers/:id', {
      config: { permission: 'customers:write', recordedAnswer },
      schema: { tags: ['Customers'], summary: "Replace a customer's personal data", headers: idempotencyHeaderWire, params: bankIdParams, body: z.strictObject(piiFields), response: { 200: customerWire, ...errorResponses } },
    }, async (request) => {
      const body = request.body;
      const result = await runBanking(() => bankingOf(banking, request).updateCustomerPii(internalId(request, request.params.id), {
        fullName: body.full_name, email: body.email, phone: body.phone, dateOfBirth: body.date_of_birth, address: body.address,
      }, operationContext(request)));
      await compliance.screen(bankCustomerSubject(result.customerId), result.pii.fullName, authOf(request).keyId);
      return customerToWire(request, result);
    });

    const accountAnswer = async (request: FastifyRequest, account: OpenedAccountState) =>
      bankAccountToWire(account, await (await freshReadModel(banking)).balance(account.opened.accountId), authOf(request).mode);

    app.post('/v1/bank_accounts', {
      config: { permission: 'banking:write' },
      schema: {
        tags: ['Bank accounts'], summary: 'Open a bank account for a customer', headers: idempotencyHeaderWire,
        body: z.strictObject({
          id: bankIdWire.optional(), customer_id: bankIdWire, type: z.enum(ACCOUNT_TYPES), currency: z.enum(BANKING_CURRENCIES), regulatory_tier: z.enum(REGULATORY_TIERS),
          compliance_flags: z.strictObject({ kyc_verified: z.boolean().optional(), sanctions_screened: z.boolean().optional(), politically_exposed: z.boolean().optional(), enhanced_due_diligence: z.boolean().optional() }).optional(),
          initial_balance: amountInputWire.optional().meta({ description: 'Paid in as a deposit on opening.' }),
        }),
        response: { 200: bankAccountWire, ...errorResponses },
      },
    }, async (request) => {
      const body = request.body;
      const flags = body.compliance_flags;
      const result = await runBanking(() => bankingOf(banking, request).openAccount({
        accountId: internalId(request, body.id ?? idFor(request, 'ba')), customerId: internalId(request, body.customer_id), accountType: body.type, currency: body.currency,
        regulatoryTier: body.regulatory_tier, initialBalanceMinor: body.initial_balance === undefined ? undefined : parseAmount(body.initial_balance),
        complianceFlags: flags === undefined ? undefined : complianceFlagsOf(flags),
      }, operationContext(request)), { accountId: 'id', accountType: 'type' });
      return accountAnswer(request, result.account);
    });

    app.get('/v1/bank_accounts/:id', {
      config: { permission: 'banking:read' },
      schema: { tags: ['Bank accounts'], summary: 'Retrieve a bank account with its balance', params: bankIdParams, response: { 200: bankAccountWire, ...errorResponses } },
    }, async (request) => accountAnswer(request, await existingAccount(banking, request, request.params.id)));

    app.post('/v1/bank_accounts/:id/freeze', {
      config: { permission: 'banking:write' },
      schema: { tags: ['Bank accounts'], summary: 'Freeze an account (no money in or out)', headers: idempotencyHeaderWire, params: bankIdParams, body: z.strictObject({ reason: z.string().min(1).max(500) }), response: { 200: bankAccountWire, ...errorResponses } },
    }, async (request) => {
      await existingAccount(banking, request, request.params.id);
      const account = await runBanking(() => bankingOf(banking, request).freeze({ accountId: internalId(request, request.params.id), reason: request.body.reason }, operationContext(request)));
      return accountAnswer(request, account);
    });

    app.post('/v1/bank_accounts/:id/unfreeze', {
      config: { permission: 'banking:write' },
      schema: {
        tags: ['Bank accounts'], summary: 'Unfreeze an account',
        description: 'With maker-checker on (DAYBOOK_MAKER_CHECKER), a frozen account is unfrozen once a checker approves: the answer is 202 with the approval request.',
        headers: idempotencyHeaderWire, params: bankIdParams, body: z.strictObject({}).optional(), response: { 200: bankAccountWire, 202: approvalRequestWire, ...errorResponses },
      },
    }, async (request, reply) => {
      const existing = await existingAccount(banking, request, request.params.id);
      // Only a frozen open account waits for a checker; anything else is refused now, as without maker-checker.
      if (approvals.policy.makerChecker && existing.status === 'open' && existing.frozen) return askApproval(approvals, request, reply, 'bank_account_unfreeze', { account_id: request.params.id });
      const account = await runBanking(() => bankingOf(banking, request).unfreeze({ accountId: internalId(request, request.params.id) }, operationContext(request)));
      return accountAnswer(request, account);
    });

    app.post('/v1/bank_accounts/:id/close', {
      config: { permission: 'banking:write' },
      schema: {
        tags: ['Bank accounts'], summary: 'Close an account, sweeping its balance', headers: idempotencyHeaderWire, params: bankIdParams,
        body: z.strictObject({ reason: z.enum(CLOSURE_REASONS), sweep_to_account_id: bankIdWire.optional(), regulator_notified: z.boolean().optional() }),
        response: { 200: z.object({ account: bankAccountWire, sweep: bankTransactionWire.nullable() }), ...errorResponses },
      },
    }, async (request) => {
      await existingAccount(banking, request, request.params.id);
      const body = request.body;
      const bank = bankingOf(banking, request);
      const result = await runBanking(() => bank.close({
        accountId: internalId(request, request.params.id), reason: body.reason, regulatorNotified: body.regulator_notified,
        sweepToAccountId: body.sweep_to_account_id === undefined ? undefined : internalId(request, body.sweep_to_account_id),
      }, operationContext(request)));
      const account = await existingAccount(banking, request, request.params.id);
      return { account: await accountAnswer(request, account), sweep: result.sweep === null ? null : transactionToWire(result.sweep, authOf(request).mode) };
    });

    app.get('/v1/bank_accounts/:id/balance', {
      config: { permission: 'banking:read' },
      schema: {
        tags: ['Bank accounts'], summary: 'Balance now, or as of a time', params: bankIdParams,
        querystring: z.strictObject({ as_of: z.iso.datetime({ offset: true }).optional() }),
        response: { 200: z.object({ object: z.literal('bank_balance'), account_id: z.string(), currency: z.string(), as_of: z.string().nullable(), ...bankBalanceWire.shape }), ...errorResponses },
      },
    }, async (request) => {
      const account = await existingAccount(banking, request, request.params.id);
      const model = await freshReadModel(banking);
      const id = account.opened.accountId;
      const asOf = request.query.as_of;
      const balance = asOf === undefined ? await model.balance(id) : await model.balanceAsOf(id, parseTimeParam(asOf, 'as_of'));
      const zero = { posted: '0', pending: '0', available: '0' };
      return { object: 'bank_balance' as const, account_id: request.params.id, currency: account.opened.currency, as_of: asOf ?? null, ...(balance === undefined ? zero : balanceToWire(balance)) };
    });

    app.get('/v1/bank_accounts/:id/transactions', {
      config: { permission: 'banking:read' },
      schema: {
        tags: ['Bank accounts'], summary: 'Transaction history, newest first, filtered, cursor-paginated', params: bankIdParams, querystring: historyQuery,
        response: { 200: z.object({ object: z.literal('list'), data: z.array(z.record(z.string(), z.unknown())), has_more: z.boolean(), next_cursor: z.string().nullable() }), ...errorResponses },
      },
    }, async (request) => {
      const account = await existingAccount(banking, request, request.params.id);
      const query = request.query;
      const page = await runBanking(async () => (await freshReadModel(banking)).history(account.opened.accountId, {
        limit: query.limit, cursor: query.cursor, from: query.from === undefined ? undefined : parseTimeParam(query.from, 'from'), to: query.to === undefined ? undefined : parseTimeParam(query.to, 'to'),
        minAmountMinor: query.min_amount === undefined ? undefined : parseAmount(query.min_amount), maxAmountMinor: query.max_amount === undefined ? undefined : parseAmount(query.max_amount),
      }));
      return { object: 'list' as const, data: page.items.map(historyItemToWire), has_more: page.nextCursor !== null, next_cursor: page.nextCursor };
    });
  };
}

/** Existence before anything is decided: an unknown account is a 404 with nothing written. */
export async function existingAccount(banking: BankingApi, request: FastifyRequest, wire: string, param = 'id'): Promise<OpenedAccountState> {
  const state = await runBanking(() => bankingOf(banking, request).account(internalId(request, wire)));
  if (state.status === 'none') throw new DaybookError('account_not_found', `No such bank account: '${wire}'`, {}, param);
  return state;
}

/**
 * The flags the caller gave, and only those: a flag left out takes its
 * default (false) in the service, which spreads these over its defaults, so
 * a key present with the value undefined would erase the default.
 */
function complianceFlagsOf(flags: { kyc_verified?: boolean; sanctions_screened?: boolean; politically_exposed?: boolean; enhanced_due_diligence?: boolean }): Partial<ComplianceFlags> {
  return {
    ...(flags.kyc_verified === undefined ? {} : { kycVerified: flags.kyc_verified }),
    ...(flags.sanctions_screened === undefined ? {} : { sanctionsScreened: flags.sanctions_screened }),
    ...(flags.politically_exposed === undefined ? {} : { politicallyExposed: flags.politically_exposed }),
    ...(flags.enhanced_due_diligence === undefined ? {} : { enhancedDueDiligence: flags.enhanced_due_diligence }),
  };
}
