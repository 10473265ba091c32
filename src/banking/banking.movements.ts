import type { AppendResult } from '../eventstore/index.ts';
import { convertMinor } from '../kernel/decimal.ts';
import { DaybookError, isDaybookError } from '../kernel/errors.ts';
import { COMMAND_RETRIES_MAX } from '../kernel/limits.ts';
import type { LedgerOutcome } from '../ledger/index.ts';
import { checkAmount, checkId, checkOneOf, checkText, FieldChecks, utcDay } from './banking.checks.ts';
import { movementEffect, movementEntry } from './banking.ledgerPlan.ts';
import { BENEFICIARY_LENGTH_MAX, COMPLIANCE_SCORE_MAX, IDEMPOTENCY_KEY_LENGTH_MAX, REASON_LENGTH_MAX, REFERENCE_LENGTH_MAX } from './banking.limits.ts';
import type { Loaded } from './banking.repository.ts';
import { formatExchangeRate, regulatoryReportingRequired } from './banking.rules.ts';
import {
  isVersionConflict, metadataFor, requestHash, resolveContext, retriesExhausted, transactionIdForKey,
  type BankingRuntime, type ResolvedContext,
} from './banking.runtime.ts';
import type { TransactionResult } from './banking.service.types.ts';
import { BANKING_CURRENCIES, type BankingCurrency, type ComplianceFlags, type OperationContext, type TransactionType } from './banking.types.ts';
import { requireMovable, type BankAccountState } from './bankAccount.decider.ts';
import { refusalOf } from './banking.freezing.ts';
import type { BankAccountEvent } from './bankAccount.events.ts';
import type { TransactionState } from './transaction.decider.ts';
import type { TransactionEvent, TransactionInitiated } from './transaction.events.ts';

/**
 * The one path every money movement takes (deposit, withdrawal, transfer,
 * cross-currency transfer, payment):
 *
 * 1. validate the request (`validation_failed`, then `limit_exceeded`);
 * 2. idempotency: the key names the transaction stream; if it exists, the
 *    same body answers the first result (finishing it first if an earlier
 *    attempt stopped half way), another body is `idempotency_key_reused`;
 * 3. existence: `account_not_found` for the paying, then the receiving account;
 * 4. the paying account's decider (closed, frozen, currency, per-transaction
 *    and daily limits), then the receiving account's state (closed, frozen,
 *    currency);
 * 5. append `TransactionInitiated` and the paying account's `DebitAuthorized`
 *    in one atomic write, each with its exact expected version (a conflict
 *    goes back to 2);
 * 6. book the balanced journal entry in the ledger, whose flags refuse an
 *    overdraft atomically whatever the concurrency;
 * 7. append `TransactionCompleted`, or `TransactionFailed` with the ledger's
 *    code and the paying account's `DebitReleased`.
 *
 * Refusals in 1–4 throw and write nothing; a ledger refusal is a recorded
 * `failed` result, not a throw.
 */
export type MovementRequest = {
  type: TransactionType;
  fromAccountId: string | null;
  toAccountId: string | null;
  beneficiary: string | null;
  amountMinor: bigint;
  /** As given: null takes the paying account's currency (the receiving account's, for a deposit). */
  currency: BankingCurrency | null;
  /** Cross-currency transfers only. */
  exchangeRate: string | null;
  feeMinor: bigint;
  reference: string;
  complianceScore: number;
  idempotencyKey: string | null;
  keyNamespace: 'user' | 'system';
};

export async function runMovement(runtime: BankingRuntime, request: MovementRequest, context?: OperationContext): Promise<TransactionResult> {
  validateMovement(request);
  const ctx = resolveContext(runtime, context);
  const { idempotencyKey, keyNamespace, ...body } = request;
  const hash = requestHash(body);
  const transactionId = idempotencyKey === null ? runtime.ids.next() : transactionIdForKey(keyNamespace, idempotencyKey);
  const key = idempotencyKey ?? transactionId;
  return exclusive(runtime, transactionId, async () => {
    let lastError: unknown;
    for (let attempt = 1; attempt <= COMMAND_RETRIES_MAX; attempt += 1) {
      const step = await withAccount(runtime, request.fromAccountId, () => initiateMovement(runtime, request, { transactionId, key, hash }, ctx));
      if (step.kind === 'existing') return answerExisting(runtime, step.state, hash, key, ctx);
      if (step.kind === 'conflict') {
        lastError = step.error;
        continue;
      }
      return settleMovement(runtime, step.initiated, ctx, { replayed: false, causationId: step.eventId, authorized: request.fromAccountId !== null });
    }
    throw retriesExhausted(`transaction ${transactionId}`, lastError);
  });
}

type InitiationStep =
  | { kind: 'existing'; state: Exclude<TransactionState, { status: 'none' }> }
  | { kind: 'conflict'; error: unknown }
  | { kind: 'initiated'; initiated: TransactionInitiated['data']; eventId: string | undefined };

/** Steps 2–5: idempotency, existence, the deciders, and the atomic append of the initiation with the debit's authorization. */
async function initiateMovement(
  runtime: BankingRuntime, request: MovementRequest, ids: { transactionId: string; key: string; hash: string }, ctx: ResolvedContext,
): Promise<InitiationStep> {
  const { transactionId } = ids;
  const txn = await runtime.transactions.load(transactionId);
  if (txn.state.status !== 'none') return { kind: 'existing', state: txn.state };
  const plan = await planMovement(runtime, request, ids, txn);
  const writes = [runtime.transactions.write(transactionId, txn, plan.initiate, metadataFor(ctx))];
  if (plan.from !== null) writes.push(runtime.accounts.write(plan.from.id, plan.from.loaded, plan.from.events, metadataFor(ctx)));
  let appended: AppendResult;
  try {
    appended = await runtime.store.append(writes);
  } catch (error) {
    if (!isVersionConflict(error)) throw error;
    runtime.transactions.forget(transactionId);
    if (request.fromAccountId !== null) runtime.accounts.forget(request.fromAccountId);
    return { kind: 'conflict', error };
  }
  const afterTxn = runtime.transactions.applied(transactionId, txn, plan.initiate);
  if (plan.from !== null) runtime.accounts.applied(plan.from.id, plan.from.loaded, plan.from.events);
  const eventId = appended.events.find((event) => event.streamId === runtime.transactions.streamId(transactionId))?.eventId;
  return { kind: 'initiated', initiated: (afterTxn.state as Extract<TransactionState, { status: 'initiated' }>).initiated, eventId };
}

/**
 * Runs `run` alone among this process's writers of the account's stream:
 * concurrent debits of one account queue here instead of colliding on its
 * expected version (another process's writes still meet it there, and are
 * retried).
 */
function withAccount<T>(runtime: BankingRuntime, accountId: string | null, run: () => Promise<T>): Promise<T> {
  return accountId === null ? run() : exclusive(runtime, `account:${accountId}`, run);
}

/**
 * Freeze, unfreeze and close of one account, one at a time: in this process
 * (the close lane), and across processes sharing a PostgreSQL store (the
 * store's named lock), so that a close's reopen-to-sweep can never undo a
 * freeze another process has just acknowledged.
 */
export function closeLane<T>(runtime: BankingRuntime, accountId: string, run: () => Promise<T>): Promise<T> {
  const lane = `close:${accountId}`;
  return exclusive(runtime, lane, () => runtime.store.lock(`banking:${lane}`, run));
}

/** Runs `run` after any operation in flight on the same transaction id (a second request with the same key waits for the first). */
export function exclusive<T>(runtime: BankingRuntime, id: string, run: () => Promise<T>): Promise<T> {
  return runtime.inFlight.run(id, run);
}

function validateMovement(request: MovementRequest): void {
  const checks = new FieldChecks();
  if (request.fromAccountId !== null) checkId(checks, request.fromAccountId, 'fromAccountId');
  if (request.toAccountId !== null) checkId(checks, request.toAccountId, 'toAccountId');
  if (request.beneficiary !== null) checkText(checks, request.beneficiary, 'beneficiary', BENEFICIARY_LENGTH_MAX, true);
  checkAmount(checks, request.amountMinor, 'amountMinor');
  checkAmount(checks, request.feeMinor, 'feeMinor', 0n);
  if (request.currency !== null) checkOneOf(checks, BANKING_CURRENCIES, request.currency, 'currency');
  checkText(checks, request.reference, 'reference', REFERENCE_LENGTH_MAX);
  if (request.idempotencyKey !== null) checkText(checks, request.idempotencyKey, 'idempotencyKey', IDEMPOTENCY_KEY_LENGTH_MAX, true);
  const score = request.complianceScore;
  if (typeof score !== 'number' || !Number.isInteger(score) || score < 0 || score > COMPLIANCE_SCORE_MAX) {
    checks.invalidField('complianceScore', `must be an integer from 0 to ${COMPLIANCE_SCORE_MAX}`);
  }
  if (request.exchangeRate !== null) {
    try {
      formatExchangeRate(request.exchangeRate, 'exchangeRate');
    } catch (error) {
      if (!isDaybookError(error)) throw error;
      checks.fail(error);
    }
  }
  if (checks.valid && request.fromAccountId !== null && request.fromAccountId === request.toAccountId) {
    checks.fail(new DaybookError('accounts_must_be_different', `a transfer needs two different accounts, got ${request.fromAccountId} twice`, { accountId: request.fromAccountId }, 'toAccountId'));
  }
  checks.throwFirst();
}

type Plan = {
  initiate: readonly TransactionEvent[];
  from: { id: string; loaded: Loaded<BankAccountState>; events: readonly BankAccountEvent[] } | null;
};

async function planMovement(
  runtime: BankingRuntime,
  request: MovementRequest,
  ids: { transactionId: string; key: string; hash: string },
  txn: Loaded<TransactionState>,
): Promise<Plan> {
  const atMs = runtime.clock.nowMs();
  const from = request.fromAccountId === null ? null : { id: request.fromAccountId, loaded: await runtime.accounts.load(request.fromAccountId) };
  const to = request.toAccountId === null ? null : { id: request.toAccountId, loaded: await runtime.accounts.load(request.toAccountId) };
  if (from !== null) currencyOf(from.loaded.state, from.id, 'fromAccountId');
  if (to !== null) currencyOf(to.loaded.state, to.id, 'toAccountId');
  const payingSide = from ?? to!;
  const currency = request.currency ?? currencyOf(payingSide.loaded.state, payingSide.id, from ? 'fromAccountId' : 'toAccountId');
  const fromEvents = from === null ? [] : runtime.accounts.decider.decide({
    type: 'AuthorizeDebit', data: { accountId: from.id, transactionId: ids.transactionId, amountMinor: request.amountMinor, currency, atMs },
  }, from.loaded.state);
  const toCurrency = to !== null && request.exchangeRate !== null ? currencyOf(to.loaded.state, to.id, 'toAccountId') : currency;
  if (to !== null) requireMovable(to.loaded.state, to.id, toCurrency, to === payingSide ? 'accountId' : 'toAccountId');
  const initiate = runtime.transactions.decider.decide({
    type: 'InitiateTransaction',
    data: {
      transactionId: ids.transactionId, type: request.type, fromAccountId: request.fromAccountId, toAccountId: request.toAccountId,
      beneficiary: request.beneficiary, amountMinor: request.amountMinor, currency, toCurrency, exchangeRate: request.exchangeRate,
      feeMinor: request.feeMinor, reference: request.reference, idempotencyKey: ids.key, complianceScore: request.complianceScore,
      requestHash: ids.hash, atMs,
    },
  }, txn.state);
  if (request.exchangeRate !== null && convertMinor(request.amountMinor, currency, toCurrency, request.exchangeRate).amountMinor === 0n) {
    throw new DaybookError('validation_failed', `amountMinor ${request.amountMinor} ${currency} converts to zero ${toCurrency}`, {}, 'amountMinor');
  }
  return { initiate, from: from === null ? null : { ...from, events: fromEvents } };
}

function currencyOf(state: BankAccountState, accountId: string, param: string): BankingCurrency {
  if (state.status === 'none') throw new DaybookError('account_not_found', `account ${accountId} does not exist`, { accountId }, param);
  return state.opened.currency;
}

/** The same key again: the first result (finishing the transaction first if it stopped half way), or `idempotency_key_reused`. */
async function answerExisting(runtime: BankingRuntime, state: Exclude<TransactionState, { status: 'none' }>, hash: string, key: string, ctx: ResolvedContext): Promise<TransactionResult> {
  if (state.initiated.requestHash !== hash) {
    throw new DaybookError('idempotency_key_reused', `idempotency key ${JSON.stringify(key)} was used for another request (transaction ${state.initiated.transactionId})`, {
      transactionId: state.initiated.transactionId,
    }, 'idempotencyKey');
  }
  if (state.status !== 'initiated') return resultOf(state, true);
  const causationId = await initiatedEventId(runtime, state.initiated.transactionId);
  return settleMovement(runtime, state.initiated, ctx, { replayed: true, causationId, authorized: state.initiated.fromAccountId !== null });
}

async function initiatedEventId(runtime: BankingRuntime, transactionId: string): Promise<string | undefined> {
  const [first] = await runtime.store.readStream(runtime.transactions.streamId(transactionId), { limit: 1 });
  return first?.eventId;
}

type SettleOptions = { replayed: boolean; causationId: string | undefined; authorized: boolean };

/** Books the movement's journal entry (idempotent on the transaction id) and records the outcome. */
async function settleMovement(runtime: BankingRuntime, initiated: TransactionInitiated['data'], ctx: ResolvedContext, options: SettleOptions): Promise<TransactionResult> {
  const outcome = await runtime.ledger.execute({ type: 'RecordJournalEntry', data: { ...movementEntry(initiated), atMs: runtime.clock.nowMs() } }, metadataFor(ctx, options.causationId));
  const effect = movementEffect(initiated);
  return recordSettlement(runtime, initiated, outcome, ctx, options, () => ({
    finalAmountMinor: effect.creditedMinor, debitedMinor: effect.debitedMinor, feesChargedMinor: effect.feeMinor,
  }));
}

type Booked = { finalAmountMinor: bigint; debitedMinor: bigint; feesChargedMinor: bigint };

/**
 * Appends `TransactionCompleted` (ledger accepted) or `TransactionFailed`
 * (refused; with `DebitReleased` on the paying account when a debit was
 * authorized). If another process settled the transaction first, answers
 * what it recorded.
 */
export async function recordSettlement(
  runtime: BankingRuntime,
  initiated: TransactionInitiated['data'],
  outcome: LedgerOutcome,
  ctx: ResolvedContext,
  options: SettleOptions,
  booked: (outcome: Extract<LedgerOutcome, { ok: true }>) => Booked,
): Promise<TransactionResult> {
  const releases = !outcome.ok && options.authorized && initiated.fromAccountId !== null;
  return withAccount(runtime, releases ? initiated.fromAccountId : null, () => appendSettlement(runtime, initiated, outcome, ctx, options, booked));
}

async function appendSettlement(
  runtime: BankingRuntime,
  initiated: TransactionInitiated['data'],
  outcome: LedgerOutcome,
  ctx: ResolvedContext,
  options: SettleOptions,
  booked: (outcome: Extract<LedgerOutcome, { ok: true }>) => Booked,
): Promise<TransactionResult> {
  const { transactionId } = initiated;
  const metadata = metadataFor(ctx, options.causationId);
  let lastError: unknown;
  for (let attempt = 1; attempt <= COMMAND_RETRIES_MAX; attempt += 1) {
    const txn = await runtime.transactions.load(transactionId);
    if (txn.state.status !== 'initiated') return resultOf(txn.state as Exclude<TransactionState, { status: 'none' }>, options.replayed);
    const atMs = runtime.clock.nowMs();
    try {
      if (outcome.ok) {
        const reporting = regulatoryReportingRequired({
          amountMinor: BigInt(initiated.amount), complianceScore: initiated.complianceScore, parties: await partiesFlags(runtime, initiated),
        });
        const events = runtime.transactions.decider.decide({
          type: 'CompleteTransaction', data: { transactionId, ...booked(outcome), regulatoryReportingRequired: reporting, atMs },
        }, txn.state);
        await runtime.store.append(runtime.transactions.write(transactionId, txn, events, metadata));
        return resultOf(runtime.transactions.applied(transactionId, txn, events).state as Exclude<TransactionState, { status: 'none' }>, options.replayed);
      }
      // A refusal because a frozen account's ledger account is closed (the freeze's fence) is recorded as account_frozen.
      const { code, message } = await refusalOf(runtime, outcome.rejection);
      const events = runtime.transactions.decider.decide({
        type: 'FailTransaction', data: { transactionId, reason: code, message: message.slice(0, REASON_LENGTH_MAX), atMs },
      }, txn.state);
      const writes = [runtime.transactions.write(transactionId, txn, events, metadata)];
      const release = options.authorized && initiated.fromAccountId !== null ? await releaseOf(runtime, initiated, atMs) : null;
      if (release !== null) writes.push(runtime.accounts.write(initiated.fromAccountId!, release.loaded, release.events, metadata));
      await runtime.store.append(writes);
      if (release !== null) runtime.accounts.applied(initiated.fromAccountId!, release.loaded, release.events);
      return resultOf(runtime.transactions.applied(transactionId, txn, events).state as Exclude<TransactionState, { status: 'none' }>, options.replayed);
    } catch (error) {
      if (!isVersionConflict(error)) throw error;
      runtime.transactions.forget(transactionId);
      if (initiated.fromAccountId !== null) runtime.accounts.forget(initiated.fromAccountId);
      lastError = error;
    }
  }
  throw retriesExhausted(`transaction ${transactionId}`, lastError);
}

async function releaseOf(runtime: BankingRuntime, initiated: TransactionInitiated['data'], atMs: number) {
  const accountId = initiated.fromAccountId!;
  const loaded = await runtime.accounts.load(accountId);
  const events = runtime.accounts.decider.decide({
    type: 'ReleaseDebit',
    data: { accountId, transactionId: initiated.transactionId, amountMinor: BigInt(initiated.amount), day: utcDay(Date.parse(initiated.initiatedAt)), atMs },
  }, loaded.state);
  return { loaded, events };
}

async function partiesFlags(runtime: BankingRuntime, initiated: TransactionInitiated['data']): Promise<ComplianceFlags[]> {
  const flags: ComplianceFlags[] = [];
  for (const accountId of [initiated.fromAccountId, initiated.toAccountId]) {
    if (accountId === null) continue;
    const { state } = await runtime.accounts.load(accountId);
    if (state.status !== 'none') flags.push(state.opened.complianceFlags);
  }
  return flags;
}

export function resultOf(state: Exclude<TransactionState, { status: 'none' }>, replayed: boolean): TransactionResult {
  return {
    transactionId: state.initiated.transactionId,
    status: state.status,
    replayed,
    initiated: state.initiated,
    completed: state.status === 'completed' ? state.completed : null,
    failed: state.status === 'failed' ? state.failed : null,
  };
}
