import { availableToCredit, availableToDebit, flagViolation, moveBalance, overflows } from './balances.ts';
import type { CreateTransferData } from './ledger.commands.ts';
import { rejection, type LedgerRejection } from './ledger.errors.ts';
import type { LedgerEvent } from './ledger.events.ts';
import { accepted, refused, type LedgerDecision } from './ledger.results.ts';
import type { LedgerView } from './ledger.state.ts';
import type { AccountRecord, CreateTransferRequest } from './ledger.types.ts';
import { failTransfer, replayTransfer } from './idempotency.ts';
import { validateCreateTransfer } from './validate.ts';

/**
 * Decides a single or pending transfer. The precedence is documented on
 * `decideLedgerCommand`; the checks below run in that order.
 */
export function decideCreateTransfer(view: LedgerView, data: CreateTransferData): LedgerDecision {
  const validated = validateCreateTransfer(data);
  if (!validated.ok) return refused(validated.rejection);
  const { transferId, request, atMs } = validated.value;
  const existing = view.transfer(transferId);
  if (existing !== undefined) return replayTransfer(existing, request);
  // No `fail` closure: this runs for every transfer, and each closure made here costs an allocation (and tsx's keepNames a defineProperty).
  const debit = view.account(request.debitAccountId);
  if (debit === undefined) return failTransfer(transferId, request, atMs, missing('debit', request.debitAccountId));
  const credit = view.account(request.creditAccountId);
  if (credit === undefined) return failTransfer(transferId, request, atMs, missing('credit', request.creditAccountId));
  const ledgerFault = ledgerMismatch(request, debit, credit);
  if (ledgerFault !== undefined) return failTransfer(transferId, request, atMs, ledgerFault);
  if (debit.closed) {
    return failTransfer(transferId, request, atMs, rejection('debit_account_closed', `debit account ${debit.accountId} is closed`, { accountId: debit.accountId }, 'debitAccountId'));
  }
  if (credit.closed) {
    return failTransfer(transferId, request, atMs, rejection('credit_account_closed', `credit account ${credit.accountId} is closed`, { accountId: credit.accountId }, 'creditAccountId'));
  }

  const amountMinor = balancedAmount(request, debit, credit);
  const phase = request.flags.pending ? 'pending' : 'posted';
  const debitBalances = moveBalance(debit.balances, 'debit', phase, amountMinor);
  const creditBalances = moveBalance(credit.balances, 'credit', phase, amountMinor);
  if (overflows(debitBalances) || overflows(creditBalances)) {
    return failTransfer(transferId, request, atMs, rejection('balance_overflow', `transfer ${transferId} would take a balance past the largest amount`, { transferId }, 'amountMinor'));
  }
  const exceeded = amountMinor === 0n ? zeroBalancingCode(request, debit) : (flagViolation(debit, debitBalances) ?? flagViolation(credit, creditBalances));
  if (exceeded !== undefined) return failTransfer(transferId, request, atMs, exceedsRejection(exceeded, exceeded === 'exceeds_credits' ? debit : credit, request));

  const movement = {
    transferId, debitAccountId: debit.accountId, creditAccountId: credit.accountId, ledger: debit.ledger, currency: debit.currency,
    request, amountMinor, debitBalances, creditBalances, atMs,
  };
  const event: LedgerEvent = request.flags.pending
    ? { type: 'PendingTransferCreated', data: { ...movement, expiresAtMs: request.timeoutMs > 0 ? atMs + request.timeoutMs : null } }
    : { type: 'TransferPosted', data: movement };
  return accepted([event], {
    kind: 'transfer', transferId, debitAccountId: debit.accountId, creditAccountId: credit.accountId, amountMinor,
    currency: debit.currency, debitBalances, creditBalances,
  });
}

function missing(side: 'debit' | 'credit', accountId: string): LedgerRejection {
  return rejection(`${side}_account_not_found`, `${side} account ${accountId} does not exist`, { accountId }, `${side}AccountId`);
}

function ledgerMismatch(request: CreateTransferRequest, debit: AccountRecord, credit: AccountRecord): LedgerRejection | undefined {
  if (debit.ledger !== credit.ledger) {
    return rejection('accounts_must_have_the_same_ledger', `debit account is on ledger ${debit.ledger}, credit account on ${credit.ledger}`, {
      debitLedger: debit.ledger, creditLedger: credit.ledger,
    }, 'creditAccountId');
  }
  if (request.ledger !== debit.ledger) {
    return rejection('transfer_must_have_the_same_ledger_as_accounts', `transfer names ledger ${request.ledger}; its accounts are on ${debit.ledger}`, {
      ledger: request.ledger, accountsLedger: debit.ledger,
    }, 'ledger');
  }
  return undefined;
}

/** A balancing transfer moves at most what the accounts' flags and limits allow. */
function balancedAmount(request: CreateTransferRequest, debit: AccountRecord, credit: AccountRecord): bigint {
  let amountMinor = request.amountMinor;
  const debitRoom = request.flags.balancingDebit ? availableToDebit(debit, debit.balances) : null;
  const creditRoom = request.flags.balancingCredit ? availableToCredit(credit, credit.balances) : null;
  if (debitRoom !== null && debitRoom < amountMinor) amountMinor = debitRoom;
  if (creditRoom !== null && creditRoom < amountMinor) amountMinor = creditRoom;
  return amountMinor;
}

/** A balancing transfer with nothing to move fails on the side that allowed nothing, debit first. */
function zeroBalancingCode(request: CreateTransferRequest, debit: AccountRecord): 'exceeds_credits' | 'exceeds_debits' {
  return request.flags.balancingDebit && availableToDebit(debit, debit.balances) === 0n ? 'exceeds_credits' : 'exceeds_debits';
}

export function exceedsRejection(
  code: 'exceeds_credits' | 'exceeds_debits',
  account: AccountRecord,
  request?: CreateTransferRequest,
  param: string = code === 'exceeds_credits' ? 'debitAccountId' : 'creditAccountId',
): LedgerRejection {
  const room = code === 'exceeds_credits' ? availableToDebit(account, account.balances) : availableToCredit(account, account.balances);
  const what = code === 'exceeds_credits' ? 'debits would exceed its credits' : 'credits would exceed its debits';
  return rejection(code, `account ${account.accountId}: ${what}${request ? ` (asked ${request.amountMinor}, room ${room})` : ''}`, {
    accountId: account.accountId, availableMinor: room?.toString(),
  }, param);
}
