import type { CardBehavior, CardDetails } from './cards.rules.ts';
import type { PostalAddress } from './customer.events.ts';
import type { Metadata } from './payments.rules.ts';

/** The cardholder's contact details (Stripe's `billing_details`): personal data, sealed under the payment method's data subject. */
export type BillingDetails = { readonly name: string | null; readonly email: string | null; readonly phone: string | null; readonly address: PostalAddress };
export const EMPTY_BILLING_DETAILS: BillingDetails = {
  name: null, email: null, phone: null, address: { line1: null, line2: null, city: null, state: null, postalCode: null, country: null },
};

/**
 * Events of a PaymentMethod stream (`pmethod-<mode>.<pm_id>`). Card numbers are never kept: brand, last four, expiry, behaviour.
 * `billingDetails` is absent from events written before it was kept (read as empty).
 */
export type PaymentMethodCreated = {
  type: 'PaymentMethodCreated';
  data: { paymentMethodId: string; card: CardDetails; behavior: CardBehavior; customerId: string | null; metadata: Metadata; billingDetails?: BillingDetails; atMs: number };
};
export type PaymentMethodAttached = { type: 'PaymentMethodAttached'; data: { paymentMethodId: string; customerId: string; atMs: number } };
export type PaymentMethodDetached = { type: 'PaymentMethodDetached'; data: { paymentMethodId: string; customerId: string; atMs: number } };
export type PaymentMethodUpdated = { type: 'PaymentMethodUpdated'; data: { paymentMethodId: string; metadata: Metadata; billingDetails?: BillingDetails; atMs: number } };

export type PaymentMethodEvent = PaymentMethodCreated | PaymentMethodAttached | PaymentMethodDetached | PaymentMethodUpdated;
export const PAYMENT_METHOD_EVENT_TYPES = ['PaymentMethodCreated', 'PaymentMethodAttached', 'PaymentMethodDetached', 'PaymentMethodUpdated'] as const;
