/**
 * Covers accounts: opening (idempotent on the caller's id, with flags and
 * limits), the ledger's currency, closing and reopening, and the precedence
 * of their rejections.
 */
import { describe, expect, it } from 'vitest';
import { LEDGER_ID_LENGTH_MAX, METADATA_ENTRIES_MAX } from './ledger.limits.ts';
import { close, historyOf, ledgerSpec, open, openCustomer, reopen, T0 } from './ledger.testkit.ts';
import type { LedgerCommand } from './ledger.commands.ts';

const FLAGS_OFF = { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false, history: false };

describe('given no accounts', () => {
  const given = ledgerSpec.given([]);
  it('opens an account with every field normalised', () =>
    given.when(open('acc-1', { code: 7, metadata: { b: '2', a: '1' } })).then([{
      type: 'AccountOpened',
      data: {
        accountId: 'acc-1', ledger: 'usd', currency: 'USD', code: 7, flags: FLAGS_OFF, overdraftLimitMinor: 0n, creditLimitMinor: 0n,
        userData: '', metadata: { a: '1', b: '2' }, atMs: T0,
      },
    }]));
  it('opens an account with an overdraft limit', () => {
    const [event] = given.when(openCustomer('acc-1', { overdraftLimitMinor: 500n })).events();
    expect(event).toMatchObject({ type: 'AccountOpened', data: { overdraftLimitMinor: 500n, flags: { debitsMustNotExceedCredits: true } } });
  });
  it('refuses a malformed body', () => {
    const bad: LedgerCommand[] = [
      open(''), open('has space'), open('acc', { currency: 'XXX' as 'USD' }), open('acc', { code: -1 }), open('acc', { code: 1.5 }),
      open('acc', { flags: { nope: true } as never }), open('acc', { overdraftLimitMinor: -1n, flags: { debitsMustNotExceedCredits: true } }),
      open('acc', { overdraftLimitMinor: 5n }), open('acc', { creditLimitMinor: 5n }), open('acc', { metadata: { k: 1 as unknown as string } }),
      open('acc', { atMs: -1 }), open('acc', { atMs: 1.5 }), open('acc', { userData: 5 as unknown as string }),
      { type: 'OpenAccount', data: null as never },
    ];
    for (const command of bad) given.when(command).thenRejects('validation_failed');
  });
  it('refuses both balance flags at once', () =>
    given.when(open('acc', { flags: { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: true } })).thenRejects('flags_are_mutually_exclusive'));
  it('accepts an id at its length bound and refuses one past it', () => {
    given.when(open('a'.repeat(LEDGER_ID_LENGTH_MAX))).events();
    given.when(open('a'.repeat(LEDGER_ID_LENGTH_MAX + 1))).thenRejects('limit_exceeded');
  });
  it('accepts metadata at its bound and refuses it past', () => {
    const entries = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    given.when(open('acc', { metadata: entries(METADATA_ENTRIES_MAX) })).events();
    given.when(open('acc', { metadata: entries(METADATA_ENTRIES_MAX + 1) })).thenRejects('limit_exceeded');
  });
  it('refuses to close or reopen an unknown account', () => {
    given.when(close('acc-1')).thenRejects('account_not_found');
    given.when(reopen('acc-1')).thenRejects('account_not_found');
  });
  it('answers validation before body rules, and body rules before limits', () => {
    const bothFlags = { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: true };
    given.when(open('bad id', { flags: bothFlags })).thenRejects('validation_failed');
    given.when(open('a'.repeat(LEDGER_ID_LENGTH_MAX + 1), { flags: bothFlags })).thenRejects('flags_are_mutually_exclusive');
  });
});

describe('given an open account', () => {
  const given = ledgerSpec.given(historyOf(open('acc-1', { metadata: { a: '1' } })));
  it('answers the same open again with the first result and writes nothing', () =>
    given.when(open('acc-1', { metadata: { a: '1' }, atMs: T0 + 5 })).then([]));
  it('refuses the same id with another body, naming the fields', () => {
    const error = given.when(open('acc-1', { code: 9, metadata: { a: '2' } })).thenRejects('account_exists_with_different_fields');
    expect(error).toMatchObject({ details: { fields: ['code', 'metadata'] } });
  });
  it('refuses a new account of another currency on its ledger', () =>
    given.when(open('acc-2', { ledger: 'usd', currency: 'EUR' })).thenRejects('ledger_currency_mismatch'));
  it('closes it', () => given.when(close('acc-1', T0 + 1)).then([{ type: 'AccountClosed', data: { accountId: 'acc-1', atMs: T0 + 1 } }]));
  it('refuses to reopen it', () => given.when(reopen('acc-1')).thenRejects('account_not_closed'));
  it('answers a conflict on the id before the ledger currency', () =>
    given.when(open('acc-1', { ledger: 'usd', currency: 'EUR' })).thenRejects('account_exists_with_different_fields'));
});

describe('given a closed account', () => {
  const given = ledgerSpec.given(historyOf(open('acc-1'), close('acc-1')));
  it('refuses to close it again', () => given.when(close('acc-1')).thenRejects('account_already_closed'));
  it('reopens it', () => given.when(reopen('acc-1', T0 + 2)).then([{ type: 'AccountReopened', data: { accountId: 'acc-1', atMs: T0 + 2 } }]));
  it('is marked closed in the state', () => expect(given.state().account('acc-1')?.closed).toBe(true));
});
