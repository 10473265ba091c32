import type { Metadata, PaymentCurrency } from './payments.rules.ts';
import type { PayoutFailureCode } from './payout.rules.ts';

/**
 * Events of a payout stream (`ppayout-<mode>.<po_id>`). The money leaves
 * the available balance when the payout is created (balance transaction of
 * type `payout`); a failed or canceled payout returns it (a second balance
 * transaction, `payout_failure` or `payout_cancel`). Amounts are integer
 * strings of minor units; the destination is one of the test bank accounts.
 */
export type PayoutDestination = { readonly bankAccountId: string; readonly last4: string; readonly routingNumber: string; readonly bankName: string };

export type PayoutCreated = {
  type: 'PayoutCreated';
  data: {
    payoutId: string; amount: string; currency: PaymentCurrency; destination: PayoutDestination; description: string | null; statementDescriptor: string | null;
    metadata: Metadata; balanceTransactionId: string; arrivalDateMs: number; atMs: number;
  };
};
export type PayoutUpdated = { type: 'PayoutUpdated'; data: { payoutId: string; currency: PaymentCurrency; amount: string; metadata: Metadata; atMs: number } };
export type PayoutPaid = { type: 'PayoutPaid'; data: { payoutId: string; amount: string; currency: PaymentCurrency; atMs: number } };
export type PayoutFailed = {
  type: 'PayoutFailed';
  data: { payoutId: string; amount: string; currency: PaymentCurrency; failureCode: PayoutFailureCode; failureMessage: string; balanceTransactionId: string; atMs: number };
};
export type PayoutCanceled = { type: 'PayoutCanceled'; data: { payoutId: string; amount: string; currency: PaymentCurrency; balanceTransactionId: string; atMs: number } };

export type PayoutEvent = PayoutCreated | PayoutUpdated | PayoutPaid | PayoutFailed | PayoutCanceled;
export const PAYOUT_EVENT_TYPES = ['PayoutCreated', 'PayoutUpdated', 'PayoutPaid', 'PayoutFailed', 'PayoutCanceled'] as const;
