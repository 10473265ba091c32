/**
 * Every bound in one place. Each is enforced where input enters and tested at
 * and past its value; past it the answer is `limit_exceeded`.
 */
/** Largest serialized event (data + metadata JSON, UTF-8 bytes). */
export const EVENT_BYTES_MAX = 1024 * 1024;
/** Most events in one append call, across all its streams. */
export const EVENTS_PER_APPEND_MAX = 1000;
/**
 * Most streams in one atomic append call. Every stream write holds at least
 * one event, so the event bound is the real one; a ledger batch attaches one
 * or two streams per command (the Idempotency-Key's record, the fraud
 * verdict), and a lower bound here split its batches.
 */
export const STREAMS_PER_APPEND_MAX = EVENTS_PER_APPEND_MAX;
/** Longest stream id, in characters (ASCII only, see STREAM_ID_PATTERN). */
export const STREAM_ID_LENGTH_MAX = 200;
/** Stream ids: ASCII letters, digits and `_ . : @ -`, starting with a letter or digit. */
export const STREAM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/;
/** Longest event type name. */
export const EVENT_TYPE_LENGTH_MAX = 100;
/** Event types: a letter, then letters, digits, `_` and `.`. */
export const EVENT_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_.]*$/;
/** Most events a single read returns; larger requests are refused. */
export const READ_BATCH_MAX = 10_000;
/** Page size used when a read streams the log. */
export const READ_PAGE_SIZE = 1000;
/** Most events waiting in the append queue before new appends are refused. */
export const APPEND_QUEUE_MAX = 100_000;
/** Most events one group-commit batch carries. */
export const GROUP_COMMIT_EVENTS_MAX = 2000;
/** Page size for cursor-paginated API lists. */
export const PAGE_SIZE_MAX = 100;
/** Largest HTTP request body. */
export const REQUEST_BODY_BYTES_MAX = 1024 * 1024;
/** Retries of a command on an optimistic-concurrency conflict. */
export const COMMAND_RETRIES_MAX = 5;
/** Longest a relay's HTTP delivery may wait for its receiver (on SQLite the delivery holds the write lock meanwhile). */
export const RELAY_DELIVERY_TIMEOUT_MS_MAX = 30_000;
/** Deliveries a relay remembers as acknowledged but not yet checkpointed, so a failed batch is not re-sent from its start. */
export const RELAY_ACKNOWLEDGED_MEMO_MAX = 10_000;
/** Open `/v1/stream` connections one API key may hold, unless `DAYBOOK_STREAM_MAX_PER_KEY` says otherwise. */
export const STREAMS_PER_KEY_DEFAULT = 5;
/** Open `/v1/stream` connections one server process holds, unless `DAYBOOK_STREAM_MAX_TOTAL` says otherwise. */
export const STREAMS_TOTAL_DEFAULT = 100;
/** Events one `/v1/stream` catch-up read fetches before the stream yields to other work and reads the next page. */
export const STREAM_CATCH_UP_PAGE = 500;
/** Rows one filtered list request (`GET /v1/accounts`, `GET /v1/transfers` with filters) examines at most; past it the page ends early with `has_more` and a `next_cursor` to continue from. */
export const LIST_SCAN_MAX = 10_000;

/** Transfers a ledger engine holds in memory besides open pending ones (DAYBOOK_LEDGER_TRANSFER_CACHE): about 0.7 KB each. */
export const LEDGER_TRANSFER_CACHE_MAX = 50_000;

/** Journal entries a ledger engine holds in memory (DAYBOOK_LEDGER_ENTRY_CACHE). */
export const LEDGER_ENTRY_CACHE_MAX = 10_000;
/** Largest amount of one payment, refund or capture on the Stripe-compatible API, in minor units (Stripe's eight digits). */
export const PAYMENT_AMOUNT_MINOR_MAX = 99_999_999n;
/** Metadata on Stripe-compatible objects: at most this many keys… */
export const PAYMENT_METADATA_KEYS_MAX = 50;
/** …keys of at most this many characters… */
export const PAYMENT_METADATA_KEY_LENGTH_MAX = 40;
/** …and values of at most this many characters. */
export const PAYMENT_METADATA_VALUE_LENGTH_MAX = 500;
/** Payment aggregates (customers, payment methods, payment intents) whose state the payments service keeps in memory, least recently used dropped. */
export const PAYMENT_STATE_CACHE_MAX = 10_000;
/** Personal and descriptive text fields of Stripe-compatible objects (name, email, description, address lines). */
export const PAYMENT_TEXT_LENGTH_MAX = 5_000;
/** Balance transactions one settlement sweep moves to the available balance. */
export const PAYMENT_SETTLEMENT_BATCH_MAX = 500;
/** Event types one webhook endpoint may list in `enabled_events`. */
export const WEBHOOK_ENABLED_EVENTS_MAX = 64;
/** Webhook endpoints per mode: every Stripe event fans out to each of them. */
export const WEBHOOK_ENDPOINTS_MAX = 16;
/** Deliveries one webhook dispatcher pass claims. */
export const WEBHOOK_DISPATCH_BATCH_MAX = 32;
/** Attempts kept per delivery (the oldest dropped; the count goes on). */
export const WEBHOOK_ATTEMPTS_KEPT_MAX = 20;
/** Longest wait for an endpoint's answer. */
export const WEBHOOK_TIMEOUT_MS_MAX = 30_000;
/** Events one seal covers at most: a backlog larger than this (the first seal of a big store) is sealed in several seals. */
export const SEAL_RANGE_EVENTS_MAX = 1_000_000;
/** Entries in one sanctions list (OFAC's SDN list has about 17,000). */
export const SANCTIONS_ENTRIES_MAX = 200_000;
/** Longest name or alias in a sanctions list, in characters. */
export const SANCTIONS_NAME_LENGTH_MAX = 500;
/** Largest sanctions list file `daybook sanctions load` reads (OFAC's sdn.csv is about 5 MB). */
export const SANCTIONS_FILE_BYTES_MAX = 100 * 1024 * 1024;
/** Longest name one screening call takes, in characters. */
export const SCREENING_NAME_LENGTH_MAX = 500;

/** Rows one report answered over HTTP (`GET /v1/reports/…`) may hold; past it, `limit_exceeded` (narrow the period, or run `daybook report`, which has no bound). */
export const REPORT_ROWS_MAX = 50_000;
/** Events of the log one report answered over HTTP reads at most; past it, the answer holds what was read and a `next_cursor` for the rest (the trial balance: `limit_exceeded`). */
export const REPORT_SCAN_MAX = 100_000;
/** Unwrapped per-subject data keys (crypto-shredding) one process keeps in memory, least recently used dropped. */
export const SUBJECT_KEY_CACHE_MAX = 10_000;
/** Access-audit records a server holds before appending them (DAYBOOK_ACCESS_AUDIT_WRITE=buffered); past it, a read of personal data waits for the flush. */
export const ACCESS_AUDIT_BUFFER_MAX = 10_000;
/** How long a buffered access-audit record waits at most before it is appended. */
export const ACCESS_AUDIT_FLUSH_MS = 100;
/** Most days one access-audit query spans (one stream per day). */
export const ACCESS_AUDIT_QUERY_DAYS_MAX = 366;
/** Subjects one access-audit record names (a page of a list holds at most PAGE_SIZE_MAX objects, expansions included). */
export const ACCESS_AUDIT_SUBJECTS_MAX = 1000;
/** Longest `Daybook-Purpose` header kept. */
export const ACCESS_PURPOSE_LENGTH_MAX = 200;

/** Activities the AML monitor keeps per subject (the newest of its longest window): bounds the state and the work per activity of a hot subject. */
export const AML_RECENT_ACTIVITY_MAX = 2_000;
