/**
 * Onboarding rules (pure): which fields a connected account still owes
 * (Stripe's `requirements.currently_due`, in Stripe's dotted names), and
 * whether it may take charges and payouts. Test mode checks identity as
 * Stripe's does: a date of birth of 1900-01-01 fails verification, any
 * other passes.
 */
import type { AccountDob, AccountPii, AccountProfile } from './account.events.ts';
import type { ExistingAccount } from './account.decider.ts';

export const KYC_FAILING_DOB = '1900-01-01';

export const EMPTY_ACCOUNT_PII: AccountPii = { email: null, individual: { firstName: null, lastName: null, email: null, phone: null, dob: null, address: null } };
export const EMPTY_ACCOUNT_PROFILE: AccountProfile = {
  businessType: null, businessProfile: { mcc: null, url: null, name: null, productDescription: null }, company: { name: null, taxIdProvided: false, address: null },
  externalAccount: null, tosAcceptance: { dateS: null, ip: null },
};

export function dobKey(dob: AccountDob | null): string | null {
  if (dob === null) return null;
  return `${String(dob.year).padStart(4, '0')}-${String(dob.month).padStart(2, '0')}-${String(dob.day).padStart(2, '0')}`;
}

export type AccountRequirements = {
  readonly currentlyDue: readonly string[];
  readonly pendingVerification: readonly string[];
  readonly errors: ReadonlyArray<{ readonly code: string; readonly reason: string; readonly requirement: string }>;
  readonly disabledReason: string | null;
  readonly chargesEnabled: boolean;
  readonly payoutsEnabled: boolean;
  readonly detailsSubmitted: boolean;
};

/** The fields still owed, in the order Stripe lists them. */
export function missingFields(account: ExistingAccount): string[] {
  const { profile, pii } = account;
  const missing: string[] = [];
  const need = (name: string, present: boolean) => { if (!present) missing.push(name); };
  need('business_profile.mcc', profile.businessProfile.mcc !== null);
  need('business_profile.url', profile.businessProfile.url !== null || profile.businessProfile.productDescription !== null);
  need('business_type', profile.businessType !== null);
  need('external_account', profile.externalAccount !== null);
  if (profile.businessType === 'company') {
    const address = profile.company.address;
    need('company.address.city', address?.city != null);
    need('company.address.line1', address?.line1 != null);
    need('company.address.postal_code', address?.postalCode != null);
    need('company.name', profile.company.name !== null);
    need('company.tax_id', profile.company.taxIdProvided);
  } else if (profile.businessType === 'individual') {
    const person = pii.individual;
    need('individual.address.city', person.address?.city != null);
    need('individual.address.line1', person.address?.line1 != null);
    need('individual.address.postal_code', person.address?.postalCode != null);
    need('individual.dob.day', person.dob !== null);
    need('individual.dob.month', person.dob !== null);
    need('individual.dob.year', person.dob !== null);
    need('individual.email', person.email !== null);
    need('individual.first_name', person.firstName !== null);
    need('individual.last_name', person.lastName !== null);
  }
  need('tos_acceptance.date', profile.tosAcceptance.dateS !== null);
  need('tos_acceptance.ip', profile.tosAcceptance.ip !== null);
  return missing;
}

/** Requirements and capabilities: charges and payouts stay off until every field is in and the identity check passed. */
export function accountRequirements(account: ExistingAccount): AccountRequirements {
  const currentlyDue = missingFields(account);
  const failed = account.verification?.outcome === 'failed' && currentlyDue.length === 0 && account.verification.checkedDob === dobKey(account.pii.individual.dob);
  const verified = currentlyDue.length === 0 && account.verification?.outcome === 'verified';
  const due = failed ? ['individual.dob.day', 'individual.dob.month', 'individual.dob.year'] : currentlyDue;
  return {
    currentlyDue: due,
    pendingVerification: [],
    errors: failed ? due.map((requirement) => ({ code: 'verification_failed_other', reason: 'The identity could not be verified with the details given (test date of birth 1900-01-01).', requirement })) : [],
    disabledReason: verified ? null : 'requirements.past_due',
    chargesEnabled: verified,
    payoutsEnabled: verified,
    detailsSubmitted: currentlyDue.length === 0,
  };
}
