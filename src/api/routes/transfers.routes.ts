import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { assert, DaybookError, EVENTS_PER_APPEND_MAX, isDaybookError } from '../../kernel/index.ts';
import type { LedgerAttachment, LedgerEngine, LedgerRequest, TransferRecord } from '../../ledger/index.ts';
import { approvalRequestWire, type ApprovalsApi, askApproval, transferNeedsApproval } from '../approvalsApi.ts';
import { idFor } from '../idempotency.hooks.ts';
import { engineBehindTheLog, engineOf, executeAndAnswer, executeLedger, type LedgerApi } from '../ledgerApi.ts';
import { transferToWire } from '../ledger.presenters.ts';
import { nextCursorWire, SCAN_BUDGET_NOTE } from '../listScan.ts';
import { TRANSFER_LOG_CURSOR, type TransferFilter } from '../transferDirectory.ts';
import type { ComplianceApi, FraudCheck } from '../complianceApi.ts';
import { useZod } from '../openapi.ts';
import { authOf } from '../security.ts';
import {
  amountInputWire, amountWire, codeWire, cursorOf, parseTimeParam, TIME_QUERY_PATTERN, errorResponses, eventMetadataOf, idempotencyHeaderWire, idParamsWire, idWire, listQueryWire, listQueryWithMetadataWire, metadataFiltersOf, metadataWire, parseAmount,
  rejectionError, stripeErrorWire, userDataWire, withWireParam,
} from '../wire.ts';

const TAGS = ['Transfers'];
/** Most transfers in one linked batch (each is one event, and a batch is one append). */
export const TRANSFERS_PER_BATCH_MAX = 1000;

/**
 * True when a batch's verdicts can ride in its append: always for a loose
 * batch (the engine splits it between items, each with its verdict), and for
 * an atomic one (a chain, one append) while its transfers and verdicts fit
 * EVENTS_PER_APPEND_MAX; past that the verdicts would make an accepted
 * batch unwritable.
 */
function verdictsFit(atomic: boolean, items: number, fraud: readonly (FraudCheck | null)[]): boolean {
  return !atomic || items + fraud.filter((check) => check !== null).length <= EVENTS_PER_APPEND_MAX;
}

const createTransferFields = {
  id: idWire.optional().meta({ description: 'Your id for the transfer; generated (tr_…) when absent. The same id and body again answers the first result.' }),
  debit_account_id: idWire,
  credit_account_id: idWire,
  amount: amountInputWire,
  ledger: idWire.optional().meta({ description: "Defaults to the debit account's ledger." }),
  code: codeWire.optional(),
  pending: z.boolean().optional().meta({ description: 'Reserve the amount until posted or voided (two-phase).' }),
  timeout_ms: z.number().int().min(0).optional().meta({ description: 'Pending transfers only: expire after this many milliseconds; 0 never.' }),
  balancing_debit: z.boolean().optional(),
  balancing_credit: z.boolean().optional(),
  user_data: userDataWire.optional(),
  metadata: metadataWire.optional(),
};
const createTransferBody = z.strictObject(createTransferFields);
export type CreateTransferBody = z.infer<typeof createTransferBody>;

export const transferWire = z.object({
  object: z.literal('transfer'),
  id: z.string(),
  livemode: z.boolean(),
  type: z.enum(['single', 'pending', 'post', 'void']).nullable(),
  status: z.enum(['posted', 'pending', 'voided', 'expired', 'failed']),
  failure_code: z.string().nullable(),
  debit_account_id: z.string().nullable(),
  credit_account_id: z.string().nullable(),
  amount: amountWire.nullable(),
  currency: z.string().nullable(),
  ledger: z.string().nullable(),
  pending_id: z.string().nullable(),
  expires_at: z.string().nullable(),
  code: z.number().int().nullable(),
  user_data: z.string(),
  metadata: z.record(z.string(), z.string()),
  created: z.string(),
}).meta({ id: 'Transfer' });

const settleBody = z.strictObject({
  id: idWire.optional().meta({ description: 'Id of the posting (or voiding) transfer; generated when absent.' }),
  amount: amountInputWire.optional().meta({ description: 'Post less than reserved; the rest is released. Absent posts it all.' }),
  user_data: userDataWire.optional(),
  metadata: metadataWire.optional(),
}).optional();

const batchBody = z.strictObject({
  transfers: z.array(createTransferBody).min(1),
  atomic: z.boolean().optional().meta({ description: 'Default true: all transfers succeed or none does (a linked chain).' }),
});

const batchWire = z.object({
  object: z.literal('transfer_batch'),
  atomic: z.boolean(),
  succeeded: z.boolean(),
  results: z.array(z.object({ id: z.string(), transfer: transferWire.nullable(), error: stripeErrorWire.shape.error.nullable() })),
}).meta({ id: 'TransferBatch' });

const timeBoundWire = z.string().regex(TIME_QUERY_PATTERN, 'must be an ISO 8601 time with offset or Unix seconds');
/** A transfer id, or the `next_cursor` a page the scan budget ended gave (`_v<version>`: a place in the partition's log, which no id can be). */
const transferCursorWire = idWire.or(z.string().regex(TRANSFER_LOG_CURSOR, 'a next_cursor looks like _v123'));

const listTransfersFields = {
  ...listQueryWire.shape,
  starting_after: transferCursorWire.optional().meta({ description: 'The id of the last transfer of the previous page (or a `next_cursor`): the page after it.' }),
  ending_before: transferCursorWire.optional().meta({ description: 'The id of the first transfer of the next page (or a `next_cursor`): the page before it. Not with starting_after.' }),
  account_id: idWire.optional().meta({ description: 'Only transfers that debit or credit this account.' }),
  'created[gt]': timeBoundWire.optional().meta({ description: 'Only transfers recorded after this time: ISO 8601 or Unix seconds.' }),
  'created[gte]': timeBoundWire.optional().meta({ description: 'Only transfers recorded at or after this time.' }),
  'created[lt]': timeBoundWire.optional().meta({ description: 'Only transfers recorded before this time.' }),
  'created[lte]': timeBoundWire.optional().meta({ description: 'Only transfers recorded at or before this time.' }),
};

/** The named parameters, plus any number of `metadata[key]=value` filters; anything else is refused, named. */
const listTransfersQuery = listQueryWithMetadataWire(listTransfersFields);
type ListTransfersQuery = z.infer<typeof listTransfersQuery>;

/** Transfers: single, two-phase (pending, then post or void), linked batches, and the list. */
export function transferRoutes(ledger: LedgerApi, approvals: ApprovalsApi, compliance: ComplianceApi): FastifyPluginAsync {
  return async (plain) => {
    useZod(plain);
    const app = plain.withTypeProvider<ZodTypeProvider>();

    app.post('/v1/transfers', {
      config: { permission: 'ledger:write' },
      schema: {
        tags: TAGS, summary: 'Create a transfer',
        description: 'A transfer of at least DAYBOOK_APPROVAL_TRANSFER_THRESHOLD_MINOR minor units waits for a checker: the answer is then 202 with the approval request.',
        headers: idempotencyHeaderWire, body: createTransferBody, response: { 200: transferWire, 202: approvalRequestWire, ...errorResponses },
      },
    }, async (request, reply) => {
      const transferId = request.body.id ?? idFor(request, 'tr');
      const command = await createTransferCommand(ledger, request, request.body, transferId, false);
      const { mode } = authOf(request);
      // A transfer recorded already (an approved one, asked for again) is answered by the ledger as any repeated id.
      const engine = engineOf(ledger, request);
      if (transferNeedsApproval(approvals.policy, command.data.amountMinor) && !(await isRecorded(engine, transferId))) {
        return askApproval(approvals, request, reply, 'transfer', { ...request.body, id: transferId, ledger: command.data.ledger });
      }
      // Scored before it executes. A transfer recorded already is a repeat: the ledger answers it, and its verdict is not written again
      // (the attachment is for a new transfer only); only a block asks the log whether it is one, so a new transfer costs no lookup here.
      const fraud = await compliance.checkFraud(
        { ref: `ledger.${mode}.${transferId}`, amountMinor: command.data.amountMinor, currency: null, mode, actor: authOf(request).keyId },
        () => isRecorded(engine, transferId),
      );
      // The hot path: the transfer, its verdict and (with an Idempotency-Key) the answer's record commit in one append (executeAndAnswer).
      return executeAndAnswer(ledger, request, reply, command, (state) => transferToWire(state.transfer(transferId)!, mode), fraud?.write);
    });

    app.post('/v1/transfers/batch', {
      config: { permission: 'ledger:write' },
      schema: { tags: TAGS, summary: 'Create several transfers, atomically by default', headers: idempotencyHeaderWire, body: batchBody, response: { 200: batchWire, ...errorResponses } },
    }, async (request) => {
      const { transfers, atomic = true } = request.body;
      if (transfers.length > TRANSFERS_PER_BATCH_MAX) {
        throw new DaybookError('limit_exceeded', `a batch holds at most ${TRANSFERS_PER_BATCH_MAX} transfers, got ${transfers.length}`, { limit: TRANSFERS_PER_BATCH_MAX }, 'transfers');
      }
      const commands = await Promise.all(transfers.map((item, index) =>
        createTransferCommand(ledger, request, item, item.id ?? idFor(request, 'tr', String(index)), atomic && index < transfers.length - 1, `transfers.${index}.`)));
      const takenSoFar = debitTotalsSoFar(commands);
      refuseLargeInBatch(approvals, commands, takenSoFar);
      const { mode } = authOf(request);
      // Each new transfer is scored before the batch executes, as a single one is; an enforced block refuses the whole batch, naming the transfer.
      // It is scored at what its debit account has given in the batch up to it: ten small items score as the one large transfer they make.
      const engine = engineOf(ledger, request);
      const fraud = await Promise.all(commands.map(async (command, index) => {
        const transferId = command.data.transferId;
        try {
          return await compliance.checkFraud(
            { ref: `ledger.${mode}.${transferId}`, amountMinor: takenSoFar[index]!, currency: null, mode, actor: authOf(request).keyId },
            () => isRecorded(engine, transferId),
          );
        } catch (error) {
          if (isDaybookError(error, 'fraud_blocked')) throw new DaybookError('fraud_blocked', `transfers[${index}]: ${error.message}`, error.details, `transfers.${index}.amount`);
          throw error;
        }
      }));
      const attached = verdictsFit(atomic, commands.length, fraud);
      let outcomes;
      try {
        // Each new item's verdict commits with the batch's events when the item goes through (a repeated item was scored when it first did).
        const verdicts = fraud.map((check): LedgerAttachment | undefined => (check === null ? undefined : (outcome) => (outcome.ok && !outcome.replayed ? check.write : undefined)));
        outcomes = await engine.executeAll(commands, eventMetadataOf(request), attached ? verdicts : undefined);
      } catch (error) {
        throw withWireParam(error);
      }
      // A chain too long to carry its verdicts in its own append (never split) records them once it committed, as a separate write.
      if (!attached) await Promise.all(outcomes.map((outcome, index) => (outcome.ok && !outcome.replayed ? fraud[index]?.record() : undefined)));
      const records = await Promise.all(outcomes.map((outcome, index) => (outcome.ok ? transferNow(engine, commands[index]!.data.transferId as string) : undefined)));
      const results = outcomes.map((outcome, index) => {
        const id = commands[index]!.data.transferId as string;
        if (outcome.ok) return { id, transfer: transferToWire(records[index]!, mode), error: null };
        const error = rejectionError(outcome.rejection, `transfers.${index}.`);
        return { id, transfer: null, error: { type: 'invalid_request_error' as const, code: error.code, message: error.message, ...(error.param ? { param: error.param } : {}) } };
      });
      return { object: 'transfer_batch' as const, atomic, succeeded: outcomes.every((outcome) => outcome.ok), results };
    });

    app.get('/v1/transfers', {
      config: { permission: 'ledger:read' },
      schema: {
        tags: TAGS, summary: 'List transfers, oldest first',
        description: 'Cursor pagination with `limit` and `starting_after` or `ending_before`. Filters (all must hold): `account_id` (either side), '
          + '`created[gt|gte|lt|lte]`, and any number of `metadata[key]=value`. ' + SCAN_BUDGET_NOTE,
        querystring: listTransfersQuery,
        response: { 200: z.object({ object: z.literal('list'), data: z.array(transferWire), has_more: z.boolean(), url: z.string(), next_cursor: nextCursorWire }), ...errorResponses },
      },
    }, async (request) => {
      const { mode } = authOf(request);
      const query = request.query;
      const cursor = cursorOf(query);
      const page = await ledger.transferDirectories[mode].page(transferFilterOf(query), cursor, query.limit);
      if (!page.known) throw new DaybookError('not_found', `No such transfer: '${cursor.after ?? cursor.before}'`, {}, cursor.param ?? undefined);
      return {
        object: 'list' as const, data: page.transfers.map((transfer) => transferToWire(transfer, mode)), has_more: page.hasMore, url: '/v1/transfers',
        ...(page.resumeAfter === null ? {} : { next_cursor: page.resumeAfter }),
      };
    });

    app.get('/v1/transfers/:id', {
      config: { permission: 'ledger:read' },
      schema: { tags: TAGS, summary: 'Retrieve a transfer', params: idParamsWire, response: { 200: transferWire, ...errorResponses } },
    }, async (request) => {
      const engine = engineOf(ledger, request);
      // A miss may be another process's write this engine has not applied yet: catch up with the log before a 404.
      let transfer = await engine.lookupTransfer(request.params.id);
      if (transfer === undefined) {
        await engine.catchUp();
        transfer = await engine.lookupTransfer(request.params.id);
      }
      if (transfer === undefined) throw new DaybookError('not_found', `No such transfer: '${request.params.id}'`, {}, 'id');
      return transferToWire(transfer, authOf(request).mode);
    });

    for (const action of ['post', 'void'] as const) {
      app.post(`/v1/transfers/:id/${action}`, {
        config: { permission: 'ledger:write' },
        schema: {
          tags: TAGS, summary: action === 'post' ? 'Post a pending transfer (in full or in part)' : 'Void a pending transfer',
          headers: idempotencyHeaderWire, params: idParamsWire, body: settleBody, response: { 200: transferWire, ...errorResponses },
        },
      }, async (request) => {
        const pendingId = request.params.id;
        const body = request.body ?? {};
        const transferId = body.id ?? idFor(request, action === 'post' ? 'trp' : 'trv');
        const engine = engineOf(ledger, request);
        const seenVersion = engine.streamVersion;
        if ((await engine.lookupTransfer(transferId)) === undefined && (await engine.lookupTransfer(pendingId)) === undefined && !(await engineBehindTheLog(ledger, request, seenVersion))) {
          throw new DaybookError('pending_transfer_not_found', `No such pending transfer: '${pendingId}'`, { pendingId }, 'id');
        }
        if (action === 'void' && body.amount !== undefined) throw new DaybookError('validation_failed', 'a void releases the whole reservation: amount is not allowed', {}, 'amount');
        const common = { transferId, pendingId, userData: body.user_data, metadata: body.metadata };
        await executeLedger(ledger, request, action === 'post'
          ? { type: 'PostPendingTransfer', data: { ...common, amountMinor: body.amount === undefined ? undefined : parseAmount(body.amount) } }
          : { type: 'VoidPendingTransfer', data: common });
        return transferToWire(await transferNow(engine, transferId), authOf(request).mode);
      });
    }
  };
}

/**
 * A batch does not wait for approval as a whole: one that takes the
 * threshold or more from one debit account (its items summed, per ledger,
 * so per currency) is refused, nothing written, naming the item where the
 * sum reached it; the transfers go through `POST /v1/transfers` (a large one
 * waits for a checker). Summing closes the split: ten items of a tenth each
 * move what one large transfer would. Transfers outside the batch are not
 * counted (the approval policy has no time window).
 */
function refuseLargeInBatch(approvals: ApprovalsApi, commands: ReadonlyArray<LedgerRequest & { type: 'CreateTransfer' }>, takenSoFar: readonly bigint[]): void {
  const index = takenSoFar.findIndex((total) => transferNeedsApproval(approvals.policy, total));
  if (index === -1) return;
  const { amountMinor, debitAccountId, ledger } = commands[index]!.data;
  const threshold = approvals.policy.transferThresholdMinor;
  const what = takenSoFar[index] === amountMinor
    ? `${amountMinor} reaches the approval threshold (${threshold} minor units)`
    : `the batch takes ${takenSoFar[index]} from ${debitAccountId} (ledger ${ledger}) up to this transfer, which reaches the approval threshold (${threshold} minor units)`;
  throw new DaybookError('validation_failed',
    `transfers.${index}: ${what}; a batch cannot wait for approval: create the transfers with POST /v1/transfers`,
    { limit: threshold.toString(), debitAccountId, takenMinor: takenSoFar[index]!.toString() }, `transfers.${index}.amount`);
}

/** For each item, what its debit account (in its ledger) has given in the batch up to and including it. */
export function debitTotalsSoFar(commands: ReadonlyArray<LedgerRequest & { type: 'CreateTransfer' }>): bigint[] {
  const totals = new Map<string, bigint>();
  return commands.map(({ data }) => {
    const key = `${data.ledger}\u0000${data.debitAccountId}`;
    const total = (totals.get(key) ?? 0n) + data.amountMinor;
    totals.set(key, total);
    return total;
  });
}

/** True when the partition records the transfer already (in memory, or in the log). */
async function isRecorded(engine: LedgerEngine, transferId: string): Promise<boolean> {
  return (await engine.lookupTransfer(transferId)) !== undefined;
}

/** A transfer just recorded (or answered): held by the engine, or read back from the log if its cache dropped it meanwhile. */
async function transferNow(engine: LedgerEngine, transferId: string): Promise<TransferRecord> {
  const record = engine.state.transfer(transferId) ?? await engine.lookupTransfer(transferId);
  assert(record !== undefined, `transfer ${transferId} was recorded but cannot be found`);
  return record;
}

/** The list's filters from its query: strict bounds become inclusive ones (times are whole milliseconds). */
function transferFilterOf(query: ListTransfersQuery): TransferFilter {
  const bound = (param: keyof typeof listTransfersFields, shiftMs: number): number | undefined => {
    const text = query[param];
    return typeof text === 'string' ? parseTimeParam(text, param) + shiftMs : undefined;
  };
  const lower = [bound('created[gt]', 1), bound('created[gte]', 0)].filter((value) => value !== undefined);
  const upper = [bound('created[lt]', -1), bound('created[lte]', 0)].filter((value) => value !== undefined);
  return {
    accountId: query.account_id,
    createdFromMs: lower.length === 0 ? undefined : Math.max(...lower),
    createdToMs: upper.length === 0 ? undefined : Math.min(...upper),
    metadata: metadataFiltersOf(query),
  };
}


/**
 * The command for one transfer. Unknown accounts are answered here with a
 * 404 and nothing written (existence comes before the decider in our
 * precedence), unless the transfer id is known already: then the ledger
 * answers as it does for any repeated id.
 */
async function createTransferCommand(ledger: LedgerApi, request: FastifyRequest, body: CreateTransferBody, transferId: string, linked: boolean, paramPrefix = ''): Promise<LedgerRequest & { type: 'CreateTransfer' }> {
  const engine = engineOf(ledger, request);
  const seenVersion = engine.streamVersion;
  const state = engine.state;
  const debit = state.account(body.debit_account_id);
  const credit = state.account(body.credit_account_id);
  if ((debit === undefined || credit === undefined) && (await engine.lookupTransfer(transferId)) === undefined && !(await engineBehindTheLog(ledger, request, seenVersion))) {
    if (debit === undefined) throw new DaybookError('debit_account_not_found', `No such account: '${body.debit_account_id}'`, {}, `${paramPrefix}debit_account_id`);
    if (credit === undefined) throw new DaybookError('credit_account_not_found', `No such account: '${body.credit_account_id}'`, {}, `${paramPrefix}credit_account_id`);
  }
  return transferCommandOf(body, transferId, body.ledger ?? debit?.ledger ?? credit?.ledger ?? 'unknown', linked);
}

/** The ledger command of one transfer as the wire states it (the ledger resolved by the caller). */
export function transferCommandOf(body: CreateTransferBody, transferId: string, ledgerName: string, linked: boolean): LedgerRequest & { type: 'CreateTransfer' } {
  return {
    type: 'CreateTransfer',
    data: {
      transferId, debitAccountId: body.debit_account_id, creditAccountId: body.credit_account_id, amountMinor: parseAmount(body.amount),
      ledger: ledgerName, code: body.code,
      flags: { pending: body.pending, linked, balancingDebit: body.balancing_debit, balancingCredit: body.balancing_credit },
      timeoutMs: body.timeout_ms, userData: body.user_data, metadata: body.metadata,
    },
  };
}
