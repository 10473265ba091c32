/**
 * Bounds of the ledger domain. Past each, the answer is `limit_exceeded`
 * (amounts: `AMOUNT_MINOR_MAX` in kernel/money.ts). Each is tested at and past
 * its value.
 */
/** Longest id of an account, transfer, journal entry or ledger. */
export const LEDGER_ID_LENGTH_MAX = 128;
/** Ids: ASCII letters, digits and `_ . : @ -`, starting with a letter or digit (like stream ids, so they can name streams). */
export const LEDGER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/;
/** Most metadata entries on an account, transfer or journal entry. */
export const METADATA_ENTRIES_MAX = 32;
export const METADATA_KEY_LENGTH_MAX = 64;
export const METADATA_VALUE_LENGTH_MAX = 512;
/** Longest opaque user data string. */
export const USER_DATA_LENGTH_MAX = 256;
/** Largest account or transfer `code` (a u16, as in TigerBeetle). */
export const LEDGER_CODE_MAX = 65_535;
/** Most explicit postings in one journal entry. */
export const POSTINGS_PER_ENTRY_MAX = 64;
/** Most FX conversions in one journal entry (each adds up to five legs). */
export const CONVERSIONS_PER_ENTRY_MAX = 8;
/** Longest timeout of a pending transfer: ten years. */
export const PENDING_TIMEOUT_MS_MAX = 10 * 366 * 24 * 60 * 60 * 1000;
/** Latest command time: the largest JavaScript date, so `atMs + timeoutMs` stays a safe integer. */
export const LEDGER_TIME_MS_MAX = 8_640_000_000_000_000;
/** Most commands decided in one batch (TigerBeetle's batch size). */
export const LEDGER_BATCH_COMMANDS_MAX = 8190;
