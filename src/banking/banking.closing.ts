import { ERROR_CODES, type ErrorCode } from '../kernel/errorCodes.ts';
import { DaybookError } from '../kernel/errors.ts';
import { COMMAND_RETRIES_MAX } from '../kernel/limits.ts';
import { AMOUNT_MINOR_MAX } from '../kernel/money.ts';
import { toDaybookError, type LedgerOutcome } from '../ledger/index.ts';
import { checkBoolean, checkId, checkOneOf, FieldChecks } from './banking.checks.ts';
import { customerLedgerAccount, entryIdOf, ledgerOf } from './banking.ledgerPlan.ts';
import type { Loaded } from './banking.repository.ts';
import { decideAndAppend, metadataFor, requestHash, resolveContext, retriesExhausted, transactionIdForKey, type BankingRuntime, type ResolvedContext } from './banking.runtime.ts';
import type { CloseAccountInput, CloseAccountResult, TransactionResult } from './banking.service.types.ts';
import { CLOSURE_REASONS, type BankingCurrency, type OperationContext } from './banking.types.ts';
import { inBankingTerms } from './banking.freezing.ts';
import { closeLane, recordSettlement, resultOf } from './banking.movements.ts';
import type { SweepTarget } from './bankAccount.commands.ts';
import type { BankAccountState, OpenedAccountState } from './bankAccount.decider.ts';
import type { TransactionState } from './transaction.decider.ts';
import type { TransactionInitiated } from './transaction.events.ts';

/**
 * Closing an account, with its balance swept to another account.
 *
 * The checks run first, on the balance as the ledger holds it (the
 * decider's order: account_not_found, account_already_closed, the sweep
 * target's state, sweep_account_required). Then the sweep and the ledger
 * close are handed to the ledger engine together: a balancing transfer
 * (moves whatever the account holds at that instant, so a deposit that
 * arrived after the check is swept too) and the ledger account's close,
 * decided one after the other with nothing in between. The sweep is a
 * `transfer` transaction with a key of its own (`close:<id>#<n>`), so a
 * close that stopped half way finishes on retry; `AccountClosed` records what
 * was moved as the final balance.
 *
 * Without a sweep account, money that arrived after the check is found in
 * the closed ledger account: the ledger account is reopened and the close
 * refused with sweep_account_required.
 *
 * A frozen account's ledger account is already closed (the freeze's fence,
 * see banking.freezing.ts): the sweep reopens it in the same ledger batch,
 * right before the balancing transfer and the close, and a close that fails
 * leaves it closed, so the freeze still holds.
 */
export async function closeAccount(runtime: BankingRuntime, input: CloseAccountInput, context?: OperationContext): Promise<CloseAccountResult> {
  const checks = new FieldChecks();
  const accountId = checkId(checks, input.accountId, 'accountId');
  const sweepToAccountId = input.sweepToAccountId === undefined ? null : checkId(checks, input.sweepToAccountId, 'sweepToAccountId');
  const reason = checkOneOf(checks, CLOSURE_REASONS, input.reason, 'reason');
  const regulatorNotified = input.regulatorNotified === undefined ? reason !== 'customer_request' : checkBoolean(checks, input.regulatorNotified, 'regulatorNotified');
  checks.throwFirst();
  const ctx = resolveContext(runtime, context);
  const hash = requestHash({ type: 'closure_sweep', accountId, sweepToAccountId });
  return closeLane(runtime, accountId, async () => {
    for (let attempt = 1; attempt <= COMMAND_RETRIES_MAX; attempt += 1) {
      const account = await runtime.accounts.load(accountId);
      const target = sweepToAccountId === null ? null : sweepTargetOf(await runtime.accounts.load(sweepToAccountId), sweepToAccountId);
      const command = (balance: bigint, sweepTransactionId: string | null) => ({
        type: 'CloseBankAccount' as const,
        data: { accountId, reason, regulatorNotified, balanceMinor: balance, sweepTo: target, sweepTransactionId, atMs: runtime.clock.nowMs() },
      });
      // A missing or closed account is refused as such first: a closed account's finished sweep to another target is no idempotency conflict.
      if (account.state.status !== 'open') runtime.accounts.decider.decide(command(0n, null), account.state);
      const sweep = await currentSweep(runtime, accountId, hash);
      const balanceMinor = ledgerBalanceMinor(runtime, accountId);
      // Every check before anything is written: the same decision is made again, on what was moved, at the end.
      runtime.accounts.decider.decide(command(balanceMinor, sweep.transactionId), account.state);
      const opened = account.state as OpenedAccountState;
      const swept = target === null || (balanceMinor === 0n && sweep.loaded.state.status === 'none')
        ? await closeWithoutSweep(runtime, accountId, target !== null, opened.frozen, ctx)
        : await closeWithSweep(runtime, opened, target.accountId, sweep, hash, ctx);
      if (swept === 'retry') continue;
      const movedMinor = swept?.status === 'completed' ? BigInt(swept.completed!.finalAmount) : 0n;
      const closed = await decideAndAppend(runtime.accounts, accountId, () => command(movedMinor, swept?.transactionId ?? null), metadataFor(ctx));
      const state = closed.loaded.state as OpenedAccountState;
      const event = closed.events[0];
      if (event?.type !== 'AccountClosed') throw new DaybookError('account_already_closed', `account ${accountId} is already closed`, { accountId, status: state.status }, 'accountId');
      return { accountId, closed: event.data, sweep: swept };
    }
    throw retriesExhausted(`closing account ${accountId}`, undefined);
  });
}

function sweepTargetOf(loaded: Loaded<BankAccountState>, accountId: string): SweepTarget {
  const { state } = loaded;
  if (state.status === 'none') return { accountId, status: 'none', frozen: false, currency: null };
  return { accountId, status: state.status, frozen: state.frozen, currency: state.opened.currency };
}

/** The account's ledger balance (credits less debits posted): what the bank owes the customer. */
export function ledgerBalanceMinor(runtime: BankingRuntime, accountId: string): bigint {
  const account = runtime.ledger.state.account(customerLedgerAccount(accountId));
  return account === undefined ? 0n : account.balances.creditsPosted - account.balances.debitsPosted;
}

type Sweep = { key: string; transactionId: string; loaded: Loaded<TransactionState> };

/**
 * The sweep this close continues or starts: the first of `close:<id>#1`,
 * `#2`, … that did not fail (a failed sweep, e.g. into an account closed
 * meanwhile, never blocks the next close).
 */
async function currentSweep(runtime: BankingRuntime, accountId: string, hash: string): Promise<Sweep> {
  for (let attempt = 1; attempt <= COMMAND_RETRIES_MAX; attempt += 1) {
    const key = `close:${accountId}#${attempt}`;
    const transactionId = transactionIdForKey('system', key);
    const loaded = await runtime.transactions.load(transactionId);
    if (loaded.state.status === 'failed') continue;
    if (loaded.state.status !== 'none' && loaded.state.initiated.requestHash !== hash) {
      throw new DaybookError('idempotency_key_reused', `account ${accountId} has a closing sweep to ${loaded.state.initiated.toAccountId} under way; close it with that account`, {
        transactionId, sweepToAccountId: loaded.state.initiated.toAccountId,
      }, 'sweepToAccountId');
    }
    return { key, transactionId, loaded };
  }
  throw new DaybookError('limit_exceeded', `account ${accountId}: ${COMMAND_RETRIES_MAX} closing sweeps failed`, { limit: COMMAND_RETRIES_MAX }, 'accountId');
}

/** Closes the ledger account; money found in it (it arrived after the check) reopens it. */
async function closeWithoutSweep(runtime: BankingRuntime, accountId: string, targetNamed: boolean, frozen: boolean, ctx: ResolvedContext): Promise<null | 'retry'> {
  const ledgerId = customerLedgerAccount(accountId);
  const metadata = metadataFor(ctx);
  const outcome = await runtime.ledger.execute({ type: 'CloseAccount', data: { accountId: ledgerId, atMs: runtime.clock.nowMs() } }, metadata);
  requireClosed(outcome);
  const balanceMinor = ledgerBalanceMinor(runtime, accountId);
  if (balanceMinor === 0n) return null;
  // A frozen account's ledger account stays closed: that is the freeze.
  if (!frozen) await runtime.ledger.execute({ type: 'ReopenAccount', data: { accountId: ledgerId, atMs: runtime.clock.nowMs() } }, metadata);
  if (targetNamed) return 'retry';
  throw new DaybookError('sweep_account_required', `account ${accountId} holds ${balanceMinor}; name an account to move it to`, {
    accountId, balanceMinor: balanceMinor.toString(),
  }, 'sweepToAccountId');
}

/** Initiates (or continues) the sweep, runs it with the ledger close, and records its outcome. */
async function closeWithSweep(
  runtime: BankingRuntime, account: OpenedAccountState, targetId: string, sweep: Sweep, hash: string, ctx: ResolvedContext,
): Promise<TransactionResult | 'retry'> {
  const { accountId, currency } = account.opened;
  const metadata = metadataFor(ctx);
  if (sweep.loaded.state.status === 'completed') {
    requireClosed(await runtime.ledger.execute({ type: 'CloseAccount', data: { accountId: customerLedgerAccount(accountId), atMs: runtime.clock.nowMs() } }, metadata));
    return resultOf(sweep.loaded.state, true);
  }
  const initiated = sweep.loaded.state.status === 'initiated'
    ? sweep.loaded.state.initiated
    : await initiateSweep(runtime, accountId, targetId, currency, sweep, hash, ctx);
  if (initiated === null) return 'retry';
  const atMs = runtime.clock.nowMs();
  const ledgerId = customerLedgerAccount(accountId);
  // Decided one after another in one batch: nothing moves into the reopened account between the reopen and the close.
  const reopen = account.frozen ? [{ type: 'ReopenAccount' as const, data: { accountId: ledgerId, atMs } }] : [];
  const outcomes = await runtime.ledger.executeAll([
    ...reopen,
    {
      type: 'CreateTransfer',
      data: {
        transferId: entryIdOf(initiated.transactionId), debitAccountId: customerLedgerAccount(accountId), creditAccountId: customerLedgerAccount(targetId),
        amountMinor: AMOUNT_MINOR_MAX, ledger: ledgerOf(currency), flags: { balancingDebit: true }, atMs,
      },
    },
    { type: 'CloseAccount', data: { accountId: ledgerId, atMs } },
  ], metadata);
  const [transfer, close] = outcomes.slice(reopen.length);
  requireClosed(close!);
  const result = await recordSettlement(runtime, initiated, transfer!, ctx, { replayed: false, causationId: undefined, authorized: false }, (booked) => {
    const moved = booked.result.kind === 'transfer' ? booked.result.amountMinor : 0n;
    return { finalAmountMinor: moved, debitedMinor: moved, feesChargedMinor: 0n };
  });
  const left = ledgerBalanceMinor(runtime, accountId);
  if (left !== 0n) {
    // The sweep failed (say the target was closed meanwhile): the account stays open (its ledger account closed if it is frozen), and says why.
    if (!account.frozen) await runtime.ledger.execute({ type: 'ReopenAccount', data: { accountId: ledgerId, atMs: runtime.clock.nowMs() } }, metadata);
    const failure = result.failed;
    const code: ErrorCode = failure !== null && isErrorCode(failure.reason) ? failure.reason : 'sweep_account_required';
    throw new DaybookError(code, `the closing sweep of account ${accountId} failed: ${failure?.message ?? `${left} left`}`, {
      accountId, transactionId: result.transactionId,
    }, 'sweepToAccountId');
  }
  return result;
}

async function initiateSweep(
  runtime: BankingRuntime, accountId: string, targetId: string, currency: BankingCurrency, sweep: Sweep, hash: string, ctx: ResolvedContext,
): Promise<TransactionInitiated['data'] | null> {
  const events = runtime.transactions.decider.decide({
    type: 'InitiateTransaction',
    data: {
      transactionId: sweep.transactionId, type: 'transfer', fromAccountId: accountId, toAccountId: targetId, beneficiary: null,
      amountMinor: ledgerBalanceMinor(runtime, accountId), currency, toCurrency: currency, exchangeRate: null, feeMinor: 0n,
      reference: 'account closure', idempotencyKey: sweep.key, complianceScore: 0, requestHash: hash, atMs: runtime.clock.nowMs(),
    },
  }, sweep.loaded.state);
  try {
    await runtime.store.append(runtime.transactions.write(sweep.transactionId, sweep.loaded, events, metadataFor(ctx)));
  } catch (error) {
    runtime.transactions.forget(sweep.transactionId);
    if ((error as { code?: unknown }).code === 'stream_version_conflict') return null;
    throw error;
  }
  const state = runtime.transactions.applied(sweep.transactionId, sweep.loaded, events).state;
  return state.status === 'initiated' ? state.initiated : null;
}

function requireClosed(outcome: LedgerOutcome): void {
  if (outcome.ok || outcome.rejection.code === 'account_already_closed') return;
  throw toDaybookError(inBankingTerms(outcome.rejection));
}

function isErrorCode(value: string): value is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(value);
}
