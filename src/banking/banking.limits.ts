import type { RegulatoryTier } from './banking.types.ts';

/**
 * Bounds and thresholds of the banking module. Amounts are minor units; USD,
 * EUR and GBP all have two decimals, so one table serves the three (a limit
 * is the same number of major units in each currency; no conversion).
 *
 * | tier          | per transaction | per UTC day     |
 * |---------------|-----------------|-----------------|
 * | retail        | 10,000.00       | 25,000.00       |
 * | professional  | 100,000.00      | 250,000.00      |
 * | institutional | 10,000,000.00   | 50,000,000.00   |
 *
 * Limits apply to money leaving a customer account (withdrawal, transfer,
 * cross-currency transfer, payment), counted on the amount without fees, in
 * the account's currency. Deposits and the sweep of a closing account are
 * not limited. The daily total sums the debits authorized on the account in
 * the UTC day of the command's time, from the account's own events; a debit
 * the ledger then refuses is released and stops counting.
 */
export const TIER_LIMITS: Readonly<Record<RegulatoryTier, { readonly perTransactionMinor: bigint; readonly dailyMinor: bigint }>> = {
  retail: { perTransactionMinor: 1_000_000n, dailyMinor: 2_500_000n },
  professional: { perTransactionMinor: 10_000_000n, dailyMinor: 25_000_000n },
  institutional: { perTransactionMinor: 1_000_000_000n, dailyMinor: 5_000_000_000n },
};

/** A transaction of at least this amount (10,000.00, in its own currency) must be reported to the regulator. */
export const REPORTING_THRESHOLD_MINOR = 1_000_000n;
/** A compliance score (0–100) at or above this makes a transaction reportable. */
export const REPORTABLE_COMPLIANCE_SCORE = 75;
export const COMPLIANCE_SCORE_MAX = 100;
/** Decimals of an exchange rate, as recorded on `TransactionCompleted`; a rate given with more is refused. */
export const EXCHANGE_RATE_DECIMALS = 6;

/** Longest customer, account or transaction id (ledger account ids add a prefix and must stay within 128). */
export const BANKING_ID_LENGTH_MAX = 100;
/** Longest idempotency key (as Stripe). */
export const IDEMPOTENCY_KEY_LENGTH_MAX = 255;
/** Longest payment reference (a SEPA remittance text). */
export const REFERENCE_LENGTH_MAX = 140;
/** Longest external beneficiary account name (an IBAN is at most 34). */
export const BENEFICIARY_LENGTH_MAX = 100;
/** Longest free-text reason (freezing). */
export const REASON_LENGTH_MAX = 500;
/** Longest PII field (name, email, phone, address, date of birth). */
export const PII_FIELD_LENGTH_MAX = 300;
/** Stream states the service keeps in memory; the oldest used is dropped past it. */
export const STREAM_CACHE_ENTRIES_MAX = 10_000;
