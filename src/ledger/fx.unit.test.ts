/**
 * Covers the FX rule for journal entries: worked cases (ties to the even
 * unit below and above, across exponents), then random amounts, rates and
 * currency pairs checked against the exact value: the receiver gets the
 * half-even rounding, the liquidity account pays the truncation, the
 * rounding account the 0 or 1 unit between, and every currency balances.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParameters } from '../../test/support/fastCheck.ts';
import { formatDecimal, parseRate } from '../kernel/decimal.ts';
import { currencyExponent, type Currency } from '../kernel/money.ts';
import { convertForEntry, fxLegs, imbalanceByCurrency } from './fx.ts';

const currencies: Currency[] = ['USD', 'EUR', 'JPY', 'BHD', 'KWD', 'KRW', 'CLF'];
const PROPERTY = propertyParameters(20_261_129);

const conversion = (amountMinor: bigint, fromCurrency: Currency, toCurrency: Currency, rate: string) => convertForEntry({
  fromAccountId: 'a', toAccountId: 'b', amountMinor, fromCurrency, toCurrency, rate,
  liquidityFromAccountId: 'lf', liquidityToAccountId: 'lt', roundingAccountId: 'r',
});

describe('given worked conversions', () => {
  // Worked by hand: exact = amount × rate × 10^(target exponent − source exponent), in target minor units.
  const table: Array<[bigint, Currency, Currency, string, { exact: string; converted: bigint; truncated: bigint; rounding: bigint; remainder: string }]> = [
    [5n, 'USD', 'EUR', '0.5', { exact: '2.5', converted: 2n, truncated: 2n, rounding: 0n, remainder: '0.5' }], // tie, even below
    [3n, 'USD', 'EUR', '0.5', { exact: '1.5', converted: 2n, truncated: 1n, rounding: 1n, remainder: '-0.5' }], // tie, even above
    [7n, 'USD', 'EUR', '0.5', { exact: '3.5', converted: 4n, truncated: 3n, rounding: 1n, remainder: '-0.5' }],
    [9n, 'USD', 'EUR', '0.5', { exact: '4.5', converted: 4n, truncated: 4n, rounding: 0n, remainder: '0.5' }],
    [12_345n, 'USD', 'EUR', '0.1', { exact: '1234.5', converted: 1234n, truncated: 1234n, rounding: 0n, remainder: '0.5' }],
    [12_355n, 'USD', 'EUR', '0.1', { exact: '1235.5', converted: 1236n, truncated: 1235n, rounding: 1n, remainder: '-0.5' }],
    [10_000n, 'USD', 'EUR', '0.923456', { exact: '9234.56', converted: 9235n, truncated: 9234n, rounding: 1n, remainder: '-0.44' }], // above half
    [10_000n, 'USD', 'EUR', '0.923446', { exact: '9234.46', converted: 9234n, truncated: 9234n, rounding: 0n, remainder: '0.46' }], // below half
    [150n, 'USD', 'JPY', '151', { exact: '226.5', converted: 226n, truncated: 226n, rounding: 0n, remainder: '0.5' }], // 2 → 0 decimals
    [250n, 'USD', 'JPY', '151', { exact: '377.5', converted: 378n, truncated: 377n, rounding: 1n, remainder: '-0.5' }],
    [3n, 'JPY', 'USD', '0.005', { exact: '1.5', converted: 2n, truncated: 1n, rounding: 1n, remainder: '-0.5' }], // 0 → 2 decimals
    [1n, 'USD', 'BHD', '0.37705', { exact: '3.7705', converted: 4n, truncated: 3n, rounding: 1n, remainder: '-0.2295' }], // 2 → 3 decimals
    [25n, 'CLF', 'JPY', '1000', { exact: '2.5', converted: 2n, truncated: 2n, rounding: 0n, remainder: '0.5' }], // 4 → 0 decimals
    [1_005n, 'KWD', 'KRW', '1000', { exact: '1005', converted: 1005n, truncated: 1005n, rounding: 0n, remainder: '0' }], // exact
  ];
  it.each(table)('%s %s → %s at %s rounds half even', (amountMinor, fromCurrency, toCurrency, rate, expected) => {
    const record = conversion(amountMinor, fromCurrency, toCurrency, rate);
    expect({
      exact: record.convertedExact, converted: record.convertedMinor, truncated: record.truncatedMinor, rounding: record.roundingMinor, remainder: record.roundingRemainder,
    }).toEqual(expected);
    expect(fxLegs(record).filter((leg) => leg.currency === toCurrency)).toEqual([
      ...(expected.truncated > 0n ? [{ accountId: 'lt', side: 'debit', amountMinor: expected.truncated, currency: toCurrency }] : []),
      ...(expected.rounding > 0n ? [{ accountId: 'r', side: 'debit', amountMinor: expected.rounding, currency: toCurrency }] : []),
      { accountId: 'b', side: 'credit', amountMinor: expected.converted, currency: toCurrency },
    ]);
  });
});

describe('given random conversions', () => {
  it('balances every currency and rounds half even', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 1n, max: 10n ** 18n }),
      fc.bigInt({ min: 1n, max: 10n ** 12n }),
      fc.integer({ min: 0, max: 12 }),
      fc.constantFrom(...currencies),
      fc.constantFrom(...currencies),
      (amountMinor, units, scale, fromCurrency, toCurrency) => {
        fc.pre(fromCurrency !== toCurrency);
        const rate = formatDecimal({ units, scale });
        const record = conversion(amountMinor, fromCurrency, toCurrency, rate);
        // The exact value as a fraction, worked out here rather than by the code under test.
        const parsed = parseRate(rate);
        const numerator = amountMinor * parsed.units * 10n ** BigInt(currencyExponent(toCurrency));
        const denominator = 10n ** BigInt(parsed.scale + currencyExponent(fromCurrency));
        expect(record.truncatedMinor).toBe(numerator / denominator);
        const twiceGap = 2n * (numerator - record.convertedMinor * denominator);
        expect(twiceGap <= denominator && twiceGap >= -denominator).toBe(true);
        if (twiceGap === denominator || twiceGap === -denominator) expect(record.convertedMinor % 2n).toBe(0n);
        expect(record.roundingMinor === 0n || record.roundingMinor === 1n).toBe(true);
        for (const [, total] of imbalanceByCurrency(fxLegs(record))) expect(total.debitsMinor).toBe(total.creditsMinor);
        expect(fxLegs(record).every((leg) => leg.amountMinor > 0n || record.convertedMinor === 0n)).toBe(true);
      },
    ), PROPERTY);
  });
});
