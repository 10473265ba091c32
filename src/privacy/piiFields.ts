import { DaybookError } from '../kernel/index.ts';
import { ERASED_TEXT, erasedValue, isSealedValue, openValue, type PlainLeaf, type SealedValue, sealValue } from './piiEnvelope.ts';
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
  // Payment methods (`pmethod-<mode>.<pm_id>`), under their own subject: the cardholder's billing details and free-text metadata.
  // The card's brand, last four, expiry and fingerprint stay plain (not personal data on their own, and fraud rules read them).
  PaymentMethodCreated: ['billingDetails', 'metadata'],
  PaymentMethodUpdated: ['billingDetails', 'metadata'],
  // Payment intents (`pintent-<mode>.<pi_id>`), under their own subject: free text, the receipt email, the shipping name, phone and
  // address; their refunds' metadata and their disputes' evidence (the cardholder's name, email, addresses, IP) in the same stream.
  PaymentIntentCreated: ['description', 'metadata', 'receiptEmail', 'shipping'],
  PaymentIntentUpdated: ['description', 'metadata', 'receiptEmail', 'shipping'],
  RefundCreated: ['metadata'],
  DisputeUpdated: ['evidence', 'metadata'],
  DisputeEvidenceSubmitted: ['evidence', 'metadata'],
  // Payouts (`ppayout-<mode>.<po_id>`): the merchant's free text (its statement descriptor stays plain: it is the merchant's name).
  PayoutCreated: ['description', 'metadata'],
  PayoutUpdated: ['metadata'],
};

/**
 * Event types still written once their subject is erased, their personal
 * data written as the erased placeholders: an analyst must be able to close
 * the screening case of an erased customer (the hold on its money depends
 * on it), but the note is not kept. Any other type is refused
 * (`subject_already_erased`).
 */
export const WRITTEN_ERASED_AFTER_ERASURE: ReadonlySet<string> = new Set([
  'ScreeningCaseCleared', 'ScreeningCaseConfirmed',
  // Money keeps moving after an erasure: an erased payment's refunds, disputes and updates are written, their personal data as placeholders.
  'PaymentMethodUpdated', 'PaymentIntentUpdated', 'RefundCreated', 'DisputeUpdated', 'DisputeEvidenceSubmitted', 'PayoutUpdated',
]);

/**
 * Event types that link a payment method or intent to a customer (`customerId`):
 * once the customer is erased, none naming it is written (`subject_already_erased`),
 * so the objects an erasure found linked to it are all there are. (An erased
 * customer's payment intent is still captured, canceled, refunded and disputed;
 * it is updated only once it no longer names the customer.)
 */
export const CUSTOMER_LINKING_EVENTS: ReadonlySet<string> = new Set(['PaymentMethodCreated', 'PaymentMethodAttached', 'PaymentIntentCreated', 'PaymentIntentUpdated']);

/** The customer subject an event links its payment method or intent to (`pcustomer:<mode>:<cus_…>`), or null. */
export function linkedCustomerSubject(streamId: string, type: string, data: unknown): string | null {
  if (!CUSTOMER_LINKING_EVENTS.has(type) || typeof data !== 'object' || data === null) return null;
  const customerId = (data as { customerId?: unknown }).customerId;
  const match = /^(?:pmethod|pintent)-(test|live)\./.exec(streamId);
  return match === null || typeof customerId !== 'string' ? null : `pcustomer:${match[1]}:${customerId}`;
}

/** The subject and fields an event of this stream and type seals, or null when it carries no personal data. */
export function piiTarget(streamId: string, type: string): { subject: string; paths: readonly string[] } | null {
  const paths = PII_FIELDS[type];
  if (paths === undefined) return null;
  const subject = personalDataSubjectOfStream(streamId);
  return subject === null ? null : { subject, paths };
}

/** A copy of `data` with every leaf under `paths` sealed for `subject`. */
export function sealFields(data: unknown, paths: readonly string[], subject: string, key: Buffer): unknown {
  return mapPaths(data, paths, (value) => mapLeaves(value, (leaf) => (isSealedValue(leaf) && leaf.s === subject ? leaf : sealLeaf(key, subject, leaf))));
}

/** Seals a plain leaf; an envelope made for another subject is data to seal as a whole (its JSON). */
function sealLeaf(key: Buffer, subject: string, leaf: unknown): SealedValue {
  return sealValue(key, subject, isSealedValue(leaf) ? JSON.stringify(leaf) : leaf as PlainLeaf);
}

/** True when something under `paths` is a plain value still to seal (nulls and sealed values are not): without one, no key is needed. */
export function hasPlainFields(data: unknown, paths: readonly string[]): boolean {
  let found = false;
  mapPaths(data, paths, (value) => mapLeaves(value, (leaf) => {
    if (!isSealedValue(leaf)) found = true;
    return leaf;
  }));
  return found;
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
