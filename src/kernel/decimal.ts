import { DaybookError } from './errors.ts';
import { currencyExponent, type Currency } from './money.ts';

/**
 * Exact decimal arithmetic for rates, with `bigint` only. A rate is a decimal
 * string (`'0.923456'`), never a float; a conversion names its rounding mode
 * and reports what rounding left over, exactly.
 *
 * @example
 * convertMinor(10_000n, 'USD', 'JPY', '151.2345');
 * // { amountMinor: 15123n, exactMinor: '15123.45', remainderMinor: '0.45', truncatedMinor: 15123n, … }
 */

/** A decimal number: `units / 10^scale`, for example 1.25 is `{ units: 125n, scale: 2 }`. */
export type Decimal = { readonly units: bigint; readonly scale: number };

/**
 * How a quotient becomes an integer. `half_even` (banker's rounding) is the
 * default for money: ties go to the even neighbour, so rounding errors do not
 * drift one way over many conversions.
 */
export type RoundingMode = 'half_even' | 'half_up' | 'down' | 'up' | 'floor' | 'ceiling';

export const ROUNDING_MODES: readonly RoundingMode[] = ['half_even', 'half_up', 'down', 'up', 'floor', 'ceiling'];

/** Most significant digits (integer and fraction) a rate may carry. */
export const RATE_DIGITS_MAX = 36;

const DECIMAL_PATTERN = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/** Parses a plain decimal string (no exponent, no `+`, no leading zeros). */
export function parseDecimal(text: string, field = 'decimal'): Decimal {
  if (typeof text !== 'string') {
    throw new DaybookError('validation_failed', `${field} must be a decimal string, got ${typeof text}`, {}, field);
  }
  const match = DECIMAL_PATTERN.exec(text);
  if (match === null) {
    throw new DaybookError('validation_failed', `${field} ${JSON.stringify(text.slice(0, 80))} is not a plain decimal`, {}, field);
  }
  const [, sign, whole = '0', fraction = ''] = match;
  if (whole.length + fraction.length > RATE_DIGITS_MAX) {
    throw new DaybookError('limit_exceeded', `${field} has more than ${RATE_DIGITS_MAX} digits`, { limit: RATE_DIGITS_MAX }, field);
  }
  const magnitude = BigInt(whole + fraction);
  return { units: sign === '-' ? -magnitude : magnitude, scale: fraction.length };
}

/** Parses an exchange rate: a decimal string strictly greater than zero. */
export function parseRate(text: string, field = 'rate'): Decimal {
  const rate = parseDecimal(text, field);
  if (rate.units <= 0n) throw new DaybookError('validation_failed', `${field} must be greater than zero, got ${text}`, {}, field);
  return rate;
}

/** Formats a decimal with the fewest digits: trailing fraction zeros are dropped. */
export function formatDecimal(value: Decimal): string {
  let { units, scale } = value;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale -= 1;
  }
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${whole}${scale > 0 ? `.${fraction}` : ''}`;
}

/** `numerator / denominator` rounded to an integer with `mode`; the denominator must be positive. */
export function divideRounded(numerator: bigint, denominator: bigint, mode: RoundingMode): bigint {
  if (denominator <= 0n) throw new DaybookError('validation_failed', 'denominator must be positive', {}, 'denominator');
  const truncated = numerator / denominator; // rounds toward zero
  const remainder = numerator % denominator; // same sign as the numerator
  if (remainder === 0n) return truncated;
  const away = numerator < 0n ? truncated - 1n : truncated + 1n;
  const twiceRemainder = 2n * (remainder < 0n ? -remainder : remainder);
  switch (mode) {
    case 'down': return truncated;
    case 'up': return away;
    case 'floor': return numerator < 0n ? away : truncated;
    case 'ceiling': return numerator < 0n ? truncated : away;
    case 'half_up': return twiceRemainder >= denominator ? away : truncated;
    case 'half_even':
      if (twiceRemainder > denominator) return away;
      if (twiceRemainder < denominator) return truncated;
      return truncated % 2n === 0n ? truncated : away;
    default: {
      const unknown: never = mode;
      throw new DaybookError('validation_failed', `unknown rounding mode ${String(unknown)}`, {}, 'rounding');
    }
  }
}

/** The result of converting an amount between currencies at an exact rate. */
export type Conversion = {
  /** The converted amount in the target's minor units, rounded with `rounding`. */
  readonly amountMinor: bigint;
  readonly currency: Currency;
  /** The converted amount rounded toward zero. */
  readonly truncatedMinor: bigint;
  /** The exact converted amount in target minor units, as a decimal string. */
  readonly exactMinor: string;
  /** `exactMinor - amountMinor`, exactly, as a decimal string (what rounding dropped or added). */
  readonly remainderMinor: string;
  /** The rate as read, normalised (no trailing fraction zeros). */
  readonly rate: string;
  readonly rounding: RoundingMode;
};

/**
 * Converts `amountMinor` of `fromCurrency` into `toCurrency` at `rate` (target
 * major units per source major unit), rounding to the target's minor unit with
 * `rounding` (half even unless told). Exact: the value before rounding is
 * `amountMinor × rate × 10^(e_to − e_from)`, a fraction over a power of ten,
 * computed in bigint.
 *
 * @example
 * convertMinor(1n, 'USD', 'EUR', '0.5');   // amountMinor 0n (0.5 ties to even 0), remainderMinor '0.5'
 * convertMinor(3n, 'USD', 'EUR', '0.5');   // amountMinor 2n (1.5 ties to even 2), remainderMinor '-0.5'
 */
export function convertMinor(
  amountMinor: bigint,
  fromCurrency: Currency,
  toCurrency: Currency,
  rate: string,
  rounding: RoundingMode = 'half_even',
): Conversion {
  if (typeof amountMinor !== 'bigint') {
    throw new DaybookError('validation_failed', `amountMinor must be a bigint, got ${typeof amountMinor}`, {}, 'amountMinor');
  }
  if (!ROUNDING_MODES.includes(rounding)) {
    throw new DaybookError('validation_failed', `unknown rounding mode ${String(rounding)}`, {}, 'rounding');
  }
  const fromExponent = currencyExponent(fromCurrency);
  const toExponent = currencyExponent(toCurrency);
  const parsedRate = parseRate(rate);
  // exact = amountMinor × units × 10^toExponent / 10^(scale + fromExponent)
  const scale = parsedRate.scale + fromExponent;
  const numerator = amountMinor * parsedRate.units * 10n ** BigInt(toExponent);
  const denominator = 10n ** BigInt(scale);
  const rounded = divideRounded(numerator, denominator, rounding);
  return {
    amountMinor: rounded,
    currency: toCurrency,
    truncatedMinor: divideRounded(numerator, denominator, 'down'),
    exactMinor: formatDecimal({ units: numerator, scale }),
    remainderMinor: formatDecimal({ units: numerator - rounded * denominator, scale }),
    rate: formatDecimal(parsedRate),
    rounding,
  };
}
