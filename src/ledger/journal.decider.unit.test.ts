/**
 * Covers journal entries: multi-leg postings with a fee, FX with a decimal
 * rate rounded half even and the rounding posted to an FX-rounding account,
 * balance per currency, idempotent ids, reversal (idempotent per entry), and
 * the precedence of their rejections.
 */
import { describe, expect, it } from 'vitest';
import { AMOUNT_MINOR_MAX } from '../kernel/money.ts';
import type { FxConversionRequest } from './ledger.types.ts';
import { POSTINGS_PER_ENTRY_MAX } from './ledger.limits.ts';
import {
  balances, close, creditLeg, debitLeg, entry, eventsOf, historyOf, ledgerSpec, open, openCustomer, reverse, T0, transfer,
} from './ledger.testkit.ts';
import type { LedgerCommand } from './ledger.commands.ts';

const setup: LedgerCommand[] = [
  open('bank-usd'), openCustomer('cust-usd'), open('merch-usd'), open('fees-usd'), open('fx-usd'),
  openCustomer('cust-eur', { currency: 'EUR' }), open('fx-eur', { currency: 'EUR' }), open('fx-round-eur', { currency: 'EUR' }),
  transfer('fund', 'bank-usd', 'cust-usd', 10_000n),
];
const payment = [debitLeg('cust-usd', 1_030n), creditLeg('merch-usd', 1_000n), creditLeg('fees-usd', 30n)];
const toEur = (amountMinor: bigint, rate: string): FxConversionRequest => ({
  fromAccountId: 'cust-usd', toAccountId: 'cust-eur', amountMinor, fromCurrency: 'USD', toCurrency: 'EUR', rate,
  liquidityFromAccountId: 'fx-usd', liquidityToAccountId: 'fx-eur', roundingAccountId: 'fx-round-eur',
});

describe('given customers in USD and EUR, an FX desk and a fee account', () => {
  const given = ledgerSpec.given(historyOf(...setup));

  it('records a payment with its fee as one entry', () =>
    given.when(entry('e1', payment, { metadata: { order: '7' } })).then([{
      type: 'JournalEntryRecorded',
      data: {
        entryId: 'e1', request: { kind: 'entry', postings: payment, conversions: [], metadata: { order: '7' } }, conversions: [], legs: payment,
        balances: [
          { accountId: 'cust-usd', balances: balances(0n, 1_030n, 0n, 10_000n) },
          { accountId: 'merch-usd', balances: balances(0n, 0n, 0n, 1_000n) },
          { accountId: 'fees-usd', balances: balances(0n, 0n, 0n, 30n) },
        ],
        atMs: T0,
      },
    }]));

  it('converts at a decimal rate, rounding half even, and posts the rounding to the FX-rounding account', () => {
    const [event] = given.when(entry('fx1', [], { conversions: [toEur(10_000n, '0.923456')] })).events();
    expect(event).toMatchObject({
      type: 'JournalEntryRecorded',
      data: {
        conversions: [{ convertedMinor: 9_235n, truncatedMinor: 9_234n, roundingMinor: 1n, convertedExact: '9234.56', roundingRemainder: '-0.44' }],
        legs: [
          debitLeg('cust-usd', 10_000n), creditLeg('fx-usd', 10_000n),
          debitLeg('fx-eur', 9_234n, 'EUR'), debitLeg('fx-round-eur', 1n, 'EUR'), creditLeg('cust-eur', 9_235n, 'EUR'),
        ],
      },
    });
  });
  it('posts nothing to the rounding account when the conversion is exact', () => {
    const [event] = given.when(entry('fx1', [], { conversions: [toEur(1_000n, '0.5')] })).events();
    expect(event).toMatchObject({ data: { legs: [debitLeg('cust-usd', 1_000n), creditLeg('fx-usd', 1_000n), debitLeg('fx-eur', 500n, 'EUR'), creditLeg('cust-eur', 500n, 'EUR')] } });
  });
  it('rounds a tie to the even unit', () => {
    const [event] = given.when(entry('fx1', [], { conversions: [toEur(5n, '0.5')] })).events();
    expect(event).toMatchObject({ data: { conversions: [{ convertedMinor: 2n, truncatedMinor: 2n, roundingMinor: 0n, roundingRemainder: '0.5' }] } });
  });
  // `.events()` alone would also pass a refusal (recorded as JournalEntryFailed): name the event, its legs and amounts.
  it('combines a conversion and a fee in one entry', () =>
    expect(given.when(entry('fx1', [debitLeg('cust-usd', 50n), creditLeg('fees-usd', 50n)], { conversions: [toEur(1_000n, '0.9')] })).events()).toMatchObject([{
      type: 'JournalEntryRecorded',
      data: {
        conversions: [{ convertedMinor: 900n, truncatedMinor: 900n, roundingMinor: 0n }],
        legs: [
          debitLeg('cust-usd', 50n), creditLeg('fees-usd', 50n),
          debitLeg('cust-usd', 1_000n), creditLeg('fx-usd', 1_000n), debitLeg('fx-eur', 900n, 'EUR'), creditLeg('cust-eur', 900n, 'EUR'),
        ],
        balances: expect.arrayContaining([
          { accountId: 'cust-usd', balances: balances(0n, 1_050n, 0n, 10_000n) },
          { accountId: 'fees-usd', balances: balances(0n, 0n, 0n, 50n) },
          { accountId: 'cust-eur', balances: balances(0n, 0n, 0n, 900n) },
        ]),
      },
    }]));

  it('refuses postings that do not balance per currency', () => {
    const error = given.when(entry('e1', [debitLeg('cust-usd', 100n), creditLeg('fees-usd', 99n)])).thenRejects('entry_not_balanced');
    expect(error).toMatchObject({ details: { currency: 'USD', debitsMinor: '100', creditsMinor: '99' } });
    given.when(entry('e1', [debitLeg('cust-usd', 100n), creditLeg('cust-eur', 100n, 'EUR')])).thenRejects('entry_not_balanced');
  });
  it('refuses a malformed entry', () => {
    const bad: LedgerCommand[] = [
      entry('e1', []),
      entry('e1', [{ ...debitLeg('cust-usd', 1n), side: 'both' as 'debit' }, creditLeg('fees-usd', 1n)]),
      entry('e1', [debitLeg('cust-usd', 0n), creditLeg('fees-usd', 0n)]),
      entry('e1', [debitLeg('cust-usd', 1n, 'XXX' as 'USD'), creditLeg('fees-usd', 1n, 'XXX' as 'USD')]),
      entry('e1', 'nope' as never),
      entry('e1', [], { conversions: [toEur(1n, '1e2')] }),
      entry('e1', [], { conversions: [toEur(1n, '0')] }),
      entry('e1', [], { conversions: [{ ...toEur(1n, '1'), toCurrency: 'USD' }] }),
      entry('e1', [], { conversions: [toEur(1n, '0.4')] }),
    ];
    for (const command of bad) given.when(command).thenRejects('validation_failed');
  });
  it('accepts postings at their bound and refuses them past it', () => {
    const legs = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? debitLeg('bank-usd', 1n) : creditLeg('fees-usd', 1n)));
    expect(given.when(entry('e1', legs(POSTINGS_PER_ENTRY_MAX))).events())
      .toMatchObject([{ type: 'JournalEntryRecorded', data: { legs: legs(POSTINGS_PER_ENTRY_MAX) } }]);
    given.when(entry('e1', legs(POSTINGS_PER_ENTRY_MAX + 2))).thenRejects('limit_exceeded');
  });
  it('refuses a rate with too many digits', () => given.when(entry('e1', [], { conversions: [toEur(1n, `1.${'1'.repeat(40)}`)] })).thenRejects('limit_exceeded'));
  it('records an entry with an unknown account as failed', () => {
    const events = given.when(entry('e1', [debitLeg('ghost', 1n), creditLeg('fees-usd', 1n)])).thenRejects('account_not_found');
    expect(events).toMatchObject([{ type: 'JournalEntryFailed', data: { entryId: 'e1', code: 'account_not_found' } }]);
  });
  it('refuses a posting in another currency than its account\'s', () =>
    given.when(entry('e1', [debitLeg('fx-eur', 1n), creditLeg('fees-usd', 1n)])).thenRejects('posting_currency_mismatch'));
  it('refuses to take a customer past its credits', () =>
    given.when(entry('e1', [debitLeg('cust-usd', 10_001n), creditLeg('fees-usd', 10_001n)])).thenRejects('exceeds_credits'));
  it('counts every leg of one account together', () =>
    given.when(entry('e1', [debitLeg('cust-usd', 6_000n), debitLeg('cust-usd', 5_000n), creditLeg('fees-usd', 11_000n)])).thenRejects('exceeds_credits'));
  it('refuses to pass the largest balance', () =>
    given.when(entry('e1', [debitLeg('bank-usd', AMOUNT_MINOR_MAX), creditLeg('fees-usd', AMOUNT_MINOR_MAX)])).thenRejects('balance_overflow'));

  describe('precedence', () => {
    it('not balanced before limits', () =>
      given.when(entry('e1', Array.from({ length: POSTINGS_PER_ENTRY_MAX + 1 }, () => debitLeg('bank-usd', 1n)))).thenRejects('entry_not_balanced'));
    it('unknown accounts before currency mismatches, whatever the leg order', () =>
      given.when(entry('e1', [debitLeg('fx-eur', 1n), creditLeg('ghost', 1n)])).thenRejects('account_not_found'));
    it('currency mismatches before exceeding credits', () =>
      given.when(entry('e1', [debitLeg('cust-usd', 99_999n), creditLeg('fx-eur', 99_999n)])).thenRejects('posting_currency_mismatch'));
  });
});

describe('given a closed fee account', () => {
  const given = ledgerSpec.given(historyOf(...setup, close('fees-usd')));
  it('refuses legs on it', () => given.when(entry('e1', payment)).thenRejects('account_closed'));
  it('answers closed before exceeding credits', () =>
    given.when(entry('e1', [debitLeg('cust-usd', 99_999n), creditLeg('fees-usd', 99_999n)])).thenRejects('account_closed'));
});

describe('given a recorded payment', () => {
  const given = ledgerSpec.given(historyOf(...setup, entry('e1', payment)));
  it('answers the same entry again with the first result', () => given.when(entry('e1', payment, { atMs: T0 + 9 })).then([]));
  it('refuses the same id with other postings', () =>
    given.when(entry('e1', [debitLeg('cust-usd', 1n), creditLeg('fees-usd', 1n)])).thenRejects('entry_exists_with_different_fields'));
  it('reverses it with the opposite legs', () =>
    given.when(reverse('r1', 'e1', T0 + 1)).then([{
      type: 'JournalEntryReversed',
      data: {
        reversalId: 'r1', entryId: 'e1', request: { kind: 'reversal', entryId: 'e1', metadata: {} },
        legs: [creditLeg('cust-usd', 1_030n), debitLeg('merch-usd', 1_000n), debitLeg('fees-usd', 30n)],
        balances: [
          { accountId: 'cust-usd', balances: balances(0n, 1_030n, 0n, 11_030n) },
          { accountId: 'merch-usd', balances: balances(0n, 1_000n, 0n, 1_000n) },
          { accountId: 'fees-usd', balances: balances(0n, 30n, 0n, 30n) },
        ],
        atMs: T0 + 1,
      },
    }]));
  it('refuses to reverse an unknown entry, and records it', () => given.when(reverse('r1', 'nope')).thenRejects('entry_not_found'));
  it('refuses a reversal that names itself', () => given.when(reverse('e1', 'e1')).thenRejects('validation_failed'));
  it('refuses a reversal id already used by another entry', () => given.when(reverse('e1', 'fund')).thenRejects('entry_exists_with_different_fields'));
});

describe('given a reversed payment', () => {
  const given = ledgerSpec.given(historyOf(...setup, entry('e1', payment), reverse('r1', 'e1')));
  it('answers the same reversal again with the first result', () => given.when(reverse('r1', 'e1', T0 + 5)).then([]));
  it('answers another reversal id with the first reversal\'s result, never an error', () => given.when(reverse('r2', 'e1')).then([]));
  it('refuses the reversal id for another entry', () => given.when(reverse('r1', 'other')).thenRejects('entry_exists_with_different_fields'));
  it('restored the balances', () => expect(given.state().account('merch-usd')?.balances).toEqual(balances(0n, 1_000n, 0n, 1_000n)));
});

describe('given a conversion whose EUR the customer has since spent', () => {
  const given = ledgerSpec.given(historyOf(
    ...setup, entry('fx1', [], { conversions: [toEur(1_000n, '0.5')] }),
    entry('spend', [debitLeg('cust-eur', 500n, 'EUR'), creditLeg('fx-eur', 500n, 'EUR')]),
  ));
  it('refuses the reversal that would overdraw the customer, and keeps it failed', () => {
    given.when(reverse('r1', 'fx1')).thenRejects('exceeds_credits');
    ledgerSpec.given(eventsOf(...setup, entry('fx1', [], { conversions: [toEur(1_000n, '0.5')] }),
      entry('spend', [debitLeg('cust-eur', 500n, 'EUR'), creditLeg('fx-eur', 500n, 'EUR')]), reverse('r1', 'fx1'),
      entry('refill', [debitLeg('fx-eur', 500n, 'EUR'), creditLeg('cust-eur', 500n, 'EUR')])))
      .when(reverse('r1', 'fx1')).thenRejects('exceeds_credits');
  });
});
