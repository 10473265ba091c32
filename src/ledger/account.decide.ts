import { deepEqual } from '../decider/index.ts';
import { ZERO_BALANCES } from './balances.ts';
import type { AccountLifecycleData, OpenAccountData } from './ledger.commands.ts';
import { rejection } from './ledger.errors.ts';
import { accepted, refused, type LedgerDecision } from './ledger.results.ts';
import type { LedgerView } from './ledger.state.ts';
import type { AccountRecord, AccountSpec } from './ledger.types.ts';
import { validateLifecycle, validateOpenAccount } from './validate.ts';

/** Account decisions: open (idempotent on the caller's id), close, reopen. */

const SPEC_FIELDS = ['ledger', 'currency', 'code', 'flags', 'overdraftLimitMinor', 'creditLimitMinor', 'userData', 'metadata'] as const;

function accountResult(account: Pick<AccountRecord, 'accountId' | 'closed' | 'balances'>) {
  return { kind: 'account' as const, accountId: account.accountId, closed: account.closed, balances: account.balances };
}

export function decideOpenAccount(view: LedgerView, data: OpenAccountData): LedgerDecision {
  const validated = validateOpenAccount(data);
  if (!validated.ok) return refused(validated.rejection);
  const { atMs, ...spec } = validated.value;
  const existing = view.account(spec.accountId);
  if (existing !== undefined) {
    const differing = SPEC_FIELDS.filter((field) => !deepEqual(existing[field], spec[field]));
    if (differing.length === 0) return accepted([], accountResult(existing), true);
    return refused(rejection(
      'account_exists_with_different_fields',
      `account ${spec.accountId} exists with different ${differing.join(', ')}`,
      { accountId: spec.accountId, fields: differing },
      differing[0],
    ));
  }
  const ledgerCurrency = view.ledgerCurrency(spec.ledger);
  if (ledgerCurrency !== undefined && ledgerCurrency !== spec.currency) {
    return refused(rejection(
      'ledger_currency_mismatch',
      `ledger ${spec.ledger} holds ${ledgerCurrency}, not ${spec.currency}`,
      { ledger: spec.ledger, ledgerCurrency, currency: spec.currency },
      'currency',
    ));
  }
  const opened: AccountSpec & { atMs: number } = { ...spec, atMs };
  return accepted([{ type: 'AccountOpened', data: opened }], accountResult({ accountId: spec.accountId, closed: false, balances: ZERO_BALANCES }));
}

export function decideCloseAccount(view: LedgerView, data: AccountLifecycleData): LedgerDecision {
  const validated = validateLifecycle(data);
  if (!validated.ok) return refused(validated.rejection);
  const { accountId, atMs } = validated.value;
  const account = view.account(accountId);
  if (account === undefined) return refused(rejection('account_not_found', `account ${accountId} does not exist`, { accountId }, 'accountId'));
  if (account.closed) return refused(rejection('account_already_closed', `account ${accountId} is already closed`, { accountId }, 'accountId'));
  return accepted([{ type: 'AccountClosed', data: { accountId, atMs } }], accountResult({ ...account, closed: true }));
}

export function decideReopenAccount(view: LedgerView, data: AccountLifecycleData): LedgerDecision {
  const validated = validateLifecycle(data);
  if (!validated.ok) return refused(validated.rejection);
  const { accountId, atMs } = validated.value;
  const account = view.account(accountId);
  if (account === undefined) return refused(rejection('account_not_found', `account ${accountId} does not exist`, { accountId }, 'accountId'));
  if (!account.closed) return refused(rejection('account_not_closed', `account ${accountId} is not closed`, { accountId }, 'accountId'));
  return accepted([{ type: 'AccountReopened', data: { accountId, atMs } }], accountResult({ ...account, closed: false }));
}
