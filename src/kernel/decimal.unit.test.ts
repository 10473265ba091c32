/**
 * Covers exact decimal rates: parsing, every rounding mode at and around ties,
 * and currency conversion with its exact remainder.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RATE_DIGITS_MAX, convertMinor, divideRounded, formatDecimal, parseDecimal, parseRate, type RoundingMode } from './decimal.ts';
import { propertyParameters } from '../../test/support/fastCheck.ts';
import { isDaybookError } from './errors.ts';

const PROPERTY = propertyParameters(20_261_127);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (isDaybookError(error)) return error.code;
    throw error;
  }
  return undefined;
}

describe('parseDecimal and parseRate', () => {
  it('reads plain decimals exactly', () => {
    expect(parseDecimal('0.923456')).toEqual({ units: 923456n, scale: 6 });
    expect(parseDecimal('-1.50')).toEqual({ units: -150n, scale: 2 });
    expect(formatDecimal(parseDecimal('151.2300'))).toBe('151.23');
    expect(formatDecimal({ units: -5n, scale: 3 })).toBe('-0.005');
  });
  it('rejects floats, exponents and garbage', () => {
    for (const text of ['1e-3', '.5', '5.', '+1', '01.5', ' 1', 'abc', '']) expect(codeOf(() => parseDecimal(text)), text).toBe('validation_failed');
    expect(codeOf(() => parseDecimal(0.5 as unknown as string))).toBe('validation_failed');
  });
  it('refuses rates that are not positive', () => {
    expect(codeOf(() => parseRate('0'))).toBe('validation_failed');
    expect(codeOf(() => parseRate('-1.2'))).toBe('validation_failed');
  });
  it('bounds the digits of a rate', () => {
    expect(parseRate(`0.${'1'.repeat(RATE_DIGITS_MAX - 1)}`).scale).toBe(RATE_DIGITS_MAX - 1);
    expect(codeOf(() => parseRate(`0.${'1'.repeat(RATE_DIGITS_MAX)}`))).toBe('limit_exceeded');
  });
});

describe('divideRounded', () => {
  const table: Array<[bigint, RoundingMode, bigint]> = [
    [25n, 'half_even', 2n], [35n, 'half_even', 4n], [-25n, 'half_even', -2n], [26n, 'half_even', 3n], [24n, 'half_even', 2n],
    [25n, 'half_up', 3n], [-25n, 'half_up', -3n], [24n, 'half_up', 2n],
    [29n, 'down', 2n], [-29n, 'down', -2n], [21n, 'up', 3n], [-21n, 'up', -3n],
    [29n, 'floor', 2n], [-21n, 'floor', -3n], [21n, 'ceiling', 3n], [-29n, 'ceiling', -2n], [30n, 'half_even', 3n],
  ];
  it.each(table)('%s / 10 with %s is %s', (numerator, mode, expected) => {
    expect(divideRounded(numerator, 10n, mode)).toBe(expected);
  });
  it('stays within half a unit of the exact quotient when rounding half even', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }), fc.bigInt({ min: 1n, max: 10n ** 12n }), (n, d) => {
      const q = divideRounded(n, d, 'half_even');
      const gap = 2n * (n - q * d);
      expect(gap <= d && gap >= -d).toBe(true);
    }), PROPERTY);
  });
  it('refuses a zero denominator', () => {
    expect(codeOf(() => divideRounded(1n, 0n, 'half_even'))).toBe('validation_failed');
  });
});

describe('convertMinor', () => {
  it('converts between exponents and reports the exact remainder', () => {
    expect(convertMinor(10_000n, 'USD', 'JPY', '151.2345')).toEqual({
      amountMinor: 15123n, currency: 'JPY', truncatedMinor: 15123n, exactMinor: '15123.45', remainderMinor: '0.45', rate: '151.2345', rounding: 'half_even',
    });
    expect(convertMinor(1000n, 'JPY', 'BHD', '0.0025')).toMatchObject({ amountMinor: 2500n, exactMinor: '2500', remainderMinor: '0' });
  });
  it('rounds ties half even by default', () => {
    expect(convertMinor(1n, 'USD', 'EUR', '0.5')).toMatchObject({ amountMinor: 0n, remainderMinor: '0.5', truncatedMinor: 0n });
    expect(convertMinor(3n, 'USD', 'EUR', '0.5')).toMatchObject({ amountMinor: 2n, remainderMinor: '-0.5', truncatedMinor: 1n });
    expect(convertMinor(3n, 'USD', 'EUR', '0.5', 'down')).toMatchObject({ amountMinor: 1n, remainderMinor: '0.5' });
    // Negative amounts: -1.5 ties to -2 (even, away from zero), -2.5 to -2 (even, toward zero).
    expect(convertMinor(-3n, 'USD', 'EUR', '0.5')).toMatchObject({ amountMinor: -2n, exactMinor: '-1.5', remainderMinor: '0.5', truncatedMinor: -1n });
    expect(convertMinor(-5n, 'USD', 'EUR', '0.5')).toMatchObject({ amountMinor: -2n, exactMinor: '-2.5', remainderMinor: '-0.5', truncatedMinor: -2n });
  });
  it('refuses bad rates, currencies, rounding modes and amounts', () => {
    expect(codeOf(() => convertMinor(1n, 'USD', 'EUR', '1e2'))).toBe('validation_failed');
    expect(codeOf(() => convertMinor(1n, 'USD', 'EUR', '0'))).toBe('validation_failed');
    expect(codeOf(() => convertMinor(1n, 'USD', 'EUR', '1', 'banker' as RoundingMode))).toBe('validation_failed');
    expect(codeOf(() => convertMinor(1n, 'USD', 'ABC' as 'EUR', '1'))).toBe('validation_failed');
    expect(codeOf(() => convertMinor(1 as unknown as bigint, 'USD', 'EUR', '1'))).toBe('validation_failed');
  });
  it('always has rounded + remainder equal to the exact value', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 0n, max: 10n ** 15n }),
      fc.bigInt({ min: 1n, max: 10n ** 9n }),
      fc.integer({ min: 0, max: 8 }),
      (amount, units, scale) => {
        const rate = formatDecimal({ units, scale });
        const result = convertMinor(amount, 'USD', 'BHD', rate);
        const exact = parseDecimal(result.exactMinor);
        const remainder = parseDecimal(result.remainderMinor);
        const common = Math.max(exact.scale, remainder.scale);
        const lift = (d: { units: bigint; scale: number }) => d.units * 10n ** BigInt(common - d.scale);
        expect(result.amountMinor * 10n ** BigInt(common) + lift(remainder)).toBe(lift(exact));
      },
    ), PROPERTY);
  });
});
