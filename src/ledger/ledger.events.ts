import type { Currency } from '../kernel/money.ts';
import type { LedgerErrorCode } from './ledger.errors.ts';
import type {
  AccountBalance, AccountId, AccountSpec, Balances, CreateTransferRequest, EntryId, EntryRequest, FxConversionRecord,
  JournalEntryRequest, LedgerId, PostPendingRequest, Posting, ReversalRequest, TransferId, TransferRequest, VoidPendingRequest,
} from './ledger.types.ts';

/**
 * Events of a ledger partition, past tense. Each movement carries the
 * balances of the accounts right after it, so a transfer's result (and a
 * retry's) names them, a history needs no recomputation, and `evolve` checks
 * its own sums against them. Amounts are bigint here; `encodeLedgerEvent`
 * writes them as integer strings.
 */
type Movement = {
  debitAccountId: AccountId;
  creditAccountId: AccountId;
  ledger: LedgerId;
  currency: Currency;
  debitBalances: Balances;
  creditBalances: Balances;
  atMs: number;
};

export type AccountOpened = { type: 'AccountOpened'; data: AccountSpec & { atMs: number } };
export type AccountClosed = { type: 'AccountClosed'; data: { accountId: AccountId; atMs: number } };
export type AccountReopened = { type: 'AccountReopened'; data: { accountId: AccountId; atMs: number } };
export type TransferPosted = {
  type: 'TransferPosted';
  data: Movement & { transferId: TransferId; request: CreateTransferRequest; amountMinor: bigint };
};
export type PendingTransferCreated = {
  type: 'PendingTransferCreated';
  data: Movement & { transferId: TransferId; request: CreateTransferRequest; amountMinor: bigint; expiresAtMs: number | null };
};
export type PendingTransferPosted = {
  type: 'PendingTransferPosted';
  data: Movement & { transferId: TransferId; pendingId: TransferId; request: PostPendingRequest; amountMinor: bigint; pendingAmountMinor: bigint };
};
export type PendingTransferVoided = {
  type: 'PendingTransferVoided';
  data: Movement & { transferId: TransferId; pendingId: TransferId; request: VoidPendingRequest; pendingAmountMinor: bigint };
};
export type PendingTransferExpired = {
  type: 'PendingTransferExpired';
  data: Movement & { pendingId: TransferId; pendingAmountMinor: bigint; expiresAtMs: number };
};
export type TransferFailed = {
  type: 'TransferFailed';
  data: { transferId: TransferId; request: TransferRequest; code: LedgerErrorCode; atMs: number };
};
export type JournalEntryRecorded = {
  type: 'JournalEntryRecorded';
  data: {
    entryId: EntryId;
    request: JournalEntryRequest;
    conversions: FxConversionRecord[];
    legs: Posting[];
    balances: AccountBalance[];
    atMs: number;
  };
};
export type JournalEntryReversed = {
  type: 'JournalEntryReversed';
  data: { reversalId: EntryId; entryId: EntryId; request: ReversalRequest; legs: Posting[]; balances: AccountBalance[]; atMs: number };
};
export type JournalEntryFailed = {
  type: 'JournalEntryFailed';
  data: { entryId: EntryId; request: EntryRequest; code: LedgerErrorCode; atMs: number };
};

export type LedgerEvent =
  | AccountOpened
  | AccountClosed
  | AccountReopened
  | TransferPosted
  | PendingTransferCreated
  | PendingTransferPosted
  | PendingTransferVoided
  | PendingTransferExpired
  | TransferFailed
  | JournalEntryRecorded
  | JournalEntryReversed
  | JournalEntryFailed;

export type LedgerEventType = LedgerEvent['type'];

export const LEDGER_EVENT_TYPES: readonly LedgerEventType[] = [
  'AccountOpened', 'AccountClosed', 'AccountReopened', 'TransferPosted', 'PendingTransferCreated', 'PendingTransferPosted',
  'PendingTransferVoided', 'PendingTransferExpired', 'TransferFailed', 'JournalEntryRecorded', 'JournalEntryReversed',
  'JournalEntryFailed',
];
