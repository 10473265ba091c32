import type { Currency } from '../kernel/money.ts';
import type { LedgerRejection } from './ledger.errors.ts';
import type { LedgerEvent } from './ledger.events.ts';
import type { AccountBalance, AccountId, AppliedTransfer, Balances, EntryId, RecordedEntry, TransferId } from './ledger.types.ts';

/** What a command did, as the caller sees it. Transfers name the balances of both accounts right after them. */
export type LedgerResult =
  | { kind: 'account'; accountId: AccountId; closed: boolean; balances: Balances }
  | {
      kind: 'transfer';
      transferId: TransferId;
      debitAccountId: AccountId;
      creditAccountId: AccountId;
      /** Moved (single, post), reserved (pending) or released (void). */
      amountMinor: bigint;
      currency: Currency;
      debitBalances: Balances;
      creditBalances: Balances;
    }
  | { kind: 'expiry'; pendingId: TransferId; amountMinor: bigint; debitBalances: Balances; creditBalances: Balances }
  | { kind: 'entry'; entryId: EntryId; balances: readonly AccountBalance[] };

/**
 * `replayed`: the id was seen before with the same body, and this is the first
 * result (success or recorded failure) again, with nothing new written.
 */
export type LedgerOutcome =
  | { ok: true; replayed: boolean; result: LedgerResult }
  | { ok: false; replayed: boolean; rejection: LedgerRejection };

/** One command's decision: the events to append (possibly none) and the answer. */
export type LedgerDecision = { events: LedgerEvent[]; outcome: LedgerOutcome };

export function accepted(events: LedgerEvent[], result: LedgerResult, replayed = false): LedgerDecision {
  return { events, outcome: { ok: true, replayed, result } };
}

export function refused(rejected: LedgerRejection, events: LedgerEvent[] = [], replayed = false): LedgerDecision {
  return { events, outcome: { ok: false, replayed, rejection: rejected } };
}

export function transferResult(record: AppliedTransfer): LedgerResult {
  return {
    kind: 'transfer',
    transferId: record.transferId,
    debitAccountId: record.debitAccountId,
    creditAccountId: record.creditAccountId,
    amountMinor: record.amountMinor,
    currency: record.currency,
    debitBalances: record.debitBalances,
    creditBalances: record.creditBalances,
  };
}

export function entryResult(record: RecordedEntry): LedgerResult {
  return { kind: 'entry', entryId: record.entryId, balances: record.balances };
}
