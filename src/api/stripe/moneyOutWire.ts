/**
 * Disputes, payouts and connected accounts as Stripe's wire objects (the
 * rest are in stripeWire.ts). Field names follow Stripe's OpenAPI document.
 */
import {
  accountRequirements, DISPUTE_EVIDENCE_FIELDS, type DisputeState, type ExistingAccount, type ExistingPaymentIntent, type ExistingPayout, secondsOf,
} from '../../payments/index.ts';
import { balanceTransactionToWire, type Wire, wireAmount } from './stripeWire.ts';

export function disputeToWire(intent: ExistingPaymentIntent, dispute: DisputeState, livemode: boolean, nowMs: number): Wire {
  const charge = intent.charges.find((item) => item.chargeId === dispute.chargeId);
  const evidence: Wire = {};
  for (const field of DISPUTE_EVIDENCE_FIELDS) evidence[field] = dispute.evidence[field] ?? null;
  const transactions = dispute.balanceTransactionIds
    .map((id) => intent.balanceTransactions.find((item) => item.balanceTransactionId === id))
    .filter((item) => item !== undefined)
    .map((item) => balanceTransactionToWire(item, nowMs));
  const open = dispute.status === 'needs_response';
  return {
    id: dispute.disputeId, object: 'dispute', amount: wireAmount(dispute.amount), balance_transactions: transactions, charge: dispute.chargeId,
    created: secondsOf(dispute.createdAtMs), currency: dispute.currency, enhanced_eligibility_types: [],
    evidence: { ...evidence, enhanced_evidence: {} },
    evidence_details: {
      due_by: open ? secondsOf(dispute.evidenceDueByMs) : null, enhanced_eligibility: {}, has_evidence: Object.keys(dispute.evidence).length > 0,
      past_due: open && nowMs > dispute.evidenceDueByMs, submission_count: dispute.submissionCount, submission_method: dispute.submissionCount > 0 ? 'api' : null,
    },
    intended_submission_method: null, is_charge_refundable: false, livemode, metadata: dispute.metadata, network_reason_code: '10.4',
    payment_intent: intent.paymentIntentId,
    payment_method_details: { card: { brand: charge?.card.brand ?? 'visa', case_type: 'chargeback', network_reason_code: '10.4' }, type: 'card' },
    reason: dispute.reason, status: dispute.status,
  };
}

export function payoutToWire(payout: ExistingPayout, livemode: boolean): Wire {
  return {
    id: payout.payoutId, object: 'payout', amount: wireAmount(payout.amount), application_fee: null, application_fee_amount: null,
    arrival_date: secondsOf(payout.arrivalDateMs), automatic: false, balance_transaction: payout.balanceTransactionId, created: secondsOf(payout.createdAtMs),
    currency: payout.currency, description: payout.description, destination: payout.destination.bankAccountId,
    failure_balance_transaction: payout.status === 'failed' ? payout.failureBalanceTransactionId : null,
    failure_code: payout.failure?.code ?? null, failure_message: payout.failure?.message ?? null, livemode, metadata: payout.metadata, method: 'standard',
    original_payout: null, payout_method: null, reconciliation_status: payout.status === 'paid' ? 'completed' : 'not_applicable', reversed_by: null,
    source_type: 'card', statement_descriptor: payout.statementDescriptor, status: payout.status, trace_id: null, type: 'bank_account',
  };
}

function addressToWire(address: ExistingAccount['pii']['individual']['address']): Wire {
  return {
    city: address?.city ?? null, country: address?.country ?? null, line1: address?.line1 ?? null, line2: address?.line2 ?? null,
    postal_code: address?.postalCode ?? null, state: address?.state ?? null,
  };
}

export function accountToWire(account: ExistingAccount, livemode: boolean): Wire {
  const { profile, pii } = account;
  const requirements = accountRequirements(account);
  const capability = requirements.chargesEnabled ? 'active' : 'inactive';
  const person = pii.individual;
  const external = profile.externalAccount;
  const verification = account.verification?.outcome === 'verified' ? 'verified' : 'unverified';
  const requirementsWire = {
    alternatives: [], current_deadline: null, currently_due: requirements.currentlyDue, disabled_reason: requirements.disabledReason, errors: requirements.errors,
    eventually_due: requirements.currentlyDue, past_due: requirements.currentlyDue, pending_verification: requirements.pendingVerification,
  };
  return {
    id: account.accountId, object: 'account',
    business_profile: { mcc: profile.businessProfile.mcc, name: profile.businessProfile.name, product_description: profile.businessProfile.productDescription, url: profile.businessProfile.url },
    business_type: profile.businessType, capabilities: { card_payments: capability, transfers: capability }, charges_enabled: requirements.chargesEnabled,
    company: profile.businessType === 'company' ? { address: addressToWire(profile.company.address), name: profile.company.name, tax_id_provided: profile.company.taxIdProvided } : undefined,
    controller: { type: 'application' }, country: account.country, created: secondsOf(account.createdAtMs), default_currency: account.defaultCurrency,
    details_submitted: requirements.detailsSubmitted, email: pii.email,
    external_accounts: {
      object: 'list', has_more: false, url: `/v1/accounts/${account.accountId}/external_accounts`,
      data: external === null ? [] : [{
        id: external.bankAccountId, object: 'bank_account', account: account.accountId, bank_name: 'STRIPE TEST BANK', country: account.country,
        currency: account.defaultCurrency, default_for_currency: true, last4: external.last4, routing_number: external.routingNumber, status: 'new',
      }],
    },
    future_requirements: { alternatives: [], current_deadline: null, currently_due: [], disabled_reason: null, errors: [], eventually_due: [], past_due: [], pending_verification: [] },
    individual: profile.businessType !== 'individual' ? undefined : {
      id: `person_${account.accountId.slice(5)}`, object: 'person', account: account.accountId, address: addressToWire(person.address),
      dob: { day: person.dob?.day ?? null, month: person.dob?.month ?? null, year: person.dob?.year ?? null }, email: person.email, first_name: person.firstName,
      last_name: person.lastName, phone: person.phone, verification: { status: verification, details: null, details_code: account.verification?.outcome === 'failed' ? 'failed_other' : null },
    },
    livemode, metadata: account.metadata, payouts_enabled: requirements.payoutsEnabled, requirements: requirementsWire,
    settings: { payouts: { schedule: { delay_days: 2, interval: 'manual' } } },
    tos_acceptance: { date: profile.tosAcceptance.dateS, ip: profile.tosAcceptance.ip }, type: account.accountType,
  };
}
