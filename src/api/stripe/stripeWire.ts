/**
 * Payment states as Stripe's wire objects. Amounts leave as JSON numbers,
 * as Stripe sends them: they are bounded by PAYMENT_AMOUNT_MINOR_MAX in the
 * domain, far inside the safe-integer range, which `wireAmount` asserts.
 */
import { assert } from '../../kernel/index.ts';
import { billingDetailsToWire, shippingToWire } from './contactParams.ts';
import {
  amountCapturable, amountReceived, type BalanceTransactionState, type BillingDetails, type CardDetails, type ChargeState, type ExistingPaymentIntent, type PaymentMethodState,
  type RefundState, secondsOf, type StripeCustomerState,
} from '../../payments/index.ts';

export type Wire = Record<string, unknown>;

export function wireAmount(value: bigint): number {
  assert(value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER), `amount ${value} is outside the safe integer range`);
  return Number(value);
}

const NULL_ADDRESS = { city: null, country: null, line1: null, line2: null, postal_code: null, state: null };
const NULL_BILLING = { address: NULL_ADDRESS, email: null, name: null, phone: null, tax_id: null };

export function customerToWire(state: Exclude<StripeCustomerState, { status: 'none' }>, livemode: boolean): Wire {
  if (state.status === 'deleted') return { id: state.customerId, object: 'customer', deleted: true };
  const { pii } = state;
  const address = pii.address === null ? null : {
    city: pii.address.city, country: pii.address.country, line1: pii.address.line1, line2: pii.address.line2, postal_code: pii.address.postalCode, state: pii.address.state,
  };
  return {
    id: state.customerId, object: 'customer', address, balance: 0, created: secondsOf(state.createdAtMs), currency: null, default_source: null, delinquent: false,
    description: state.description, discount: null, email: pii.email, invoice_prefix: null,
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode, metadata: state.metadata, name: pii.name, next_invoice_sequence: 1, phone: pii.phone, preferred_locales: [], shipping: null, tax_exempt: 'none', test_clock: null,
  };
}

function cardToWire(card: CardDetails): Wire {
  return {
    brand: card.brand, checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' }, country: card.country, display_brand: card.brand,
    exp_month: card.expMonth, exp_year: card.expYear, fingerprint: card.fingerprint, funding: card.funding, generated_from: null, last4: card.last4,
    networks: { available: [card.brand], preferred: null }, three_d_secure_usage: { supported: true }, wallet: null,
  };
}

export function paymentMethodToWire(state: Exclude<PaymentMethodState, { status: 'none' }>, livemode: boolean): Wire {
  return {
    id: state.paymentMethodId, object: 'payment_method', allow_redisplay: 'unspecified', billing_details: billingDetailsToWire(state.billingDetails), card: cardToWire(state.card),
    created: secondsOf(state.createdAtMs), customer: state.customerId, livemode, metadata: state.metadata, type: 'card',
  };
}

export function paymentIntentToWire(state: ExistingPaymentIntent, livemode: boolean): Wire {
  const latest = state.charges.at(-1);
  const error = state.lastPaymentError;
  return {
    id: state.paymentIntentId, object: 'payment_intent', amount: wireAmount(state.amount), amount_capturable: wireAmount(amountCapturable(state)),
    amount_details: { tip: {} }, amount_received: wireAmount(amountReceived(state)), application: null, application_fee_amount: null, automatic_payment_methods: null,
    canceled_at: state.canceledAtMs === null ? null : secondsOf(state.canceledAtMs), cancellation_reason: state.cancellationReason,
    capture_method: state.captureMethod, client_secret: `${state.paymentIntentId}_secret_${state.paymentIntentId.slice(3, 15)}`, confirmation_method: 'automatic',
    created: secondsOf(state.createdAtMs), currency: state.currency, customer: state.customerId, description: state.description,
    last_payment_error: error === null ? null : {
      charge: error.chargeId, code: 'card_declined', decline_code: error.declineCode, doc_url: 'https://docs.stripe.com/error-codes/card-declined',
      message: error.message, type: 'card_error', payment_method: { id: error.paymentMethodId, object: 'payment_method' },
    },
    latest_charge: latest?.chargeId ?? null, livemode, metadata: state.metadata, next_action: null, on_behalf_of: null, payment_method: state.paymentMethodId,
    payment_method_options: { card: { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic' } },
    payment_method_types: ['card'], processing: null, receipt_email: state.receiptEmail, review: null, setup_future_usage: null, shipping: shippingToWire(state.shipping),
    statement_descriptor: null, statement_descriptor_suffix: null, status: state.status, transfer_data: null, transfer_group: null,
  };
}

function outcomeOf(charge: ChargeState): Wire | null {
  const fraud = charge.fraud;
  if (charge.failure !== null) {
    return {
      network_status: charge.failure.blocked ? 'not_sent_to_network' : 'declined_by_network', reason: charge.failure.blocked ? 'highest_risk_level' : charge.failure.declineCode,
      risk_level: fraud?.riskLevel ?? 'normal', risk_score: fraud?.score ?? 0, seller_message: charge.failure.blocked ? 'Stripe blocked this payment as too risky.' : 'The bank did not return any further details with this decline.',
      type: charge.failure.blocked ? 'blocked' : 'issuer_declined',
    };
  }
  if (!charge.authorized) return null;
  return { network_status: 'approved_by_network', reason: null, risk_level: fraud?.riskLevel ?? 'normal', risk_score: fraud?.score ?? 0, seller_message: 'Payment complete.', type: 'authorized' };
}

/** A charge; `billing` is its payment method's billing details (Stripe copies them onto the charge), none when it is not known. */
export function chargeToWire(intent: ExistingPaymentIntent, charge: ChargeState, livemode: boolean, billing?: BillingDetails): Wire {
  const { card } = charge;
  return {
    id: charge.chargeId, object: 'charge', amount: wireAmount(charge.amount), amount_captured: wireAmount(charge.amountCaptured), amount_refunded: wireAmount(charge.amountRefunded),
    application: null, application_fee: null, application_fee_amount: null, balance_transaction: charge.balanceTransactionId, billing_details: billing === undefined ? NULL_BILLING : billingDetailsToWire(billing),
    calculated_statement_descriptor: 'DAYBOOK', captured: charge.captured, created: secondsOf(charge.createdAtMs), currency: intent.currency, customer: charge.customerId,
    description: intent.description, disputed: intent.disputes.some((dispute) => dispute.chargeId === charge.chargeId), failure_balance_transaction: null, failure_code: charge.failure?.code ?? null, failure_message: charge.failure?.message ?? null,
    fraud_details: {}, livemode, metadata: intent.metadata, on_behalf_of: null, outcome: outcomeOf(charge), paid: charge.status === 'succeeded',
    payment_intent: intent.paymentIntentId, payment_method: charge.paymentMethodId,
    payment_method_details: {
      card: { brand: card.brand, checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' }, country: card.country, exp_month: card.expMonth, exp_year: card.expYear, fingerprint: card.fingerprint, funding: card.funding, last4: card.last4, network: card.brand },
      type: 'card',
    },
    receipt_email: intent.receiptEmail, receipt_number: null, receipt_url: null,
    refunded: charge.captured && charge.amountRefunded === charge.amountCaptured, review: null, shipping: shippingToWire(intent.shipping), source_transfer: null, statement_descriptor: null,
    statement_descriptor_suffix: null, status: charge.status, transfer_data: null, transfer_group: null,
  };
}

export function refundToWire(intent: ExistingPaymentIntent, refund: RefundState): Wire {
  return {
    id: refund.refundId, object: 'refund', amount: wireAmount(refund.amount), balance_transaction: refund.balanceTransactionId, charge: refund.chargeId,
    created: secondsOf(refund.createdAtMs), currency: intent.currency, destination_details: { card: { reference_status: 'available', reference_type: 'acquirer_reference_number', type: 'refund' }, type: 'card' },
    metadata: refund.metadata, payment_intent: intent.paymentIntentId, reason: refund.reason, receipt_number: null, source_transfer_reversal: null, status: 'succeeded', transfer_reversal: null,
  };
}

const TRANSACTION_DESCRIPTIONS: Readonly<Record<BalanceTransactionState['type'], string>> = {
  charge: 'Payment', refund: 'REFUND FOR PAYMENT', adjustment: 'Chargeback withdrawal', payout: 'STRIPE PAYOUT', payout_failure: 'Payout failure', payout_cancel: 'Payout cancellation',
};
const REPORTING_CATEGORIES: Readonly<Record<BalanceTransactionState['type'], string>> = {
  charge: 'charge', refund: 'refund', adjustment: 'dispute', payout: 'payout', payout_failure: 'payout_reversal', payout_cancel: 'payout_reversal',
};

export function balanceTransactionToWire(transaction: BalanceTransactionState, nowMs: number): Wire {
  const fee = wireAmount(transaction.fee);
  const reversal = transaction.category === 'dispute_reversal';
  const feeDescription = transaction.type === 'adjustment' ? (reversal ? 'Dispute fee refund' : 'Dispute fee') : 'Stripe processing fees';
  return {
    id: transaction.balanceTransactionId, object: 'balance_transaction', amount: wireAmount(transaction.amount), available_on: secondsOf(transaction.availableOnMs),
    created: secondsOf(transaction.createdAtMs), currency: transaction.currency, description: reversal ? 'Chargeback reversal' : TRANSACTION_DESCRIPTIONS[transaction.type], exchange_rate: null,
    fee, fee_details: fee === 0 ? [] : [{ amount: fee, application: null, currency: transaction.currency, description: feeDescription, type: 'stripe_fee' }],
    net: wireAmount(transaction.net), reporting_category: transaction.category ?? REPORTING_CATEGORIES[transaction.type], source: transaction.sourceId,
    status: transaction.availableOnMs <= nowMs ? 'available' : 'pending', type: transaction.type,
  };
}
