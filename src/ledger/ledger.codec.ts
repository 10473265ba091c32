import { DaybookError, type Json } from '../kernel/index.ts';
import { LEDGER_EVENT_TYPES, type LedgerEvent, type LedgerEventType } from './ledger.events.ts';
import type { Balances } from './ledger.types.ts';

/**
 * Ledger events to and from JSON. JSON has no bigint: every amount is written
 * as an integer string and read back as a bigint. Which fields are amounts
 * follows from their names (units last): a key ending in `Minor`, and the
 * four balance totals. Metadata maps are copied as they are, whatever their
 * keys.
 *
 * @example
 * const stored = encodeLedgerEvent(event);         // { type, schemaVersion: 1, data: { amountMinor: '1234', … } }
 * decodeLedgerEvent(JSON.parse(JSON.stringify(stored))); // deep-equals `event`
 */
export const LEDGER_EVENT_SCHEMA_VERSION = 1;

export type EncodedLedgerEvent = { type: LedgerEventType; schemaVersion: number; data: Json };

const BALANCE_KEYS = new Set(['debitsPending', 'debitsPosted', 'creditsPending', 'creditsPosted']);
const OPAQUE_KEYS = new Set(['metadata']);
const INTEGER_TEXT = /^-?(0|[1-9][0-9]*)$/;

function isAmountKey(key: string): boolean {
  return key.endsWith('Minor') || BALANCE_KEYS.has(key);
}

export function encodeLedgerEvent(event: LedgerEvent): EncodedLedgerEvent {
  const data = event.type === 'TransferPosted' || event.type === 'PendingTransferCreated' ? encodeTransferMovement(event) : encodeValue(event.data, '');
  return { type: event.type, schemaVersion: LEDGER_EVENT_SCHEMA_VERSION, data };
}

/**
 * The two events of a new transfer, which are nearly every event of a busy
 * partition, written field by field: the same JSON as `encodeValue` gives
 * (same keys, same order; a unit test compares them), without its walk.
 */
function encodeTransferMovement(event: Extract<LedgerEvent, { type: 'TransferPosted' | 'PendingTransferCreated' }>): Json {
  const d = event.data;
  const r = d.request;
  const request: Record<string, Json> = {
    kind: r.kind, debitAccountId: r.debitAccountId, creditAccountId: r.creditAccountId, amountMinor: r.amountMinor.toString(), ledger: r.ledger,
    code: r.code, flags: { pending: r.flags.pending, linked: r.flags.linked, balancingDebit: r.flags.balancingDebit, balancingCredit: r.flags.balancingCredit },
    timeoutMs: r.timeoutMs, userData: r.userData, metadata: { ...r.metadata },
  };
  const data: Record<string, Json> = {
    transferId: d.transferId, debitAccountId: d.debitAccountId, creditAccountId: d.creditAccountId, ledger: d.ledger, currency: d.currency,
    request, amountMinor: d.amountMinor.toString(), debitBalances: encodeBalances(d.debitBalances), creditBalances: encodeBalances(d.creditBalances), atMs: d.atMs,
  };
  if (event.type === 'PendingTransferCreated') data.expiresAtMs = event.data.expiresAtMs;
  return data;
}

function encodeBalances(b: Balances): Json {
  return { debitsPending: b.debitsPending.toString(), debitsPosted: b.debitsPosted.toString(), creditsPending: b.creditsPending.toString(), creditsPosted: b.creditsPosted.toString() };
}

/**
 * Any ledger value (a record, a request, balances) to JSON by the same rule
 * as events: bigints as integer strings. Snapshots use it.
 */
export function encodeLedgerValue(value: unknown): Json {
  return encodeValue(value, '');
}

/** The inverse of `encodeLedgerValue`; a malformed amount is an `integrity_violation` naming `what`. */
export function decodeLedgerValue(value: unknown, what: string): unknown {
  return decodeValue(value, '', what);
}

/**
 * Hot: every event of every batch passes here before the store serializes it.
 * Plain loops instead of `Object.entries` and `map`, which allocate an array
 * per object and a closure per call; the output is the same.
 */
function encodeValue(value: unknown, key: string): Json {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value as Json;
  if (Array.isArray(value)) {
    const items: Json[] = new Array<Json>(value.length);
    for (let i = 0; i < value.length; i += 1) items[i] = encodeValue(value[i], key);
    return items;
  }
  if (OPAQUE_KEYS.has(key)) return { ...(value as Record<string, Json>) };
  const out: Record<string, Json> = {};
  const record = value as Record<string, unknown>;
  for (const name in record) {
    if (!Object.hasOwn(record, name)) continue;
    const item = record[name];
    if (item !== undefined) out[name] = encodeValue(item, name);
  }
  return out;
}

/** Reads an event written by `encodeLedgerEvent`; anything else is an `integrity_violation`. */
export function decodeLedgerEvent(stored: { type: string; data: unknown; schemaVersion?: number }): LedgerEvent {
  if (!(LEDGER_EVENT_TYPES as readonly string[]).includes(stored.type)) {
    throw new DaybookError('integrity_violation', `unknown ledger event type ${stored.type}`, { type: stored.type });
  }
  const version = stored.schemaVersion ?? LEDGER_EVENT_SCHEMA_VERSION;
  if (version !== LEDGER_EVENT_SCHEMA_VERSION) {
    throw new DaybookError('integrity_violation', `ledger event ${stored.type} has schema version ${version}; this code reads ${LEDGER_EVENT_SCHEMA_VERSION}`, {
      type: stored.type, schemaVersion: version,
    });
  }
  if (typeof stored.data !== 'object' || stored.data === null) {
    throw new DaybookError('integrity_violation', `ledger event ${stored.type} has no data object`, { type: stored.type });
  }
  return { type: stored.type, data: decodeValue(stored.data, '', stored.type) } as LedgerEvent;
}

function decodeValue(value: unknown, key: string, type: string): unknown {
  if (Array.isArray(value)) return value.map((item) => decodeValue(item, key, type));
  if (value !== null && typeof value === 'object') {
    if (OPAQUE_KEYS.has(key)) return { ...value };
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) out[name] = decodeValue(item, name, type);
    return out;
  }
  if (!isAmountKey(key) || value === null) return value;
  if (typeof value !== 'string' || !INTEGER_TEXT.test(value)) {
    throw new DaybookError('integrity_violation', `ledger event ${type}: ${key} is not an integer string`, { type, field: key });
  }
  return BigInt(value);
}
