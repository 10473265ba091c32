import type { Decider } from '../../decider/index.ts';
import { assertNever } from '../../kernel/assert.ts';
import { DaybookError } from '../../kernel/errors.ts';
import type { AccountCreated, AccountEvent, AccountPii, AccountProfile, AccountType } from './account.events.ts';
import { accountRequirements, dobKey, KYC_FAILING_DOB } from './account.rules.ts';
import { applyMetadataPatch, type Metadata, type MetadataPatch } from './payments.rules.ts';

/** What a create or an update submits: the whole profile and personal data after the route applied its patch. */
export type AccountSubmission = { pii: AccountPii; profile: AccountProfile; metadata?: MetadataPatch };

export type AccountCommand =
  | { type: 'CreateAccount'; data: AccountSubmission & { accountId: string; accountType: AccountType; country: string; defaultCurrency: string; atMs: number } }
  | { type: 'UpdateAccount'; data: { accountId: string; change: (pii: AccountPii, profile: AccountProfile) => { pii: AccountPii; profile: AccountProfile }; metadata?: MetadataPatch; atMs: number } };

export type AccountState =
  | { readonly status: 'none' }
  | {
      readonly status: 'active'; readonly accountId: string; readonly accountType: AccountType; readonly country: string; readonly defaultCurrency: string;
      readonly pii: AccountPii; readonly profile: AccountProfile; readonly metadata: Metadata; readonly createdAtMs: number;
      readonly verification: { readonly outcome: 'verified' | 'failed'; readonly checkedDob: string | null } | null;
    };
export type ExistingAccount = Exclude<AccountState, { status: 'none' }>;

/**
 * A connected account going through onboarding (KYC). Each create or update
 * records the submitted fields; once nothing is currently due and the
 * identity was not checked yet (or failed and the date of birth changed),
 * KycVerificationCompleted records the check.
 *
 * Rejects, in this order: metadata limits; validation_failed (creating an
 * id that exists); resource_missing (update of an unknown account).
 */
export const accountDecider: Decider<AccountCommand, AccountEvent, AccountState> = {
  initialState: () => ({ status: 'none' }),
  evolve: evolveAccount,
  decide: (command, state) => {
    switch (command.type) {
      case 'CreateAccount': {
        const { metadata, ...data } = command.data;
        const checked = applyMetadataPatch({}, metadata);
        // Ids of new objects derive from the request's Idempotency-Key and payload: an existing one is this request's, answered again.
        if (state.status !== 'none') return [];
        const created: AccountCreated = { type: 'AccountCreated', data: { ...data, metadata: checked } };
        return withVerification([created], evolveAccount(state, created), data.atMs);
      }
      case 'UpdateAccount': {
        if (state.status === 'none') throw new DaybookError('resource_missing', `No such account: '${command.data.accountId}'`, {}, 'id');
        const metadata = applyMetadataPatch(state.metadata, command.data.metadata);
        const { pii, profile } = command.data.change(state.pii, state.profile);
        const updated: AccountEvent = { type: 'AccountUpdated', data: { accountId: state.accountId, pii, profile, metadata, atMs: command.data.atMs } };
        return withVerification([updated], evolveAccount(state, updated), command.data.atMs);
      }
      default: return assertNever(command);
    }
  },
};

/** Appends the identity check once every requirement is in, unless this identity was checked already. */
function withVerification(events: AccountEvent[], after: AccountState, atMs: number): AccountEvent[] {
  if (after.status === 'none' || accountRequirements(after).currentlyDue.length > 0) return events;
  const dob = after.profile.businessType === 'individual' ? dobKey(after.pii.individual.dob) : null;
  const previous = after.verification;
  if (previous !== null && (previous.outcome === 'verified' || previous.checkedDob === dob)) return events;
  const outcome = dob === KYC_FAILING_DOB ? 'failed' : 'verified';
  return [...events, { type: 'KycVerificationCompleted', data: { accountId: after.accountId, outcome, checkedDob: dob, atMs } }];
}

export function evolveAccount(state: AccountState, event: AccountEvent): AccountState {
  switch (event.type) {
    case 'AccountCreated': {
      const d = event.data;
      return {
        status: 'active', accountId: d.accountId, accountType: d.accountType, country: d.country, defaultCurrency: d.defaultCurrency, pii: d.pii, profile: d.profile,
        metadata: d.metadata, createdAtMs: d.atMs, verification: null,
      };
    }
    case 'AccountUpdated':
      return state.status === 'none' ? state : { ...state, pii: event.data.pii, profile: event.data.profile, metadata: event.data.metadata };
    case 'KycVerificationCompleted':
      return state.status === 'none' ? state : { ...state, verification: { outcome: event.data.outcome, checkedDob: event.data.checkedDob } };
    default: return assertNever(event);
  }
}
