/**
 * Covers money in minor units: the exponent table, strict parsing (rejected,
 * never rounded), formatting, and the largest-remainder split.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParameters } from '../../test/support/fastCheck.ts';
import { isDaybookError } from './errors.ts';
import {
  AMOUNT_MINOR_MAX, AMOUNT_TEXT_LENGTH_MAX, CURRENCY_EXPONENT, addMoney, currencyExponent, formatMinor, isCurrency,
  money, parseMinor, splitMinor, splitMoney, type Currency,
} from './money.ts';

const PROPERTY = propertyParameters(20_261_128);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (isDaybookError(error)) return error.code;
    throw error;
  }
  return undefined;
}

describe('the currency table', () => {
  it('has the ISO 4217 exponents', () => {
    expect([CURRENCY_EXPONENT.USD, CURRENCY_EXPONENT.EUR, CURRENCY_EXPONENT.GBP, CURRENCY_EXPONENT.CHF]).toEqual([2, 2, 2, 2]);
    expect([CURRENCY_EXPONENT.JPY, CURRENCY_EXPONENT.KRW, CURRENCY_EXPONENT.BHD, CURRENCY_EXPONENT.KWD]).toEqual([0, 0, 3, 3]);
    expect([CURRENCY_EXPONENT.CAD, CURRENCY_EXPONENT.AUD, CURRENCY_EXPONENT.SEK, CURRENCY_EXPONENT.NOK, CURRENCY_EXPONENT.DKK]).toEqual([2, 2, 2, 2, 2]);
  });
  it('knows currencies and refuses unknown ones', () => {
    expect(isCurrency('USD')).toBe(true);
    expect(isCurrency('usd')).toBe(false);
    expect(isCurrency('toString')).toBe(false);
    expect(codeOf(() => currencyExponent('XXX'))).toBe('validation_failed');
  });
});

describe('parseMinor', () => {
  it('parses exact decimals into minor units', () => {
    expect(parseMinor('12.34', 'USD')).toBe(1234n);
    expect(parseMinor('12.3', 'USD')).toBe(1230n);
    expect(parseMinor('12', 'USD')).toBe(1200n);
    expect(parseMinor('0.05', 'USD')).toBe(5n);
    expect(parseMinor('-0.05', 'USD')).toBe(-5n);
    expect(parseMinor('1234', 'JPY')).toBe(1234n);
    expect(parseMinor('1.234', 'BHD')).toBe(1234n);
  });
  it('rejects too many decimals instead of rounding', () => {
    expect(codeOf(() => parseMinor('12.345', 'USD'))).toBe('validation_failed');
    expect(codeOf(() => parseMinor('12.340', 'USD'))).toBe('validation_failed');
    expect(codeOf(() => parseMinor('12.0', 'JPY'))).toBe('validation_failed');
  });
  it('rejects floats, exponents and garbage', () => {
    for (const text of ['1e3', '1E-2', ' 1', '1 ', '+1', '.5', '5.', '01', '0x10', 'NaN', 'Infinity', '', '-', '1,00', '١']) {
      expect(codeOf(() => parseMinor(text, 'USD')), text).toBe('validation_failed');
    }
    expect(codeOf(() => parseMinor(12.34 as unknown as string, 'USD'))).toBe('validation_failed');
  });
  it('rejects unknown currencies', () => {
    expect(codeOf(() => parseMinor('1', 'XYZ' as Currency))).toBe('validation_failed');
  });
  it('accepts the largest amount and refuses past it', () => {
    expect(parseMinor(AMOUNT_MINOR_MAX.toString(), 'JPY')).toBe(AMOUNT_MINOR_MAX);
    expect(codeOf(() => parseMinor((AMOUNT_MINOR_MAX + 1n).toString(), 'JPY'))).toBe('limit_exceeded');
  });
  it('refuses text past its length bound', () => {
    expect(codeOf(() => parseMinor('1'.repeat(AMOUNT_TEXT_LENGTH_MAX + 1), 'JPY'))).toBe('limit_exceeded');
  });
  it('round-trips with formatMinor', () => {
    const currencies = Object.keys(CURRENCY_EXPONENT) as Currency[];
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.constantFrom(...currencies), (amount, currency) => {
      expect(parseMinor(formatMinor(amount, currency), currency)).toBe(amount);
    }), PROPERTY);
  });
});

describe('formatMinor', () => {
  it('formats with the currency exponent', () => {
    expect(formatMinor(1234n, 'USD')).toBe('12.34');
    expect(formatMinor(5n, 'USD')).toBe('0.05');
    expect(formatMinor(-5n, 'USD')).toBe('-0.05');
    expect(formatMinor(1234n, 'JPY')).toBe('1234');
    expect(formatMinor(1n, 'BHD')).toBe('0.001');
    expect(formatMinor(0n, 'EUR')).toBe('0.00');
  });
});

describe('money values', () => {
  it('builds and adds amounts of one currency', () => {
    expect(addMoney(money(1n, 'USD'), money(2n, 'USD'))).toEqual({ amountMinor: 3n, currency: 'USD' });
  });
  it('refuses to add different currencies or non-bigint amounts', () => {
    expect(codeOf(() => addMoney(money(1n, 'USD'), money(2n, 'EUR')))).toBe('validation_failed');
    expect(codeOf(() => money(1 as unknown as bigint, 'USD'))).toBe('validation_failed');
  });
});

describe('splitMinor', () => {
  it('gives left-over units to the largest remainders, ties to the earlier part', () => {
    expect(splitMinor(100n, [1n, 1n, 1n])).toEqual([34n, 33n, 33n]);
    expect(splitMinor(10n, [3n, 3n, 4n])).toEqual([3n, 3n, 4n]);
    expect(splitMinor(7n, [1n, 2n])).toEqual([2n, 5n]);
    expect(splitMinor(-100n, [1n, 1n, 1n])).toEqual([-34n, -33n, -33n]);
    expect(splitMoney(money(5n, 'JPY'), [1n, 1n])).toEqual([money(3n, 'JPY'), money(2n, 'JPY')]);
  });
  it('refuses empty, negative or all-zero weights', () => {
    expect(codeOf(() => splitMinor(1n, []))).toBe('validation_failed');
    expect(codeOf(() => splitMinor(1n, [-1n, 2n]))).toBe('validation_failed');
    expect(codeOf(() => splitMinor(1n, [0n, 0n]))).toBe('validation_failed');
  });
  it('always sums to the amount and stays within one unit of the exact share', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
      fc.array(fc.bigInt({ min: 0n, max: 1000n }), { minLength: 1, maxLength: 8 }).filter((ws) => ws.some((w) => w > 0n)),
      (amount, weights) => {
        const parts = splitMinor(amount, weights);
        expect(parts.reduce((a, b) => a + b, 0n)).toBe(amount);
        const total = weights.reduce((a, b) => a + b, 0n);
        parts.forEach((part, index) => {
          const exactTimesTotal = amount * (weights[index] ?? 0n);
          const gap = part * total - exactTimesTotal;
          expect(gap < total && gap > -total).toBe(true);
        });
      },
    ), PROPERTY);
  });
});
