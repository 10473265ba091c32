import type { Decider } from '../../decider/index.ts';
import { assertNever } from '../../kernel/assert.ts';
import { DaybookError } from '../../kernel/errors.ts';
import { PAYMENT_AMOUNT_MINOR_MAX } from '../../kernel/limits.ts';
import type { BalanceTransactionState } from './paymentIntent.state.ts';
import type { PayoutDestination, PayoutEvent } from './payout.events.ts';
import { PAYOUT_FAILURE_MESSAGES, type PayoutFailureCode, payoutOutcomeOf } from './payout.rules.ts';
import { applyMetadataPatch, checkCurrency, type Metadata, type MetadataPatch, type PaymentCurrency } from './payments.rules.ts';

export type PayoutCommand =
  | {
      type: 'CreatePayout';
      data: {
        payoutId: string; amount: bigint; currency: string; destination: PayoutDestination; description: string | null; statementDescriptor: string | null;
        metadata?: MetadataPatch;
        /** The available balance of the currency as the service read it from the ledger, under the payouts lock. */
        availableMinor: bigint;
        balanceTransactionId: string; arrivalDateMs: number; atMs: number;
      };
    }
  | { type: 'UpdatePayout'; data: { payoutId: string; metadata?: MetadataPatch; atMs: number } }
  /** Test mode: the bank answers (paid, or failed as the destination's test number says). */
  | { type: 'ProcessPayout'; data: { payoutId: string; failureBalanceTransactionId: string; atMs: number } }
  | { type: 'CancelPayout'; data: { payoutId: string; balanceTransactionId: string; atMs: number } };

export type PayoutStatus = 'pending' | 'paid' | 'failed' | 'canceled';

export type PayoutState =
  | { readonly status: 'none' }
  | {
      readonly status: PayoutStatus; readonly payoutId: string; readonly amount: bigint; readonly currency: PaymentCurrency; readonly destination: PayoutDestination;
      readonly description: string | null; readonly statementDescriptor: string | null; readonly metadata: Metadata; readonly balanceTransactionId: string;
      readonly failureBalanceTransactionId: string | null; readonly failure: { readonly code: PayoutFailureCode; readonly message: string } | null;
      readonly arrivalDateMs: number; readonly createdAtMs: number; readonly closedAtMs: number | null;
    };
export type ExistingPayout = Exclude<PayoutState, { status: 'none' }>;

/**
 * A payout of the available balance to a test bank account: pending, then
 * paid or failed (a failed one returns the money), or canceled while
 * pending (returns it too).
 *
 * Rejects, in this order:
 * - Create: validation_failed (currency, amount not positive), amount_too_large, metadata limits, balance_insufficient (above the available balance).
 * - Update: resource_missing; metadata limits.
 * - Process, Cancel: resource_missing; payout_unexpected_state (not pending).
 */
export const payoutDecider: Decider<PayoutCommand, PayoutEvent, PayoutState> = {
  initialState: () => ({ status: 'none' }),
  evolve: evolvePayout,
  decide: (command, state) => {
    switch (command.type) {
      case 'CreatePayout': return decideCreate(command.data, state);
      case 'UpdatePayout': {
        const payout = existing(state, command.data.payoutId);
        const metadata = applyMetadataPatch(payout.metadata, command.data.metadata);
        return [{ type: 'PayoutUpdated', data: { payoutId: payout.payoutId, currency: payout.currency, amount: payout.amount.toString(), metadata, atMs: command.data.atMs } }];
      }
      case 'ProcessPayout': return decideProcess(command.data, pending(existing(state, command.data.payoutId), 'processed'));
      case 'CancelPayout': {
        const payout = pending(existing(state, command.data.payoutId), 'canceled');
        const { balanceTransactionId, atMs } = command.data;
        return [{ type: 'PayoutCanceled', data: { payoutId: payout.payoutId, amount: payout.amount.toString(), currency: payout.currency, balanceTransactionId, atMs } }];
      }
      default: return assertNever(command);
    }
  },
};

function decideCreate(data: Extract<PayoutCommand, { type: 'CreatePayout' }>['data'], state: PayoutState): PayoutEvent[] {
  const currency = checkCurrency(data.currency);
  if (data.amount < 1n) throw new DaybookError('validation_failed', 'Invalid amount: must be a positive integer', {}, 'amount');
  if (data.amount > PAYMENT_AMOUNT_MINOR_MAX) throw new DaybookError('amount_too_large', `Amount must be no more than ${PAYMENT_AMOUNT_MINOR_MAX.toString()}`, {}, 'amount');
  const metadata = applyMetadataPatch({}, data.metadata);
  // Ids of new objects derive from the request's Idempotency-Key and payload: an existing one is this request's, answered again.
  if (state.status !== 'none') return [];
  if (data.amount > data.availableMinor) {
    throw new DaybookError('balance_insufficient',
      `You have insufficient funds in your Stripe account for this payout: ${data.amount.toString()} ${currency} asked, ${data.availableMinor.toString()} available.`, {}, 'amount');
  }
  return [{
    type: 'PayoutCreated',
    data: {
      payoutId: data.payoutId, amount: data.amount.toString(), currency, destination: data.destination, description: data.description, statementDescriptor: data.statementDescriptor,
      metadata, balanceTransactionId: data.balanceTransactionId, arrivalDateMs: data.arrivalDateMs, atMs: data.atMs,
    },
  }];
}

function decideProcess(data: Extract<PayoutCommand, { type: 'ProcessPayout' }>['data'], payout: ExistingPayout): PayoutEvent[] {
  const base = { payoutId: payout.payoutId, amount: payout.amount.toString(), currency: payout.currency, atMs: data.atMs };
  const failure = payoutOutcomeOf(payout.destination);
  if (failure === null) return [{ type: 'PayoutPaid', data: base }];
  return [{ type: 'PayoutFailed', data: { ...base, failureCode: failure, failureMessage: PAYOUT_FAILURE_MESSAGES[failure], balanceTransactionId: data.failureBalanceTransactionId } }];
}

export function evolvePayout(state: PayoutState, event: PayoutEvent): PayoutState {
  if (event.type === 'PayoutCreated') {
    const d = event.data;
    return {
      status: 'pending', payoutId: d.payoutId, amount: BigInt(d.amount), currency: d.currency, destination: d.destination, description: d.description,
      statementDescriptor: d.statementDescriptor, metadata: d.metadata, balanceTransactionId: d.balanceTransactionId, failureBalanceTransactionId: null, failure: null,
      arrivalDateMs: d.arrivalDateMs, createdAtMs: d.atMs, closedAtMs: null,
    };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'PayoutUpdated': return { ...state, metadata: event.data.metadata };
    case 'PayoutPaid': return { ...state, status: 'paid', closedAtMs: event.data.atMs };
    case 'PayoutFailed':
      return {
        ...state, status: 'failed', failureBalanceTransactionId: event.data.balanceTransactionId, failure: { code: event.data.failureCode, message: event.data.failureMessage },
        closedAtMs: event.data.atMs,
      };
    case 'PayoutCanceled': return { ...state, status: 'canceled', failureBalanceTransactionId: event.data.balanceTransactionId, closedAtMs: event.data.atMs };
    default: return assertNever(event);
  }
}

function existing(state: PayoutState, payoutId: string): ExistingPayout {
  if (state.status === 'none') throw new DaybookError('resource_missing', `No such payout: '${payoutId}'`, { payoutId }, 'id');
  return state;
}

function pending(payout: ExistingPayout, action: string): ExistingPayout {
  if (payout.status !== 'pending') {
    throw new DaybookError('payout_unexpected_state', `Payout ${payout.payoutId} cannot be ${action}: its status is ${payout.status}, and only pending payouts can.`, { status: payout.status });
  }
  return payout;
}

/** The payout's balance transactions, oldest first: the withdrawal, then the return of a failed or canceled payout. */
export function payoutBalanceTransactions(payout: ExistingPayout): BalanceTransactionState[] {
  const base = { sourceId: payout.payoutId, fee: 0n, currency: payout.currency };
  const transactions: BalanceTransactionState[] = [{
    ...base, balanceTransactionId: payout.balanceTransactionId, type: 'payout', amount: -payout.amount, net: -payout.amount, createdAtMs: payout.createdAtMs, availableOnMs: payout.createdAtMs,
  }];
  if (payout.failureBalanceTransactionId !== null) {
    const atMs = payout.closedAtMs ?? payout.createdAtMs;
    transactions.push({
      ...base, balanceTransactionId: payout.failureBalanceTransactionId, type: payout.status === 'canceled' ? 'payout_cancel' : 'payout_failure',
      amount: payout.amount, net: payout.amount, createdAtMs: atMs, availableOnMs: atMs,
    });
  }
  return transactions;
}
