/**
 * The transaction decider: initiating (the shape each type needs, the rate
 * rule, idempotency on the request hash), completing and failing exactly
 * once; every error code, and multi-fault precedence.
 */
import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../decider/index.ts';
import { IDEMPOTENCY_KEY_LENGTH_MAX, REFERENCE_LENGTH_MAX } from './banking.limits.ts';
import { HASH_B, initiate, T0 } from './banking.testkit.ts';
import type { CompleteTransaction, FailTransaction } from './transaction.commands.ts';
import { transactionDecider } from './transaction.decider.ts';
import type { TransactionEvent } from './transaction.events.ts';

const spec = deciderSpec(transactionDecider);
const complete = (options: Partial<CompleteTransaction['data']> = {}): CompleteTransaction => ({
  type: 'CompleteTransaction',
  data: { transactionId: 'tx-1', finalAmountMinor: 1_000n, debitedMinor: 1_000n, feesChargedMinor: 0n, regulatoryReportingRequired: false, atMs: T0 + 1000, ...options },
});
const fail = (options: Partial<FailTransaction['data']> = {}): FailTransaction =>
  ({ type: 'FailTransaction', data: { transactionId: 'tx-1', reason: 'exceeds_credits', message: 'not enough money', atMs: T0 + 1000, ...options } });
const initiated = spec.given([]).when(initiate()).events() as TransactionEvent[];

describe('given no transaction', () => {
  const given = spec.given([]);
  it('initiates one, with its payload as the reference platform has it', () => {
    given.when(initiate()).then([{
      type: 'TransactionInitiated', schemaVersion: 1,
      data: {
        transactionId: 'tx-1', type: 'transfer', fromAccountId: 'acc-1', toAccountId: 'acc-2', beneficiary: null, amount: '1000', currency: 'USD',
        toCurrency: 'USD', exchangeRate: null, fee: '0', reference: 'rent', idempotencyKey: 'key-1', complianceScore: 0, requestHash: 'a'.repeat(64),
        initiatedAt: '2023-11-14T22:13:20.000Z',
      },
    }]);
  });
  it('records a cross-currency rate with six decimals', () => {
    const [event] = given.when(initiate({ toCurrency: 'EUR', exchangeRate: '0.92' })).events();
    expect(event).toMatchObject({ data: { exchangeRate: '0.920000', toCurrency: 'EUR' } });
  });
  it('refuses a rate with more than six decimals, a missing one, or one within one currency', () => {
    given.when(initiate({ toCurrency: 'EUR', exchangeRate: '0.9234567' })).thenRejects('validation_failed');
    given.when(initiate({ toCurrency: 'EUR', exchangeRate: null })).thenRejects('validation_failed');
    given.when(initiate({ exchangeRate: '1' })).thenRejects('validation_failed');
    given.when(initiate({ toCurrency: 'EUR', exchangeRate: '0' })).thenRejects('validation_failed');
  });
  it('needs the parties each type has', () => {
    expect(given.when(initiate({ type: 'deposit', fromAccountId: null })).events()).toHaveLength(1);
    given.when(initiate({ type: 'deposit' })).thenRejects('validation_failed');
    given.when(initiate({ type: 'withdrawal' })).thenRejects('validation_failed');
    given.when(initiate({ type: 'payment', toAccountId: null })).thenRejects('validation_failed');
    given.when(initiate({ type: 'transfer', toAccountId: null })).thenRejects('validation_failed');
    expect(given.when(initiate({ type: 'payment', toAccountId: null, beneficiary: 'GB82WEST12345698765432' })).events()).toHaveLength(1);
    expect(given.when(initiate({ type: 'withdrawal', toAccountId: null })).events()).toHaveLength(1);
  });
  it('refuses a fee on a deposit and a cross-currency payment', () => {
    given.when(initiate({ type: 'deposit', fromAccountId: null, feeMinor: 1n })).thenRejects('validation_failed');
    given.when(initiate({ type: 'payment', toAccountId: null, beneficiary: 'X', toCurrency: 'EUR', exchangeRate: '0.9' })).thenRejects('validation_failed');
  });
  it('refuses a transfer to the same account', () => given.when(initiate({ toAccountId: 'acc-1' })).thenRejects('accounts_must_be_different'));
  it('refuses a zero amount, a negative fee, a compliance score out of 0–100 and a malformed hash', () => {
    given.when(initiate({ amountMinor: 0n })).thenRejects('validation_failed');
    given.when(initiate({ feeMinor: -1n })).thenRejects('validation_failed');
    given.when(initiate({ complianceScore: 101 })).thenRejects('validation_failed');
    given.when(initiate({ complianceScore: 2.5 })).thenRejects('validation_failed');
    given.when(initiate({ requestHash: 'abc' })).thenRejects('validation_failed');
  });
  it('refuses a reference or key past its length limit', () => {
    given.when(initiate({ reference: 'r'.repeat(REFERENCE_LENGTH_MAX + 1) })).thenRejects('limit_exceeded');
    given.when(initiate({ idempotencyKey: 'k'.repeat(IDEMPOTENCY_KEY_LENGTH_MAX + 1) })).thenRejects('limit_exceeded');
    expect(given.when(initiate({ reference: 'r'.repeat(REFERENCE_LENGTH_MAX) })).events()).toHaveLength(1);
  });
  it('cannot complete or fail what was never initiated', () => {
    given.when(complete()).thenRejects('transaction_not_found');
    given.when(fail()).thenRejects('transaction_not_found');
  });
  it('multi-fault: validation wins over limits, and a same-account transfer over a bad amount is still validation', () => {
    given.when(initiate({ amountMinor: 0n, reference: 'r'.repeat(REFERENCE_LENGTH_MAX + 1) })).thenRejects('validation_failed');
    given.when(initiate({ toAccountId: 'acc-1', amountMinor: 0n })).thenRejects('validation_failed');
  });
});

describe('given an initiated transaction', () => {
  const given = spec.given(initiated);
  it('the same request again decides nothing', () => given.when(initiate({ atMs: T0 + 60_000 })).then([]));
  it('refuses the same key with another request', () => given.when(initiate({ amountMinor: 2_000n, requestHash: HASH_B })).thenRejects('idempotency_key_reused'));
  it('multi-fault: validation wins over a reused key', () => given.when(initiate({ amountMinor: 0n, requestHash: HASH_B })).thenRejects('validation_failed'));
  it('completes it: final amount, fees, unit rate, settlement date, reporting', () => {
    given.when(complete({ feesChargedMinor: 25n, debitedMinor: 1_025n, regulatoryReportingRequired: true })).then([{
      type: 'TransactionCompleted', schemaVersion: 1,
      data: {
        transactionId: 'tx-1', completedAt: '2023-11-14T22:13:21.000Z', finalAmount: '1000', finalCurrency: 'USD', debitedAmount: '1025',
        feesCharged: '25', exchangeRate: '1.000000', settlementDate: '2023-11-14', regulatoryReportingRequired: true,
      },
    }]);
  });
  it('fails it with the reason', () => {
    given.when(fail()).then([{
      type: 'TransactionFailed', schemaVersion: 1,
      data: { transactionId: 'tx-1', failedAt: '2023-11-14T22:13:21.000Z', reason: 'exceeds_credits', message: 'not enough money' },
    }]);
  });
  it('refuses a failure without a reason', () => given.when(fail({ reason: '' })).thenRejects('validation_failed'));
});

describe('given a settled transaction', () => {
  const completed = [...initiated, ...transactionDecider.decide(complete(), spec.given(initiated).state())];
  const failed = [...initiated, ...transactionDecider.decide(fail(), spec.given(initiated).state())];
  it('refuses to complete or fail it again', () => {
    spec.given(completed).when(complete()).thenRejects('transaction_already_settled');
    spec.given(completed).when(fail()).thenRejects('transaction_already_settled');
    spec.given(failed).when(complete()).thenRejects('transaction_already_settled');
  });
  it('the same request again still decides nothing (the service answers the recorded result)', () => {
    spec.given(failed).when(initiate()).then([]);
  });
  it('keeps the cross-currency rate for the completion', () => {
    const cross = spec.given([]).when(initiate({ toCurrency: 'GBP', exchangeRate: '0.79' })).events() as TransactionEvent[];
    const [event] = spec.given(cross).when(complete({ finalAmountMinor: 790n })).events();
    expect(event).toMatchObject({ data: { exchangeRate: '0.790000', finalCurrency: 'GBP', finalAmount: '790' } });
  });
});
