/**
 * Covers the FX rule for journal entries over random amounts, rates and
 * currency pairs: the receiver gets the half-even rounding, the liquidity
 * account pays the truncation, the rounding account the 0 or 1 unit between,
 * and every currency balances.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { convertMinor, formatDecimal } from '../kernel/decimal.ts';
import type { Currency } from '../kernel/money.ts';
import { convertForEntry, fxLegs, imbalanceByCurrency } from './fx.ts';

const currencies: Currency[] = ['USD', 'EUR', 'JPY', 'BHD', 'KWD', 'KRW', 'CLF'];

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
        const record = convertForEntry({
          fromAccountId: 'a', toAccountId: 'b', amountMinor, fromCurrency, toCurrency, rate,
          liquidityFromAccountId: 'lf', liquidityToAccountId: 'lt', roundingAccountId: 'r',
        });
        expect(record.convertedMinor).toBe(convertMinor(amountMinor, fromCurrency, toCurrency, rate, 'half_even').amountMinor);
        expect(record.truncatedMinor).toBe(convertMinor(amountMinor, fromCurrency, toCurrency, rate, 'down').amountMinor);
        expect(record.roundingMinor === 0n || record.roundingMinor === 1n).toBe(true);
        for (const [, total] of imbalanceByCurrency(fxLegs(record))) expect(total.debitsMinor).toBe(total.creditsMinor);
        expect(fxLegs(record).every((leg) => leg.amountMinor > 0n || record.convertedMinor === 0n)).toBe(true);
      },
    ));
  });
});
