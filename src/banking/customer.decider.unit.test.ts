/**
 * The customer decider: registering (idempotent on the caller's id),
 * replacing personal data, and each rejection with its precedence
 * (validation, then limits, then the same id with other details, then
 * existence).
 */
import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../decider/index.ts';
import { PII_FIELD_LENGTH_MAX } from './banking.limits.ts';
import { T0 } from './banking.testkit.ts';
import type { CustomerCommand } from './customer.commands.ts';
import { customerDecider } from './customer.decider.ts';
import type { CustomerEvent, CustomerPii } from './customer.events.ts';

const spec = deciderSpec(customerDecider);
const PII: CustomerPii = { fullName: 'Ada Lovelace', email: 'ada@example.com', phone: null, dateOfBirth: '1815-12-10', address: null };
const register = (pii: Partial<CustomerPii> = {}, atMs = T0): CustomerCommand =>
  ({ type: 'RegisterCustomer', data: { customerId: 'cus-1', kind: 'individual', pii: { ...PII, ...pii }, atMs } });
const update = (pii: Partial<CustomerPii>, atMs = T0 + 1000): CustomerCommand =>
  ({ type: 'UpdateCustomerPii', data: { customerId: 'cus-1', pii: { ...PII, ...pii }, atMs } });
const registered: CustomerEvent = { type: 'CustomerRegistered', schemaVersion: 1, data: { customerId: 'cus-1', kind: 'individual', registeredAt: '2023-11-14T22:13:20.000Z', pii: PII } };

describe('given no customer', () => {
  const given = spec.given([]);
  it('registers one, personal data in its own field group', () => given.when(register()).then([registered]));
  it('refuses an email that is not one', () => given.when(register({ email: 'ada' })).thenRejects('validation_failed'));
  it('refuses an empty name', () => given.when(register({ fullName: ' ' })).thenRejects('validation_failed'));
  it('refuses a date of birth that is not YYYY-MM-DD', () => given.when(register({ dateOfBirth: '10/12/1815' })).thenRejects('validation_failed'));
  it('refuses a field past its length limit', () => given.when(register({ address: 'x'.repeat(PII_FIELD_LENGTH_MAX + 1) })).thenRejects('limit_exceeded'));
  it('accepts a field at its length limit', () => expect(given.when(register({ address: 'x'.repeat(PII_FIELD_LENGTH_MAX) })).events()).toHaveLength(1));
  it('refuses an id that cannot name a stream', () => {
    given.when({ type: 'RegisterCustomer', data: { customerId: 'a b', kind: 'individual', pii: PII, atMs: T0 } }).thenRejects('validation_failed');
  });
  it('cannot update personal data of nobody', () => given.when(update({ email: 'ada@lovelace.org' })).thenRejects('customer_not_found'));
  it('multi-fault: an invalid field wins over a field past its limit, whatever their order', () => {
    given.when(register({ fullName: 'x'.repeat(PII_FIELD_LENGTH_MAX + 1), email: 'nope' })).thenRejects('validation_failed');
  });
});

describe('given a registered customer', () => {
  const given = spec.given([registered]);
  it('registering the same details again decides nothing', () => given.when(register({}, T0 + 5000)).then([]));
  it('refuses the same id with other details', () => given.when(register({ fullName: 'Ada King' })).thenRejects('customer_exists_with_different_fields'));
  it('replaces the personal data as a whole', () => {
    given.when(update({ email: 'ada@lovelace.org' })).then([{
      type: 'CustomerPiiUpdated', schemaVersion: 1,
      data: { customerId: 'cus-1', updatedAt: '2023-11-14T22:13:21.000Z', pii: { ...PII, email: 'ada@lovelace.org' } },
    }]);
  });
  it('the same personal data again decides nothing', () => given.when(update({})).then([]));
  it('multi-fault: validation wins over the same id with other details', () => {
    given.when(register({ fullName: 'Ada King', email: 'nope' })).thenRejects('validation_failed');
  });
});
