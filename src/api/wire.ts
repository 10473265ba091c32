import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { EventMetadata } from '../eventstore/index.ts';
import { DaybookError, isDaybookError, PAGE_SIZE_MAX } from '../kernel/index.ts';
import { LEDGER_ID_LENGTH_MAX, LEDGER_ID_PATTERN, type LedgerRejection, type Balances, METADATA_KEY_LENGTH_MAX } from '../ledger/index.ts';
import { authOf } from './security.ts';

/**
 * The JSON wire format of Daybook's own API: snake_case fields, amounts as
 * integer strings of minor units in answers (JSON numbers lose precision past
 * 2^53); requests may also give an amount as a JSON integer up to 2^53 - 1,
 * times as ISO 8601, lists as `{object: 'list', data, has_more}` with a
 * `starting_after` cursor, as Stripe does.
 */
export const amountWire = z.string()
  .regex(/^(0|[1-9][0-9]{0,38})$/, 'must be a non-negative integer string of minor units, e.g. "1050"')
  .meta({ description: 'Integer string of minor units ("1050" is 10.50 USD).', example: '1050' });

/**
 * An amount in a request: an integer string of minor units, or a JSON
 * integer up to 2^53 - 1 (past that a JSON number has already lost digits
 * when it is parsed, so it is refused: send a string). Fractions, negatives
 * and exponents that leave an integer beyond the bound are refused too.
 */
const AMOUNT_INPUT_MESSAGE = 'must be a non-negative integer of minor units: a string such as "1050", or a JSON integer up to 9007199254740991 (send larger amounts as strings)';
export const amountInputWire = z.union([
  amountWire,
  z.number({ error: AMOUNT_INPUT_MESSAGE }).int({ error: AMOUNT_INPUT_MESSAGE }).min(0, { error: AMOUNT_INPUT_MESSAGE }).max(Number.MAX_SAFE_INTEGER, { error: AMOUNT_INPUT_MESSAGE }),
], { error: AMOUNT_INPUT_MESSAGE })
  .meta({ description: 'Minor units: an integer string ("1050" is 10.50 USD), or a JSON integer up to 2^53 - 1.', example: '1050' });

export const idWire = z.string().min(1).max(LEDGER_ID_LENGTH_MAX)
  .regex(LEDGER_ID_PATTERN, 'may hold only ASCII letters, digits and _ . : @ -, starting with a letter or digit');

export const currencyWire = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD').meta({ example: 'USD' });

/** Bounds (entries, key and value lengths) are the ledger's, answered with limit_exceeded. */
export const metadataWire = z.record(z.string(), z.string()).meta({ description: 'String map for your own use.' });

export const codeWire = z.number().int().min(0).max(65_535);

export const userDataWire = z.string();

export const listQueryWire = z.strictObject({
  limit: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).default(10).meta({ description: `1 to ${PAGE_SIZE_MAX}, default 10.` }),
  starting_after: idWire.optional().meta({ description: 'The id of the last object of the previous page: the page after it.' }),
  ending_before: idWire.optional().meta({ description: 'The id of the first object of the next page: the page before it (in the same order). Not with starting_after.' }),
});

/** Where a page starts: after an object, before one, or at the beginning; `param` names the query parameter the cursor came from. */
export type PageCursor =
  | { after: string; before?: undefined; param: 'starting_after' }
  | { before: string; after?: undefined; param: 'ending_before' }
  | { after?: undefined; before?: undefined; param: null };

/** The cursor of a list query (Stripe's `starting_after` / `ending_before`, one at most). */
export function cursorOf(query: { starting_after?: string; ending_before?: string }): PageCursor {
  if (query.starting_after !== undefined && query.ending_before !== undefined) {
    throw new DaybookError('validation_failed', 'You may only specify one of these parameters: starting_after, ending_before.', {}, 'ending_before');
  }
  if (query.starting_after !== undefined) return { after: query.starting_after, param: 'starting_after' };
  if (query.ending_before !== undefined) return { before: query.ending_before, param: 'ending_before' };
  return { param: null };
}

/**
 * One page of an ordered list: `limit` positions taken from `candidates`
 * (ascending after the cursor, or descending before it, put back in list
 * order), keeping those `accept` takes; `hasMore` says whether another
 * accepted one lies beyond the page in the direction of paging.
 */
export function pageOfPositions(
  candidates: Iterable<number>, limit: number, accept: (position: number) => boolean, backwards: boolean,
): { positions: number[]; hasMore: boolean } {
  const positions: number[] = [];
  let hasMore = false;
  for (const position of candidates) {
    if (!accept(position)) continue;
    if (positions.length === limit) { hasMore = true; break; }
    positions.push(position);
  }
  if (backwards) positions.reverse();
  return { positions, hasMore };
}

/** Positions of a list of `length` after `after` (ascending) or before `before` (descending). */
export function* positionsAround(length: number, cursorPosition: number | null, backwards: boolean): Generator<number> {
  if (backwards) {
    for (let position = (cursorPosition ?? length) - 1; position >= 0; position -= 1) yield position;
  } else {
    for (let position = cursorPosition === null ? 0 : cursorPosition + 1; position < length; position += 1) yield position;
  }
}

export const idParamsWire = z.strictObject({ id: idWire });

/** `metadata[key]=value`, Stripe's way of filtering on metadata; keys as long as the ledger allows. */
const METADATA_FILTER_PATTERN = new RegExp(`^metadata\\[([^\\[\\]]{1,${METADATA_KEY_LENGTH_MAX}})\\]$`);

/**
 * A list's query: its named parameters plus any number of
 * `metadata[key]=value` filters; anything else is refused, named.
 */
export function listQueryWithMetadataWire<T extends z.ZodRawShape>(fields: T) {
  return z.object(fields).catchall(z.unknown()).superRefine((query, context) => {
    for (const [key, value] of Object.entries(query)) {
      if (Object.hasOwn(fields, key)) continue;
      if (!METADATA_FILTER_PATTERN.test(key)) {
        context.addIssue({ code: 'custom', path: [key], message: `is not a parameter of this list (metadata filters read metadata[key]=value, keys of 1 to ${METADATA_KEY_LENGTH_MAX} characters)` });
      } else if (typeof value !== 'string') {
        context.addIssue({ code: 'custom', path: [key], message: 'takes one value' });
      }
    }
  });
}

/** The `metadata[key]=value` filters of a query checked by `listQueryWithMetadataWire`; undefined when there are none. */
export function metadataFiltersOf(query: Record<string, unknown>): Array<[string, string]> | undefined {
  const filters: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(query)) {
    const match = METADATA_FILTER_PATTERN.exec(key);
    if (match !== null && typeof value === 'string') filters.push([match[1]!, value]);
  }
  return filters.length === 0 ? undefined : filters;
}

export const balancesWire = z.object({
  debits_pending: amountWire,
  debits_posted: amountWire,
  credits_pending: amountWire,
  credits_posted: amountWire,
});

export const stripeErrorWire = z.object({
  error: z.object({
    type: z.enum(['api_error', 'card_error', 'idempotency_error', 'invalid_request_error']),
    code: z.string().optional(),
    message: z.string(),
    param: z.string().optional(),
  }),
}).meta({ id: 'Error' });

/** The error answers every route may give, for the OpenAPI document. */
export const errorResponses = {
  400: stripeErrorWire, 401: stripeErrorWire, 403: stripeErrorWire, 404: stripeErrorWire,
  409: stripeErrorWire, 429: stripeErrorWire, 503: stripeErrorWire,
} as const;

export const idempotencyHeaderWire = z.object({
  'idempotency-key': z.string().optional().meta({ description: 'Makes the POST safe to retry: the same key and body replay the first response.' }),
});

export function balancesToWire(balances: Balances): z.infer<typeof balancesWire> {
  return {
    debits_pending: balances.debitsPending.toString(),
    debits_posted: balances.debitsPosted.toString(),
    credits_pending: balances.creditsPending.toString(),
    credits_posted: balances.creditsPosted.toString(),
  };
}

export function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** `debitAccountId` → `debit_account_id`, `amountMinor` → `amount`, `postings.0.amountMinor` → `postings.0.amount`. */
export function wireParam(param: string | undefined): string | undefined {
  if (param === undefined) return undefined;
  return param.split('.').map((part) => part.replace(/Minor$/, '').replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)).join('.');
}

/** A ledger refusal as the operating error the error table maps, its parameter named as on the wire. */
export function rejectionError(rejected: LedgerRejection, paramPrefix = ''): DaybookError {
  const param = wireParam(rejected.param);
  const message = withWireFieldNames(rejected.message, rejected.details.fields, (field) => wireParam(field)!);
  return new DaybookError(rejected.code, message, { ...rejected.details }, param === undefined ? undefined : `${paramPrefix}${param}`);
}

/**
 * A message naming the domain's fields ("exists with different
 * overdraftLimitMinor", the `fields` of its details) with the names the
 * caller sent instead ("overdraft_limit").
 */
export function withWireFieldNames(message: string, fields: unknown, wireName: (field: string) => string): string {
  if (!Array.isArray(fields)) return message;
  let named = message;
  for (const field of fields) if (typeof field === 'string' && /^[A-Za-z]+$/.test(field)) named = named.replaceAll(new RegExp(`\\b${field}\\b`, 'g'), wireName(field));
  return named;
}

/** Renames a thrown DaybookError's parameter to its wire name. */
export function withWireParam(error: unknown): unknown {
  if (!isDaybookError(error) || error.param === undefined) return error;
  return new DaybookError(error.code, error.message, { ...error.details }, wireParam(error.param));
}

/** What every event a request causes carries: the correlation id, the request as cause, the key as actor, the mode. */
export function eventMetadataOf(request: FastifyRequest): EventMetadata {
  const auth = authOf(request);
  return { correlationId: request.correlationId, causationId: request.id, actor: auth.keyId, mode: auth.mode };
}

export function parseAmount(amount: string | number): bigint {
  return BigInt(amount);
}

/** A page of ids after or before the cursor in a list; an unknown cursor is a 404 naming the parameter. */
export function pageOf<T extends string>(ids: readonly T[], indexOf: (id: T) => number | undefined, cursor: PageCursor, limit: number): { page: T[]; hasMore: boolean } {
  const id = (cursor.after ?? cursor.before) as T | undefined;
  let cursorPosition: number | null = null;
  if (id !== undefined) {
    const index = indexOf(id);
    if (index === undefined) throw new DaybookError('not_found', `No such object: ${String(id)}`, {}, cursor.param ?? undefined);
    cursorPosition = index;
  }
  const backwards = cursor.before !== undefined;
  const { positions, hasMore } = pageOfPositions(positionsAround(ids.length, cursorPosition, backwards), limit, () => true, backwards);
  return { page: positions.map((position) => ids[position]!), hasMore };
}

/** An instant in a query: Unix seconds, or ISO 8601 with a UTC offset (`2026-11-26T10:00:00Z`, `…+01:00`). */
export const TIME_QUERY_PATTERN = /^(\d{1,13}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2}))$/;
const ISO_PARTS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/;
/** The latest instant a JavaScript date (and the ledger) can hold. */
const TIME_MS_MAX = 8_640_000_000_000_000;

/**
 * The milliseconds of a time given in a query, Unix seconds or ISO 8601; a
 * date that is not on the calendar (February 30th, hour 24, minute 60) or
 * before 1970 is a 400 naming `param`, never a silent roll-over to another day.
 *
 * @example
 * parseTimeParam('2026-02-28T23:00:00+01:00', 'as_of'); // 1772316000000
 * parseTimeParam('2025-02-30T00:00:00Z', 'as_of');      // throws validation_failed, param as_of
 */
export function parseTimeParam(text: string, param: string): number {
  const refuse = (why: string): never => {
    throw new DaybookError('validation_failed', `${param} ${text} ${why}`, {}, param);
  };
  if (/^\d+$/.test(text)) {
    const atMs = Number(text) * 1000;
    if (!Number.isSafeInteger(atMs) || atMs > TIME_MS_MAX) refuse('is not a time we can represent');
    return atMs;
  }
  const parts = ISO_PARTS.exec(text);
  if (parts === null) return refuse('must be an ISO 8601 time with a UTC offset, or Unix seconds');
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = parts.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
  const daysInMonth = month! >= 1 && month! <= 12 ? new Date(Date.UTC(year!, month!, 0)).getUTCDate() : 0;
  if (day! < 1 || day! > daysInMonth || hour! > 23 || minute! > 59 || second! > 59 || offsetHours! > 23 || offsetMinutes! > 59) refuse('is not a date and time on the calendar');
  const atMs = Date.parse(text);
  if (!Number.isSafeInteger(atMs) || atMs < 0 || atMs > TIME_MS_MAX) refuse('is not a time we can represent (1970 or later)');
  return atMs;
}
