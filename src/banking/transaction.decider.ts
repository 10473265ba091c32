import type { Decider } from '../decider/index.ts';
import { assertNever } from '../kernel/assert.ts';
import { DaybookError, isDaybookError } from '../kernel/errors.ts';
import {
  BENEFICIARY_LENGTH_MAX, COMPLIANCE_SCORE_MAX, IDEMPOTENCY_KEY_LENGTH_MAX, REASON_LENGTH_MAX, REFERENCE_LENGTH_MAX,
} from './banking.limits.ts';
import { BANKING_CURRENCIES, TRANSACTION_TYPES } from './banking.types.ts';
import { checkAmount, checkBoolean, checkId, checkOneOf, checkText, checkTime, FieldChecks, isoAt, utcDay } from './banking.checks.ts';
import { formatExchangeRate, UNIT_EXCHANGE_RATE } from './banking.rules.ts';
import type { CompleteTransaction, FailTransaction, InitiateTransaction, TransactionCommand } from './transaction.commands.ts';
import type { TransactionCompleted, TransactionEvent, TransactionFailed, TransactionInitiated } from './transaction.events.ts';

export type TransactionState =
  | { readonly status: 'none' }
  | { readonly status: 'initiated'; readonly initiated: TransactionInitiated['data'] }
  | { readonly status: 'completed'; readonly initiated: TransactionInitiated['data']; readonly completed: TransactionCompleted['data'] }
  | { readonly status: 'failed'; readonly initiated: TransactionInitiated['data']; readonly failed: TransactionFailed['data'] };

/**
 * One money movement's record: initiated, then completed or failed, once.
 *
 * Rejects, in this order (validation_failed, then limit_exceeded, first):
 * - InitiateTransaction: the shape of the type (`deposit`: a receiving
 *   account only; `withdrawal`: a paying account only; `payment`: a paying
 *   account and a beneficiary; `transfer`: both accounts, different
 *   (accounts_must_be_different)), an exchange rate exactly when the
 *   currencies differ; then idempotency_key_reused (the transaction exists
 *   with another request hash; the same hash again decides nothing).
 * - CompleteTransaction, FailTransaction: transaction_not_found,
 *   transaction_already_settled.
 */
export const transactionDecider: Decider<TransactionCommand, TransactionEvent, TransactionState> = {
  initialState: () => ({ status: 'none' }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'TransactionInitiated': return { status: 'initiated', initiated: event.data };
      case 'TransactionCompleted': return state.status === 'initiated' ? { status: 'completed', initiated: state.initiated, completed: event.data } : state;
      case 'TransactionFailed': return state.status === 'initiated' ? { status: 'failed', initiated: state.initiated, failed: event.data } : state;
      default: return assertNever(event);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'InitiateTransaction': return decideInitiate(command.data, state);
      case 'CompleteTransaction': return decideComplete(command.data, state);
      case 'FailTransaction': return decideFail(command.data, state);
      default: return assertNever(command);
    }
  },
};

function decideInitiate(data: InitiateTransaction['data'], state: TransactionState): TransactionEvent[] {
  const initiated = checkInitiation(data);
  if (state.status !== 'none') {
    if (state.initiated.requestHash === initiated.requestHash) return [];
    throw new DaybookError('idempotency_key_reused', `idempotency key ${JSON.stringify(initiated.idempotencyKey)} was used for another request (transaction ${state.initiated.transactionId})`, {
      transactionId: state.initiated.transactionId,
    }, 'idempotencyKey');
  }
  return [{ type: 'TransactionInitiated', schemaVersion: 1, data: initiated }];
}

function checkInitiation(data: InitiateTransaction['data']): TransactionInitiated['data'] {
  const checks = new FieldChecks();
  const transactionId = checkId(checks, data.transactionId, 'transactionId');
  const type = checkOneOf(checks, TRANSACTION_TYPES, data.type, 'type');
  const fromAccountId = data.fromAccountId === null ? null : checkId(checks, data.fromAccountId, 'fromAccountId');
  const toAccountId = data.toAccountId === null ? null : checkId(checks, data.toAccountId, 'toAccountId');
  const beneficiary = data.beneficiary === null ? null : checkText(checks, data.beneficiary, 'beneficiary', BENEFICIARY_LENGTH_MAX, true);
  const amountMinor = checkAmount(checks, data.amountMinor, 'amountMinor');
  const currency = checkOneOf(checks, BANKING_CURRENCIES, data.currency, 'currency');
  const toCurrency = checkOneOf(checks, BANKING_CURRENCIES, data.toCurrency, 'toCurrency');
  const feeMinor = checkAmount(checks, data.feeMinor, 'feeMinor', 0n);
  const reference = checkText(checks, data.reference, 'reference', REFERENCE_LENGTH_MAX);
  const idempotencyKey = checkText(checks, data.idempotencyKey, 'idempotencyKey', IDEMPOTENCY_KEY_LENGTH_MAX, true);
  const complianceScore = data.complianceScore;
  if (typeof complianceScore !== 'number' || !Number.isInteger(complianceScore) || complianceScore < 0 || complianceScore > COMPLIANCE_SCORE_MAX) {
    checks.invalidField('complianceScore', `must be an integer from 0 to ${COMPLIANCE_SCORE_MAX}`);
  }
  if (typeof data.requestHash !== 'string' || !/^[0-9a-f]{64}$/.test(data.requestHash)) checks.invalidField('requestHash', 'must be a hex SHA-256');
  const atMs = checkTime(checks, data.atMs);
  const exchangeRate = checkShape(checks, { ...data, type, currency, toCurrency, feeMinor });
  checks.throwFirst();
  return {
    transactionId, type, fromAccountId, toAccountId, beneficiary, amount: amountMinor.toString(), currency, toCurrency, exchangeRate,
    fee: feeMinor.toString(), reference, idempotencyKey, complianceScore, requestHash: data.requestHash, initiatedAt: isoAt(atMs),
  };
}

/** The parties each type needs, and the rate rule; returns the rate as recorded. */
function checkShape(checks: FieldChecks, data: InitiateTransaction['data']): string | null {
  const { type, fromAccountId, toAccountId, beneficiary } = data;
  const needs = { from: type !== 'deposit', to: type === 'deposit' || type === 'transfer', beneficiary: type === 'payment' };
  if (needs.from !== (fromAccountId !== null)) checks.invalidField('fromAccountId', needs.from ? `is required for a ${type}` : `must be null for a ${type}`);
  if (needs.to !== (toAccountId !== null)) checks.invalidField('toAccountId', needs.to ? `is required for a ${type}` : `must be null for a ${type}`);
  if (needs.beneficiary !== (beneficiary !== null)) checks.invalidField('beneficiary', needs.beneficiary ? 'is required for a payment' : `must be null for a ${type}`);
  if (type === 'deposit' && data.feeMinor !== 0n) checks.invalidField('feeMinor', 'must be 0 for a deposit');
  if (checks.valid && fromAccountId !== null && fromAccountId === toAccountId) {
    checks.fail(new DaybookError('accounts_must_be_different', `a transfer needs two different accounts, got ${fromAccountId} twice`, { accountId: fromAccountId }, 'toAccountId'));
  }
  const crossCurrency = data.currency !== data.toCurrency;
  if (crossCurrency && type !== 'transfer') checks.invalidField('toCurrency', `must equal currency for a ${type}`);
  if (!crossCurrency) {
    if (data.exchangeRate !== null) checks.invalidField('exchangeRate', 'must be null within one currency');
    return null;
  }
  if (data.exchangeRate === null) {
    checks.invalidField('exchangeRate', 'is required when the currencies differ');
    return null;
  }
  try {
    return formatExchangeRate(data.exchangeRate, 'exchangeRate');
  } catch (error) {
    if (!isDaybookError(error)) throw error;
    if (error.code === 'limit_exceeded') checks.tooLarge('exchangeRate', error.message, 0);
    else checks.fail(error);
    return null;
  }
}

function requireInitiated(transactionId: string, state: TransactionState): TransactionInitiated['data'] {
  if (state.status === 'none') throw new DaybookError('transaction_not_found', `transaction ${transactionId} does not exist`, { transactionId }, 'transactionId');
  if (state.status !== 'initiated') {
    throw new DaybookError('transaction_already_settled', `transaction ${transactionId} is already ${state.status}`, { transactionId, status: state.status }, 'transactionId');
  }
  return state.initiated;
}

function decideComplete(data: CompleteTransaction['data'], state: TransactionState): TransactionEvent[] {
  const checks = new FieldChecks();
  const transactionId = checkId(checks, data.transactionId, 'transactionId');
  const finalAmountMinor = checkAmount(checks, data.finalAmountMinor, 'finalAmountMinor', 0n);
  const debitedMinor = checkAmount(checks, data.debitedMinor, 'debitedMinor', 0n);
  const feesChargedMinor = checkAmount(checks, data.feesChargedMinor, 'feesChargedMinor', 0n);
  const regulatoryReportingRequired = checkBoolean(checks, data.regulatoryReportingRequired, 'regulatoryReportingRequired');
  const atMs = checkTime(checks, data.atMs);
  checks.throwFirst();
  const initiated = requireInitiated(transactionId, state);
  return [{
    type: 'TransactionCompleted',
    schemaVersion: 1,
    data: {
      transactionId, completedAt: isoAt(atMs), finalAmount: finalAmountMinor.toString(), finalCurrency: initiated.toCurrency,
      debitedAmount: debitedMinor.toString(), feesCharged: feesChargedMinor.toString(), exchangeRate: initiated.exchangeRate ?? UNIT_EXCHANGE_RATE,
      settlementDate: utcDay(atMs), regulatoryReportingRequired,
    },
  }];
}

function decideFail(data: FailTransaction['data'], state: TransactionState): TransactionEvent[] {
  const checks = new FieldChecks();
  const transactionId = checkId(checks, data.transactionId, 'transactionId');
  const reason = checkText(checks, data.reason, 'reason', REASON_LENGTH_MAX, true);
  const message = checkText(checks, data.message, 'message', REASON_LENGTH_MAX);
  const atMs = checkTime(checks, data.atMs);
  checks.throwFirst();
  requireInitiated(transactionId, state);
  return [{ type: 'TransactionFailed', schemaVersion: 1, data: { transactionId, failedAt: isoAt(atMs), reason, message } }];
}
