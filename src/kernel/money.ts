import { DaybookError } from './errors.ts';

/**
 * Money in integer minor units. No floating point touches an amount: amounts are
 * `bigint` in the core, strings of digits at the edges and in JSON.
 *
 * @example
 * parseMinor('12.34', 'USD');   // 1234n
 * parseMinor('12.345', 'USD');  // throws DaybookError('validation_failed'): rejected, not rounded
 * formatMinor(1234n, 'USD');    // '12.34'
 * splitMinor(100n, [1n, 1n, 1n]); // [34n, 33n, 33n]
 */

/**
 * ISO 4217 minor-unit exponents of the active currencies (the number of decimals
 * of the minor unit). Funds codes and precious metals are left out on purpose.
 */
export const CURRENCY_EXPONENT = {
  AED: 2, AFN: 2, ALL: 2, AMD: 2, AOA: 2, ARS: 2, AUD: 2, AWG: 2, AZN: 2,
  BAM: 2, BBD: 2, BDT: 2, BGN: 2, BHD: 3, BIF: 0, BMD: 2, BND: 2, BOB: 2, BRL: 2,
  BSD: 2, BTN: 2, BWP: 2, BYN: 2, BZD: 2, CAD: 2, CDF: 2, CHF: 2, CLF: 4, CLP: 0,
  CNY: 2, COP: 2, CRC: 2, CUP: 2, CVE: 2, CZK: 2, DJF: 0, DKK: 2, DOP: 2, DZD: 2,
  EGP: 2, ERN: 2, ETB: 2, EUR: 2, FJD: 2, FKP: 2, GBP: 2, GEL: 2, GHS: 2, GIP: 2,
  GMD: 2, GNF: 0, GTQ: 2, GYD: 2, HKD: 2, HNL: 2, HTG: 2, HUF: 2, IDR: 2, ILS: 2,
  INR: 2, IQD: 3, IRR: 2, ISK: 0, JMD: 2, JOD: 3, JPY: 0, KES: 2, KGS: 2, KHR: 2,
  KMF: 0, KPW: 2, KRW: 0, KWD: 3, KYD: 2, KZT: 2, LAK: 2, LBP: 2, LKR: 2, LRD: 2,
  LSL: 2, LYD: 3, MAD: 2, MDL: 2, MGA: 2, MKD: 2, MMK: 2, MNT: 2, MOP: 2, MRU: 2,
  MUR: 2, MVR: 2, MWK: 2, MXN: 2, MYR: 2, MZN: 2, NAD: 2, NGN: 2, NIO: 2, NOK: 2,
  NPR: 2, NZD: 2, OMR: 3, PAB: 2, PEN: 2, PGK: 2, PHP: 2, PKR: 2, PLN: 2, PYG: 0,
  QAR: 2, RON: 2, RSD: 2, RUB: 2, RWF: 0, SAR: 2, SBD: 2, SCR: 2, SDG: 2, SEK: 2,
  SGD: 2, SHP: 2, SLE: 2, SOS: 2, SRD: 2, SSP: 2, STN: 2, SVC: 2, SYP: 2, SZL: 2,
  THB: 2, TJS: 2, TMT: 2, TND: 3, TOP: 2, TRY: 2, TTD: 2, TWD: 2, TZS: 2, UAH: 2,
  UGX: 0, USD: 2, UYI: 0, UYU: 2, UYW: 4, UZS: 2, VED: 2, VES: 2, VND: 0, VUV: 0,
  WST: 2, XAF: 0, XCD: 2, XCG: 2, XOF: 0, XPF: 0, YER: 2, ZAR: 2, ZMW: 2, ZWG: 2,
} as const;

export type Currency = keyof typeof CURRENCY_EXPONENT;

export type Money = { readonly amountMinor: bigint; readonly currency: Currency };

/**
 * Largest amount, in minor units, that a single movement or balance may hold:
 * the range of an unsigned 128-bit integer, as in TigerBeetle, so amounts fit
 * NUMERIC(39) columns and u128 wire formats.
 */
export const AMOUNT_MINOR_MAX = (1n << 128n) - 1n;

/** Longest decimal amount text `parseMinor` reads (sign, digits and point). */
export const AMOUNT_TEXT_LENGTH_MAX = 64;

const AMOUNT_PATTERN = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

export function isCurrency(value: unknown): value is Currency {
  return typeof value === 'string' && Object.hasOwn(CURRENCY_EXPONENT, value);
}

/** The minor-unit exponent of a currency; fails with `validation_failed` for an unknown code. */
export function currencyExponent(currency: string): number {
  if (!isCurrency(currency)) {
    throw new DaybookError('validation_failed', `unknown currency ${JSON.stringify(currency)}`, { currency }, 'currency');
  }
  return CURRENCY_EXPONENT[currency];
}

/**
 * Parses a decimal amount in major units into minor units, exactly. Accepts an
 * optional leading `-`, digits without leading zeros, and at most as many
 * decimals as the currency's exponent (`'12.340'` is refused for USD: the
 * caller gave three decimals). Refuses, with `validation_failed`, numbers,
 * exponents, spaces, `+`, `.5`, `5.` and anything else; past
 * `AMOUNT_TEXT_LENGTH_MAX` characters or `AMOUNT_MINOR_MAX`, `limit_exceeded`.
 */
export function parseMinor(text: string, currency: Currency, field = 'amount'): bigint {
  const exponent = currencyExponent(currency);
  if (typeof text !== 'string') {
    throw new DaybookError('validation_failed', `${field} must be a decimal string, got ${typeof text}`, {}, field);
  }
  const match = AMOUNT_PATTERN.exec(text);
  if (match === null) {
    throw new DaybookError('validation_failed', `${field} ${JSON.stringify(text.slice(0, 80))} is not a plain decimal amount`, {}, field);
  }
  if (text.length > AMOUNT_TEXT_LENGTH_MAX) {
    throw new DaybookError('limit_exceeded', `${field} has ${text.length} characters, more than ${AMOUNT_TEXT_LENGTH_MAX}`, { limit: AMOUNT_TEXT_LENGTH_MAX }, field);
  }
  const [, sign, whole = '0', fraction = ''] = match;
  if (fraction.length > exponent) {
    throw new DaybookError(
      'validation_failed',
      `${field} ${text} has ${fraction.length} decimals; ${currency} allows ${exponent}`,
      { decimals: fraction.length, exponent, currency },
      field,
    );
  }
  const magnitude = BigInt(whole + fraction.padEnd(exponent, '0'));
  if (magnitude > AMOUNT_MINOR_MAX) {
    throw new DaybookError('limit_exceeded', `${field} ${text} is larger than the largest amount`, { limit: AMOUNT_MINOR_MAX.toString() }, field);
  }
  return sign === '-' ? -magnitude : magnitude;
}

/** Formats minor units as a decimal in major units: `formatMinor(-5n, 'USD')` is `'-0.05'`. */
export function formatMinor(amountMinor: bigint, currency: Currency): string {
  const exponent = currencyExponent(currency);
  const negative = amountMinor < 0n;
  const digits = (negative ? -amountMinor : amountMinor).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  return `${negative ? '-' : ''}${whole}${exponent > 0 ? `.${fraction}` : ''}`;
}

/** Builds a `Money`, checking that the amount is a bigint and the currency known. */
export function money(amountMinor: bigint, currency: Currency): Money {
  if (typeof amountMinor !== 'bigint') {
    throw new DaybookError('validation_failed', `amountMinor must be a bigint, got ${typeof amountMinor}`, {}, 'amountMinor');
  }
  currencyExponent(currency);
  return { amountMinor, currency };
}

/** Adds two amounts of one currency; adding different currencies is a programmer error. */
export function addMoney(a: Money, b: Money): Money {
  if (a.currency !== b.currency) {
    throw new DaybookError('validation_failed', `cannot add ${a.currency} and ${b.currency}`, { left: a.currency, right: b.currency });
  }
  return { amountMinor: a.amountMinor + b.amountMinor, currency: a.currency };
}

/**
 * Splits an amount into parts proportional to `weights` with the largest
 * remainder method: each part gets the floor of its exact share, then the
 * units left over go one each to the parts with the largest remainders, ties
 * to the earlier part. The parts always sum to the amount. A negative amount
 * is split as its magnitude, then negated.
 */
export function splitMinor(amountMinor: bigint, weights: readonly bigint[]): bigint[] {
  if (weights.length === 0) throw new DaybookError('validation_failed', 'a split needs at least one weight', {}, 'weights');
  let total = 0n;
  for (const weight of weights) {
    if (typeof weight !== 'bigint' || weight < 0n) {
      throw new DaybookError('validation_failed', 'split weights must be non-negative bigints', {}, 'weights');
    }
    total += weight;
  }
  if (total === 0n) throw new DaybookError('validation_failed', 'split weights must not all be zero', {}, 'weights');
  const negative = amountMinor < 0n;
  const magnitude = negative ? -amountMinor : amountMinor;
  const parts = weights.map((weight) => (magnitude * weight) / total);
  const remainders = weights.map((weight, index) => ({ index, remainder: (magnitude * weight) % total }));
  let leftOver = magnitude - parts.reduce((sum, part) => sum + part, 0n);
  remainders.sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  for (const { index } of remainders) {
    if (leftOver === 0n) break;
    parts[index] = (parts[index] ?? 0n) + 1n;
    leftOver -= 1n;
  }
  return negative ? parts.map((part) => -part) : parts;
}

/** Splits a `Money` like `splitMinor`, keeping the currency. */
export function splitMoney(amount: Money, weights: readonly bigint[]): Money[] {
  return splitMinor(amount.amountMinor, weights).map((amountMinor) => ({ amountMinor, currency: amount.currency }));
}
