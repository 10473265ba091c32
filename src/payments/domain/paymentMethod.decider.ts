import type { Decider } from '../../decider/index.ts';
import { assertNever } from '../../kernel/assert.ts';
import { DaybookError } from '../../kernel/errors.ts';
import type { CardBehavior, CardDetails } from './cards.rules.ts';
import type { PaymentMethodCommand } from './paymentMethod.commands.ts';
import { type BillingDetails, EMPTY_BILLING_DETAILS, patchBillingDetails, type PaymentMethodEvent } from './paymentMethod.events.ts';
import { applyMetadataPatch, type Metadata } from './payments.rules.ts';

export type PaymentMethodState =
  | { status: 'none' }
  | {
      status: 'created'; paymentMethodId: string; card: CardDetails; behavior: CardBehavior; customerId: string | null;
      /** Detached once: Stripe refuses to attach it again. */
      detached: boolean; metadata: Metadata; billingDetails: BillingDetails; createdAtMs: number;
    };

/**
 * A card PaymentMethod: created, attached to at most one customer, detached
 * for good.
 *
 * Rejects, in this order: validation_failed / limit_exceeded (metadata);
 * resource_missing (the method, then the customer);
 * payment_method_unexpected_state (attached to another customer, detached
 * before, or detaching one that is not attached).
 */
export const paymentMethodDecider: Decider<PaymentMethodCommand, PaymentMethodEvent, PaymentMethodState> = {
  initialState: () => ({ status: 'none' }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'PaymentMethodCreated': {
        const { paymentMethodId, card, behavior, customerId, metadata, billingDetails, atMs } = event.data;
        return { status: 'created', paymentMethodId, card, behavior, customerId, detached: false, metadata, billingDetails: billingDetails ?? EMPTY_BILLING_DETAILS, createdAtMs: atMs };
      }
      case 'PaymentMethodAttached':
        return state.status === 'none' ? state : { ...state, customerId: event.data.customerId };
      case 'PaymentMethodDetached':
        return state.status === 'none' ? state : { ...state, customerId: null, detached: true };
      case 'PaymentMethodUpdated':
        return state.status === 'none' ? state : { ...state, metadata: event.data.metadata, billingDetails: event.data.billingDetails ?? state.billingDetails };
      default:
        return assertNever(event);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'CreatePaymentMethod': {
        const { paymentMethodId, card, behavior, customerId, metadata, billingDetails, atMs } = command.data;
        const checked = applyMetadataPatch({}, metadata);
        if (state.status !== 'none') return [];
        return [{ type: 'PaymentMethodCreated', data: { paymentMethodId, card, behavior, customerId: customerId ?? null, metadata: checked, billingDetails: patchBillingDetails(EMPTY_BILLING_DETAILS, billingDetails ?? {}), atMs } }];
      }
      case 'AttachPaymentMethod': {
        const { paymentMethodId, customerId, customerExists, atMs } = command.data;
        const current = existing(state, paymentMethodId);
        if (!customerExists) throw new DaybookError('resource_missing', `No such customer: '${customerId}'`, { customerId }, 'customer');
        if (current.customerId === customerId) return [];
        if (current.customerId !== null || current.detached) {
          throw new DaybookError('payment_method_unexpected_state',
            `The payment method ${paymentMethodId} ${current.detached ? 'was detached from a customer' : 'is attached to another customer'} and may not be attached again.`, {}, 'customer');
        }
        return [{ type: 'PaymentMethodAttached', data: { paymentMethodId, customerId, atMs } }];
      }
      case 'DetachPaymentMethod': {
        const current = existing(state, command.data.paymentMethodId);
        if (current.customerId === null) {
          throw new DaybookError('payment_method_unexpected_state', `The payment method ${current.paymentMethodId} is not attached to a customer.`, {}, 'payment_method');
        }
        return [{ type: 'PaymentMethodDetached', data: { paymentMethodId: current.paymentMethodId, customerId: current.customerId, atMs: command.data.atMs } }];
      }
      case 'UpdatePaymentMethod': {
        const current = existing(state, command.data.paymentMethodId);
        const { metadata, billingDetails, atMs } = command.data;
        return [{
          type: 'PaymentMethodUpdated',
          data: { paymentMethodId: current.paymentMethodId, metadata: applyMetadataPatch(current.metadata, metadata), billingDetails: patchBillingDetails(current.billingDetails, billingDetails ?? {}), atMs },
        }];
      }
      default:
        return assertNever(command);
    }
  },
};

function existing(state: PaymentMethodState, paymentMethodId: string): Extract<PaymentMethodState, { status: 'created' }> {
  if (state.status === 'none') throw new DaybookError('resource_missing', `No such PaymentMethod: '${paymentMethodId}'`, { paymentMethodId }, 'payment_method');
  return state;
}
