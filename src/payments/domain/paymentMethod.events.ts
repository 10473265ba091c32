import type { CardBehavior, CardDetails } from './cards.rules.ts';
import type { PostalAddress } from './customer.events.ts';
import type { Metadata } from './payments.rules.ts';

/** The cardholder's contact details (Stripe's `billing_details`): personal data, sealed under the payment method's data subject. */
export type BillingDetails = { readonly name: string | null; readonly email: string | null; readonly phone: string | null; readonly address: PostalAddress };
export const EMPTY_BILLING_DETAILS: BillingDetails = {
  name: null, email: null, phone: null, address: { line1: null, line2: null, city: null, state: null, postalCode: null, country: null },
};
/** What a request changes: a given field replaces (null clears it), an absent one is kept. */
export type BillingDetailsPatch = {
  readonly name?: string | null; readonly email?: string | null; readonly phone?: string | null; readonly address?: { readonly [K in keyof PostalAddress]?: string | null };
};

/** The billing details after a patch. */
export function patchBillingDetails(current: BillingDetails, patch: BillingDetailsPatch): BillingDetails {
  const pick = <T>(value: T | undefined, kept: T): T => (value === undefined ? kept : value);
  const address = patch.address ?? {};
  return {
    name: pick(patch.name, current.name), email: pick(patch.email, current.email), phone: pick(patch.phone, current.phone),
    address: {
      line1: pick(address.line1, current.address.line1), line2: pick(address.line2, current.address.line2), city: pick(address.city, current.address.city),
      state: pick(address.state, current.address.state), postalCode: pick(address.postalCode, current.address.postalCode), country: pick(address.country, current.address.country),
    },
  };
}

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
