import type { Decider } from '../../decider/index.ts';
import { assertNever } from '../../kernel/assert.ts';
import { DaybookError } from '../../kernel/errors.ts';
import type { StripeCustomerCommand, PiiPatch } from './customer.commands.ts';
import type { StripeCustomerEvent, StripeCustomerPii } from './customer.events.ts';
import { applyMetadataPatch, type Metadata } from './payments.rules.ts';

export type StripeCustomerState =
  | { status: 'none' }
  | { status: 'active' | 'deleted'; customerId: string; pii: StripeCustomerPii; description: string | null; metadata: Metadata; createdAtMs: number };

const NO_PII: StripeCustomerPii = { name: null, email: null, phone: null, address: null };

/**
 * A Stripe customer: created once, updated field by field (metadata by
 * patch), deleted for good.
 *
 * Rejects, in this order: validation_failed / limit_exceeded (metadata);
 * resource_missing (update or delete of a customer that does not exist or
 * was deleted; creating an id that exists).
 */
export const stripeCustomerDecider: Decider<StripeCustomerCommand, StripeCustomerEvent, StripeCustomerState> = {
  initialState: () => ({ status: 'none' }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'StripeCustomerCreated': {
        const { customerId, pii, description, metadata, atMs } = event.data;
        return { status: 'active', customerId, pii, description, metadata, createdAtMs: atMs };
      }
      case 'StripeCustomerUpdated':
        return state.status === 'none' ? state : { ...state, pii: event.data.pii, description: event.data.description, metadata: event.data.metadata };
      case 'StripeCustomerDeleted':
        return state.status === 'none' ? state : { ...state, status: 'deleted' };
      default:
        return assertNever(event);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'CreateStripeCustomer': {
        const { customerId, pii, description, metadata, atMs } = command.data;
        const checkedMetadata = applyMetadataPatch({}, metadata);
        // Ids of new objects derive from the request's Idempotency-Key and payload: an existing one is this request's, answered again.
        if (state.status !== 'none') return [];
        return [{ type: 'StripeCustomerCreated', data: { customerId, pii: patched(NO_PII, pii), description: description ?? null, metadata: checkedMetadata, atMs } }];
      }
      case 'UpdateStripeCustomer': {
        const { customerId, pii, description, metadata, atMs } = command.data;
        const current = activeOrMissing(state, customerId);
        const nextMetadata = applyMetadataPatch(current.metadata, metadata);
        return [{
          type: 'StripeCustomerUpdated',
          data: { customerId, pii: patched(current.pii, pii), description: description === undefined ? current.description : description, metadata: nextMetadata, atMs },
        }];
      }
      case 'DeleteStripeCustomer':
        activeOrMissing(state, command.data.customerId);
        return [{ type: 'StripeCustomerDeleted', data: command.data }];
      default:
        return assertNever(command);
    }
  },
};

function activeOrMissing(state: StripeCustomerState, customerId: string): Exclude<StripeCustomerState, { status: 'none' }> {
  if (state.status !== 'active') throw new DaybookError('resource_missing', `No such customer: '${customerId}'`, { customerId }, 'id');
  return state;
}

function patched(current: StripeCustomerPii, patch: PiiPatch): StripeCustomerPii {
  return {
    name: patch.name === undefined ? current.name : patch.name,
    email: patch.email === undefined ? current.email : patch.email,
    phone: patch.phone === undefined ? current.phone : patch.phone,
    address: patch.address === undefined ? current.address : patch.address,
  };
}
