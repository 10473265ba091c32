import { DaybookError } from '../kernel/errors.ts';
import { AMOUNT_MINOR_MAX } from '../kernel/money.ts';
import { BANKING_ID_LENGTH_MAX } from './banking.limits.ts';

/**
 * Field checks for banking commands. A `FieldChecks` keeps the first
 * validation failure and the first limit failure apart and throws by
 * precedence (validation before limits), whatever order the fields are read
 * in. Deciders run these before any state check.
 */
export class FieldChecks {
  private invalid: DaybookError | undefined;
  private exceeded: DaybookError | undefined;

  invalidField(param: string, message: string): void {
    this.invalid ??= new DaybookError('validation_failed', `${param} ${message}`, {}, param);
  }

  /** A validation-stage failure with a code of its own (e.g. `accounts_must_be_different`). */
  fail(error: DaybookError): void {
    this.invalid ??= error;
  }

  tooLarge(param: string, message: string, limit: number | bigint): void {
    this.exceeded ??= new DaybookError('limit_exceeded', `${param} ${message}`, { limit: limit.toString() }, param);
  }

  get valid(): boolean {
    return this.invalid === undefined;
  }

  /** Throws the first failure by precedence, if any. */
  throwFirst(): void {
    const first = this.invalid ?? this.exceeded;
    if (first !== undefined) throw first;
  }
}

/** Ids: ASCII letters, digits and `_ . : @ -`, starting with a letter or digit, so they can name streams. */
export const BANKING_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/;

export function checkId(checks: FieldChecks, value: unknown, param: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    checks.invalidField(param, 'must be a non-empty string');
    return '';
  }
  if (!BANKING_ID_PATTERN.test(value)) checks.invalidField(param, 'may hold only ASCII letters, digits and _ . : @ -, starting with a letter or digit');
  if (value.length > BANKING_ID_LENGTH_MAX) checks.tooLarge(param, `is longer than ${BANKING_ID_LENGTH_MAX} characters`, BANKING_ID_LENGTH_MAX);
  return value;
}

/** An amount in minor units: a bigint, at least `minimum` (1 unless told), at most `AMOUNT_MINOR_MAX`. */
export function checkAmount(checks: FieldChecks, value: unknown, param: string, minimum = 1n): bigint {
  if (typeof value !== 'bigint') {
    checks.invalidField(param, `must be a bigint of minor units, got ${typeof value}`);
    return 0n;
  }
  if (value < minimum) checks.invalidField(param, minimum === 1n ? 'must be greater than zero' : 'must not be negative');
  if (value > AMOUNT_MINOR_MAX) checks.tooLarge(param, 'is larger than the largest amount', AMOUNT_MINOR_MAX);
  return value;
}

/** Free text: a string (empty allowed unless `required`), at most `max` characters. */
export function checkText(checks: FieldChecks, value: unknown, param: string, max: number, required = false): string {
  if (typeof value !== 'string') {
    checks.invalidField(param, 'must be a string');
    return '';
  }
  if (required && value.trim().length === 0) checks.invalidField(param, 'must not be empty');
  if (value.length > max) checks.tooLarge(param, `is longer than ${max} characters`, max);
  return value;
}

export function checkOneOf<T extends string>(checks: FieldChecks, list: readonly T[], value: unknown, param: string): T {
  if (typeof value !== 'string' || !(list as readonly string[]).includes(value)) {
    checks.invalidField(param, `must be one of ${list.join(', ')}`);
    return list[0] as T;
  }
  return value as T;
}

export function checkTime(checks: FieldChecks, value: unknown, param = 'atMs'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > 8_640_000_000_000_000) {
    checks.invalidField(param, 'must be a non-negative integer of milliseconds since the epoch');
    return 0;
  }
  return value;
}

export function checkBoolean(checks: FieldChecks, value: unknown, param: string): boolean {
  if (typeof value !== 'boolean') checks.invalidField(param, 'must be a boolean');
  return value === true;
}

/** ISO-8601 instant of a time in milliseconds (pure: no clock is read). */
export function isoAt(atMs: number): string {
  return new Date(atMs).toISOString();
}

/** The UTC calendar day (`YYYY-MM-DD`) of a time in milliseconds. */
export function utcDay(atMs: number): string {
  return isoAt(atMs).slice(0, 10);
}
