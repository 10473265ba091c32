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
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
