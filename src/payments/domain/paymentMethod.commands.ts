import type { CardBehavior, CardDetails } from './cards.rules.ts';
import type { BillingDetailsPatch } from './paymentMethod.events.ts';
import type { MetadataPatch } from './payments.rules.ts';

export type PaymentMethodCommand =
  | { type: 'CreatePaymentMethod'; data: { paymentMethodId: string; card: CardDetails; behavior: CardBehavior; customerId?: string | null; metadata?: MetadataPatch; billingDetails?: BillingDetailsPatch; atMs: number } }
  /** `customerExists`: looked up by the service (a look-up, not an invariant of this stream). */
  | { type: 'AttachPaymentMethod'; data: { paymentMethodId: string; customerId: string; customerExists: boolean; atMs: number } }
  | { type: 'DetachPaymentMethod'; data: { paymentMethodId: string; atMs: number } }
  | { type: 'UpdatePaymentMethod'; data: { paymentMethodId: string; metadata?: MetadataPatch; billingDetails?: BillingDetailsPatch; atMs: number } };
