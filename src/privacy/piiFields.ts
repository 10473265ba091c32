import { DaybookError } from '../kernel/index.ts';
import { ERASED_TEXT, erasedValue, isSealedValue, openValue, type PlainLeaf, sealValue } from './piiEnvelope.ts';
import { personalDataSubjectOfStream } from './subjects.ts';

/**
 * Which fields of which events hold personal data, by event type. Each
 * string, number and boolean under these paths is sealed on its own (see
 * piiEnvelope.ts); nulls stay null, so an erased record keeps its shape:
 * a value that was there reads `"[erased]"` (strings) or null (numbers,
 * booleans), a value that was null reads null. Events of other types, and
 * these types in streams without a subject, pass as they are. A path
 * crosses arrays (`hits.name` is the name of every hit).
 */
export const PII_FIELDS: Readonly<Record<string, readonly string[]>> = {
  // Banking customers (`customer-<id>`).
  CustomerRegistered: ['pii'],
  CustomerPiiUpdated: ['pii'],
  // Stripe-compatible customers (`pcustomer-<mode>.<id>`): description and metadata are free text a merchant fills with personal data.
  StripeCustomerCreated: ['pii', 'description', 'metadata'],
  StripeCustomerUpdated: ['pii', 'description', 'metadata'],
  // Connected accounts (`paccount-<mode>.<id>`): the individual, the IP that accepted the terms, and free-text metadata.
  AccountCreated: ['pii', 'profile.tosAcceptance.ip', 'metadata'],
  AccountUpdated: ['pii', 'profile.tosAcceptance.ip', 'metadata'],
  KycVerificationCompleted: ['checkedDob'],
  // Sanctions screening cases of customers (`screening-<mode>.customer.<id>@…`), under the screened customer's key:
  // the name screened, the listed names it matched (a close match spells the customer's name), the analyst's note.
  SanctionsHitRecorded: ['screenedName', 'hits.name', 'hits.matchedName'],
  ScreeningCaseCleared: ['note'],
  ScreeningCaseConfirmed: ['note'],
};

/**
 * Event types still written once their subject is erased, their personal
 * data written as the erased placeholders: an analyst must be able to close
 * the screening case of an erased customer (the hold on its money depends
 * on it), but the note is not kept. Any other type is refused
 * (`subject_already_erased`).
 */
export const WRITTEN_ERASED_AFTER_ERASURE: ReadonlySet<string> = new Set(['ScreeningCaseCleared', 'ScreeningCaseConfirmed']);

/** The subject and fields an event of this stream and type seals, or null when it carries no personal data. */
export function piiTarget(streamId: string, type: string): { subject: string; paths: readonly string[] } | null {
  const paths = PII_FIELDS[type];
  if (paths === undefined) return null;
  const subject = personalDataSubjectOfStream(streamId);
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

/** A copy of `data` with every plain leaf under `paths` replaced by its erased placeholder (what it would read as once sealed and erased). */
export function eraseFields(data: unknown, paths: readonly string[]): unknown {
  return mapPaths(data, paths, (value) => mapLeaves(value, (leaf) => (isSealedValue(leaf) ? erasedValue(leaf) : typeof leaf === 'string' ? ERASED_TEXT : null)));
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
  if (Array.isArray(node)) return node.map((item) => mapPath(item, segments, map));
  if (typeof node !== 'object' || node === null) return node;
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
