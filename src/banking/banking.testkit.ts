/**
 * Builders for banking decider tests: commands with sensible defaults and
 * event histories made by deciding commands (so given events are always ones
 * the deciders make). Pure: the service harness is in banking.harness.ts.
 */
import type { IdGenerator } from '../kernel/ids.ts';
import { NO_COMPLIANCE_FLAGS } from './banking.types.ts';
import type { AuthorizeDebit, CloseBankAccount, OpenBankAccount } from './bankAccount.commands.ts';
import { bankAccountDecider } from './bankAccount.decider.ts';
import type { BankAccountEvent } from './bankAccount.events.ts';
import type { InitiateTransaction } from './transaction.commands.ts';

/** 2023-11-14T22:13:20Z. */
export const T0 = 1_700_000_000_000;
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const HASH_A = 'a'.repeat(64);
export const HASH_B = 'b'.repeat(64);

export function openBankAccount(accountId = 'acc-1', options: Partial<OpenBankAccount['data']> = {}): OpenBankAccount {
  return {
    type: 'OpenBankAccount',
    data: {
      accountId, customerId: 'cus-1', customerRegistered: true, accountType: 'checking', currency: 'USD', regulatoryTier: 'retail',
      complianceFlags: NO_COMPLIANCE_FLAGS, initialBalanceMinor: 0n, atMs: T0, ...options,
    },
  };
}

export function authorizeDebit(amountMinor: bigint, options: Partial<AuthorizeDebit['data']> = {}): AuthorizeDebit {
  return { type: 'AuthorizeDebit', data: { accountId: 'acc-1', transactionId: 'tx-1', amountMinor, currency: 'USD', atMs: T0, ...options } };
}

export function closeBankAccount(options: Partial<CloseBankAccount['data']> = {}): CloseBankAccount {
  return {
    type: 'CloseBankAccount',
    data: { accountId: 'acc-1', reason: 'customer_request', regulatorNotified: false, balanceMinor: 0n, sweepTo: null, sweepTransactionId: null, atMs: T0, ...options },
  };
}

/** Events made by deciding `commands` one after the other on a fresh account. */
export function accountHistory(...commands: Parameters<typeof bankAccountDecider.decide>[0][]): BankAccountEvent[] {
  const events: BankAccountEvent[] = [];
  let state = bankAccountDecider.initialState();
  for (const command of commands) {
    for (const event of bankAccountDecider.decide(command, state)) {
      events.push(event);
      state = bankAccountDecider.evolve(state, event);
    }
  }
  return events;
}

export function initiate(options: Partial<InitiateTransaction['data']> = {}): InitiateTransaction {
  return {
    type: 'InitiateTransaction',
    data: {
      transactionId: 'tx-1', type: 'transfer', fromAccountId: 'acc-1', toAccountId: 'acc-2', beneficiary: null, amountMinor: 1_000n,
      currency: 'USD', toCurrency: 'USD', exchangeRate: null, feeMinor: 0n, reference: 'rent', idempotencyKey: 'key-1', complianceScore: 0,
      requestHash: HASH_A, atMs: T0, ...options,
    },
  };
}

/** Ids `id-1`, `id-2`, …: readable and deterministic. */
export function counterIds(prefix = 'id'): IdGenerator {
  let next = 0;
  return { next: () => `${prefix}-${(next += 1)}` };
}
