import type { ErrorCode } from '../kernel/index.ts';
import { isDaybookError } from '../kernel/index.ts';

/** Stripe's error types (https://docs.stripe.com/api/errors): every error body carries one. */
export type StripeErrorType = 'api_error' | 'card_error' | 'idempotency_error' | 'invalid_request_error' | 'authentication_error' | 'rate_limit_error';

/** Exit codes from sysexits.h, the ones the CLI uses. */
export const EXIT = {
  ok: 0,
  usage: 64,
  dataerr: 65,
  unavailable: 69,
  software: 70,
  cantcreat: 73,
  ioerr: 74,
  tempfail: 75,
  config: 78,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface ErrorMapping {
  readonly http: number;
  readonly stripeType: StripeErrorType;
  readonly exit: ExitCode;
  /**
   * Whether an answer with this code is kept as the answer of its
   * Idempotency-Key, to be replayed to every retry (Stripe's rule: a result
   * is saved once the request ran to a decision of the domain). True for
   * the domain's refusals; false for refusals before execution (validation,
   * limits, authentication, rate), conflicts with concurrent requests and
   * transient failures (a full append queue, an unavailable store): a retry
   * of those runs again, and may succeed.
   */
  readonly recordable: boolean;
}

/**
 * One row per operating-error code: how the HTTP API and the CLI answer it.
 * The kernel's codes carry no transport; this table is the only place that
 * knows about statuses and exit codes. A code without a row does not compile.
 */
export const ERROR_TABLE = {
  validation_failed: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: false },
  limit_exceeded: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: false },
  idempotency_key_reused: { http: 400, stripeType: 'idempotency_error', exit: EXIT.dataerr, recordable: false },
  not_found: { http: 404, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // Optimistic concurrency: retrying with fresh state may succeed.
  stream_version_conflict: { http: 409, stripeType: 'api_error', exit: EXIT.tempfail, recordable: false },
  // The same event id with other content: the caller reused an id, retrying cannot help.
  event_id_conflict: { http: 409, stripeType: 'idempotency_error', exit: EXIT.dataerr, recordable: true },
  // Another process holds the SQLite writer lock: try again once it stops.
  store_locked: { http: 503, stripeType: 'api_error', exit: EXIT.tempfail, recordable: false },
  store_closed: { http: 503, stripeType: 'api_error', exit: EXIT.unavailable, recordable: false },
  store_unavailable: { http: 503, stripeType: 'api_error', exit: EXIT.unavailable, recordable: false },
  // Pending or failed migrations: the deployment must be fixed (`daybook migrate`).
  migration_failed: { http: 503, stripeType: 'api_error', exit: EXIT.config, recordable: false },
  // Stored data fails its hash chain: never the client's fault, always worth an alarm.
  integrity_violation: { http: 500, stripeType: 'api_error', exit: EXIT.dataerr, recordable: false },

  // Ledger (src/ledger). A malformed command: 400.
  accounts_must_be_different: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  flags_are_mutually_exclusive: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  entry_not_balanced: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  ledger_currency_mismatch: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  accounts_must_have_the_same_ledger: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  transfer_must_have_the_same_ledger_as_accounts: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  posting_currency_mismatch: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  exceeds_pending_transfer_amount: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  linked_event_failed: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  linked_event_chain_open: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // Another process owns the ledger partition: send the command there, or retry once its lease lapsed.
  ledger_partition_not_owned: { http: 503, stripeType: 'api_error', exit: EXIT.tempfail, recordable: false },
  // The same id again with other content: like a reused idempotency key, retrying cannot help.
  account_exists_with_different_fields: { http: 409, stripeType: 'idempotency_error', exit: EXIT.dataerr, recordable: true },
  transfer_exists_with_different_flags: { http: 409, stripeType: 'idempotency_error', exit: EXIT.dataerr, recordable: true },
  transfer_exists_with_different_accounts: { http: 409, stripeType: 'idempotency_error', exit: EXIT.dataerr, recordable: true },
  transfer_exists_with_different_amount: { http: 409, stripeType: 'idempotency_error', exit: EXIT.dataerr, recordable: true },
  transfer_exists_with_different_fields: { http: 409, stripeType: 'idempotency_error', exit: EXIT.dataerr, recordable: true },
  entry_exists_with_different_fields: { http: 409, stripeType: 'idempotency_error', exit: EXIT.dataerr, recordable: true },
  // Something the command names does not exist.
  account_not_found: { http: 404, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  debit_account_not_found: { http: 404, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  credit_account_not_found: { http: 404, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  pending_transfer_not_found: { http: 404, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  entry_not_found: { http: 404, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // Well-formed, but the current state refuses it: 409.
  account_already_closed: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  account_not_closed: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  account_closed: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  debit_account_closed: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  credit_account_closed: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  pending_transfer_not_pending: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  pending_transfer_already_posted: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  pending_transfer_already_voided: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  pending_transfer_expired: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  pending_transfer_not_expired: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  balance_overflow: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  exceeds_credits: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  exceeds_debits: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },

  // Projections (src/projections).
  projection_not_found: { http: 404, stripeType: 'invalid_request_error', exit: EXIT.usage, recordable: true },
  // Another rebuild of the same projection holds it: wait for it, or for its heartbeat to go stale.
  projection_rebuild_in_progress: { http: 409, stripeType: 'api_error', exit: EXIT.tempfail, recordable: false },
  // The read model did not reach the asked position in time: retrying later may succeed.
  projection_wait_timeout: { http: 503, stripeType: 'api_error', exit: EXIT.tempfail, recordable: false },
  // Stopped on a poison event (policy 'stop') or failed: an operator must act (`daybook dlq`).
  projection_stopped: { http: 503, stripeType: 'api_error', exit: EXIT.unavailable, recordable: false },
  // A read-model table is gone (dropped by hand?): rebuild the projection.
  projection_read_model_missing: { http: 503, stripeType: 'api_error', exit: EXIT.software, recordable: false },
  // Another worker took the partition over: this one's batch rolled back.
  projection_lease_lost: { http: 503, stripeType: 'api_error', exit: EXIT.tempfail, recordable: false },
  // A relay's receiver refused or did not answer a delivery: it is retried, then parked (`daybook dlq`).
  relay_delivery_failed: { http: 502, stripeType: 'api_error', exit: EXIT.unavailable, recordable: false },

  // Banking (src/banking).
  customer_not_found: { http: 404, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  transaction_not_found: { http: 404, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // The same customer id again with other details: like a reused idempotency key.
  customer_exists_with_different_fields: { http: 409, stripeType: 'idempotency_error', exit: EXIT.dataerr, recordable: true },
  // The account's currency differs from the movement's: the caller named the wrong account or currency.
  account_currency_mismatch: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // Well-formed, but the account's state or tier refuses it.
  account_frozen: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  account_already_frozen: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  account_not_frozen: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  transaction_limit_exceeded: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  daily_limit_exceeded: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  sweep_account_required: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  transaction_already_settled: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },

  // HTTP API (src/api, src/auth). No key, or one we do not know (or revoked): 401.
  authentication_required: { http: 401, stripeType: 'invalid_request_error', exit: EXIT.usage, recordable: false },
  api_key_invalid: { http: 401, stripeType: 'invalid_request_error', exit: EXIT.usage, recordable: false },
  // The key's role lacks the route's permission (ROLE_PERMISSIONS in src/auth/permissions.ts).
  permission_denied: { http: 403, stripeType: 'invalid_request_error', exit: EXIT.usage, recordable: false },
  // The key's token bucket is empty: retry after the Retry-After header's seconds.
  rate_limited: { http: 429, stripeType: 'invalid_request_error', exit: EXIT.tempfail, recordable: false },

  // Payments (src/payments, answered on the Stripe-compatible listener). Something the request names does not exist.
  resource_missing: { http: 404, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // Request parameters: refused before anything runs, so a corrected retry runs.
  parameter_unknown: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: false },
  parameter_missing: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: false },
  parameter_invalid_integer: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: false },
  // The card was refused (decline_code says why): 402, recorded, since the decline is written to the payment's history.
  card_declined: { http: 402, stripeType: 'card_error', exit: EXIT.dataerr, recordable: true },
  incorrect_number: { http: 402, stripeType: 'card_error', exit: EXIT.dataerr, recordable: true },
  amount_too_small: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  amount_too_large: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // Well-formed, but the object's status refuses it (Stripe answers these with 400).
  payment_intent_unexpected_state: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  payment_method_unexpected_state: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  charge_already_refunded: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // A refund of a charge whose dispute is open or lost (Stripe's code).
  charge_disputed: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // Evidence on a submitted dispute, or any change to a won or lost one.
  dispute_unexpected_state: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // A payout above the available balance (Stripe's code).
  balance_insufficient: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // Cancel of a payout that is no longer pending.
  payout_unexpected_state: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // A Stripe-Account header (connected-account scoping is not supported), refused before anything runs.
  account_invalid: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: false },

  // Audit (src/audit): a key file is missing, unreadable or not the key it claims; the deployment must be fixed.
  audit_key_invalid: { http: 500, stripeType: 'api_error', exit: EXIT.config, recordable: false },
  // Compliance (src/compliance). A fraud model file that cannot be read as XGBoost JSON: the deployment must be fixed.
  fraud_model_invalid: { http: 500, stripeType: 'api_error', exit: EXIT.dataerr, recordable: false },
  // A sanctions list file (OFAC SDN CSV layout) that does not parse; the message names the line.
  sanctions_list_invalid: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: false },
  // No list was loaded yet (`daybook sanctions load`): screening cannot answer.
  sanctions_list_not_loaded: { http: 503, stripeType: 'api_error', exit: EXIT.unavailable, recordable: false },
  screening_case_not_found: { http: 404, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // The same case id again with other hits: like a reused idempotency key.
  screening_case_exists: { http: 409, stripeType: 'idempotency_error', exit: EXIT.dataerr, recordable: true },
  // An analyst's decision on a case already cleared or confirmed.
  screening_case_closed: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // A customer with an open or confirmed screening case: money out is held until an analyst clears the case. Not recorded: a retry after clearing goes through.
  compliance_review_pending: { http: 403, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: false },
  // The fraud check blocked a native transfer or movement (where DAYBOOK_FRAUD_ENFORCE enforces); its FraudCheckCompleted is recorded.
  fraud_blocked: { http: 402, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: false },
  // Operations (src/ops). A backup could not be written (disk full, I/O error): nothing was left behind.
  backup_failed: { http: 500, stripeType: 'api_error', exit: EXIT.ioerr, recordable: false },
  // A backup file is truncated, changed since its manifest, not a database, or fails its hash chains.
  backup_invalid: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: false },
  // A drill found the restored backup and the live store disagreeing at the backup's head.
  backup_mismatch: { http: 500, stripeType: 'api_error', exit: EXIT.dataerr, recordable: false },
  // An archive file already in the archive folder is truncated, changed, or no longer matches the store: it is never overwritten.
  archive_invalid: { http: 500, stripeType: 'api_error', exit: EXIT.dataerr, recordable: false },
  // A restore writes only into a new (or empty) folder.
  restore_target_not_empty: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.cantcreat, recordable: false },
  // AML cases (src/compliance/aml): well-formed, but the case's status refuses the step.
  aml_case_unexpected_state: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // Privacy (src/privacy). No data key for this subject: unknown, or its personal data predates encryption.
  subject_not_found: { http: 404, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // Erasing again, or writing personal data for a subject already erased: the key is gone for good.
  subject_already_erased: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // Maker-checker (src/compliance/approvals). An approval request of another mode is as absent as one that never was.
  approval_request_not_found: { http: 404, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // The maker (same API key, or a key of the same owner) may not approve their own request: segregation of duties.
  approval_self_approval: { http: 403, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: false },
  // This checker approved the request already; a second approval needs a second person.
  approval_already_granted: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // Rejected, executed or failed already: nothing is left to decide.
  approval_not_pending: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // Past its expiry (DAYBOOK_APPROVAL_EXPIRY_SECONDS): the maker asks again.
  approval_expired: { http: 409, stripeType: 'invalid_request_error', exit: EXIT.dataerr, recordable: true },
  // The same approval id again with another action or payload: like a reused idempotency key.
  approval_request_exists: { http: 409, stripeType: 'idempotency_error', exit: EXIT.dataerr, recordable: true },
  // DAYBOOK_REQUIRE_PURPOSE=true and no Daybook-Purpose (or X-Purpose) header on a read of personal data.
  access_purpose_required: { http: 400, stripeType: 'invalid_request_error', exit: EXIT.usage, recordable: false },
} as const satisfies Record<ErrorCode, ErrorMapping>;

/** The Stripe wire format of an error (`{"error":{"type","code","message","param"}}`). */
export interface StripeErrorBody {
  error: {
    type: StripeErrorType;
    code?: string;
    message: string;
    param?: string;
  };
}

/** The message every unexpected failure gets: the details stay in the log, under the request id. */
export const GENERIC_ERROR_MESSAGE = 'An unexpected error occurred. The failure was logged; quote the request id when reporting it.';

/** Builds a Stripe error body; `param` is left out when there is none, as Stripe does. */
export function stripeError(type: StripeErrorType, code: string | undefined, message: string, param?: string): StripeErrorBody {
  const error: StripeErrorBody['error'] = { type, message };
  if (code !== undefined) error.code = code;
  if (param !== undefined) error.param = param;
  return { error };
}

/**
 * The Stripe-shaped body for any thrown value. A `DaybookError` keeps its code,
 * message and param; anything else is a programmer error and gets a generic
 * `api_error` that reveals nothing of the failure.
 *
 * @example
 * toStripeError(new DaybookError('not_found', 'no stream account-9'))
 * // { error: { type: 'invalid_request_error', code: 'not_found', message: 'no stream account-9' } }
 */
export function toStripeError(error: unknown): StripeErrorBody {
  if (isDaybookError(error)) return stripeError(ERROR_TABLE[error.code].stripeType, error.code, error.message, error.param);
  return stripeError('api_error', undefined, GENERIC_ERROR_MESSAGE);
}

/** HTTP status for any thrown value: the table's row for a `DaybookError`, else 500. */
export function httpStatusOf(error: unknown): number {
  return isDaybookError(error) ? ERROR_TABLE[error.code].http : 500;
}

/** CLI exit code for any thrown value: the table's row for a `DaybookError`, else 70 (EX_SOFTWARE). */
export function exitCodeOf(error: unknown): ExitCode {
  return isDaybookError(error) ? ERROR_TABLE[error.code].exit : EXIT.software;
}
