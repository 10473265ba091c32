import { DaybookError } from '../kernel/index.ts';
import { erasedValue, isSealedValue, openValue, type PlainLeaf, sealValue } from './piiEnvelope.ts';
import { subjectOfStream } from './subjects.ts';

/**
 * Which fields of which events hold personal data, by event type. Each
 * string, number and boolean under these paths is sealed on its own (see
 * piiEnvelope.ts); nulls stay null, so an erased record keeps its shape:
 * a value that was there reads `"[erased]"` (strings) or null (numbers,
 * booleans), a value that was null reads null. Events of other types, and
 * these types in streams without a subject, pass as they are.
 */
export const PII_FIELDS: Readonly<Record<string, readonly string[]>> = {
  // Banking customers (`customer-<id>`).
  CustomerRegistered: ['pii'],
  CustomerPiiUpdated: ['pii'],
  // Stripe-compatible customers (`pcustomer-<mode>.<id>`).
  StripeCustomerCreated: ['pii'],
  StripeCustomerUpdated: ['pii'],
  // Connected accounts (`paccount-<mode>.<id>`): the individual, and the IP that accepted the terms.
  AccountCreated: ['pii', 'profile.tosAcceptance.ip'],
  AccountUpdated: ['pii', 'profile.tosAcceptance.ip'],
  KycVerificationCompleted: ['checkedDob'],
};

/** The subject and fields an event of this stream and type seals, or null when it carries no personal data. */
export function piiTarget(streamId: string, type: string): { subject: string; paths: readonly string[] } | null {
  const paths = PII_FIELDS[type];
  if (paths === undefined) return null;
  const subject = subjectOfStream(streamId);
  return subject === null ? null : { subject, paths };
}

/** A copy of `data` with every leaf under `paths` sealed for `subject`. */
export function sealFields(data: unknown, paths: readonly string[], subject: string, key: Buffer): unknown {
  return mapPaths(data, paths, (value) => mapLeaves(value, (leaf) => (isSealedValue(leaf) ? leaf : sealValue(key, subject, leaf as PlainLeaf))));
}

/** True when something under `paths` is sealed (an event written before encryption has nothing sealed, and is read as it is). */
export function hasSealedFields(data: unknown, paths: readonly string[]): boolean {
  let found = false;
  mapPaths(data, paths, (value) => mapLeaves(value, (leaf) => {
    if (isSealedValue(leaf)) found = true;
    return leaf;
  }));
  return found;
}

/** A copy of `data` with its sealed leaves opened with `key`, or read as erased placeholders when the key is gone (null). */
export function openFields(data: unknown, paths: readonly string[], subject: string, key: Buffer | null): unknown {
  return mapPaths(data, paths, (value) => mapLeaves(value, (leaf) => {
    if (!isSealedValue(leaf)) return leaf;
    return key === null ? erasedValue(leaf) : openValue(key, subject, leaf);
  }));
}

function mapPaths(data: unknown, paths: readonly string[], map: (value: unknown) => unknown): unknown {
  let result = data;
  for (const path of paths) result = mapPath(result, path.split('.'), map);
  return result;
}

function mapPath(node: unknown, segments: readonly string[], map: (value: unknown) => unknown): unknown {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return node;
  const [head, ...rest] = segments;
  const record = node as Record<string, unknown>;
  if (!(head! in record)) return node;
  const next = rest.length === 0 ? map(record[head!]) : mapPath(record[head!], rest, map);
  return { ...record, [head!]: next };
}

/** Maps every non-null leaf (and every envelope, which is a leaf here); objects and arrays are copied. */
function mapLeaves(value: unknown, map: (leaf: unknown) => unknown): unknown {
  if (value === null || value === undefined) return value;
  if (isSealedValue(value)) return map(value);
  if (Array.isArray(value)) return value.map((item) => mapLeaves(item, map));
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, mapLeaves(item, map)]));
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return map(value);
  throw new DaybookError('integrity_violation', `personal data holds a ${typeof value}, which cannot be sealed`, {});
}
