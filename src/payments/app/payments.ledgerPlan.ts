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
 */
import type { Currency } from '../../kernel/money.ts';
import type { LedgerRequest } from '../../ledger/index.ts';
import type { PaymentIntentEvent } from '../domain/paymentIntent.events.ts';
import { PAYMENT_CURRENCIES, type PaymentCurrency } from '../domain/payments.rules.ts';

export const PAYMENTS_LEDGER_ACCOUNT_KINDS = ['card_network', 'merchant_pending', 'merchant_available', 'fees'] as const;
export type PaymentsLedgerAccountKind = (typeof PAYMENTS_LEDGER_ACCOUNT_KINDS)[number];

/** Chart-of-accounts codes of the four kinds, and transfer codes by movement. */
const ACCOUNT_CODES: Readonly<Record<PaymentsLedgerAccountKind, number>> = { card_network: 100, merchant_pending: 200, merchant_available: 201, fees: 400 };
const TRANSFER_CODES = { authorization: 1, capture: 2, fee: 3, settlement: 4, refund: 5, void: 6 } as const;

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
    default:
      return [];
  }
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
