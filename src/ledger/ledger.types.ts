import type { Currency } from '../kernel/money.ts';
import type { LedgerErrorCode } from './ledger.errors.ts';

/**
 * The records a ledger partition holds in memory: accounts with their
 * balances, transfers (applied or failed) and journal entries. Every amount is
 * a `bigint` in minor units.
 */
export type AccountId = string;
export type TransferId = string;
export type EntryId = string;
/** A ledger groups accounts of one currency that may transfer to each other. */
export type LedgerId = string;
/** Free-form string map on accounts, transfers and entries (bounded, see ledger.limits.ts). */
export type Metadata = Readonly<Record<string, string>>;

/** An account's four running totals. A ledger's debits equal its credits, posted and pending. */
export type Balances = {
  readonly debitsPending: bigint;
  readonly debitsPosted: bigint;
  readonly creditsPending: bigint;
  readonly creditsPosted: bigint;
};

export type AccountFlags = {
  /** Debits (pending + posted) may not pass posted credits plus `overdraftLimitMinor`: money held for a customer. */
  readonly debitsMustNotExceedCredits: boolean;
  /** Credits (pending + posted) may not pass posted debits plus `creditLimitMinor`. */
  readonly creditsMustNotExceedDebits: boolean;
  /** Keep the balances after every movement, for as-of queries. */
  readonly history: boolean;
};

/** What an account is, as opened (normalised: every field present). */
export type AccountSpec = {
  readonly accountId: AccountId;
  readonly ledger: LedgerId;
  readonly currency: Currency;
  readonly code: number;
  readonly flags: AccountFlags;
  /** How far debits may pass credits; only with `debitsMustNotExceedCredits`. */
  readonly overdraftLimitMinor: bigint;
  /** How far credits may pass debits; only with `creditsMustNotExceedDebits`. */
  readonly creditLimitMinor: bigint;
  readonly userData: string;
  readonly metadata: Metadata;
};

/** Balances after one movement; a persistent list, newest first, so appending is O(1). */
export type BalanceHistoryNode = {
  readonly atMs: number;
  /** The transfer or journal entry (or pending transfer, for an expiry) that moved the balances. */
  readonly sourceId: string;
  readonly balances: Balances;
  readonly previous: BalanceHistoryNode | null;
};

export type AccountRecord = AccountSpec & {
  readonly closed: boolean;
  readonly openedAtMs: number;
  readonly balances: Balances;
  /** Only for accounts with the `history` flag. */
  readonly history: BalanceHistoryNode | null;
};

export type TransferFlags = {
  /** Reserve the amount (pending balances) until posted, voided or expired. */
  readonly pending: boolean;
  /** Succeeds or fails with the next command of the batch. */
  readonly linked: boolean;
  /** Move at most what the debit account's flag and overdraft limit allow. */
  readonly balancingDebit: boolean;
  /** Move at most what the credit account's flag and credit limit allow. */
  readonly balancingCredit: boolean;
};

/** The body of a transfer command, normalised: what idempotency compares (the time is not part of it). */
export type CreateTransferRequest = {
  readonly kind: 'create';
  readonly debitAccountId: AccountId;
  readonly creditAccountId: AccountId;
  /** The amount asked for; a balancing transfer may move less. */
  readonly amountMinor: bigint;
  readonly ledger: LedgerId;
  readonly code: number;
  readonly flags: TransferFlags;
  /** Pending transfers only; 0 never expires. */
  readonly timeoutMs: number;
  readonly userData: string;
  readonly metadata: Metadata;
};
export type PostPendingRequest = {
  readonly kind: 'post';
  readonly pendingId: TransferId;
  /** Null posts the full pending amount. */
  readonly amountMinor: bigint | null;
  readonly linked: boolean;
  readonly userData: string;
  readonly metadata: Metadata;
};
export type VoidPendingRequest = {
  readonly kind: 'void';
  readonly pendingId: TransferId;
  readonly linked: boolean;
  readonly userData: string;
  readonly metadata: Metadata;
};
export type TransferRequest = CreateTransferRequest | PostPendingRequest | VoidPendingRequest;

export type PendingState = 'pending' | 'posted' | 'voided' | 'expired';
export type TransferKind = 'single' | 'pending' | 'post' | 'void';

export type AppliedTransfer = {
  readonly status: 'applied';
  readonly transferId: TransferId;
  readonly kind: TransferKind;
  readonly request: TransferRequest;
  readonly debitAccountId: AccountId;
  readonly creditAccountId: AccountId;
  readonly ledger: LedgerId;
  readonly currency: Currency;
  /** Moved (single, post), reserved (pending) or released (void). */
  readonly amountMinor: bigint;
  /** Balances right after this transfer: the result a retry gets back. */
  readonly debitBalances: Balances;
  readonly creditBalances: Balances;
  readonly atMs: number;
  /** For `pending` transfers: where the reservation stands; null otherwise. */
  readonly pendingState: PendingState | null;
  readonly expiresAtMs: number | null;
};

/** A transfer id whose failure could change later is kept failed: a retry gets the same failure. */
export type FailedTransfer = {
  readonly status: 'failed';
  readonly transferId: TransferId;
  readonly request: TransferRequest;
  readonly code: LedgerErrorCode;
  readonly atMs: number;
};

export type TransferRecord = AppliedTransfer | FailedTransfer;

/** One leg of a journal entry. */
export type Posting = {
  readonly accountId: AccountId;
  readonly side: 'debit' | 'credit';
  readonly amountMinor: bigint;
  readonly currency: Currency;
};

/**
 * A currency conversion inside a journal entry: `fromAccountId` pays
 * `amountMinor` of `fromCurrency` to `liquidityFromAccountId`;
 * `toAccountId` receives the converted amount in `toCurrency`, rounded half
 * even, paid by `liquidityToAccountId` (the converted amount rounded toward
 * zero) and `roundingAccountId` (the difference rounding made, 0 or 1 minor
 * unit, posted only when non-zero). Each currency balances.
 */
export type FxConversionRequest = {
  readonly fromAccountId: AccountId;
  readonly toAccountId: AccountId;
  readonly amountMinor: bigint;
  readonly fromCurrency: Currency;
  readonly toCurrency: Currency;
  /** Target major units per source major unit, a decimal string. */
  readonly rate: string;
  readonly liquidityFromAccountId: AccountId;
  readonly liquidityToAccountId: AccountId;
  readonly roundingAccountId: AccountId;
};

export type FxConversionRecord = FxConversionRequest & {
  /** What `toAccountId` received: the exact value rounded half even. */
  readonly convertedMinor: bigint;
  /** What `liquidityToAccountId` paid: the exact value rounded toward zero. */
  readonly truncatedMinor: bigint;
  /** What `roundingAccountId` paid: `convertedMinor - truncatedMinor`. */
  readonly roundingMinor: bigint;
  /** The exact converted value in target minor units, a decimal string. */
  readonly convertedExact: string;
  /** `convertedExact - convertedMinor`, a decimal string. */
  readonly roundingRemainder: string;
};

export type JournalEntryRequest = {
  readonly kind: 'entry';
  readonly postings: readonly Posting[];
  readonly conversions: readonly FxConversionRequest[];
  readonly metadata: Metadata;
};
export type ReversalRequest = { readonly kind: 'reversal'; readonly entryId: EntryId; readonly metadata: Metadata };
export type EntryRequest = JournalEntryRequest | ReversalRequest;

export type AccountBalance = { readonly accountId: AccountId; readonly balances: Balances };

export type RecordedEntry = {
  readonly status: 'recorded';
  readonly entryId: EntryId;
  readonly request: EntryRequest;
  /** Every leg applied: the explicit postings, then each conversion's legs (or, for a reversal, the reversed legs). */
  readonly legs: readonly Posting[];
  /** Balances right after the entry, per account in order of first appearance. */
  readonly balances: readonly AccountBalance[];
  readonly atMs: number;
  readonly reversedBy: EntryId | null;
};

export type FailedEntry = {
  readonly status: 'failed';
  readonly entryId: EntryId;
  readonly request: EntryRequest;
  readonly code: LedgerErrorCode;
  readonly atMs: number;
};

export type EntryRecord = RecordedEntry | FailedEntry;
