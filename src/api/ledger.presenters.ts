import type { ApiKeyMode } from '../auth/index.ts';
import type { AccountRecord, EntryRecord, TransferRecord } from '../ledger/index.ts';
import { balancesToWire, isoTime } from './wire.ts';

/**
 * Ledger records as JSON objects on the wire (`object` names the kind, as in
 * Stripe). Amounts are integer strings, times ISO 8601.
 */
export function accountToWire(account: AccountRecord, mode: ApiKeyMode) {
  return {
    object: 'account' as const,
    id: account.accountId,
    livemode: mode === 'live',
    ledger: account.ledger,
    currency: account.currency,
    code: account.code,
    status: account.closed ? 'closed' as const : 'open' as const,
    flags: {
      debits_must_not_exceed_credits: account.flags.debitsMustNotExceedCredits,
      credits_must_not_exceed_debits: account.flags.creditsMustNotExceedDebits,
      history: account.flags.history,
    },
    overdraft_limit: account.overdraftLimitMinor.toString(),
    credit_limit: account.creditLimitMinor.toString(),
    user_data: account.userData,
    metadata: { ...account.metadata },
    created: isoTime(account.openedAtMs)!,
    balances: balancesToWire(account.balances),
  };
}

export function transferToWire(transfer: TransferRecord, mode: ApiKeyMode) {
  const common = { object: 'transfer' as const, id: transfer.transferId, livemode: mode === 'live', created: isoTime(transfer.atMs)! };
  const { request } = transfer;
  const extras = {
    pending_id: request.kind === 'create' ? null : request.pendingId,
    code: request.kind === 'create' ? request.code : null,
    user_data: request.userData,
    metadata: { ...request.metadata },
  };
  if (transfer.status === 'failed') {
    return { ...common, type: null, status: 'failed' as const, failure_code: transfer.code, ...extras, debit_account_id: request.kind === 'create' ? request.debitAccountId : null,
      credit_account_id: request.kind === 'create' ? request.creditAccountId : null, amount: null, currency: null, ledger: request.kind === 'create' ? request.ledger : null,
      expires_at: null };
  }
  const status = transfer.kind === 'pending' ? transfer.pendingState! : transfer.kind === 'void' ? 'voided' as const : 'posted' as const;
  return {
    ...common,
    type: transfer.kind,
    status,
    failure_code: null,
    ...extras,
    debit_account_id: transfer.debitAccountId,
    credit_account_id: transfer.creditAccountId,
    amount: transfer.amountMinor.toString(),
    currency: transfer.currency,
    ledger: transfer.ledger,
    expires_at: isoTime(transfer.expiresAtMs),
  };
}

export function entryToWire(entry: EntryRecord, mode: ApiKeyMode) {
  const common = { object: 'journal_entry' as const, id: entry.entryId, livemode: mode === 'live', created: isoTime(entry.atMs)!, metadata: { ...entry.request.metadata } };
  const reverses = entry.request.kind === 'reversal' ? entry.request.entryId : null;
  if (entry.status === 'failed') return { ...common, status: 'failed' as const, failure_code: entry.code, reverses, reversed_by: null, legs: [], balances: [] };
  return {
    ...common,
    status: entry.reversedBy === null ? 'recorded' as const : 'reversed' as const,
    failure_code: null,
    reverses,
    reversed_by: entry.reversedBy,
    legs: entry.legs.map((leg) => ({ account_id: leg.accountId, side: leg.side, amount: leg.amountMinor.toString(), currency: leg.currency })),
    balances: entry.balances.map((item) => ({ account_id: item.accountId, ...balancesToWire(item.balances) })),
  };
}
