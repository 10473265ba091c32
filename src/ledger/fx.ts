import { assert } from '../kernel/index.ts';
import { convertMinor } from '../kernel/decimal.ts';
import type { FxConversionRecord, FxConversionRequest, Posting } from './ledger.types.ts';

/**
 * FX inside a journal entry. The rule, documented once: the exact converted
 * value is rounded half even to the target's minor unit; that is what the
 * receiving account gets. The target-currency liquidity account pays the
 * value rounded toward zero, and the FX-rounding account pays the difference
 * (0 or 1 minor unit), so each currency balances and the rounding account's
 * balance is the total cost of rounding. The sub-unit remainder is kept,
 * exactly, in the record.
 *
 * @example
 * // 100.00 USD at 0.923456 EUR/USD: exact 9234.56 cents → customer gets 92.35 EUR,
 * // the EUR liquidity account pays 92.34, the rounding account 0.01.
 */
export function convertForEntry(request: FxConversionRequest): FxConversionRecord {
  const conversion = convertMinor(request.amountMinor, request.fromCurrency, request.toCurrency, request.rate, 'half_even');
  const roundingMinor = conversion.amountMinor - conversion.truncatedMinor;
  assert(roundingMinor === 0n || roundingMinor === 1n, 'half-even rounding of a positive amount adds 0 or 1 unit to the truncation');
  return {
    ...request,
    convertedMinor: conversion.amountMinor,
    truncatedMinor: conversion.truncatedMinor,
    roundingMinor,
    convertedExact: conversion.exactMinor,
    roundingRemainder: conversion.remainderMinor,
  };
}

/** The legs of one conversion: two in the source currency, two or three in the target. */
export function fxLegs(record: FxConversionRecord): Posting[] {
  const { fromCurrency, toCurrency } = record;
  const legs: Posting[] = [
    { accountId: record.fromAccountId, side: 'debit', amountMinor: record.amountMinor, currency: fromCurrency },
    { accountId: record.liquidityFromAccountId, side: 'credit', amountMinor: record.amountMinor, currency: fromCurrency },
  ];
  if (record.truncatedMinor > 0n) {
    legs.push({ accountId: record.liquidityToAccountId, side: 'debit', amountMinor: record.truncatedMinor, currency: toCurrency });
  }
  if (record.roundingMinor > 0n) {
    legs.push({ accountId: record.roundingAccountId, side: 'debit', amountMinor: record.roundingMinor, currency: toCurrency });
  }
  legs.push({ accountId: record.toAccountId, side: 'credit', amountMinor: record.convertedMinor, currency: toCurrency });
  return legs;
}

/** Debits minus credits per currency; a balanced set of legs gives only zeros. */
export function imbalanceByCurrency(legs: readonly Posting[]): Map<string, { debitsMinor: bigint; creditsMinor: bigint }> {
  const totals = new Map<string, { debitsMinor: bigint; creditsMinor: bigint }>();
  for (const leg of legs) {
    const total = totals.get(leg.currency) ?? { debitsMinor: 0n, creditsMinor: 0n };
    if (leg.side === 'debit') total.debitsMinor += leg.amountMinor;
    else total.creditsMinor += leg.amountMinor;
    totals.set(leg.currency, total);
  }
  return totals;
}

/** Asserts, when an entry is built, that its legs balance per currency. */
export function assertBalanced(legs: readonly Posting[], what: string): void {
  for (const [currency, total] of imbalanceByCurrency(legs)) {
    assert(total.debitsMinor === total.creditsMinor, `${what}: ${currency} debits ${total.debitsMinor} differ from credits ${total.creditsMinor}`);
  }
}
