import { assertNever } from '../kernel/index.ts';
import { decideCloseAccount, decideOpenAccount, decideReopenAccount } from './account.decide.ts';
import type { LedgerCommand } from './ledger.commands.ts';
import type { LedgerDecision } from './ledger.results.ts';
import type { LedgerView } from './ledger.state.ts';
import { decideRecordJournalEntry, decideReverseJournalEntry } from './journal.decide.ts';
import { decideExpirePending, decidePostPending, decideVoidPending } from './pending.decide.ts';
import { decideCreateTransfer } from './transfer.decide.ts';

/**
 * Decides one command against a ledger view: pure, never throws for a
 * business answer, never writes. Apply the returned events (with
 * `applyLedgerEvent`) before deciding the next command of a batch; or use
 * `decideLedgerBatch`, which does that and handles linked chains.
 *
 * Rejects, in this order (the first that applies wins; every command starts
 * with `validation_failed` for a malformed body, then the body's own rules,
 * then `limit_exceeded` for a bound passed):
 *
 * - `OpenAccount`: validation_failed, flags_are_mutually_exclusive,
 *   limit_exceeded, account_exists_with_different_fields (the same id and
 *   body answers the first result), ledger_currency_mismatch.
 * - `CloseAccount`: validation_failed, limit_exceeded, account_not_found,
 *   account_already_closed. `ReopenAccount`: … account_not_found,
 *   account_not_closed.
 * - `CreateTransfer`: validation_failed, accounts_must_be_different,
 *   limit_exceeded, transfer_exists_with_different_flags / _accounts /
 *   _amount / _fields (the same id and body answers the first result, a
 *   recorded failure included), debit_account_not_found,
 *   credit_account_not_found, accounts_must_have_the_same_ledger,
 *   transfer_must_have_the_same_ledger_as_accounts, debit_account_closed,
 *   credit_account_closed, balance_overflow, exceeds_credits (debit
 *   account), exceeds_debits (credit account).
 * - `PostPendingTransfer`: validation_failed, limit_exceeded,
 *   transfer_exists_with_different_*, pending_transfer_not_found,
 *   pending_transfer_not_pending, pending_transfer_already_posted,
 *   pending_transfer_already_voided, pending_transfer_expired,
 *   exceeds_pending_transfer_amount, debit_account_closed,
 *   credit_account_closed.
 * - `VoidPendingTransfer`: the same as a post, without the amount and the
 *   closed-account checks.
 * - `ExpirePendingTransfer`: validation_failed, limit_exceeded,
 *   pending_transfer_not_found, pending_transfer_not_pending (an expired one
 *   answers the first result), pending_transfer_already_posted,
 *   pending_transfer_already_voided, pending_transfer_not_expired.
 * - `RecordJournalEntry`: validation_failed, entry_not_balanced,
 *   limit_exceeded, validation_failed for a conversion that rounds to zero,
 *   entry_exists_with_different_fields, then over all legs in order:
 *   account_not_found, posting_currency_mismatch, account_closed,
 *   balance_overflow, exceeds_credits / exceeds_debits.
 * - `ReverseJournalEntry`: validation_failed, limit_exceeded,
 *   entry_exists_with_different_fields (for the reversal id),
 *   entry_not_found (an entry already reversed answers its first reversal),
 *   then the leg checks of a journal entry.
 * - In a batch: linked_event_chain_open for the last command of an
 *   unterminated chain; linked_event_failed for the other members of a chain
 *   that failed (the failing member gets its own code).
 *
 * Failures that could change later (not found, closed, exceeds, overflow)
 * are recorded as `TransferFailed` / `JournalEntryFailed`, so the id stays
 * failed on retry; see `RECORDED_FAILURE_CODES`.
 *
 * @example
 * const { events, outcome } = decideLedgerCommand(state, {
 *   type: 'CreateTransfer',
 *   data: { transferId: 't1', debitAccountId: 'alice', creditAccountId: 'shop', amountMinor: 1250n, ledger: 'usd', atMs },
 * });
 * if (outcome.ok) for (const event of events) applyLedgerEvent(state, event);
 * else console.log(outcome.rejection.code); // e.g. 'exceeds_credits', with a TransferFailed event to append
 */
export function decideLedgerCommand(view: LedgerView, command: LedgerCommand): LedgerDecision {
  switch (command.type) {
    case 'OpenAccount': return decideOpenAccount(view, command.data);
    case 'CloseAccount': return decideCloseAccount(view, command.data);
    case 'ReopenAccount': return decideReopenAccount(view, command.data);
    case 'CreateTransfer': return decideCreateTransfer(view, command.data);
    case 'PostPendingTransfer': return decidePostPending(view, command.data);
    case 'VoidPendingTransfer': return decideVoidPending(view, command.data);
    case 'ExpirePendingTransfer': return decideExpirePending(view, command.data);
    case 'RecordJournalEntry': return decideRecordJournalEntry(view, command.data);
    case 'ReverseJournalEntry': return decideReverseJournalEntry(view, command.data);
    default: return assertNever(command);
  }
}
