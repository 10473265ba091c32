import type { Metadata } from './payments.rules.ts';

/**
 * Events of a Stripe customer stream (`pcustomer-<mode>.<cus_id>`). Personal
 * data sits in one field group, `pii`, and only in these streams (payment
 * intents and charges name the customer by id), so erasure (crypto-shredding
 * per customer) reaches all of it here. Kept out of idempotency records too
 * (see the Stripe listener's recorded answers) and out of read models.
 */
export type PostalAddress = {
  readonly line1: string | null;
  readonly line2: string | null;
  readonly city: string | null;
  readonly state: string | null;
  readonly postalCode: string | null;
  readonly country: string | null;
};

export type StripeCustomerPii = {
  readonly name: string | null;
  readonly email: string | null;
  readonly phone: string | null;
  readonly address: PostalAddress | null;
};

export type StripeCustomerCreated = {
  type: 'StripeCustomerCreated';
  data: { customerId: string; pii: StripeCustomerPii; description: string | null; metadata: Metadata; atMs: number };
};
export type StripeCustomerUpdated = {
  type: 'StripeCustomerUpdated';
  data: { customerId: string; pii: StripeCustomerPii; description: string | null; metadata: Metadata; atMs: number };
};
export type StripeCustomerDeleted = { type: 'StripeCustomerDeleted'; data: { customerId: string; atMs: number } };

export type StripeCustomerEvent = StripeCustomerCreated | StripeCustomerUpdated | StripeCustomerDeleted;
export const STRIPE_CUSTOMER_EVENT_TYPES = ['StripeCustomerCreated', 'StripeCustomerUpdated', 'StripeCustomerDeleted'] as const;
