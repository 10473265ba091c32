import type { CustomerKind } from './banking.types.ts';
import type { CustomerPii } from './customer.events.ts';

/** Commands to a customer stream; the service puts the time (`atMs`) and the id in. */
export type RegisterCustomer = {
  type: 'RegisterCustomer';
  data: { customerId: string; kind: CustomerKind; pii: CustomerPii; atMs: number };
};

export type UpdateCustomerPii = {
  type: 'UpdateCustomerPii';
  data: { customerId: string; pii: CustomerPii; atMs: number };
};

export type CustomerCommand = RegisterCustomer | UpdateCustomerPii;
