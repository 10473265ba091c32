import { assert } from '../kernel/index.ts';
import { settlePending } from './balances.ts';
import type { ExpirePendingTransferData, PostPendingTransferData, VoidPendingTransferData } from './ledger.commands.ts';
import { rejection, type LedgerRejection } from './ledger.errors.ts';
import { accepted, refused, type LedgerDecision } from './ledger.results.ts';
import type { LedgerView } from './ledger.state.ts';
import type { AccountRecord, AppliedTransfer, PostPendingRequest, VoidPendingRequest } from './ledger.types.ts';
import { failTransfer, replayTransfer } from './idempotency.ts';
import { validateExpire, validatePostPending, validateVoidPending } from './validate.ts';

/**
 * Two-phase transfers: post (in full or in part), void, expire. Expiry is
 * judged against the command's `atMs`, never a clock: a pending transfer is
 * expired from `expiresAtMs` on, even before its `PendingTransferExpired`
 * event is written.
 */
export function decidePostPending(view: LedgerView, data: PostPendingTransferData): LedgerDecision {
  const validated = validatePostPending(data);
  if (!validated.ok) return refused(validated.rejection);
  const { transferId, request, atMs } = validated.value;
  const existing = view.transfer(transferId);
  if (existing !== undefined) return replayTransfer(existing, request);
  const fail = (rejected: LedgerRejection) => failTransfer(transferId, request, atMs, rejected);
  const found = findOpenPending(view, request, atMs);
  if ('code' in found) return fail(found);
  const pending = found;
  const amountMinor = request.amountMinor ?? pending.amountMinor;
  if (amountMinor > pending.amountMinor) {
    return fail(rejection('exceeds_pending_transfer_amount', `post of ${amountMinor} exceeds pending transfer ${pending.transferId} of ${pending.amountMinor}`, {
      pendingId: pending.transferId, pendingAmountMinor: pending.amountMinor.toString(),
    }, 'amountMinor'));
  }
  const [debit, credit] = accountsOf(view, pending);
  if (debit.closed) return fail(rejection('debit_account_closed', `debit account ${debit.accountId} is closed`, { accountId: debit.accountId }, 'pendingId'));
  if (credit.closed) return fail(rejection('credit_account_closed', `credit account ${credit.accountId} is closed`, { accountId: credit.accountId }, 'pendingId'));
  const debitBalances = settlePending(debit.balances, 'debit', pending.amountMinor, amountMinor);
  const creditBalances = settlePending(credit.balances, 'credit', pending.amountMinor, amountMinor);
  const movement = {
    transferId, pendingId: pending.transferId, debitAccountId: debit.accountId, creditAccountId: credit.accountId,
    ledger: pending.ledger, currency: pending.currency, debitBalances, creditBalances, atMs,
  };
  return accepted(
    [{ type: 'PendingTransferPosted', data: { ...movement, request, amountMinor, pendingAmountMinor: pending.amountMinor } }],
    { kind: 'transfer', transferId, debitAccountId: debit.accountId, creditAccountId: credit.accountId, amountMinor, currency: pending.currency, debitBalances, creditBalances },
  );
}

/** Voids a pending transfer, releasing its reservation; allowed on closed accounts, as releasing never hurts them. */
export function decideVoidPending(view: LedgerView, data: VoidPendingTransferData): LedgerDecision {
  const validated = validateVoidPending(data);
  if (!validated.ok) return refused(validated.rejection);
  const { transferId, request, atMs } = validated.value;
  const existing = view.transfer(transferId);
  if (existing !== undefined) return replayTransfer(existing, request);
  const found = findOpenPending(view, request, atMs);
  if ('code' in found) return failTransfer(transferId, request, atMs, found);
  const pending = found;
  const [debit, credit] = accountsOf(view, pending);
  const debitBalances = settlePending(debit.balances, 'debit', pending.amountMinor, 0n);
  const creditBalances = settlePending(credit.balances, 'credit', pending.amountMinor, 0n);
  return accepted(
    [{
      type: 'PendingTransferVoided',
      data: {
        transferId, pendingId: pending.transferId, request, debitAccountId: debit.accountId, creditAccountId: credit.accountId,
        ledger: pending.ledger, currency: pending.currency, pendingAmountMinor: pending.amountMinor, debitBalances, creditBalances, atMs,
      },
    }],
    {
      kind: 'transfer', transferId, debitAccountId: debit.accountId, creditAccountId: credit.accountId,
      amountMinor: pending.amountMinor, currency: pending.currency, debitBalances, creditBalances,
    },
  );
}

/** Expires a pending transfer whose time has come. Expiring it again answers the first result. */
export function decideExpirePending(view: LedgerView, data: ExpirePendingTransferData): LedgerDecision {
  const validated = validateExpire(data);
  if (!validated.ok) return refused(validated.rejection);
  const { pendingId, atMs } = validated.value;
  const pending = view.transfer(pendingId);
  if (pending?.status !== 'applied') return refused(notFound(pendingId));
  if (pending.kind !== 'pending') return refused(notPending(pending));
  const [debit, credit] = accountsOf(view, pending);
  if (pending.pendingState === 'expired') {
    return accepted([], { kind: 'expiry', pendingId, amountMinor: pending.amountMinor, debitBalances: debit.balances, creditBalances: credit.balances }, true);
  }
  const resolved = resolvedRejection(pending);
  if (resolved !== undefined) return refused(resolved);
  if (pending.expiresAtMs === null || atMs < pending.expiresAtMs) {
    return refused(rejection('pending_transfer_not_expired', `pending transfer ${pendingId} expires at ${pending.expiresAtMs ?? 'never'}, not by ${atMs}`, {
      pendingId, expiresAtMs: pending.expiresAtMs,
    }, 'pendingId'));
  }
  const debitBalances = settlePending(debit.balances, 'debit', pending.amountMinor, 0n);
  const creditBalances = settlePending(credit.balances, 'credit', pending.amountMinor, 0n);
  return accepted(
    [{
      type: 'PendingTransferExpired',
      data: {
        pendingId, debitAccountId: debit.accountId, creditAccountId: credit.accountId, ledger: pending.ledger, currency: pending.currency,
        pendingAmountMinor: pending.amountMinor, expiresAtMs: pending.expiresAtMs, debitBalances, creditBalances, atMs,
      },
    }],
    { kind: 'expiry', pendingId, amountMinor: pending.amountMinor, debitBalances, creditBalances },
  );
}

/** The pending transfer a post or void names, if it is still open at `atMs`; else why not. */
function findOpenPending(view: LedgerView, request: PostPendingRequest | VoidPendingRequest, atMs: number): AppliedTransfer | LedgerRejection {
  const pending = view.transfer(request.pendingId);
  if (pending?.status !== 'applied') return notFound(request.pendingId);
  if (pending.kind !== 'pending') return notPending(pending);
  const resolved = resolvedRejection(pending);
  if (resolved !== undefined) return resolved;
  if (pending.expiresAtMs !== null && atMs >= pending.expiresAtMs) return expired(pending);
  return pending;
}

function resolvedRejection(pending: AppliedTransfer): LedgerRejection | undefined {
  const details = { pendingId: pending.transferId };
  switch (pending.pendingState) {
    case 'posted': return rejection('pending_transfer_already_posted', `pending transfer ${pending.transferId} is already posted`, details, 'pendingId');
    case 'voided': return rejection('pending_transfer_already_voided', `pending transfer ${pending.transferId} is already voided`, details, 'pendingId');
    case 'expired': return expired(pending);
    default: return undefined;
  }
}

function notFound(pendingId: string): LedgerRejection {
  return rejection('pending_transfer_not_found', `pending transfer ${pendingId} does not exist`, { pendingId }, 'pendingId');
}

function notPending(transfer: AppliedTransfer): LedgerRejection {
  return rejection('pending_transfer_not_pending', `transfer ${transfer.transferId} is a ${transfer.kind} transfer, not a pending one`, {
    pendingId: transfer.transferId, kind: transfer.kind,
  }, 'pendingId');
}

function expired(pending: AppliedTransfer): LedgerRejection {
  return rejection('pending_transfer_expired', `pending transfer ${pending.transferId} expired at ${pending.expiresAtMs}`, {
    pendingId: pending.transferId, expiresAtMs: pending.expiresAtMs,
  }, 'pendingId');
}

function accountsOf(view: LedgerView, transfer: AppliedTransfer): [AccountRecord, AccountRecord] {
  const debit = view.account(transfer.debitAccountId);
  const credit = view.account(transfer.creditAccountId);
  assert(debit !== undefined && credit !== undefined, `accounts of transfer ${transfer.transferId} exist`);
  return [debit, credit];
}
