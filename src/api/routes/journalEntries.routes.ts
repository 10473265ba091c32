import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { assert, DaybookError } from '../../kernel/index.ts';
import type { EntryRecord, LedgerEngine, LedgerRequest } from '../../ledger/index.ts';
import type { Currency } from '../../kernel/money.ts';
import { approvalRequestWire, type ApprovalsApi, askApproval } from '../approvalsApi.ts';
import { idFor } from '../idempotency.hooks.ts';
import { engineBehindTheLog, engineOf, executeLedger, type LedgerApi } from '../ledgerApi.ts';
import { entryToWire } from '../ledger.presenters.ts';
import { useZod } from '../openapi.ts';
import { authOf } from '../security.ts';
import { amountInputWire, amountWire, balancesWire, currencyWire, errorResponses, idempotencyHeaderWire, idParamsWire, idWire, metadataWire, parseAmount } from '../wire.ts';

const TAGS = ['Journal entries'];

const postingWire = z.strictObject({ account_id: idWire, side: z.enum(['debit', 'credit']), amount: amountInputWire, currency: currencyWire });
const conversionWire = z.strictObject({
  from_account_id: idWire,
  to_account_id: idWire,
  amount: amountInputWire,
  from_currency: currencyWire,
  to_currency: currencyWire,
  rate: z.string().regex(/^(0|[1-9][0-9]*)(\.[0-9]+)?$/, 'must be a positive decimal string such as "1.0842"').meta({ description: 'Target major units per source major unit.' }),
  liquidity_from_account_id: idWire,
  liquidity_to_account_id: idWire,
  rounding_account_id: idWire,
});

const recordEntryBody = z.strictObject({
  id: idWire.optional().meta({ description: 'Your id for the entry; generated (je_…) when absent.' }),
  postings: z.array(postingWire).optional().meta({ description: 'Legs; debits equal credits per currency.' }),
  conversions: z.array(conversionWire).optional().meta({ description: 'Currency conversions, each balanced per currency through liquidity accounts.' }),
  metadata: metadataWire.optional(),
});

export const journalEntryWire = z.object({
  object: z.literal('journal_entry'),
  id: z.string(),
  livemode: z.boolean(),
  status: z.enum(['recorded', 'reversed', 'failed']),
  failure_code: z.string().nullable(),
  reverses: z.string().nullable(),
  reversed_by: z.string().nullable(),
  legs: z.array(z.object({ account_id: z.string(), side: z.enum(['debit', 'credit']), amount: amountWire, currency: z.string() })),
  balances: z.array(z.object({ account_id: z.string(), ...balancesWire.shape })),
  metadata: z.record(z.string(), z.string()),
  created: z.string(),
}).meta({ id: 'JournalEntry' });

/** Journal entries (multi-leg, with FX conversions) and their reversals. */
export function journalEntryRoutes(ledger: LedgerApi, approvals: ApprovalsApi): FastifyPluginAsync {
  return async (plain) => {
    useZod(plain);
    const app = plain.withTypeProvider<ZodTypeProvider>();

    app.post('/v1/journal_entries', {
      config: { permission: 'ledger:write' },
      schema: {
        tags: TAGS, summary: 'Record a journal entry',
        description: 'A manual ledger adjustment: with maker-checker on (DAYBOOK_MAKER_CHECKER), the answer is 202 with an approval request, and the entry is recorded once a checker approves it.',
        headers: idempotencyHeaderWire, body: recordEntryBody, response: { 200: journalEntryWire, 202: approvalRequestWire, ...errorResponses },
      },
    }, async (request, reply) => {
      const body = request.body;
      const entryId = body.id ?? idFor(request, 'je');
      const engine = engineOf(ledger, request);
      const seenVersion = engine.streamVersion;
      const state = engine.state;
      if (state.entry(entryId) === undefined) {
        const named = [
          ...(body.postings ?? []).map((posting, index) => [posting.account_id, `postings.${index}.account_id`] as const),
          ...(body.conversions ?? []).flatMap((conversion, index) => (['from_account_id', 'to_account_id', 'liquidity_from_account_id', 'liquidity_to_account_id', 'rounding_account_id'] as const)
            .map((field) => [conversion[field], `conversions.${index}.${field}`] as const)),
        ];
        const missing = named.find(([accountId]) => state.account(accountId) === undefined);
        if (missing !== undefined && (await engine.lookupEntry(entryId)) === undefined && !(await engineBehindTheLog(ledger, request, seenVersion))) throw new DaybookError('account_not_found', `No such account: '${missing[0]}'`, { accountId: missing[0] }, missing[1]);
      }
      if (approvals.policy.makerChecker && (await engine.lookupEntry(entryId)) === undefined) {
        // Validated before anyone is asked: a checker approves what the ledger would take (or refuses when it runs: balances move meanwhile).
        return askApproval(approvals, request, reply, 'journal_entry', { ...body, id: entryId });
      }
      await executeLedger(ledger, request, journalEntryCommandOf(body, entryId));
      return entryToWire(await entryNow(engine, entryId), authOf(request).mode);
    });

    app.get('/v1/journal_entries/:id', {
      config: { permission: 'ledger:read' },
      schema: { tags: TAGS, summary: 'Retrieve a journal entry', params: idParamsWire, response: { 200: journalEntryWire, ...errorResponses } },
    }, async (request) => {
      const engine = engineOf(ledger, request);
      let entry = await engine.lookupEntry(request.params.id);
      if (entry === undefined) {
        await engine.catchUp();
        entry = await engine.lookupEntry(request.params.id);
      }
      if (entry === undefined) throw new DaybookError('entry_not_found', `No such journal entry: '${request.params.id}'`, {}, 'id');
      return entryToWire(entry, authOf(request).mode);
    });

    app.post('/v1/journal_entries/:id/reverse', {
      config: { permission: 'ledger:write' },
      schema: {
        tags: TAGS, summary: 'Reverse a journal entry with a new entry of opposite legs', headers: idempotencyHeaderWire, params: idParamsWire,
        body: z.strictObject({ id: idWire.optional().meta({ description: 'Id of the reversing entry; generated when absent.' }), metadata: metadataWire.optional() }).optional(),
        response: { 200: journalEntryWire, 202: approvalRequestWire, ...errorResponses },
      },
    }, async (request, reply) => {
      const engine = engineOf(ledger, request);
      const seenVersion = engine.streamVersion;
      const state = engine.state;
      const reversalId = request.body?.id ?? idFor(request, 'je');
      if ((await engine.lookupEntry(reversalId)) === undefined && (await engine.lookupEntry(request.params.id)) === undefined && !(await engineBehindTheLog(ledger, request, seenVersion))) {
        throw new DaybookError('entry_not_found', `No such journal entry: '${request.params.id}'`, {}, 'id');
      }
      const original = await engine.lookupEntry(request.params.id);
      if (approvals.policy.makerChecker && original !== undefined && original.status !== 'failed' && original.reversedBy === null && (await engine.lookupEntry(reversalId)) === undefined) {
        return askApproval(approvals, request, reply, 'journal_entry_reversal', { id: reversalId, entry_id: request.params.id, ...(request.body?.metadata === undefined ? {} : { metadata: request.body.metadata }) });
      }
      const result = await executeLedger(ledger, request, { type: 'ReverseJournalEntry', data: { reversalId, entryId: request.params.id, metadata: request.body?.metadata } });
      // An entry reversed already answers its first reversal, whose id is not this request's reversalId.
      const answeredId = result.kind === 'entry' ? result.entryId : reversalId;
      return entryToWire(await entryNow(engine, answeredId), authOf(request).mode);
    });
  };
}

export type RecordEntryBody = z.infer<typeof recordEntryBody>;

/** The ledger command of a journal entry as the wire states it. */
export function journalEntryCommandOf(body: RecordEntryBody, entryId: string): LedgerRequest & { type: 'RecordJournalEntry' } {
  return {
    type: 'RecordJournalEntry',
    data: {
      entryId,
      postings: body.postings?.map((posting) => ({ accountId: posting.account_id, side: posting.side, amountMinor: parseAmount(posting.amount), currency: posting.currency as Currency })),
      conversions: body.conversions?.map((conversion) => ({
        fromAccountId: conversion.from_account_id, toAccountId: conversion.to_account_id, amountMinor: parseAmount(conversion.amount),
        fromCurrency: conversion.from_currency as Currency, toCurrency: conversion.to_currency as Currency, rate: conversion.rate,
        liquidityFromAccountId: conversion.liquidity_from_account_id, liquidityToAccountId: conversion.liquidity_to_account_id,
        roundingAccountId: conversion.rounding_account_id,
      })),
      metadata: body.metadata,
    },
  };
}

/** An entry just recorded (or answered): held by the engine, or read back from the log if its cache dropped it meanwhile. */
async function entryNow(engine: LedgerEngine, entryId: string): Promise<EntryRecord> {
  const record = engine.state.entry(entryId) ?? await engine.lookupEntry(entryId);
  assert(record !== undefined, `journal entry ${entryId} was recorded but cannot be found`);
  return record;
}
