import type { Decider } from '../decider/index.ts';
import { deepEqual } from '../decider/index.ts';
import { assertNever } from '../kernel/assert.ts';
import { DaybookError } from '../kernel/errors.ts';
import { REASON_LENGTH_MAX, TIER_LIMITS } from './banking.limits.ts';
import {
  ACCOUNT_TYPES, BANKING_CURRENCIES, CLOSURE_REASONS, COMPLIANCE_FLAG_NAMES, REGULATORY_TIERS,
  type BankingCurrency, type ComplianceFlags,
} from './banking.types.ts';
import { checkAmount, checkBoolean, checkId, checkOneOf, checkText, checkTime, FieldChecks, isoAt, utcDay } from './banking.checks.ts';
import type {
  AuthorizeDebit, BankAccountCommand, CloseBankAccount, FreezeBankAccount, OpenBankAccount, ReleaseDebit, UnfreezeBankAccount,
} from './bankAccount.commands.ts';
import type { AccountOpened, BankAccountEvent } from './bankAccount.events.ts';

/** Debits authorized in one UTC day; only the latest day is kept, older days no longer matter. */
export type DailyUsage = { readonly day: string; readonly usedMinor: bigint };

export type BankAccountState =
  | { readonly status: 'none' }
  | {
      readonly status: 'open' | 'closed';
      readonly frozen: boolean;
      readonly opened: AccountOpened['data'];
      readonly usage: DailyUsage;
    };

export type OpenedAccountState = Extract<BankAccountState, { status: 'open' | 'closed' }>;

/**
 * A bank account: opened once for a registered customer, frozen and
 * unfrozen, debited within its tier's limits, closed with its balance swept.
 * Money itself lives in the ledger; this stream holds the account's rules.
 *
 * Rejects, in this order (validation_failed, then limit_exceeded, always first):
 * - OpenBankAccount: account_exists_with_different_fields (the same body again
 *   decides nothing), customer_not_found.
 * - FreezeBankAccount: account_not_found, account_closed, account_already_frozen.
 * - UnfreezeBankAccount: account_not_found, account_closed, account_not_frozen.
 * - AuthorizeDebit: account_not_found, account_closed, account_frozen,
 *   account_currency_mismatch, transaction_limit_exceeded, daily_limit_exceeded.
 * - ReleaseDebit: account_not_found.
 * - CloseBankAccount: accounts_must_be_different (sweeping into itself),
 *   account_not_found, account_already_closed; then the sweep target:
 *   account_not_found, account_closed, account_frozen, account_currency_mismatch;
 *   last, sweep_account_required (a non-zero balance and no target). A frozen
 *   account may be closed (regulatory and fraud closures are).
 */
export const bankAccountDecider: Decider<BankAccountCommand, BankAccountEvent, BankAccountState> = {
  initialState: () => ({ status: 'none' }),
  evolve: evolveBankAccount,
  decide: (command, state) => {
    switch (command.type) {
      case 'OpenBankAccount': return decideOpen(command.data, state);
      case 'FreezeBankAccount': return decideFreeze(command.data, state);
      case 'UnfreezeBankAccount': return decideUnfreeze(command.data, state);
      case 'AuthorizeDebit': return decideAuthorizeDebit(command.data, state);
      case 'ReleaseDebit': return decideReleaseDebit(command.data, state);
      case 'CloseBankAccount': return decideClose(command.data, state);
      default: return assertNever(command);
    }
  },
};

function evolveBankAccount(state: BankAccountState, event: BankAccountEvent): BankAccountState {
  if (event.type === 'AccountOpened') return { status: 'open', frozen: false, opened: event.data, usage: { day: '', usedMinor: 0n } };
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'AccountFrozen': return { ...state, frozen: true };
    case 'AccountUnfrozen': return { ...state, frozen: false };
    case 'AccountClosed': return { ...state, status: 'closed' };
    case 'DebitAuthorized': {
      const { day, amount } = event.data;
      if (day === state.usage.day) return { ...state, usage: { day, usedMinor: state.usage.usedMinor + BigInt(amount) } };
      // A later day starts afresh; a debit dated before the kept day cannot change today's total.
      return day > state.usage.day ? { ...state, usage: { day, usedMinor: BigInt(amount) } } : state;
    }
    case 'DebitReleased': {
      const { day, amount } = event.data;
      return day === state.usage.day ? { ...state, usage: { day, usedMinor: state.usage.usedMinor - BigInt(amount) } } : state;
    }
    default: return assertNever(event);
  }
}

/** Debits already authorized on the account in `day` (UTC). */
export function usedOn(state: OpenedAccountState, day: string): bigint {
  return state.usage.day === day ? state.usage.usedMinor : 0n;
}

function decideOpen(data: OpenBankAccount['data'], state: BankAccountState): BankAccountEvent[] {
  const checks = new FieldChecks();
  const accountId = checkId(checks, data.accountId, 'accountId');
  const customerId = checkId(checks, data.customerId, 'customerId');
  const accountType = checkOneOf(checks, ACCOUNT_TYPES, data.accountType, 'accountType');
  const currency = checkOneOf(checks, BANKING_CURRENCIES, data.currency, 'currency');
  const regulatoryTier = checkOneOf(checks, REGULATORY_TIERS, data.regulatoryTier, 'regulatoryTier');
  const complianceFlags = checkComplianceFlags(checks, data.complianceFlags);
  const initialBalanceMinor = checkAmount(checks, data.initialBalanceMinor, 'initialBalanceMinor', 0n);
  const atMs = checkTime(checks, data.atMs);
  checks.throwFirst();
  const opened: AccountOpened['data'] = {
    accountId, customerId, accountType, currency, initialBalance: initialBalanceMinor.toString(), regulatoryTier, complianceFlags, openedAt: isoAt(atMs),
  };
  if (state.status !== 'none') {
    const { openedAt: _first, ...existing } = state.opened;
    const { openedAt: _now, ...asked } = opened;
    if (deepEqual(existing, asked)) return [];
    const fields = Object.keys(asked).filter((key) => !deepEqual(existing[key as keyof typeof existing], asked[key as keyof typeof asked]));
    throw new DaybookError('account_exists_with_different_fields', `account ${accountId} exists with different ${fields.join(', ')}`, { accountId, fields }, fields[0]);
  }
  if (!data.customerRegistered) throw new DaybookError('customer_not_found', `customer ${customerId} does not exist`, { customerId }, 'customerId');
  return [{ type: 'AccountOpened', schemaVersion: 1, data: opened }];
}

function decideFreeze(data: FreezeBankAccount['data'], state: BankAccountState): BankAccountEvent[] {
  const checks = new FieldChecks();
  const accountId = checkId(checks, data.accountId, 'accountId');
  const reason = checkText(checks, data.reason, 'reason', REASON_LENGTH_MAX, true);
  const atMs = checkTime(checks, data.atMs);
  checks.throwFirst();
  const account = requireOpen(state, accountId);
  if (account.frozen) throw new DaybookError('account_already_frozen', `account ${accountId} is already frozen`, { accountId }, 'accountId');
  return [{ type: 'AccountFrozen', schemaVersion: 1, data: { accountId, reason, frozenAt: isoAt(atMs) } }];
}

function decideUnfreeze(data: UnfreezeBankAccount['data'], state: BankAccountState): BankAccountEvent[] {
  const checks = new FieldChecks();
  const accountId = checkId(checks, data.accountId, 'accountId');
  const atMs = checkTime(checks, data.atMs);
  checks.throwFirst();
  const account = requireOpen(state, accountId);
  if (!account.frozen) throw new DaybookError('account_not_frozen', `account ${accountId} is not frozen`, { accountId }, 'accountId');
  return [{ type: 'AccountUnfrozen', schemaVersion: 1, data: { accountId, unfrozenAt: isoAt(atMs) } }];
}

function decideAuthorizeDebit(data: AuthorizeDebit['data'], state: BankAccountState): BankAccountEvent[] {
  const checks = new FieldChecks();
  const accountId = checkId(checks, data.accountId, 'accountId');
  const transactionId = checkId(checks, data.transactionId, 'transactionId');
  const amountMinor = checkAmount(checks, data.amountMinor, 'amountMinor');
  const currency = checkOneOf(checks, BANKING_CURRENCIES, data.currency, 'currency');
  const atMs = checkTime(checks, data.atMs);
  checks.throwFirst();
  const account = requireMovable(state, accountId, currency);
  const limits = TIER_LIMITS[account.opened.regulatoryTier];
  if (amountMinor > limits.perTransactionMinor) {
    throw new DaybookError('transaction_limit_exceeded', `account ${accountId} (${account.opened.regulatoryTier}) may send at most ${limits.perTransactionMinor} per transaction, asked ${amountMinor}`, {
      accountId, limitMinor: limits.perTransactionMinor.toString(), amountMinor: amountMinor.toString(),
    }, 'amountMinor');
  }
  const day = utcDay(atMs);
  const used = usedOn(account, day);
  if (used + amountMinor > limits.dailyMinor) {
    throw new DaybookError('daily_limit_exceeded', `account ${accountId} (${account.opened.regulatoryTier}) may send at most ${limits.dailyMinor} on ${day}; ${used} used, asked ${amountMinor}`, {
      accountId, day, limitMinor: limits.dailyMinor.toString(), usedMinor: used.toString(), amountMinor: amountMinor.toString(),
    }, 'amountMinor');
  }
  return [{ type: 'DebitAuthorized', schemaVersion: 1, data: { accountId, transactionId, amount: amountMinor.toString(), currency, day, authorizedAt: isoAt(atMs) } }];
}

function decideReleaseDebit(data: ReleaseDebit['data'], state: BankAccountState): BankAccountEvent[] {
  const checks = new FieldChecks();
  const accountId = checkId(checks, data.accountId, 'accountId');
  const transactionId = checkId(checks, data.transactionId, 'transactionId');
  const amountMinor = checkAmount(checks, data.amountMinor, 'amountMinor');
  if (typeof data.day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(data.day)) checks.invalidField('day', 'must be YYYY-MM-DD');
  const atMs = checkTime(checks, data.atMs);
  checks.throwFirst();
  if (state.status === 'none') throw notFound(accountId);
  return [{ type: 'DebitReleased', schemaVersion: 1, data: { accountId, transactionId, amount: amountMinor.toString(), day: data.day, releasedAt: isoAt(atMs) } }];
}

function decideClose(data: CloseBankAccount['data'], state: BankAccountState): BankAccountEvent[] {
  const checks = new FieldChecks();
  const accountId = checkId(checks, data.accountId, 'accountId');
  const reason = checkOneOf(checks, CLOSURE_REASONS, data.reason, 'reason');
  const regulatorNotified = checkBoolean(checks, data.regulatorNotified, 'regulatorNotified');
  const balanceMinor = checkAmount(checks, data.balanceMinor, 'balanceMinor', 0n);
  const sweepTo = data.sweepTo;
  if (sweepTo !== null) {
    const targetId = checkId(checks, sweepTo.accountId, 'sweepToAccountId');
    if (checks.valid && targetId === accountId) {
      checks.fail(new DaybookError('accounts_must_be_different', `account ${accountId} cannot sweep its balance into itself`, { accountId }, 'sweepToAccountId'));
    }
  }
  const sweepTransactionId = data.sweepTransactionId === null ? null : checkId(checks, data.sweepTransactionId, 'sweepTransactionId');
  const atMs = checkTime(checks, data.atMs);
  checks.throwFirst();
  if (state.status === 'none') throw notFound(accountId);
  if (state.status === 'closed') throw new DaybookError('account_already_closed', `account ${accountId} is already closed`, { accountId }, 'accountId');
  if (sweepTo !== null) checkSweepTarget(sweepTo, state.opened.currency);
  if (sweepTo === null && balanceMinor !== 0n) {
    throw new DaybookError('sweep_account_required', `account ${accountId} holds ${balanceMinor}; name an account to move it to`, {
      accountId, balanceMinor: balanceMinor.toString(),
    }, 'sweepToAccountId');
  }
  return [{
    type: 'AccountClosed',
    schemaVersion: 1,
    data: {
      accountId, reason, finalBalance: balanceMinor.toString(), closureDate: utcDay(atMs), closedAt: isoAt(atMs), regulatorNotified,
      sweptToAccountId: sweepTo?.accountId ?? null, sweepTransactionId: balanceMinor === 0n ? null : sweepTransactionId,
    },
  }];
}

function checkSweepTarget(target: CloseBankAccount['data']['sweepTo'] & object, currency: BankingCurrency): void {
  const param = 'sweepToAccountId';
  const { accountId } = target;
  if (target.status === 'none') throw new DaybookError('account_not_found', `sweep account ${accountId} does not exist`, { accountId }, param);
  if (target.status === 'closed') throw new DaybookError('account_closed', `sweep account ${accountId} is closed`, { accountId }, param);
  if (target.frozen) throw new DaybookError('account_frozen', `sweep account ${accountId} is frozen`, { accountId }, param);
  if (target.currency !== currency) {
    throw new DaybookError('account_currency_mismatch', `sweep account ${accountId} holds ${target.currency}, not ${currency}`, {
      accountId, accountCurrency: target.currency, currency,
    }, param);
  }
}

/**
 * Checks that money in `currency` may move into or out of the account:
 * account_not_found, account_closed, account_frozen, account_currency_mismatch,
 * in that order. The service runs it for the receiving side of a movement
 * (nothing is written there, so a hot receiving account costs no append).
 */
export function requireMovable(state: BankAccountState, accountId: string, currency: BankingCurrency, param = 'accountId'): OpenedAccountState {
  const account = requireOpen(state, accountId, param);
  if (account.frozen) throw new DaybookError('account_frozen', `account ${accountId} is frozen`, { accountId }, param);
  if (account.opened.currency !== currency) {
    throw new DaybookError('account_currency_mismatch', `account ${accountId} holds ${account.opened.currency}, not ${currency}`, {
      accountId, accountCurrency: account.opened.currency, currency,
    }, param);
  }
  return account;
}

function requireOpen(state: BankAccountState, accountId: string, param = 'accountId'): OpenedAccountState {
  if (state.status === 'none') throw notFound(accountId, param);
  if (state.status === 'closed') throw new DaybookError('account_closed', `account ${accountId} is closed`, { accountId }, param);
  return state;
}

function notFound(accountId: string, param = 'accountId'): DaybookError {
  return new DaybookError('account_not_found', `account ${accountId} does not exist`, { accountId }, param);
}

function checkComplianceFlags(checks: FieldChecks, value: unknown): ComplianceFlags {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    checks.invalidField('complianceFlags', 'must be an object');
  }
  const flags = (value ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(flags).filter((key) => !(COMPLIANCE_FLAG_NAMES as readonly string[]).includes(key));
  if (unknown.length > 0) checks.invalidField('complianceFlags', `has unknown flags ${unknown.join(', ')}`);
  const read = (name: (typeof COMPLIANCE_FLAG_NAMES)[number]) => checkBoolean(checks, flags[name], `complianceFlags.${name}`);
  return {
    kycVerified: read('kycVerified'), sanctionsScreened: read('sanctionsScreened'),
    politicallyExposed: read('politicallyExposed'), enhancedDueDiligence: read('enhancedDueDiligence'),
  };
}
