import type { BankAccountType, BankingCurrency, ClosureReason, ComplianceFlags, CustomerKind, RegulatoryTier } from './banking.types.ts';
import type { OpenedAccountState } from './bankAccount.decider.ts';
import type { AccountClosed } from './bankAccount.events.ts';
import type { CustomerPii } from './customer.events.ts';
import type { TransactionCompleted, TransactionFailed, TransactionInitiated } from './transaction.events.ts';

/**
 * What the banking service takes and answers. Amounts are bigint minor
 * units (parse decimal text with `parseMinor` at the edge); rates decimal
 * strings. Optional fields take the defaults named here.
 */
export type RegisterCustomerInput = {
  /** Caller-chosen for an idempotent registration; generated when absent. */
  customerId?: string;
  /** Default `individual`. */
  kind?: CustomerKind;
  pii: { fullName: string; email: string; phone?: string | null; dateOfBirth?: string | null; address?: string | null };
};

export type CustomerResult = { customerId: string; kind: CustomerKind; pii: CustomerPii; replayed: boolean };

export type OpenAccountInput = {
  /** Caller-chosen for an idempotent opening; generated when absent. */
  accountId?: string;
  customerId: string;
  accountType: BankAccountType;
  currency: BankingCurrency;
  regulatoryTier: RegulatoryTier;
  /** Each flag false unless given. */
  complianceFlags?: Partial<ComplianceFlags>;
  /** Paid in as a `deposit` transaction from the settlement account; default 0 (no deposit). */
  initialBalanceMinor?: bigint;
};

export type OpenAccountResult = {
  accountId: string;
  account: OpenedAccountState;
  /** The opening deposit, when there was an initial balance. */
  initialDeposit: TransactionResult | null;
  /** The account existed with this very body: nothing new was opened. */
  replayed: boolean;
};

/** Fields every money movement takes. */
export type MovementOptions = {
  /** Same key and same body: the first result again; same key, other body: `idempotency_key_reused`. */
  idempotencyKey?: string;
  /** Free text (at most 140 characters); default empty. */
  reference?: string;
  /** 0–100 from the caller's compliance screening; default 0. */
  complianceScore?: number;
  /** When given, must be the paying (or, for a deposit, receiving) account's currency. */
  currency?: BankingCurrency;
};

export type DepositInput = MovementOptions & { accountId: string; amountMinor: bigint };
export type WithdrawalInput = MovementOptions & { accountId: string; amountMinor: bigint; feeMinor?: bigint };
export type TransferInput = MovementOptions & { fromAccountId: string; toAccountId: string; amountMinor: bigint; feeMinor?: bigint };
/** `amountMinor` in the paying account's currency; `exchangeRate` is receiving-currency units per paying-currency unit, at most six decimals. */
export type CrossCurrencyTransferInput = TransferInput & { exchangeRate: string };
/** A payment out to an external account (`beneficiary`, e.g. an IBAN) through the clearing account. */
export type PaymentInput = MovementOptions & { fromAccountId: string; beneficiary: string; amountMinor: bigint; feeMinor?: bigint };

/**
 * A transaction as recorded. `completed`: the ledger booked it; `failed`: the
 * ledger refused it (e.g. `exceeds_credits`) and the refusal is recorded, so a
 * retry with the same key answers the same; `initiated`: only when an earlier
 * attempt stopped half way (a retry with the same key finishes it).
 */
export type TransactionResult = {
  transactionId: string;
  status: 'initiated' | 'completed' | 'failed';
  /** The idempotency key was seen before: this is the first request's result. */
  replayed: boolean;
  initiated: TransactionInitiated['data'];
  completed: TransactionCompleted['data'] | null;
  failed: TransactionFailed['data'] | null;
};

export type FreezeInput = { accountId: string; reason: string };
export type UnfreezeInput = { accountId: string };

export type CloseAccountInput = {
  accountId: string;
  reason: ClosureReason;
  /** The account that receives the remaining balance; required when the balance is not zero. */
  sweepToAccountId?: string;
  /** Default: true for `regulatory` and `fraud` closures, false for `customer_request`. */
  regulatorNotified?: boolean;
};

export type CloseAccountResult = {
  accountId: string;
  closed: AccountClosed['data'];
  /** The transfer that moved the final balance, when there was one. */
  sweep: TransactionResult | null;
};
