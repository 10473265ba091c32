import type { Decider } from '../decider/index.ts';
import { deepEqual } from '../decider/index.ts';
import { assertNever } from '../kernel/assert.ts';
import { DaybookError } from '../kernel/errors.ts';
import { PII_FIELD_LENGTH_MAX } from './banking.limits.ts';
import { CUSTOMER_KINDS, type CustomerKind } from './banking.types.ts';
import { checkId, checkOneOf, checkText, checkTime, FieldChecks, isoAt } from './banking.checks.ts';
import type { CustomerCommand } from './customer.commands.ts';
import type { CustomerEvent, CustomerPii } from './customer.events.ts';

export type CustomerState =
  | { status: 'none' }
  | { status: 'registered'; customerId: string; kind: CustomerKind; pii: CustomerPii };

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A customer: registered once (idempotent on the caller's id), personal data
 * replaceable as a whole.
 *
 * Rejects, in this order:
 * - RegisterCustomer: validation_failed, limit_exceeded (fields);
 *   customer_exists_with_different_fields (the id is taken by another body;
 *   the same body again decides nothing).
 * - UpdateCustomerPii: validation_failed, limit_exceeded; customer_not_found.
 *   The same personal data again decides nothing.
 */
export const customerDecider: Decider<CustomerCommand, CustomerEvent, CustomerState> = {
  initialState: () => ({ status: 'none' }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'CustomerRegistered':
        return { status: 'registered', customerId: event.data.customerId, kind: event.data.kind, pii: event.data.pii };
      case 'CustomerPiiUpdated':
        return state.status === 'registered' ? { ...state, pii: event.data.pii } : state;
      default:
        return assertNever(event);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'RegisterCustomer': {
        const checks = new FieldChecks();
        const customerId = checkId(checks, command.data.customerId, 'customerId');
        const kind = checkOneOf(checks, CUSTOMER_KINDS, command.data.kind, 'kind');
        const pii = checkPii(checks, command.data.pii);
        const atMs = checkTime(checks, command.data.atMs);
        checks.throwFirst();
        if (state.status === 'registered') {
          if (state.kind === kind && deepEqual(state.pii, pii)) return [];
          throw new DaybookError('customer_exists_with_different_fields', `customer ${customerId} exists with different details`, { customerId }, 'customerId');
        }
        return [{ type: 'CustomerRegistered', schemaVersion: 1, data: { customerId, kind, registeredAt: isoAt(atMs), pii } }];
      }
      case 'UpdateCustomerPii': {
        const checks = new FieldChecks();
        const customerId = checkId(checks, command.data.customerId, 'customerId');
        const pii = checkPii(checks, command.data.pii);
        const atMs = checkTime(checks, command.data.atMs);
        checks.throwFirst();
        if (state.status !== 'registered') throw new DaybookError('customer_not_found', `customer ${customerId} does not exist`, { customerId }, 'customerId');
        if (deepEqual(state.pii, pii)) return [];
        return [{ type: 'CustomerPiiUpdated', schemaVersion: 1, data: { customerId, updatedAt: isoAt(atMs), pii } }];
      }
      default:
        return assertNever(command);
    }
  },
};

/** Normalises the personal data: every field present, optional ones null. */
function checkPii(checks: FieldChecks, value: unknown): CustomerPii {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    checks.invalidField('pii', 'must be an object');
    return { fullName: '', email: '', phone: null, dateOfBirth: null, address: null };
  }
  const pii = value as Record<string, unknown>;
  const fullName = checkText(checks, pii.fullName, 'pii.fullName', PII_FIELD_LENGTH_MAX, true);
  const email = checkText(checks, pii.email, 'pii.email', PII_FIELD_LENGTH_MAX, true);
  if (checks.valid && !EMAIL_PATTERN.test(email)) checks.invalidField('pii.email', 'is not an email address');
  const optional = (name: 'phone' | 'dateOfBirth' | 'address'): string | null =>
    pii[name] === undefined || pii[name] === null ? null : checkText(checks, pii[name], `pii.${name}`, PII_FIELD_LENGTH_MAX, true);
  const phone = optional('phone');
  const dateOfBirth = optional('dateOfBirth');
  if (dateOfBirth !== null && checks.valid && !DATE_PATTERN.test(dateOfBirth)) checks.invalidField('pii.dateOfBirth', 'must be YYYY-MM-DD');
  const address = optional('address');
  return { fullName, email, phone, dateOfBirth, address };
}
