/**
 * Rules every payment object shares (pure): supported currencies and their
 * minimum amounts, amount bounds, metadata limits and Stripe's metadata
 * patch semantics (an empty value unsets a key).
 */
import { DaybookError } from '../../kernel/errors.ts';
import {
  PAYMENT_AMOUNT_MINOR_MAX, PAYMENT_METADATA_KEY_LENGTH_MAX, PAYMENT_METADATA_KEYS_MAX, PAYMENT_METADATA_VALUE_LENGTH_MAX,
} from '../../kernel/limits.ts';

/** Lowercase ISO codes, as on Stripe's wire, with the smallest amount a charge may have (Stripe's documented minimums). */
export const PAYMENT_CURRENCY_MINIMUMS = {
  usd: 50n, eur: 50n, gbp: 30n, cad: 50n, aud: 50n, chf: 50n, jpy: 50n,
} as const;
export type PaymentCurrency = keyof typeof PAYMENT_CURRENCY_MINIMUMS;
export const PAYMENT_CURRENCIES = Object.keys(PAYMENT_CURRENCY_MINIMUMS) as PaymentCurrency[];

/** Stripe's string map on every object. */
export type Metadata = Readonly<Record<string, string>>;
/** A change to metadata: keys with '' are unset; null unsets every key. */
export type MetadataPatch = Readonly<Record<string, string>> | null;

export function isPaymentCurrency(value: unknown): value is PaymentCurrency {
  return typeof value === 'string' && Object.hasOwn(PAYMENT_CURRENCY_MINIMUMS, value);
}

/** Refuses currencies outside the supported list, naming them (Stripe's wording). */
export function checkCurrency(value: string): PaymentCurrency {
  if (!isPaymentCurrency(value)) {
    throw new DaybookError('validation_failed', `Invalid currency: ${value}. Daybook supports these currencies: ${PAYMENT_CURRENCIES.join(', ')}`, { currency: value }, 'currency');
  }
  return value;
}

/** A charge amount: positive, at least the currency's minimum, at most PAYMENT_AMOUNT_MINOR_MAX. */
export function checkChargeAmount(amountMinor: bigint, currency: PaymentCurrency, param = 'amount'): bigint {
  if (amountMinor < 1n) throw new DaybookError('validation_failed', `Invalid ${param}: must be a positive integer`, {}, param);
  const minimum = PAYMENT_CURRENCY_MINIMUMS[currency];
  if (amountMinor < minimum) {
    throw new DaybookError('amount_too_small', `Amount must be at least ${minimum.toString()} ${currency} (minor units)`, { minimumMinor: minimum.toString() }, param);
  }
  if (amountMinor > PAYMENT_AMOUNT_MINOR_MAX) {
    throw new DaybookError('amount_too_large', `Amount must be no more than ${PAYMENT_AMOUNT_MINOR_MAX.toString()} ${currency} (minor units)`, {}, param);
  }
  return amountMinor;
}

/** The metadata after a patch, checked against Stripe's limits (50 keys, keys ≤ 40, values ≤ 500 characters). */
export function applyMetadataPatch(current: Metadata, patch: MetadataPatch | undefined): Metadata {
  if (patch === undefined) return current;
  if (patch === null) return {};
  const next: Record<string, string> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (key.length === 0 || key.length > PAYMENT_METADATA_KEY_LENGTH_MAX) {
      throw new DaybookError('validation_failed', `Invalid metadata key ${JSON.stringify(key)}: keys have 1 to ${PAYMENT_METADATA_KEY_LENGTH_MAX} characters`, {}, `metadata[${key}]`);
    }
    if (value.length > PAYMENT_METADATA_VALUE_LENGTH_MAX) {
      throw new DaybookError('validation_failed', `Invalid metadata[${key}]: values have at most ${PAYMENT_METADATA_VALUE_LENGTH_MAX} characters`, {}, `metadata[${key}]`);
    }
    if (value === '') delete next[key];
    else next[key] = value;
  }
  if (Object.keys(next).length > PAYMENT_METADATA_KEYS_MAX) {
    throw new DaybookError('limit_exceeded', `Metadata may have at most ${PAYMENT_METADATA_KEYS_MAX} keys`, { max: PAYMENT_METADATA_KEYS_MAX }, 'metadata');
  }
  return next;
}

/** Seconds since the epoch (Stripe's `created`), from milliseconds. */
export function secondsOf(atMs: number): number {
  return Math.floor(atMs / 1000);
}
