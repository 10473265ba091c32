import { DaybookError, type ErrorCode } from '../kernel/index.ts';

/**
 * The ledger's closed list of rejection codes (all in kernel/errorCodes.ts).
 * Which one wins when several faults apply is documented per command on
 * `decideLedgerCommand` (ledger.decider.ts).
 */
export const LEDGER_ERROR_CODES = [
  'validation_failed',
  'limit_exceeded',
  'accounts_must_be_different',
  'flags_are_mutually_exclusive',
  'entry_not_balanced',
  'account_exists_with_different_fields',
  'transfer_exists_with_different_flags',
  'transfer_exists_with_different_accounts',
  'transfer_exists_with_different_amount',
  'transfer_exists_with_different_fields',
  'entry_exists_with_different_fields',
  'account_not_found',
  'debit_account_not_found',
  'credit_account_not_found',
  'pending_transfer_not_found',
  'entry_not_found',
  'ledger_currency_mismatch',
  'accounts_must_have_the_same_ledger',
  'transfer_must_have_the_same_ledger_as_accounts',
  'posting_currency_mismatch',
  'account_already_closed',
  'account_not_closed',
  'account_closed',
  'debit_account_closed',
  'credit_account_closed',
  'pending_transfer_not_pending',
  'pending_transfer_already_posted',
  'pending_transfer_already_voided',
  'pending_transfer_expired',
  'pending_transfer_not_expired',
  'exceeds_pending_transfer_amount',
  'balance_overflow',
  'exceeds_credits',
  'exceeds_debits',
  'linked_event_failed',
  'linked_event_chain_open',
] as const satisfies readonly ErrorCode[];

export type LedgerErrorCode = (typeof LEDGER_ERROR_CODES)[number];

/**
 * Failures that depend on the ledger's state and could change later (an
 * account opened, funds arriving, an account reopened). A transfer or journal
 * entry id that fails with one of them is recorded as failed
 * (`TransferFailed`, `JournalEntryFailed`), so a retry with the same id gets
 * the same failure instead of succeeding later: the caller's id names one
 * attempt. Other failures follow from the body alone, or from a state that
 * never changes back, and write nothing.
 */
export const RECORDED_FAILURE_CODES: ReadonlySet<LedgerErrorCode> = new Set<LedgerErrorCode>([
  'account_not_found',
  'debit_account_not_found',
  'credit_account_not_found',
  'pending_transfer_not_found',
  'entry_not_found',
  'account_closed',
  'debit_account_closed',
  'credit_account_closed',
  'balance_overflow',
  'exceeds_credits',
  'exceeds_debits',
]);

/** Why a command was refused: a value, not a throw, so a batch of thousands stays cheap. */
export type LedgerRejection = {
  readonly code: LedgerErrorCode;
  readonly message: string;
  readonly param?: string;
  readonly details: Readonly<Record<string, unknown>>;
};

export function rejection(code: LedgerErrorCode, message: string, details: Record<string, unknown> = {}, param?: string): LedgerRejection {
  return param === undefined ? { code, message, details } : { code, message, details, param };
}

export function toDaybookError(rejected: LedgerRejection): DaybookError {
  return new DaybookError(rejected.code, rejected.message, { ...rejected.details }, rejected.param);
}
