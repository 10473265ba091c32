/**
 * The bank account decider, one describe per starting state: opening
 * (idempotent, for registered customers only), freezing and unfreezing,
 * authorizing debits within the tier's per-transaction and daily limits
 * (summed per UTC day from the account's own events, released debits
 * excluded), closing with a sweep target; every error code, and multi-fault
 * tests that pin the documented precedence.
 */
import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../decider/index.ts';
import { BANKING_ID_LENGTH_MAX, TIER_LIMITS } from './banking.limits.ts';
import { NO_COMPLIANCE_FLAGS } from './banking.types.ts';
import { accountHistory, authorizeDebit, closeBankAccount, DAY, HOUR, openBankAccount, T0 } from './banking.testkit.ts';
import type { SweepTarget } from './bankAccount.commands.ts';
import { bankAccountDecider, requireMovable, usedOn, type OpenedAccountState } from './bankAccount.decider.ts';

const spec = deciderSpec(bankAccountDecider);
const RETAIL = TIER_LIMITS.retail;
const TARGET: SweepTarget = { accountId: 'acc-2', status: 'open', frozen: false, currency: 'USD' };
const freeze = (atMs = T0) => ({ type: 'FreezeBankAccount' as const, data: { accountId: 'acc-1', reason: 'suspicious activity', atMs } });
const unfreeze = (atMs = T0) => ({ type: 'UnfreezeBankAccount' as const, data: { accountId: 'acc-1', atMs } });
const release = (amountMinor: bigint, day: string, transactionId = 'tx-1') =>
  ({ type: 'ReleaseDebit' as const, data: { accountId: 'acc-1', transactionId, amountMinor, day, atMs: T0 } });

describe('given no account', () => {
  const given = spec.given([]);
  it('opens one, with its payload as the reference platform has it', () => {
    given.when(openBankAccount('acc-1', { initialBalanceMinor: 5_000n, regulatoryTier: 'professional', accountType: 'savings', currency: 'GBP' })).then([{
      type: 'AccountOpened', schemaVersion: 1,
      data: {
        accountId: 'acc-1', customerId: 'cus-1', accountType: 'savings', currency: 'GBP', initialBalance: '5000', regulatoryTier: 'professional',
        complianceFlags: NO_COMPLIANCE_FLAGS, openedAt: '2023-11-14T22:13:20.000Z',
      },
    }]);
  });
  it('refuses a customer that is not registered', () => given.when(openBankAccount('acc-1', { customerRegistered: false })).thenRejects('customer_not_found'));
  it('refuses an unknown account type, currency or tier', () => {
    given.when(openBankAccount('acc-1', { accountType: 'brokerage' as never })).thenRejects('validation_failed');
    given.when(openBankAccount('acc-1', { currency: 'JPY' as never })).thenRejects('validation_failed');
    given.when(openBankAccount('acc-1', { regulatoryTier: 'vip' as never })).thenRejects('validation_failed');
  });
  it('refuses a negative initial balance and unknown compliance flags', () => {
    given.when(openBankAccount('acc-1', { initialBalanceMinor: -1n })).thenRejects('validation_failed');
    given.when(openBankAccount('acc-1', { complianceFlags: { ...NO_COMPLIANCE_FLAGS, vip: true } as never })).thenRejects('validation_failed');
  });
  it('refuses an id past its length limit, and accepts one at it', () => {
    given.when(openBankAccount('a'.repeat(BANKING_ID_LENGTH_MAX + 1))).thenRejects('limit_exceeded');
    expect(given.when(openBankAccount('a'.repeat(BANKING_ID_LENGTH_MAX))).events()).toHaveLength(1);
  });
  it('knows of nothing to freeze, unfreeze, debit, release or close', () => {
    given.when(freeze()).thenRejects('account_not_found');
    given.when(unfreeze()).thenRejects('account_not_found');
    given.when(authorizeDebit(1n)).thenRejects('account_not_found');
    given.when(release(1n, '2023-11-14')).thenRejects('account_not_found');
    given.when(closeBankAccount()).thenRejects('account_not_found');
  });
  it('multi-fault: validation wins over an unregistered customer', () => {
    given.when(openBankAccount('acc-1', { customerRegistered: false, currency: 'XXX' as never })).thenRejects('validation_failed');
  });
});

describe('given an open retail account', () => {
  const given = spec.given(accountHistory(openBankAccount()));
  it('opening it again with the same body decides nothing', () => given.when(openBankAccount('acc-1', { atMs: T0 + DAY })).then([]));
  it('refuses opening it again with another body, naming the fields', () => {
    const error = given.when(openBankAccount('acc-1', { currency: 'EUR', regulatoryTier: 'institutional' })).thenRejects('account_exists_with_different_fields');
    expect(error).toMatchObject({ details: { fields: ['currency', 'regulatoryTier'] } });
  });
  it('multi-fault: the same id with another body wins over an unregistered customer', () => {
    given.when(openBankAccount('acc-1', { currency: 'EUR', customerRegistered: false })).thenRejects('account_exists_with_different_fields');
  });
  it('freezes it', () => {
    given.when(freeze()).then([{ type: 'AccountFrozen', schemaVersion: 1, data: { accountId: 'acc-1', reason: 'suspicious activity', frozenAt: '2023-11-14T22:13:20.000Z' } }]);
  });
  it('refuses a freeze without a reason', () => given.when({ ...freeze(), data: { ...freeze().data, reason: '' } }).thenRejects('validation_failed'));
  it('refuses to unfreeze what is not frozen', () => given.when(unfreeze()).thenRejects('account_not_frozen'));
  it('authorizes a debit up to the per-transaction limit, counted for its UTC day', () => {
    const when = given.when(authorizeDebit(RETAIL.perTransactionMinor));
    when.then([{
      type: 'DebitAuthorized', schemaVersion: 1,
      data: { accountId: 'acc-1', transactionId: 'tx-1', amount: RETAIL.perTransactionMinor.toString(), currency: 'USD', day: '2023-11-14', authorizedAt: '2023-11-14T22:13:20.000Z' },
    }]);
    expect(usedOn(when.state() as OpenedAccountState, '2023-11-14')).toBe(RETAIL.perTransactionMinor);
  });
  it('refuses a debit over the per-transaction limit', () => {
    given.when(authorizeDebit(RETAIL.perTransactionMinor + 1n)).thenRejects('transaction_limit_exceeded');
  });
  it('refuses a debit in another currency', () => given.when(authorizeDebit(1n, { currency: 'EUR' })).thenRejects('account_currency_mismatch'));
  it('refuses a zero or negative debit', () => {
    given.when(authorizeDebit(0n)).thenRejects('validation_failed');
    given.when(authorizeDebit(-5n)).thenRejects('validation_failed');
  });
  it('closes with a zero balance and no sweep account', () => {
    given.when(closeBankAccount({ reason: 'regulatory', regulatorNotified: true, atMs: T0 + DAY })).then([{
      type: 'AccountClosed', schemaVersion: 1,
      data: {
        accountId: 'acc-1', reason: 'regulatory', finalBalance: '0', closureDate: '2023-11-15', closedAt: '2023-11-15T22:13:20.000Z',
        regulatorNotified: true, sweptToAccountId: null, sweepTransactionId: null,
      },
    }]);
  });
  it('closes with a balance swept to an open account of its currency, recording the final balance', () => {
    const [event] = given.when(closeBankAccount({ balanceMinor: 4_200n, sweepTo: TARGET, sweepTransactionId: 'tx-sweep' })).events();
    expect(event).toMatchObject({ type: 'AccountClosed', data: { finalBalance: '4200', sweptToAccountId: 'acc-2', sweepTransactionId: 'tx-sweep' } });
  });
  it('refuses to close a non-zero balance without a sweep account', () => {
    given.when(closeBankAccount({ balanceMinor: 1n })).thenRejects('sweep_account_required');
  });
  it('refuses each unusable sweep account', () => {
    given.when(closeBankAccount({ balanceMinor: 1n, sweepTo: { ...TARGET, accountId: 'acc-1' } })).thenRejects('accounts_must_be_different');
    given.when(closeBankAccount({ balanceMinor: 1n, sweepTo: { ...TARGET, status: 'none', currency: null } })).thenRejects('account_not_found');
    given.when(closeBankAccount({ balanceMinor: 1n, sweepTo: { ...TARGET, status: 'closed' } })).thenRejects('account_closed');
    given.when(closeBankAccount({ balanceMinor: 1n, sweepTo: { ...TARGET, frozen: true } })).thenRejects('account_frozen');
    given.when(closeBankAccount({ balanceMinor: 1n, sweepTo: { ...TARGET, currency: 'EUR' } })).thenRejects('account_currency_mismatch');
  });
  it('refuses an unknown closure reason', () => given.when(closeBankAccount({ reason: 'boredom' as never })).thenRejects('validation_failed'));
  it('multi-fault: a sweep into itself (validation) wins over its own existence checks', () => {
    spec.given([]).when(closeBankAccount({ balanceMinor: 1n, sweepTo: { ...TARGET, accountId: 'acc-1' } })).thenRejects('accounts_must_be_different');
  });
  it('multi-fault: the sweep target is checked in order (missing before closed before frozen before currency)', () => {
    given.when(closeBankAccount({ balanceMinor: 1n, sweepTo: { accountId: 'acc-2', status: 'closed', frozen: true, currency: 'EUR' } })).thenRejects('account_closed');
    given.when(closeBankAccount({ balanceMinor: 1n, sweepTo: { accountId: 'acc-2', status: 'open', frozen: true, currency: 'EUR' } })).thenRejects('account_frozen');
  });
  it('lets money in or out in its currency only', () => {
    const state = given.state();
    expect(requireMovable(state, 'acc-1', 'USD').opened.accountId).toBe('acc-1');
    expect(() => requireMovable(state, 'acc-1', 'GBP')).toThrow(expect.objectContaining({ code: 'account_currency_mismatch' }));
  });
});

describe('given debits authorized today', () => {
  const history = accountHistory(
    openBankAccount(),
    authorizeDebit(RETAIL.perTransactionMinor, { transactionId: 'tx-1', atMs: T0 }),
    authorizeDebit(RETAIL.perTransactionMinor, { transactionId: 'tx-2', atMs: T0 + 1000 }),
  );
  const given = spec.given(history);
  const left = RETAIL.dailyMinor - 2n * RETAIL.perTransactionMinor;
  it('authorizes up to the daily limit', () => expect(given.when(authorizeDebit(left, { transactionId: 'tx-3' })).events()).toHaveLength(1));
  it('refuses a debit past the daily limit', () => given.when(authorizeDebit(left + 1n, { transactionId: 'tx-3' })).thenRejects('daily_limit_exceeded'));
  it('counts afresh on the next UTC day', () => {
    // T0 is 22:13 UTC: two hours later is the next day.
    expect(given.when(authorizeDebit(RETAIL.perTransactionMinor, { transactionId: 'tx-3', atMs: T0 + 2 * HOUR })).events()).toHaveLength(1);
  });
  it('a released debit stops counting', () => {
    const released = [...history, ...bankAccountDecider.decide(release(RETAIL.perTransactionMinor, '2023-11-14'), spec.given(history).state())];
    expect(spec.given(released).when(authorizeDebit(left + 1n, { transactionId: 'tx-3' })).events()).toHaveLength(1);
  });
  it('a release dated another day changes nothing today', () => {
    const released = [...history, ...bankAccountDecider.decide(release(1n, '2023-11-13'), spec.given(history).state())];
    expect(usedOn(spec.given(released).state() as OpenedAccountState, '2023-11-14')).toBe(2n * RETAIL.perTransactionMinor);
  });
  it('multi-fault: the per-transaction limit wins over the daily limit', () => {
    given.when(authorizeDebit(RETAIL.perTransactionMinor + 1n, { transactionId: 'tx-3' })).thenRejects('transaction_limit_exceeded');
  });
});

describe('given a frozen account', () => {
  const given = spec.given(accountHistory(openBankAccount(), freeze()));
  it('unfreezes it', () => given.when(unfreeze(T0 + 1)).then([{ type: 'AccountUnfrozen', schemaVersion: 1, data: { accountId: 'acc-1', unfrozenAt: '2023-11-14T22:13:20.001Z' } }]));
  it('refuses to freeze it again', () => given.when(freeze()).thenRejects('account_already_frozen'));
  it('refuses debits', () => given.when(authorizeDebit(1n)).thenRejects('account_frozen'));
  it('refuses money in', () => expect(() => requireMovable(given.state(), 'acc-1', 'USD')).toThrow(expect.objectContaining({ code: 'account_frozen' })));
  it('may still be closed (regulatory and fraud closures are), sweeping its balance', () => {
    expect(given.when(closeBankAccount({ reason: 'fraud', balanceMinor: 10n, sweepTo: TARGET, sweepTransactionId: 'tx-sweep' })).events()).toHaveLength(1);
  });
  it('multi-fault: frozen wins over another currency and both limits', () => {
    given.when(authorizeDebit(RETAIL.dailyMinor + 1n, { currency: 'EUR' })).thenRejects('account_frozen');
  });
});

describe('given a closed account', () => {
  const given = spec.given(accountHistory(openBankAccount(), freeze(), closeBankAccount()));
  it('refuses to close it again', () => given.when(closeBankAccount()).thenRejects('account_already_closed'));
  it('refuses to freeze or unfreeze it', () => {
    given.when(freeze()).thenRejects('account_closed');
    given.when(unfreeze()).thenRejects('account_closed');
  });
  it('refuses debits and money in', () => {
    given.when(authorizeDebit(1n)).thenRejects('account_closed');
    expect(() => requireMovable(given.state(), 'acc-1', 'USD')).toThrow(expect.objectContaining({ code: 'account_closed' }));
  });
  it('still records a release (the ledger refused a debit authorized before the close)', () => {
    expect(given.when(release(1n, '2023-11-14')).events()).toHaveLength(1);
  });
  it('multi-fault: closed wins over frozen, currency and limits', () => {
    given.when(authorizeDebit(RETAIL.dailyMinor + 1n, { currency: 'EUR' })).thenRejects('account_closed');
  });
  it('multi-fault: already closed wins over a missing sweep account', () => {
    given.when(closeBankAccount({ balanceMinor: 5n })).thenRejects('account_already_closed');
  });
});
