/**
 * Covers single transfers: what they write, the balances their result
 * carries, idempotency (first result, conflicts by field, failed ids staying
 * failed), flags and limits, balancing transfers, and the precedence of every
 * rejection, with multi-fault cases.
 */
import { describe, expect, it } from 'vitest';
import { AMOUNT_MINOR_MAX } from '../kernel/money.ts';
import { applyLedgerCommand } from './ledger.engine.ts';
import { LEDGER_ID_LENGTH_MAX } from './ledger.limits.ts';
import {
  balances, close, eventsOf, historyOf, ledgerSpec, open, openCustomer, stateOf, T0, transfer,
} from './ledger.testkit.ts';

const FLAGS_OFF = { pending: false, linked: false, balancingDebit: false, balancingCredit: false };
// bank (no flags) funds the customer with 100.00; merchant has no flags; cap may be credited up to its debits + 10.00.
const funded = historyOf(
  open('bank'), openCustomer('cust'), open('merch'), open('cap', { flags: { creditsMustNotExceedDebits: true }, creditLimitMinor: 1000n }),
  open('eur-1', { currency: 'EUR' }), open('eur-2', { currency: 'EUR' }),
  transfer('fund', 'bank', 'cust', 10_000n),
);

describe('given a customer funded with 100.00 and a merchant', () => {
  const given = ledgerSpec.given(funded);

  it('posts a transfer, with both accounts\' balances after it', () =>
    given.when(transfer('t1', 'cust', 'merch', 2_500n, { atMs: T0 + 1 })).then([{
      type: 'TransferPosted',
      data: {
        transferId: 't1', debitAccountId: 'cust', creditAccountId: 'merch', ledger: 'usd', currency: 'USD', amountMinor: 2_500n,
        request: {
          kind: 'create', debitAccountId: 'cust', creditAccountId: 'merch', amountMinor: 2_500n, ledger: 'usd', code: 0,
          flags: FLAGS_OFF, timeoutMs: 0, userData: '', metadata: {},
        },
        debitBalances: balances(0n, 2_500n, 0n, 10_000n), creditBalances: balances(0n, 0n, 0n, 2_500n), atMs: T0 + 1,
      },
    }]));

  it('returns the balances of both accounts in the result', () => {
    const { outcome } = applyLedgerCommand(stateOf(funded), transfer('t1', 'cust', 'merch', 2_500n));
    expect(outcome).toMatchObject({
      ok: true, replayed: false,
      result: { kind: 'transfer', amountMinor: 2_500n, debitBalances: balances(0n, 2_500n, 0n, 10_000n), creditBalances: balances(0n, 0n, 0n, 2_500n) },
    });
  });

  // `.events()` alone would also pass a refusal (recorded as TransferFailed): these cases name the event and its amounts.
  it('moves exactly the whole balance', () =>
    expect(given.when(transfer('t1', 'cust', 'merch', 10_000n)).events()).toMatchObject([{
      type: 'TransferPosted', data: { amountMinor: 10_000n, debitBalances: balances(0n, 10_000n, 0n, 10_000n), creditBalances: balances(0n, 0n, 0n, 10_000n) },
    }]));
  it('refuses to debit past the customer\'s credits', () => given.when(transfer('t1', 'cust', 'merch', 10_001n)).thenRejects('exceeds_credits'));
  it('refuses to credit past an account\'s debits plus its credit limit', () => {
    expect(given.when(transfer('t1', 'bank', 'cap', 1_000n)).events()).toMatchObject([{
      type: 'TransferPosted', data: { amountMinor: 1_000n, creditBalances: balances(0n, 0n, 0n, 1_000n) },
    }]);
    given.when(transfer('t1', 'bank', 'cap', 1_001n)).thenRejects('exceeds_debits');
  });
  it('balances a debit down to what the customer has', () => {
    const [event] = given.when(transfer('t1', 'cust', 'merch', 50_000n, { flags: { balancingDebit: true } })).events();
    expect(event).toMatchObject({ type: 'TransferPosted', data: { amountMinor: 10_000n, request: { amountMinor: 50_000n } } });
  });
  it('balances a credit down to what the capped account allows', () => {
    const [event] = given.when(transfer('t1', 'bank', 'cap', 5_000n, { flags: { balancingCredit: true } })).events();
    expect(event).toMatchObject({ data: { amountMinor: 1_000n } });
  });
  it('leaves a balancing transfer as asked when the account has no limiting flag', () => {
    const [event] = given.when(transfer('t1', 'bank', 'merch', 5_000n, { flags: { balancingDebit: true, balancingCredit: true } })).events();
    expect(event).toMatchObject({ data: { amountMinor: 5_000n } });
  });

  it('refuses a malformed body', () => {
    for (const amount of [0n, -1n, 5 as unknown as bigint]) given.when(transfer('t1', 'cust', 'merch', amount)).thenRejects('validation_failed');
    given.when(transfer('t 1', 'cust', 'merch', 1n)).thenRejects('validation_failed');
    given.when(transfer('t1', 'cust', 'merch', 1n, { flags: { posted: true } as never })).thenRejects('validation_failed');
    given.when(transfer('t1', 'cust', 'merch', 1n, { timeoutMs: 5 })).thenRejects('validation_failed');
    given.when(transfer('t1', 'cust', 'merch', 1n, { atMs: Number.NaN })).thenRejects('validation_failed');
  });
  it('refuses a transfer from an account to itself', () => given.when(transfer('t1', 'cust', 'cust', 1n)).thenRejects('accounts_must_be_different'));
  it('refuses an amount past the largest amount', () => given.when(transfer('t1', 'bank', 'merch', AMOUNT_MINOR_MAX + 1n)).thenRejects('limit_exceeded'));
  it('accepts an id at its length bound and refuses one past it', () => {
    expect(given.when(transfer('t'.repeat(LEDGER_ID_LENGTH_MAX), 'cust', 'merch', 1n)).events())
      .toMatchObject([{ type: 'TransferPosted', data: { transferId: 't'.repeat(LEDGER_ID_LENGTH_MAX), amountMinor: 1n } }]);
    given.when(transfer('t'.repeat(LEDGER_ID_LENGTH_MAX + 1), 'cust', 'merch', 1n)).thenRejects('limit_exceeded');
  });
  it('records a transfer from an unknown account as failed', () =>
    given.when(transfer('t1', 'ghost', 'merch', 1n)).then([{
      type: 'TransferFailed',
      data: {
        transferId: 't1', code: 'debit_account_not_found', atMs: T0,
        request: { kind: 'create', debitAccountId: 'ghost', creditAccountId: 'merch', amountMinor: 1n, ledger: 'usd', code: 0, flags: FLAGS_OFF, timeoutMs: 0, userData: '', metadata: {} },
      },
    }]));
  it('refuses a transfer to an unknown account', () => given.when(transfer('t1', 'cust', 'ghost', 1n)).thenRejects('credit_account_not_found'));
  it('refuses accounts on different ledgers', () => given.when(transfer('t1', 'cust', 'eur-1', 1n)).thenRejects('accounts_must_have_the_same_ledger'));
  it('refuses a transfer naming another ledger than its accounts\'', () =>
    given.when(transfer('t1', 'eur-1', 'eur-2', 1n, { ledger: 'usd' })).thenRejects('transfer_must_have_the_same_ledger_as_accounts'));
  it('refuses a transfer that would pass the largest balance', () =>
    given.when(transfer('t1', 'bank', 'merch', AMOUNT_MINOR_MAX)).thenRejects('balance_overflow'));

  describe('precedence', () => {
    it('validation before limits', () => given.when(transfer('t'.repeat(200), 'cust', 'merch', 0n)).thenRejects('validation_failed'));
    it('body rules before limits', () => given.when(transfer('t1', 'cust', 'cust', AMOUNT_MINOR_MAX + 1n)).thenRejects('accounts_must_be_different'));
    it('debit account before credit account', () => given.when(transfer('t1', 'ghost-a', 'ghost-b', 1n)).thenRejects('debit_account_not_found'));
    it('ledgers before closed accounts', () =>
      ledgerSpec.given(historyOf(...historyCommands(), close('eur-1'))).when(transfer('t1', 'cust', 'eur-1', 1n)).thenRejects('accounts_must_have_the_same_ledger'));
    it('overflow before exceeding credits', () =>
      ledgerSpec.given(historyOf(...historyCommands(), openCustomer('poor'))).when(transfer('t1', 'poor', 'cust', AMOUNT_MINOR_MAX)).thenRejects('balance_overflow'));
    it('exceeds_credits (debit side) before exceeds_debits (credit side)', () =>
      given.when(transfer('t1', 'cust', 'cap', 20_000n)).thenRejects('exceeds_credits'));
  });
});

describe('given a transfer already posted', () => {
  const given = ledgerSpec.given([...funded, ...eventsAfterT1()]);
  function eventsAfterT1() {
    return stateEvents([transfer('t1', 'cust', 'merch', 2_500n, { metadata: { order: '42' } })]);
  }
  it('answers the same body with the first result and writes nothing', () =>
    given.when(transfer('t1', 'cust', 'merch', 2_500n, { metadata: { order: '42' }, atMs: T0 + 99 })).then([]));
  it('gives the first result, balances included, to a retry', () => {
    const state = stateOf([...funded, ...eventsAfterT1()]);
    const { outcome, events } = applyLedgerCommand(state, transfer('t1', 'cust', 'merch', 2_500n, { metadata: { order: '42' } }));
    expect(events).toEqual([]);
    expect(outcome).toMatchObject({ ok: true, replayed: true, result: { debitBalances: balances(0n, 2_500n, 0n, 10_000n) } });
  });
  it('refuses the same id with other flags', () =>
    given.when(transfer('t1', 'cust', 'merch', 2_500n, { flags: { pending: true }, metadata: { order: '42' } })).thenRejects('transfer_exists_with_different_flags'));
  it('refuses the same id with other accounts', () =>
    given.when(transfer('t1', 'bank', 'merch', 2_500n, { metadata: { order: '42' } })).thenRejects('transfer_exists_with_different_accounts'));
  it('refuses the same id with another amount', () =>
    given.when(transfer('t1', 'cust', 'merch', 2_501n, { metadata: { order: '42' } })).thenRejects('transfer_exists_with_different_amount'));
  it('refuses the same id with other metadata', () =>
    given.when(transfer('t1', 'cust', 'merch', 2_500n, { metadata: { order: '43' } })).thenRejects('transfer_exists_with_different_fields'));
  it('answers limits before idempotency', () =>
    given.when(transfer('t1', 'cust', 'merch', AMOUNT_MINOR_MAX + 1n)).thenRejects('limit_exceeded'));
  it('answers idempotency before existence', () =>
    given.when(transfer('t1', 'ghost', 'merch', 2_500n, { metadata: { order: '42' } })).thenRejects('transfer_exists_with_different_accounts'));
});

describe('given a transfer that failed for want of funds, and funds that arrived later', () => {
  const given = ledgerSpec.given([
    ...funded,
    ...stateEvents([transfer('big', 'cust', 'merch', 50_000n), transfer('topup', 'bank', 'cust', 90_000n)]),
  ]);
  it('keeps the id failed: a retry gets the first failure, and writes nothing', () => {
    const error = given.when(transfer('big', 'cust', 'merch', 50_000n)).thenRejects('exceeds_credits');
    expect(error).toMatchObject({ details: { recordedFailure: true } });
  });
  it('still compares the body of a failed id', () =>
    given.when(transfer('big', 'cust', 'merch', 40_000n)).thenRejects('transfer_exists_with_different_amount'));
  it('lets a new id through', () =>
    expect(given.when(transfer('big-2', 'cust', 'merch', 50_000n)).events()).toMatchObject([{
      type: 'TransferPosted', data: { transferId: 'big-2', amountMinor: 50_000n, debitBalances: balances(0n, 50_000n, 0n, 100_000n) },
    }]));
});

describe('given closed accounts', () => {
  const given = ledgerSpec.given([...funded, ...stateEvents([close('merch'), close('bank')])]);
  it('refuses to debit a closed account', () => given.when(transfer('t1', 'bank', 'cust', 1n)).thenRejects('debit_account_closed'));
  it('refuses to credit a closed account', () => given.when(transfer('t1', 'cust', 'merch', 1n)).thenRejects('credit_account_closed'));
  it('answers closed before exceeding credits', () => given.when(transfer('t1', 'cust', 'merch', 99_999n)).thenRejects('credit_account_closed'));
});

describe('given a customer with an overdraft limit of 50.00 and nothing in it', () => {
  const given = ledgerSpec.given(historyOf(openCustomer('od', { overdraftLimitMinor: 5_000n }), open('shop')));
  it('lets debits reach the limit', () =>
    expect(given.when(transfer('t1', 'od', 'shop', 5_000n)).events()).toMatchObject([{
      type: 'TransferPosted', data: { amountMinor: 5_000n, debitBalances: balances(0n, 5_000n, 0n, 0n), creditBalances: balances(0n, 0n, 0n, 5_000n) },
    }]));
  it('refuses debits past the limit', () => given.when(transfer('t1', 'od', 'shop', 5_001n)).thenRejects('exceeds_credits'));
  it('balances a debit down to the limit', () => {
    const [event] = given.when(transfer('t1', 'od', 'shop', 9_000n, { flags: { balancingDebit: true } })).events();
    expect(event).toMatchObject({ data: { amountMinor: 5_000n, debitBalances: balances(0n, 5_000n, 0n, 0n) } });
  });
});

describe('given a customer with nothing to move', () => {
  const given = ledgerSpec.given(historyOf(openCustomer('empty'), open('shop', { flags: { creditsMustNotExceedDebits: true } }), open('src')));
  it('fails a balancing debit that would move nothing', () =>
    given.when(transfer('t1', 'empty', 'src', 1n, { flags: { balancingDebit: true } })).thenRejects('exceeds_credits'));
  it('fails a balancing credit that would move nothing', () =>
    given.when(transfer('t1', 'src', 'shop', 1n, { flags: { balancingCredit: true } })).thenRejects('exceeds_debits'));
});

function stateEvents(commands: Parameters<typeof eventsOf>) {
  return eventsOf(...historyCommands(), ...commands).slice(funded.length);
}

function historyCommands() {
  return [
    open('bank'), openCustomer('cust'), open('merch'), open('cap', { flags: { creditsMustNotExceedDebits: true }, creditLimitMinor: 1000n }),
    open('eur-1', { currency: 'EUR' }), open('eur-2', { currency: 'EUR' }),
    transfer('fund', 'bank', 'cust', 10_000n),
  ];
}
