import type { BankingCurrency, TransactionType } from './banking.types.ts';

/** Commands to a transaction stream; amounts are bigint minor units, the time `atMs` is put in by the service. */
export type InitiateTransaction = {
  type: 'InitiateTransaction';
  data: {
    transactionId: string;
    type: TransactionType;
    fromAccountId: string | null;
    toAccountId: string | null;
    beneficiary: string | null;
    amountMinor: bigint;
    currency: BankingCurrency;
    toCurrency: BankingCurrency;
    /** A positive decimal string with at most six decimals; only when the currencies differ. */
    exchangeRate: string | null;
    feeMinor: bigint;
    reference: string;
    idempotencyKey: string;
    complianceScore: number;
    requestHash: string;
    atMs: number;
  };
};

export type CompleteTransaction = {
  type: 'CompleteTransaction';
  data: {
    transactionId: string;
    finalAmountMinor: bigint;
    debitedMinor: bigint;
    feesChargedMinor: bigint;
    regulatoryReportingRequired: boolean;
    atMs: number;
  };
};

export type FailTransaction = {
  type: 'FailTransaction';
  data: { transactionId: string; reason: string; message: string; atMs: number };
};

export type TransactionCommand = InitiateTransaction | CompleteTransaction | FailTransaction;
