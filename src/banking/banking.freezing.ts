import { isDaybookError } from '../kernel/errors.ts';
import { toDaybookError, type LedgerOutcome } from '../ledger/index.ts';
import { customerLedgerAccount } from './banking.ledgerPlan.ts';
import { closeLane } from './banking.movements.ts';
import { decideAndAppend, metadataFor, resolveContext, type BankingRuntime } from './banking.runtime.ts';
import type { FreezeInput, UnfreezeInput } from './banking.service.types.ts';
import type { OperationContext } from './banking.types.ts';
import type { BankAccountState, OpenedAccountState } from './bankAccount.decider.ts';

/**
 * Freezing and unfreezing, with the ledger as the fence.
 *
 * A movement reads the receiving account's state but writes nothing there
 * (a hot account would otherwise serialize every credit), and a debit
 * authorized before a freeze is booked after it. So the account's own
 * stream cannot stop a movement that was under way when the freeze landed.
 * The ledger can: it decides every movement of the partition one after
 * another. A freeze records `AccountFrozen`, then closes the account's
 * ledger account, and only then answers: once the freeze is acknowledged,
 * the ledger refuses every movement of the account, whatever was read or
 * authorized before, and since the account is frozen by then, the
 * transaction records `account_frozen`. Unfreezing reopens the ledger
 * account first, then records `AccountUnfrozen`.
 *
 * Freeze, unfreeze and close of one account run one after another, in this
 * process and across processes (`closeLane`), so a close's reopen-to-sweep
 * cannot interleave with a freeze. A crash between the two steps leaves the
 * account frozen with its ledger account open: the deciders refuse new
 * movements, and the freeze, retried, closes the ledger account before it
 * answers `account_already_frozen`. Or it leaves the ledger account reopened
 * with the account still frozen: the unfreeze, retried, completes.
 */
export function freezeAccount(runtime: BankingRuntime, input: FreezeInput, context?: OperationContext): Promise<OpenedAccountState> {
  const { accountId } = input;
  return closeLane(runtime, accountId, async () => {
    const ctx = resolveContext(runtime, context);
    const command = () => ({ type: 'FreezeBankAccount' as const, data: { accountId, reason: input.reason, atMs: runtime.clock.nowMs() } });
    const closeLedgerAccount = async () => requireLedger(
      await runtime.ledger.execute({ type: 'CloseAccount', data: { accountId: customerLedgerAccount(accountId), atMs: runtime.clock.nowMs() } }, metadataFor(ctx)), 'account_already_closed',
    );
    let frozen: OpenedAccountState;
    try {
      frozen = (await decideAndAppend(runtime.accounts, accountId, command, metadataFor(ctx))).loaded.state as OpenedAccountState;
    } catch (error) {
      // Frozen already (perhaps by a freeze that stopped half way): the fence is made sure of before the refusal.
      if (isDaybookError(error, 'account_already_frozen')) await closeLedgerAccount();
      throw error;
    }
    await closeLedgerAccount();
    return frozen;
  });
}

export function unfreezeAccount(runtime: BankingRuntime, input: UnfreezeInput, context?: OperationContext): Promise<OpenedAccountState> {
  const { accountId } = input;
  return closeLane(runtime, accountId, async () => {
    const ctx = resolveContext(runtime, context);
    const command = () => ({ type: 'UnfreezeBankAccount' as const, data: { accountId, atMs: runtime.clock.nowMs() } });
    runtime.accounts.decider.decide(command(), (await runtime.accounts.load(accountId)).state);
    const reopened = await runtime.ledger.execute({ type: 'ReopenAccount', data: { accountId: customerLedgerAccount(accountId), atMs: runtime.clock.nowMs() } }, metadataFor(ctx));
    requireLedger(reopened, 'account_not_closed');
    const { loaded } = await decideAndAppend(runtime.accounts, accountId, command, metadataFor(ctx));
    return loaded.state as OpenedAccountState;
  });
}

function requireLedger(outcome: LedgerOutcome, alreadyThere: string): void {
  if (outcome.ok || outcome.rejection.code === alreadyThere) return;
  throw toDaybookError(inBankingTerms(outcome.rejection));
}

/**
 * A ledger refusal because a customer's ledger account is closed, when the
 * bank account is open but frozen: the freeze fenced it, so the answer is
 * `account_frozen`. Any other refusal is returned as it is.
 */
export async function refusalOf(runtime: BankingRuntime, rejection: Refusal): Promise<Refusal> {
  if (rejection.code !== 'account_closed') return inBankingTerms(rejection);
  const ledgerAccountId = rejection.details.accountId;
  if (typeof ledgerAccountId !== 'string' || !ledgerAccountId.startsWith('acct:')) return rejection;
  const accountId = ledgerAccountId.slice('acct:'.length);
  const { state } = await runtime.accounts.load(accountId);
  if (!isFrozen(state)) return inBankingTerms(rejection);
  return { code: 'account_frozen', message: `account ${accountId} is frozen`, details: { accountId } };
}

/**
 * A ledger refusal told in the bank's words: a customer's ledger account
 * (`acct:<id>`) is named by the bank account's id, and a debit past the
 * balance is "insufficient funds".
 */
export function inBankingTerms<R extends Refusal & { readonly param?: string }>(rejection: R): R {
  const ledgerAccountId = rejection.details.accountId;
  const customerAccount = typeof ledgerAccountId === 'string' && ledgerAccountId.startsWith('acct:') ? ledgerAccountId.slice('acct:'.length) : null;
  if (rejection.code === 'exceeds_credits' && customerAccount !== null) {
    return { ...rejection, message: `account ${customerAccount} has insufficient funds` };
  }
  if (rejection.code === 'account_exists_with_different_fields' && customerAccount !== null) {
    // Two opens of one id racing with other details: the ledger's field names mean nothing to the caller.
    return { ...rejection, message: `account ${customerAccount} exists already, opened with other details`, param: undefined };
  }
  return { ...rejection, message: rejection.message.replace(/\bacct:(?=[A-Za-z0-9])/g, '') };
}

/** Why a movement failed, as its `TransactionFailed` records it. */
export type Refusal = { readonly code: string; readonly message: string; readonly details: Readonly<Record<string, unknown>> };

function isFrozen(state: BankAccountState): boolean {
  return state.status === 'open' && state.frozen;
}
