import type { BankingCurrency, TransactionType } from './banking.types.ts';

/**
 * Events of a transaction stream (`banktxn-<id>`): initiated, then exactly
 * one of completed or failed. Amounts are integer minor units as strings;
 * rates are exact decimal strings with six decimals; times ISO-8601, dates
 * `YYYY-MM-DD` (UTC).
 */
export type TransactionInitiated = {
  type: 'TransactionInitiated';
  schemaVersion: 1;
  data: {
    transactionId: string;
    type: TransactionType;
    /** The customer account debited; null for a deposit (money from the settlement account). */
    fromAccountId: string | null;
    /** The customer account credited; null for a withdrawal or a payment out. */
    toAccountId: string | null;
    /** The external account a payment goes to; null otherwise. */
    beneficiary: string | null;
    /** Debited from `fromAccountId` (before fees), in `currency`. */
    amount: string;
    currency: BankingCurrency;
    /** The currency credited: differs from `currency` only for a cross-currency transfer. */
    toCurrency: BankingCurrency;
    /** `toCurrency` per unit of `currency`, six decimals; null within one currency. */
    exchangeRate: string | null;
    /** Fee charged to `fromAccountId` on top of `amount`, in `currency`. */
    fee: string;
    reference: string;
    idempotencyKey: string;
    /** 0 (no risk) to 100, as scored by the caller's compliance check. */
    complianceScore: number;
    /** SHA-256 of the request body: the same key with another body is refused. */
    requestHash: string;
    initiatedAt: string;
  };
};

export type TransactionCompleted = {
  type: 'TransactionCompleted';
  schemaVersion: 1;
  data: {
    transactionId: string;
    completedAt: string;
    /** Credited to the receiving side, in `finalCurrency` (after conversion and rounding). */
    finalAmount: string;
    finalCurrency: BankingCurrency;
    /** Taken from `fromAccountId` in its currency, fees included; 0 for a deposit. */
    debitedAmount: string;
    feesCharged: string;
    /** Six decimals; `1.000000` within one currency. */
    exchangeRate: string;
    settlementDate: string;
    regulatoryReportingRequired: boolean;
  };
};

export type TransactionFailed = {
  type: 'TransactionFailed';
  schemaVersion: 1;
  /** `reason` is an error code of the catalogue (the ledger's, e.g. `exceeds_credits`). */
  data: { transactionId: string; failedAt: string; reason: string; message: string };
};

export type TransactionEvent = TransactionInitiated | TransactionCompleted | TransactionFailed;

export const TRANSACTION_EVENT_TYPES = ['TransactionInitiated', 'TransactionCompleted', 'TransactionFailed'] as const satisfies readonly TransactionEvent['type'][];
