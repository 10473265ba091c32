import type { CardBehavior, CardDetails } from './cards.rules.ts';
import type { UpdateDisputeData } from './dispute.rules.ts';
import type { FeeSchedule } from './fees.rules.ts';
import type { FraudVerdict } from './fraud.rules.ts';
import type { CaptureMethod, Shipping } from './paymentIntent.events.ts';
import type { MetadataPatch } from './payments.rules.ts';

/** The payment method a confirmation charges, as the service resolved it (a look-up of its own stream). */
export type ResolvedPaymentMethod = { readonly paymentMethodId: string; readonly card: CardDetails; readonly behavior: CardBehavior };

/** How money settles: what the service reads from its configuration (the dispute fee defaults to DISPUTE_FEE_MINOR_DEFAULT). */
export type SettlementTerms = { readonly fees: FeeSchedule; readonly settlementDelayMs: number; readonly disputeFeeMinor?: bigint };

export type PaymentIntentCommand =
  | {
      type: 'CreatePaymentIntent';
      data: {
        paymentIntentId: string; amount: bigint; currency: string; customerId: string | null; paymentMethodId: string | null;
        captureMethod: CaptureMethod; description: string | null; metadata?: MetadataPatch; receiptEmail?: string | null; shipping?: Shipping | null; atMs: number;
      };
    }
  | {
      type: 'UpdatePaymentIntent';
      data: {
        paymentIntentId: string; amount?: bigint; currency?: string; customerId?: string | null; paymentMethodId?: string | null;
        captureMethod?: CaptureMethod; description?: string | null; metadata?: MetadataPatch; receiptEmail?: string | null; shipping?: Shipping | null; atMs: number;
      };
    }
  | {
      type: 'ConfirmPaymentIntent';
      data: {
        paymentIntentId: string; paymentMethod: ResolvedPaymentMethod | null; chargeId: string; balanceTransactionId: string;
        terms: SettlementTerms;
        /** The fraud scorer's verdict on this attempt (the service runs the scorer on the amount and card). */
        fraud: FraudVerdict; atMs: number;
      };
    }
  | {
      type: 'CapturePaymentIntent';
      data: {
        paymentIntentId: string; amountToCapture: bigint | null; balanceTransactionId: string; terms: SettlementTerms; atMs: number;
        /** The charge's card is a dispute test card (the service looks its payment method up): a dispute opens right after capture. */
        disputeOnCapture?: boolean;
      };
    }
  | { type: 'CancelPaymentIntent'; data: { paymentIntentId: string; reason: string | null; atMs: number } }
  | {
      type: 'CreateRefund';
      data: { paymentIntentId: string; refundId: string; chargeId: string | null; amount: bigint | null; reason: string | null; metadata?: MetadataPatch; balanceTransactionId: string; atMs: number };
    }
  | { type: 'UpdateDispute'; data: UpdateDisputeData }
  | { type: 'CloseDispute'; data: { paymentIntentId: string; disputeId: string; atMs: number } };
