import { AMOUNT_MINOR_MAX, isCurrency, type Currency } from '../kernel/money.ts';
import { rejection, type LedgerErrorCode, type LedgerRejection } from './ledger.errors.ts';
import {
  LEDGER_CODE_MAX, LEDGER_ID_LENGTH_MAX, LEDGER_ID_PATTERN, LEDGER_TIME_MS_MAX, METADATA_ENTRIES_MAX,
  METADATA_KEY_LENGTH_MAX, METADATA_VALUE_LENGTH_MAX, USER_DATA_LENGTH_MAX,
} from './ledger.limits.ts';
import type { Metadata } from './ledger.types.ts';

/**
 * Field checks for command bodies. A `Checks` keeps the first validation
 * failure and the first limit failure apart, so the answer follows the
 * precedence (validation before limits) whatever order the fields are read in.
 */
export type Validated<T> = { ok: true; value: T } | { ok: false; rejection: LedgerRejection };

export class Checks {
  private invalid: LedgerRejection | undefined;
  private exceeded: LedgerRejection | undefined;

  /** Records a validation-stage failure (`validation_failed` or a body rule such as `accounts_must_be_different`). */
  fail(code: LedgerErrorCode, message: string, param?: string, details: Record<string, unknown> = {}): void {
    this.invalid ??= rejection(code, message, details, param);
  }

  invalidField(param: string, message: string): void {
    this.fail('validation_failed', `${param} ${message}`, param);
  }

  tooLarge(param: string, message: string, limit: number | bigint): void {
    this.exceeded ??= rejection('limit_exceeded', `${param} ${message}`, { limit: limit.toString() }, param);
  }

  /** No validation-stage failure so far (limit failures do not count). */
  get valid(): boolean {
    return this.invalid === undefined;
  }

  /** The first failure by precedence, or the value built by `build`. */
  result<T>(build: () => T): Validated<T> {
    const first = this.invalid ?? this.exceeded;
    return first === undefined ? { ok: true, value: build() } : { ok: false, rejection: first };
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** A caller-chosen id: ASCII, bounded, usable in a stream name. */
export function checkId(checks: Checks, value: unknown, param: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    checks.invalidField(param, 'must be a non-empty string');
    return '';
  }
  if (!LEDGER_ID_PATTERN.test(value)) checks.invalidField(param, 'may hold only ASCII letters, digits and _ . : @ -, starting with a letter or digit');
  if (value.length > LEDGER_ID_LENGTH_MAX) checks.tooLarge(param, `is longer than ${LEDGER_ID_LENGTH_MAX} characters`, LEDGER_ID_LENGTH_MAX);
  return value;
}

/** An amount in minor units: a bigint, at least `minimum` (1 unless told), at most `AMOUNT_MINOR_MAX`. */
export function checkAmount(checks: Checks, value: unknown, param: string, minimum = 1n): bigint {
  if (typeof value !== 'bigint') {
    checks.invalidField(param, `must be a bigint of minor units, got ${typeof value}`);
    return 0n;
  }
  if (value < minimum) checks.invalidField(param, minimum === 1n ? 'must be greater than zero' : 'must not be negative');
  if (value > AMOUNT_MINOR_MAX) checks.tooLarge(param, 'is larger than the largest amount', AMOUNT_MINOR_MAX);
  return value;
}

export function checkTime(checks: Checks, value: unknown, param = 'atMs'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    checks.invalidField(param, 'must be a non-negative integer of milliseconds since the epoch');
    return 0;
  }
  if (value > LEDGER_TIME_MS_MAX) checks.tooLarge(param, 'is past the latest representable time', LEDGER_TIME_MS_MAX);
  return value;
}

export function checkCode(checks: Checks, value: unknown, param = 'code'): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > LEDGER_CODE_MAX) {
    checks.invalidField(param, `must be an integer from 0 to ${LEDGER_CODE_MAX}`);
    return 0;
  }
  return value;
}

export function checkCurrency(checks: Checks, value: unknown, param: string): Currency {
  if (!isCurrency(value)) {
    checks.invalidField(param, `must be an ISO 4217 currency code, got ${JSON.stringify(value)}`);
    return 'USD';
  }
  return value;
}

/** Optional boolean flags: absent ones are false; unknown names are refused. */
export function checkFlags<Name extends string>(checks: Checks, value: unknown, names: readonly Name[], param = 'flags'): Record<Name, boolean> {
  const flags = {} as Record<Name, boolean>;
  for (const name of names) flags[name] = false;
  if (value === undefined) return flags;
  if (!isPlainObject(value)) {
    checks.invalidField(param, 'must be an object of booleans');
    return flags;
  }
  for (const name in value) {
    const flag = value[name];
    if (!Object.hasOwn(flags, name)) checks.invalidField(`${param}.${name}`, 'is not a known flag');
    else if (flag !== undefined && typeof flag !== 'boolean') checks.invalidField(`${param}.${name}`, 'must be a boolean');
    else flags[name as Name] = flag === true;
  }
  return flags;
}

export function checkUserData(checks: Checks, value: unknown, param = 'userData'): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') {
    checks.invalidField(param, 'must be a string');
    return '';
  }
  if (value.length > USER_DATA_LENGTH_MAX) checks.tooLarge(param, `is longer than ${USER_DATA_LENGTH_MAX} characters`, USER_DATA_LENGTH_MAX);
  return value;
}

/** A string map, returned with its keys sorted so equal maps compare equal. */
export function checkMetadata(checks: Checks, value: unknown, param = 'metadata'): Metadata {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    checks.invalidField(param, 'must be an object of strings');
    return {};
  }
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, item] of entries) {
    if (key.length === 0) checks.invalidField(param, 'keys must not be empty');
    if (typeof item !== 'string') checks.invalidField(`${param}.${key.slice(0, 64)}`, 'must be a string');
    if (key.length > METADATA_KEY_LENGTH_MAX) checks.tooLarge(param, `has a key longer than ${METADATA_KEY_LENGTH_MAX}`, METADATA_KEY_LENGTH_MAX);
    if (typeof item === 'string' && item.length > METADATA_VALUE_LENGTH_MAX) {
      checks.tooLarge(`${param}.${key.slice(0, 64)}`, `is longer than ${METADATA_VALUE_LENGTH_MAX}`, METADATA_VALUE_LENGTH_MAX);
    }
  }
  if (entries.length > METADATA_ENTRIES_MAX) checks.tooLarge(param, `has more than ${METADATA_ENTRIES_MAX} entries`, METADATA_ENTRIES_MAX);
  return Object.fromEntries(entries) as Metadata;
}
