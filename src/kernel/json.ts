import { DaybookError } from './errors.ts';

/** Plain JSON values: what event data and metadata may hold (no bigint, no undefined at top level). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Serializes to JSON or fails with `validation_failed` naming the field. */
export function toJsonText(value: unknown, field: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new DaybookError('validation_failed', `${field} is not serializable to JSON: ${(error as Error).message}`, {}, field);
  }
  if (text === undefined) throw new DaybookError('validation_failed', `${field} must be a JSON value`, {}, field);
  return text;
}

/** JSON with object keys sorted: equal values give equal text, whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}
