/**
 * The closed list of operating-error codes. Every code has exactly one row in
 * `src/edge/errorTable.ts`, which maps it to an HTTP status, a Stripe error type
 * and a CLI exit code; a code without a row does not compile.
 */
export const ERROR_CODES = [
  'validation_failed',
  'limit_exceeded',
  'stream_version_conflict',
  'event_id_conflict',
  'store_locked',
  'store_closed',
  'store_unavailable',
  'migration_failed',
  'integrity_violation',
  'not_found',
  'idempotency_key_reused',
  // Ledger (src/ledger): accounts, transfers, journal entries. Precedence per
  // command is documented on `decideLedgerCommand` in src/ledger/ledger.decider.ts.
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
  // Another process holds the lease on this ledger partition (PostgreSQL, several processes).
  'ledger_partition_not_owned',
  // Projections (src/projections): read models, their runners and rebuilds.
  'projection_not_found',
  'projection_rebuild_in_progress',
  'projection_wait_timeout',
  'projection_stopped',
  'projection_read_model_missing',
  'projection_lease_lost',
  'relay_delivery_failed',
  // Banking (src/banking): customers, bank accounts, their transactions.
  // Precedence per command is documented on each decider in src/banking/.
  'customer_not_found',
  'customer_exists_with_different_fields',
  'account_frozen',
  'account_already_frozen',
  'account_not_frozen',
  'account_currency_mismatch',
  'transaction_limit_exceeded',
  'daily_limit_exceeded',
  'sweep_account_required',
  'transaction_not_found',
  'transaction_already_settled',
  // HTTP API (src/api, src/auth): who may call, and how often.
  'authentication_required',
  'api_key_invalid',
  'permission_denied',
  'rate_limited',
  // Payments (src/payments, the Stripe-compatible listener): Stripe's own codes.
  'resource_missing',
  'parameter_unknown',
  'parameter_missing',
  'parameter_invalid_integer',
  'card_declined',
  'incorrect_number',
  'amount_too_small',
  'amount_too_large',
  'payment_intent_unexpected_state',
  'payment_method_unexpected_state',
  'charge_already_refunded',
  // Disputes, payouts and accounts (the Stripe-compatible listener).
  'charge_disputed',
  'dispute_unexpected_state',
  'balance_insufficient',
  'payout_unexpected_state',
  'account_invalid',
  // Audit (src/audit): the keys that sign seals and wrap data keys.
  'audit_key_invalid',
  // Compliance (src/compliance): fraud models, sanctions lists, screening cases.
  'fraud_model_invalid',
  'sanctions_list_invalid',
  'sanctions_list_not_loaded',
  'screening_case_not_found',
  'screening_case_exists',
  'screening_case_closed',
  'compliance_review_pending',
  'fraud_blocked',
  // Operations (src/ops): backups, restores, drills.
  'backup_failed',
  'backup_invalid',
  'backup_mismatch',
  // An archive file (src/ops/archive.ts) already written no longer matches its signed manifest.
  'archive_invalid',
  'restore_target_not_empty',
  // AML (src/compliance/aml): an alert case's step from the wrong status (open twice, close before investigating, any step on a closed case).
  'aml_case_unexpected_state',
  // Privacy (src/privacy): crypto-shredding of data subjects.
  'subject_not_found',
  'subject_already_erased',
  // Maker-checker (src/compliance/approvals): actions that wait for a second person.
  'approval_request_not_found',
  'approval_self_approval',
  'approval_already_granted',
  'approval_not_pending',
  'approval_expired',
  'approval_request_exists',
  // Access audit: a read of personal data without the purpose the deployment requires.
  'access_purpose_required',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
