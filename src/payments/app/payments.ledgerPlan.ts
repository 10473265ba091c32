/**
 * How payment events move money in the ledger (pure: events in, ledger
 * requests out). One ledger partition per mode (`payments-test`,
 * `payments-live`; streams `ledger-payments-<mode>`), one ledger per
 * currency (ledger id = the lowercase code), four accounts per currency:
 *
 * - `payments:card_network:<cur>`: where card money comes from and refunds go; it goes negative.
 * - `payments:merchant_pending:<cur>`: captured, not yet settled (Stripe's pending balance).
 * - `payments:merchant_available:<cur>`: settled (Stripe's available balance); refunds debit it, it may go negative.
 * - `payments:fees:<cur>`: processing fees earned.
 *
 * Authorization is a pending transfer card_network → merchant_pending (a
 * hold, not in the balance); capture posts it (partially: the rest is
 * released) and moves the fee merchant_pending → fees; settlement moves a
 * balance transaction's net merchant_pending → merchant_available; a refund
 * moves merchant_available → card_network. Transfer ids derive from the
 * payment object ids (`pay:auth:<ch_…>`), so a retried command replays in
 * the ledger instead of moving money twice. The merchant balance
 * (pending + available posted) is then the sum of the balance transactions'
 * `net`, and every ledger sums to zero.
 *
 * Disputes: opening one moves its amount merchant_available → card_network
 * (`pay:dispute:<du_…>`) and the dispute fee merchant_available → fees
 * (`pay:dispute_fee:<du_…>`); winning it moves both back
 * (`pay:dispute_won:…`, `pay:dispute_fee_back:…`). Payouts (see
 * payoutLedgerRequests): merchant_available → payout_in_transit on
 * creation (`pay:payout:<po_…>`), payout_in_transit → bank when paid
 * (`pay:payout_paid:…`), back to merchant_available when failed or
 * canceled (`pay:payout_return:…`).
 */
import type { Currency } from '../../kernel/money.ts';
import type { LedgerRequest } from '../../ledger/index.ts';
import type { PaymentIntentEvent } from '../domain/paymentIntent.events.ts';
import type { PayoutEvent } from '../domain/payout.events.ts';
import { PAYMENT_CURRENCIES, type PaymentCurrency } from '../domain/payments.rules.ts';

export const PAYMENTS_LEDGER_ACCOUNT_KINDS = ['card_network', 'merchant_pending', 'merchant_available', 'fees', 'payout_in_transit', 'bank'] as const;
export type PaymentsLedgerAccountKind = (typeof PAYMENTS_LEDGER_ACCOUNT_KINDS)[number];

/** Chart-of-accounts codes of the four kinds, and transfer codes by movement. */
const ACCOUNT_CODES: Readonly<Record<PaymentsLedgerAccountKind, number>> = {
  card_network: 100, bank: 101, merchant_pending: 200, merchant_available: 201, payout_in_transit: 202, fees: 400,
};
const TRANSFER_CODES = { authorization: 1, capture: 2, fee: 3, settlement: 4, refund: 5, void: 6, dispute: 7, dispute_fee: 8, payout: 9 } as const;

export function paymentsLedgerPartition(mode: string): string {
  return `payments-${mode}`;
}

export function paymentsLedgerAccountId(kind: PaymentsLedgerAccountKind, currency: PaymentCurrency): string {
  return `payments:${kind}:${currency}`;
}

/** Opens every account of every supported currency (idempotent: opening again with the same fields replays). */
export function paymentsLedgerAccounts(): LedgerRequest[] {
  return PAYMENT_CURRENCIES.flatMap((currency) => PAYMENTS_LEDGER_ACCOUNT_KINDS.map((kind): LedgerRequest => ({
    type: 'OpenAccount',
    data: { accountId: paymentsLedgerAccountId(kind, currency), ledger: currency, currency: currency.toUpperCase() as Currency, code: ACCOUNT_CODES[kind] },
  })));
}

const account = paymentsLedgerAccountId;

/** The ledger requests a PaymentIntent's newly decided events need, in order; linked where they must succeed together. */
export function paymentIntentLedgerRequests(events: readonly PaymentIntentEvent[]): LedgerRequest[] {
  const requests: LedgerRequest[] = [];
  for (const event of events) requests.push(...requestsOf(event));
  // One chain: an authorization and its capture, fee and settlement succeed or fail together.
  return requests.map((request, index) => (index < requests.length - 1 && request.type !== 'OpenAccount' ? withLinked(request) : request));
}

function requestsOf(event: PaymentIntentEvent): LedgerRequest[] {
  switch (event.type) {
    case 'PaymentAuthorized': {
      const { chargeId, amount, currency, paymentIntentId } = event.data;
      return [{
        type: 'CreateTransfer',
        data: {
          transferId: `pay:auth:${chargeId}`, debitAccountId: account('card_network', currency), creditAccountId: account('merchant_pending', currency),
          amountMinor: BigInt(amount), ledger: currency, code: TRANSFER_CODES.authorization, flags: { pending: true }, metadata: { payment_intent: paymentIntentId, charge: chargeId },
        },
      }];
    }
    case 'PaymentCaptured': return captureRequests(event.data);
    case 'PaymentIntentCanceled': {
      const { voidedChargeId } = event.data;
      if (voidedChargeId === null) return [];
      return [{ type: 'VoidPendingTransfer', data: { transferId: `pay:void:${voidedChargeId}`, pendingId: `pay:auth:${voidedChargeId}` } }];
    }
    case 'RefundCreated': {
      const { refundId, chargeId, amount, currency, paymentIntentId } = event.data;
      return [{
        type: 'CreateTransfer',
        data: {
          transferId: `pay:refund:${refundId}`, debitAccountId: account('merchant_available', currency), creditAccountId: account('card_network', currency),
          amountMinor: BigInt(amount), ledger: currency, code: TRANSFER_CODES.refund, metadata: { payment_intent: paymentIntentId, charge: chargeId, refund: refundId },
        },
      }];
    }
    case 'DisputeCreated': case 'DisputeResolved':
      return disputeRequests(event);
    default:
      return [];
  }
}

function disputeRequests(event: Extract<PaymentIntentEvent, { type: 'DisputeCreated' | 'DisputeResolved' }>): LedgerRequest[] {
  const { disputeId, chargeId, currency, paymentIntentId } = event.data;
  if (event.type === 'DisputeResolved' && event.data.outcome === 'lost') return [];
  const won = event.type === 'DisputeResolved';
  const metadata = { payment_intent: paymentIntentId, charge: chargeId, dispute: disputeId };
  const move = (transferId: string, other: PaymentsLedgerAccountKind, amountMinor: bigint, code: number): LedgerRequest => ({
    type: 'CreateTransfer',
    data: {
      transferId, debitAccountId: account(won ? other : 'merchant_available', currency), creditAccountId: account(won ? 'merchant_available' : other, currency),
      amountMinor, ledger: currency, code, metadata,
    },
  });
  const requests = [move(`pay:${won ? 'dispute_won' : 'dispute'}:${disputeId}`, 'card_network', BigInt(event.data.amount), TRANSFER_CODES.dispute)];
  const fee = BigInt(event.data.fee);
  if (fee > 0n) requests.push(move(`pay:${won ? 'dispute_fee_back' : 'dispute_fee'}:${disputeId}`, 'fees', fee, TRANSFER_CODES.dispute_fee));
  return requests;
}

/** The ledger requests of a payout's newly decided events (see the module comment). */
export function payoutLedgerRequests(events: readonly PayoutEvent[]): LedgerRequest[] {
  return events.flatMap((event): LedgerRequest[] => {
    const { payoutId, currency } = event.data;
    const move = (transferId: string, from: PaymentsLedgerAccountKind, to: PaymentsLedgerAccountKind): LedgerRequest => ({
      type: 'CreateTransfer',
      data: {
        transferId, debitAccountId: account(from, currency), creditAccountId: account(to, currency), amountMinor: BigInt(event.data.amount), ledger: currency,
        code: TRANSFER_CODES.payout, metadata: { payout: payoutId },
      },
    });
    switch (event.type) {
      case 'PayoutCreated': return [move(`pay:payout:${payoutId}`, 'merchant_available', 'payout_in_transit')];
      case 'PayoutPaid': return [move(`pay:payout_paid:${payoutId}`, 'payout_in_transit', 'bank')];
      case 'PayoutFailed': case 'PayoutCanceled': return [move(`pay:payout_return:${payoutId}`, 'payout_in_transit', 'merchant_available')];
      default: return [];
    }
  });
}

function captureRequests(data: Extract<PaymentIntentEvent, { type: 'PaymentCaptured' }>['data']): LedgerRequest[] {
  const { chargeId, currency, paymentIntentId } = data;
  const metadata = { payment_intent: paymentIntentId, charge: chargeId };
  const requests: LedgerRequest[] = [
    { type: 'PostPendingTransfer', data: { transferId: `pay:capture:${chargeId}`, pendingId: `pay:auth:${chargeId}`, amountMinor: BigInt(data.amount), metadata } },
  ];
  const fee = BigInt(data.fee);
  if (fee > 0n) {
    requests.push({
      type: 'CreateTransfer',
      data: {
        transferId: `pay:fee:${chargeId}`, debitAccountId: account('merchant_pending', currency), creditAccountId: account('fees', currency),
        amountMinor: fee, ledger: currency, code: TRANSFER_CODES.fee, metadata,
      },
    });
  }
  if (data.bypassPending) {
    const settlement = settlementRequest({ balanceTransactionId: data.balanceTransactionId, netMinor: BigInt(data.net), currency });
    if (settlement !== null) requests.push(settlement);
  }
  return requests;
}

/** Moves a balance transaction's net from pending to available (the other way for a negative net); null for a net of zero. */
export function settlementRequest(transaction: { balanceTransactionId: string; netMinor: bigint; currency: PaymentCurrency }): LedgerRequest | null {
  const { balanceTransactionId, netMinor, currency } = transaction;
  if (netMinor === 0n) return null;
  const [from, to] = netMinor > 0n ? ['merchant_pending', 'merchant_available'] as const : ['merchant_available', 'merchant_pending'] as const;
  return {
    type: 'CreateTransfer',
    data: {
      transferId: `pay:settle:${balanceTransactionId}`, debitAccountId: account(from, currency), creditAccountId: account(to, currency),
      amountMinor: netMinor > 0n ? netMinor : -netMinor, ledger: currency, code: TRANSFER_CODES.settlement, metadata: { balance_transaction: balanceTransactionId },
    },
  };
}

function withLinked(request: LedgerRequest): LedgerRequest {
  if (request.type === 'CreateTransfer' || request.type === 'PostPendingTransfer' || request.type === 'VoidPendingTransfer') {
    return { ...request, data: { ...request.data, flags: { ...request.data.flags, linked: true } } } as LedgerRequest;
  }
  return request;
}
