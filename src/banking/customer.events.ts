import type { CustomerKind } from './banking.types.ts';

/**
 * Events of a customer stream (`customer-<id>`). Personal data sits in one
 * field group, `pii`, and nowhere else (not in account or transaction
 * events, which name the customer by id only), so a later version can
 * encrypt that group with a per-customer key and erase the customer by
 * destroying the key (crypto-shredding) without touching any other event.
 */
export type CustomerPii = {
  readonly fullName: string;
  readonly email: string;
  readonly phone: string | null;
  /** `YYYY-MM-DD`, or null (businesses). */
  readonly dateOfBirth: string | null;
  readonly address: string | null;
};

export const CUSTOMER_EVENT_SCHEMA_VERSION = 1;

export type CustomerRegistered = {
  type: 'CustomerRegistered';
  schemaVersion: 1;
  data: { customerId: string; kind: CustomerKind; registeredAt: string; pii: CustomerPii };
};

export type CustomerPiiUpdated = {
  type: 'CustomerPiiUpdated';
  schemaVersion: 1;
  data: { customerId: string; updatedAt: string; pii: CustomerPii };
};

export type CustomerEvent = CustomerRegistered | CustomerPiiUpdated;

export const CUSTOMER_EVENT_TYPES = ['CustomerRegistered', 'CustomerPiiUpdated'] as const satisfies readonly CustomerEvent['type'][];
