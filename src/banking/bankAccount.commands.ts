import type { BankAccountType, BankingCurrency, ClosureReason, ComplianceFlags, RegulatoryTier } from './banking.types.ts';

/**
 * Commands to a bank account stream. The service puts the time (`atMs`),
 * new ids, and the facts it looked up elsewhere (does the customer exist,
 * the ledger balance, the sweep target's state) into the command; the
 * invariants of the account itself come from its own events. Amounts are
 * bigint minor units.
 */
export type OpenBankAccount = {
  type: 'OpenBankAccount';
  data: {
    accountId: string;
    customerId: string;
    /** Looked up by the service on the customer's stream. */
    customerRegistered: boolean;
    accountType: BankAccountType;
    currency: BankingCurrency;
    regulatoryTier: RegulatoryTier;
    complianceFlags: ComplianceFlags;
    initialBalanceMinor: bigint;
    atMs: number;
  };
};

export type FreezeBankAccount = { type: 'FreezeBankAccount'; data: { accountId: string; reason: string; atMs: number } };
export type UnfreezeBankAccount = { type: 'UnfreezeBankAccount'; data: { accountId: string; atMs: number } };

/** Money is about to leave the account: checks state, currency and the tier's limits, and counts it for the day. */
export type AuthorizeDebit = {
  type: 'AuthorizeDebit';
  data: { accountId: string; transactionId: string; amountMinor: bigint; currency: BankingCurrency; atMs: number };
};

/** The ledger refused an authorized debit: it stops counting toward the day's limit. */
export type ReleaseDebit = {
  type: 'ReleaseDebit';
  data: { accountId: string; transactionId: string; amountMinor: bigint; day: string; atMs: number };
};

/** What the service found of the account named to receive the final balance. */
export type SweepTarget = {
  accountId: string;
  status: 'none' | 'open' | 'closed';
  frozen: boolean;
  currency: BankingCurrency | null;
};

export type CloseBankAccount = {
  type: 'CloseBankAccount';
  data: {
    accountId: string;
    reason: ClosureReason;
    regulatorNotified: boolean;
    /** The ledger balance being closed (before any sweep), minor units. */
    balanceMinor: bigint;
    sweepTo: SweepTarget | null;
    sweepTransactionId: string | null;
    atMs: number;
  };
};

export type BankAccountCommand = OpenBankAccount | FreezeBankAccount | UnfreezeBankAccount | AuthorizeDebit | ReleaseDebit | CloseBankAccount;
