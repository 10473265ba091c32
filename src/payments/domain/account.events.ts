import type { PostalAddress } from './customer.events.ts';
import type { Metadata } from './payments.rules.ts';

/**
 * Events of a connected account stream (`paccount-<mode>.<acct_id>`), the
 * merchant onboarding (KYC) flow. Personal data (the individual's name,
 * date of birth, address, email) sits in one field group, `pii`, as in
 * customer streams. The account's requirements and whether it may take
 * charges and payouts are derived from these fields and the latest
 * KycVerificationCompleted (account.rules.ts).
 */
export type AccountDob = { readonly day: number; readonly month: number; readonly year: number };

export type AccountPii = {
  readonly email: string | null;
  readonly individual: {
    readonly firstName: string | null; readonly lastName: string | null; readonly email: string | null; readonly phone: string | null;
    readonly dob: AccountDob | null; readonly address: PostalAddress | null;
  };
};

export type AccountProfile = {
  readonly businessType: 'individual' | 'company' | null;
  readonly businessProfile: { readonly mcc: string | null; readonly url: string | null; readonly name: string | null; readonly productDescription: string | null };
  readonly company: { readonly name: string | null; readonly taxIdProvided: boolean; readonly address: PostalAddress | null };
  /** The test bank account payouts would go to (its `ba_…` id and last four digits). */
  readonly externalAccount: { readonly bankAccountId: string; readonly last4: string; readonly routingNumber: string } | null;
  readonly tosAcceptance: { readonly dateS: number | null; readonly ip: string | null };
};

export type AccountType = 'custom' | 'express' | 'standard';

export type AccountCreated = {
  type: 'AccountCreated';
  data: { accountId: string; accountType: AccountType; country: string; defaultCurrency: string; pii: AccountPii; profile: AccountProfile; metadata: Metadata; atMs: number };
};
export type AccountUpdated = { type: 'AccountUpdated'; data: { accountId: string; pii: AccountPii; profile: AccountProfile; metadata: Metadata; atMs: number } };
/**
 * Every required field was submitted and the identity checked: `verified`
 * enables charges and payouts; `failed` (Stripe's test date of birth
 * 1900-01-01) keeps them off until other details are submitted.
 */
export type KycVerificationCompleted = { type: 'KycVerificationCompleted'; data: { accountId: string; outcome: 'verified' | 'failed'; checkedDob: string | null; atMs: number } };

export type AccountEvent = AccountCreated | AccountUpdated | KycVerificationCompleted;
export const ACCOUNT_EVENT_TYPES = ['AccountCreated', 'AccountUpdated', 'KycVerificationCompleted'] as const;
