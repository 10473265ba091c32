import type { Currency } from '../kernel/money.ts';
import type { AccountId, EntryId, FxConversionRequest, LedgerId, Metadata, Posting, TransferId } from './ledger.types.ts';

/**
 * Commands to a ledger partition, as the application layer builds them: the
 * service puts the time (`atMs`, milliseconds since the epoch) and the
 * caller's ids in; optional fields take the defaults named here. Amounts are
 * bigint minor units (parse text with `parseMinor` at the edge).
 */
export type OpenAccountData = {
  accountId: AccountId;
  ledger: LedgerId;
  currency: Currency;
  /** Account type, chart-of-accounts code; 0 when absent. */
  code?: number;
  flags?: { debitsMustNotExceedCredits?: boolean; creditsMustNotExceedDebits?: boolean; history?: boolean };
  overdraftLimitMinor?: bigint;
  creditLimitMinor?: bigint;
  userData?: string;
  metadata?: Metadata;
  atMs: number;
};

export type AccountLifecycleData = { accountId: AccountId; atMs: number };

export type CreateTransferData = {
  transferId: TransferId;
  debitAccountId: AccountId;
  creditAccountId: AccountId;
  amountMinor: bigint;
  ledger: LedgerId;
  code?: number;
  flags?: { pending?: boolean; linked?: boolean; balancingDebit?: boolean; balancingCredit?: boolean };
  /** Pending transfers only: expire `timeoutMs` after `atMs`; 0 or absent never expires. */
  timeoutMs?: number;
  userData?: string;
  metadata?: Metadata;
  atMs: number;
};

export type PostPendingTransferData = {
  /** The id of this post, itself idempotent. */
  transferId: TransferId;
  pendingId: TransferId;
  /** Absent posts the full pending amount; less posts partially and releases the rest. */
  amountMinor?: bigint;
  flags?: { linked?: boolean };
  userData?: string;
  metadata?: Metadata;
  atMs: number;
};

export type VoidPendingTransferData = {
  transferId: TransferId;
  pendingId: TransferId;
  flags?: { linked?: boolean };
  userData?: string;
  metadata?: Metadata;
  atMs: number;
};

export type ExpirePendingTransferData = { pendingId: TransferId; atMs: number };

export type RecordJournalEntryData = {
  entryId: EntryId;
  postings?: readonly Posting[];
  conversions?: readonly FxConversionRequest[];
  metadata?: Metadata;
  atMs: number;
};

export type ReverseJournalEntryData = {
  /** The id of the reversing entry. */
  reversalId: EntryId;
  entryId: EntryId;
  metadata?: Metadata;
  atMs: number;
};

export type LedgerCommand =
  | { type: 'OpenAccount'; data: OpenAccountData }
  | { type: 'CloseAccount'; data: AccountLifecycleData }
  | { type: 'ReopenAccount'; data: AccountLifecycleData }
  | { type: 'CreateTransfer'; data: CreateTransferData }
  | { type: 'PostPendingTransfer'; data: PostPendingTransferData }
  | { type: 'VoidPendingTransfer'; data: VoidPendingTransferData }
  | { type: 'ExpirePendingTransfer'; data: ExpirePendingTransferData }
  | { type: 'RecordJournalEntry'; data: RecordJournalEntryData }
  | { type: 'ReverseJournalEntry'; data: ReverseJournalEntryData };

export type LedgerCommandType = LedgerCommand['type'];

/** True when the command asks to succeed or fail with the next command of its batch. */
export function isLinked(command: LedgerCommand): boolean {
  switch (command.type) {
    case 'CreateTransfer':
    case 'PostPendingTransfer':
    case 'VoidPendingTransfer':
      return command.data.flags?.linked === true;
    default:
      return false;
  }
}
