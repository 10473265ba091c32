/**
 * Payout rules (pure): Stripe's test bank accounts and what paying out to
 * each does. A destination is a test account number (`000123456789`), the
 * `ba_…` id this server shows for it, or one of Stripe's bank tokens
 * (`btok_us_verified`, `btok_us_verified_noAccount`, …); none means the
 * default, 000123456789, which is paid.
 */
import { DaybookError } from '../../kernel/errors.ts';
import type { PayoutDestination } from './payout.events.ts';

export type PayoutFailureCode = 'no_account' | 'account_closed' | 'insufficient_funds' | 'debit_not_authorized' | 'invalid_currency';

export const PAYOUT_FAILURE_MESSAGES: Readonly<Record<PayoutFailureCode, string>> = {
  no_account: 'The bank account details on file are probably incorrect. No bank account could be located with those details.',
  account_closed: 'The bank account has been closed.',
  insufficient_funds: 'Your Stripe balance is insufficient to cover the payout.',
  debit_not_authorized: 'Debit transactions are not approved on the bank account.',
  invalid_currency: 'The bank was unable to process this payout because of its currency.',
};

/** Test account number → the failure a payout to it ends with (null: paid). */
const TEST_BANK_ACCOUNTS: Readonly<Record<string, PayoutFailureCode | null>> = {
  '000123456789': null,
  '000111111116': 'no_account',
  '000111111113': 'account_closed',
  '000222222227': 'insufficient_funds',
  '000333333335': 'debit_not_authorized',
  '000444444440': 'invalid_currency',
};

const BANK_TOKENS: Readonly<Record<string, string>> = {
  btok_us_verified: '000123456789',
  btok_us_verified_noAccount: '000111111116',
  btok_us_verified_accountClosed: '000111111113',
  btok_us_verified_insufficientFunds: '000222222227',
  btok_us_verified_debitNotAuthorized: '000333333335',
  btok_us_verified_invalidCurrency: '000444444440',
};

export const DEFAULT_PAYOUT_ACCOUNT_NUMBER = '000123456789';
export const TEST_ROUTING_NUMBER = '110000000';
/** When a standard payout is expected at the bank (Stripe's `arrival_date`): two days. */
export const PAYOUT_ARRIVAL_DELAY_MS = 2 * 24 * 60 * 60 * 1000;

/** The test bank account a `destination` names; resource_missing for anything else. */
export function payoutDestinationOf(destination: string | undefined): PayoutDestination {
  const value = destination ?? DEFAULT_PAYOUT_ACCOUNT_NUMBER;
  const number = BANK_TOKENS[value] ?? (value.startsWith('ba_') ? value.slice(3) : value);
  if (!Object.hasOwn(TEST_BANK_ACCOUNTS, number)) {
    throw new DaybookError('resource_missing', `No such external account: '${value}'. Payouts go to Stripe's test bank accounts (e.g. 000123456789).`, {}, 'destination');
  }
  return { bankAccountId: `ba_${number}`, last4: number.slice(-4), routingNumber: TEST_ROUTING_NUMBER, bankName: 'STRIPE TEST BANK' };
}

/** What paying out to a destination ends with: null (paid) or its failure code. */
export function payoutOutcomeOf(destination: PayoutDestination): PayoutFailureCode | null {
  return TEST_BANK_ACCOUNTS[destination.bankAccountId.slice(3)] ?? null;
}
