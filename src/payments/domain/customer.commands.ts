import type { MetadataPatch } from './payments.rules.ts';
import type { StripeCustomerPii } from './customer.events.ts';

/** A change to one field: undefined leaves it, null clears it. */
export type PiiPatch = { readonly [K in keyof StripeCustomerPii]?: StripeCustomerPii[K] };

export type StripeCustomerCommand =
  | { type: 'CreateStripeCustomer'; data: { customerId: string; pii: PiiPatch; description?: string | null; metadata?: MetadataPatch; atMs: number } }
  | { type: 'UpdateStripeCustomer'; data: { customerId: string; pii: PiiPatch; description?: string | null; metadata?: MetadataPatch; atMs: number } }
  | { type: 'DeleteStripeCustomer'; data: { customerId: string; atMs: number } };
