import type { CardBehavior, CardDetails } from './cards.rules.ts';
import type { Metadata } from './payments.rules.ts';

/** Events of a PaymentMethod stream (`pmethod-<mode>.<pm_id>`). Card numbers are never kept: brand, last four, expiry, behaviour. */
export type PaymentMethodCreated = {
  type: 'PaymentMethodCreated';
  data: { paymentMethodId: string; card: CardDetails; behavior: CardBehavior; customerId: string | null; metadata: Metadata; atMs: number };
};
export type PaymentMethodAttached = { type: 'PaymentMethodAttached'; data: { paymentMethodId: string; customerId: string; atMs: number } };
export type PaymentMethodDetached = { type: 'PaymentMethodDetached'; data: { paymentMethodId: string; customerId: string; atMs: number } };
export type PaymentMethodUpdated = { type: 'PaymentMethodUpdated'; data: { paymentMethodId: string; metadata: Metadata; atMs: number } };

export type PaymentMethodEvent = PaymentMethodCreated | PaymentMethodAttached | PaymentMethodDetached | PaymentMethodUpdated;
export const PAYMENT_METHOD_EVENT_TYPES = ['PaymentMethodCreated', 'PaymentMethodAttached', 'PaymentMethodDetached', 'PaymentMethodUpdated'] as const;
