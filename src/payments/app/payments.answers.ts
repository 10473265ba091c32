/** Small pure pieces of the payments service: ids derived from sources, payment methods resolved, declines answered. */
import { DaybookError } from '../../kernel/index.ts';
import type { PaymentIntentCommand, ResolvedPaymentMethod } from '../domain/paymentIntent.commands.ts';
import type { PaymentIntentEvent } from '../domain/paymentIntent.events.ts';
import type { ExistingPaymentIntent, PaymentIntentState } from '../domain/paymentIntent.state.ts';
import type { PaymentMethodState } from '../domain/paymentMethod.decider.ts';
import type { CreateIntentInput } from './payments.service.ts';

export function createData(input: CreateIntentInput): Omit<Extract<PaymentIntentCommand, { type: 'CreatePaymentIntent' }>['data'], 'atMs'> {
  const { paymentIntentId, amount, currency, customerId, paymentMethodId, captureMethod, description, metadata, receiptEmail, shipping } = input;
  return { paymentIntentId, amount, currency, customerId, paymentMethodId, captureMethod, description, metadata, receiptEmail, shipping };
}

/** A decline is recorded (its events appended), then answered with `card_declined`, the decline code, the charge and the intent's id. */
export function throwIfDeclined(events: readonly PaymentIntentEvent[], paymentIntentId: string): void {
  const failed = events.find((event) => event.type === 'PaymentFailed');
  if (failed === undefined) return;
  const { declineCode, message, chargeId } = failed.data;
  throw new DaybookError('card_declined', message, { declineCode, chargeId, paymentIntentId }, 'payment_method');
}

/** A confirmation answered again (its charge already in the intent): a declined one is declined again, as it was the first time. */
export function throwIfReplayedDecline(decided: { state: PaymentIntentState; events: readonly PaymentIntentEvent[] }, chargeId: string): void {
  if (decided.events.length > 0 || decided.state.status === 'none') return;
  const charge = decided.state.charges.find((item) => item.chargeId === chargeId);
  if (charge?.failure == null) return;
  const { declineCode, message } = charge.failure;
  throw new DaybookError('card_declined', message, { declineCode, chargeId, paymentIntentId: decided.state.paymentIntentId }, 'payment_method');
}

/** A balance transaction's id, derived from its source's (`ch_X` → `txn_X`): a retry names the same one. */
export function balanceTransactionIdOf(sourceId: string): string {
  return `txn_${sourceId.slice(sourceId.indexOf('_') + 1)}`;
}

export function latestChargeId(state: PaymentIntentState): string | undefined {
  return state.status === 'none' ? undefined : (state as ExistingPaymentIntent).charges.at(-1)?.chargeId;
}

export function resolved(state: PaymentMethodState, paymentMethodId: string, param: string): ResolvedPaymentMethod {
  if (state.status === 'none') throw new DaybookError('resource_missing', `No such PaymentMethod: '${paymentMethodId}'`, { paymentMethodId }, param);
  return { paymentMethodId: state.paymentMethodId, card: state.card, behavior: state.behavior };
}
