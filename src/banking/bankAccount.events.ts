import type { BankAccountType, BankingCurrency, ClosureReason, ComplianceFlags, RegulatoryTier } from './banking.types.ts';

/**
 * Events of a bank account stream (`bankaccount-<id>`). Amounts are integer
 * minor units written as strings of digits (JSON has no bigint); times are
 * ISO-8601 instants, dates `YYYY-MM-DD` (UTC). Each event carries its schema
 * version, so a later shape can be upcast on read.
 *
 * `DebitAuthorized` / `DebitReleased` are the account's own record of money
 * leaving it: the daily limit is summed from them, so it holds under
 * concurrency (two debits racing on one account meet on the stream's
 * expected version) without reading a projection.
 */
export type AccountOpened = {
  type: 'AccountOpened';
  schemaVersion: 1;
  data: {
    accountId: string;
    customerId: string;
    accountType: BankAccountType;
    currency: BankingCurrency;
    /** Paid in by the opening deposit (a `deposit` transaction), minor units. */
    initialBalance: string;
    regulatoryTier: RegulatoryTier;
    complianceFlags: ComplianceFlags;
    openedAt: string;
  };
};

export type AccountFrozen = { type: 'AccountFrozen'; schemaVersion: 1; data: { accountId: string; reason: string; frozenAt: string } };
export type AccountUnfrozen = { type: 'AccountUnfrozen'; schemaVersion: 1; data: { accountId: string; unfrozenAt: string } };

export type AccountClosed = {
  type: 'AccountClosed';
  schemaVersion: 1;
  data: {
    accountId: string;
    reason: ClosureReason;
    /** The balance at closing, moved to `sweptToAccountId` (0 when there was nothing to move). */
    finalBalance: string;
    /** UTC date of the closure. */
    closureDate: string;
    closedAt: string;
    regulatorNotified: boolean;
    sweptToAccountId: string | null;
    /** The `transfer` transaction that moved the final balance, when there was one. */
    sweepTransactionId: string | null;
  };
};

export type DebitAuthorized = {
  type: 'DebitAuthorized';
  schemaVersion: 1;
  data: { accountId: string; transactionId: string; amount: string; currency: BankingCurrency; day: string; authorizedAt: string };
};

export type DebitReleased = {
  type: 'DebitReleased';
  schemaVersion: 1;
  data: { accountId: string; transactionId: string; amount: string; day: string; releasedAt: string };
};

export type BankAccountEvent = AccountOpened | AccountFrozen | AccountUnfrozen | AccountClosed | DebitAuthorized | DebitReleased;

export const BANK_ACCOUNT_EVENT_TYPES = [
  'AccountOpened', 'AccountFrozen', 'AccountUnfrozen', 'AccountClosed', 'DebitAuthorized', 'DebitReleased',
] as const satisfies readonly BankAccountEvent['type'][];
