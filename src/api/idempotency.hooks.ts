import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { base62 } from '../auth/index.ts';
import { ERROR_TABLE } from '../edge/index.ts';
import { canonicalJson, DaybookError, type ErrorCode, uuidv7 } from '../kernel/index.ts';
import type { EventMetadata } from '../eventstore/index.ts';
import { answerFor } from './errorHandler.ts';
import { type IdempotencyRecordInput, IdempotencyStore, type StoredResponse } from './idempotencyStore.ts';
import type { ApiSecurity } from './security.ts';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Stripe's bound on idempotency keys. */
export const IDEMPOTENCY_KEY_LENGTH_MAX = 255;
const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** A POST's Idempotency-Key as the hooks hold it while the request runs (`request.idempotency`). */
export interface IdempotencyContext {
  key: string;
  scope: string;
  fingerprint: string;
  /** Where the key's record goes. */
  records: IdempotencyStore;
  release(): void;
  /** Answered from a record, refused, or recorded with its effect: nothing (more) to record. */
  settled: boolean;
}

/**
 * How a route keeps the personal data of its answers out of its idempotency
 * records: records are events, kept for good in a log that auditors read,
 * outside the per-customer streams that erasure relies on. The record keeps
 * `stored(body)`; a replay answers `replayed(request, stored)`, which reads
 * the personal data again from where it lives.
 */
export interface RecordedAnswer {
  stored(body: string): string;
  replayed(request: FastifyRequest, stored: string): Promise<string>;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotency: IdempotencyContext | null;
  }
  interface FastifyContextConfig {
    /** Set on routes whose answers hold personal data (see RecordedAnswer); the record keeps the whole answer otherwise. */
    recordedAnswer?: RecordedAnswer;
  }
}

/**
 * `Idempotency-Key` on POST, Stripe's rules: the same key with the same
 * request replays the first response (status and body, with
 * `Idempotent-Replayed: true`) without running the handler; with another
 * request it is a 400 `idempotency_error`. Keys are scoped to the API key.
 * Only answers to a decision of the domain are recorded (see `recordable`):
 * requests refused before the handler (authentication, validation, rate
 * limit), validation and limit failures, conflicts and transient failures
 * are not, so a retry runs again and may succeed.
 *
 * The record is written before the response leaves, so an acknowledged
 * answer is always replayable. Here (onSend) it is a write of its own after
 * the handler's; `POST /v1/transfers` instead attaches it to the ledger
 * command (`executeAndAnswer`), so that it commits in the same append as
 * the transfer, and settles the context itself. If the process dies between the handler's
 * effect and the record, the retry runs the handler again; handlers make that
 * harmless by deriving the ids they create from the key (`idFor`), so the
 * ledger answers the retry with its first result.
 */
export function registerIdempotency(app: FastifyInstance, security: ApiSecurity | undefined): void {
  app.decorateRequest('idempotency', null);
  // Callback hooks with a synchronous way through for requests without a key (every GET): no promise, no microtask for them.
  app.addHook('preHandler', (request, reply, done) => {
    if (request.method !== 'POST' || request.auth === null || security === undefined || request.headers[IDEMPOTENCY_KEY_HEADER] === undefined) {
      done();
      return;
    }
    // A replayed answer is sent here, and then the chain must not go on.
    replayIfRecorded(request, reply, security).then((replayed) => { if (!replayed) done(); }, (error: unknown) => done(error as Error));
  });

  app.addHook('onSend', (request, reply, payload, done) => {
    const context = request.idempotency;
    if (context === null || context.settled || security === undefined) {
      done(null, payload);
      return;
    }
    context.settled = true;
    if (typeof payload !== 'string' || !recordable(reply.statusCode, reply.statusCode < 400 ? undefined : errorCodeOf(payload))) {
      done(null, payload);
      return;
    }
    record(request, reply, payload, context, security).then((answer) => done(null, answer), (error: unknown) => done(error as Error));
  });

  // Released once the response is recorded (waiters then replay it), and in any case when the response ends.
  app.addHook('onResponse', (request, _reply, done) => {
    request.idempotency?.release();
    done();
  });
}

/** Holds the key's scope, then answers from its record if there is one: true when it did. */
async function replayIfRecorded(request: FastifyRequest, reply: FastifyReply, security: ApiSecurity): Promise<boolean> {
  const key = checkedKey(request.headers[IDEMPOTENCY_KEY_HEADER]!);
  const scope = IdempotencyStore.scopeOf(request.auth!.keyId, key);
  const release = await security.idempotency.acquire(scope);
  const context: IdempotencyContext = { key, scope, fingerprint: fingerprintOf(request), records: security.idempotency, release, settled: false };
  request.idempotency = context;
  const stored = await security.idempotency.lookup(scope);
  if (stored === undefined) return false;
  context.settled = true;
  if (stored.fingerprint !== context.fingerprint) throw keyReusedError(key);
  const body = await replayedBody(request, stored.body);
  reply.code(stored.statusCode).header('idempotent-replayed', 'true').type(stored.contentType).send(body);
  return true;
}

/** The body a replay sends: the recorded one, or the route's rebuild of it (RecordedAnswer). */
function replayedBody(request: FastifyRequest, stored: string): Promise<string> | string {
  const recordedAnswer = request.routeOptions.config?.recordedAnswer;
  return recordedAnswer === undefined ? stored : recordedAnswer.replayed(request, stored);
}

/** Saves the response as the key's record; if another request recorded the key first, answers as that key's retries are answered. */
async function record(request: FastifyRequest, reply: FastifyReply, payload: string, context: IdempotencyContext, security: ApiSecurity): Promise<string> {
  const contentType = String(reply.getHeader('content-type') ?? JSON_CONTENT_TYPE);
  let input: IdempotencyRecordInput;
  let first: StoredResponse;
  try {
    input = recordOf(request, context, reply.statusCode, contentType, payload);
    first = await security.idempotency.save(context.scope, input, recordMetadataOf(request));
  } catch (error) {
    // The effect is durable already; the retry will find it through the ids derived from the key.
    request.log.warn({ err: error }, 'idempotency record not written');
    return payload;
  } finally {
    context.release();
  }
  const answer = await answerOnceRecorded(request, context, { statusCode: reply.statusCode, contentType, body: payload }, input.body, first);
  if (answer.replayed) reply.header('idempotent-replayed', 'true');
  reply.code(answer.statusCode).type(answer.contentType);
  return answer.body;
}

export interface RecordedAnswerOf {
  statusCode: number;
  contentType: string;
  body: string;
  /** True when the answer is another request's record (`Idempotent-Replayed: true`). */
  replayed: boolean;
}

/**
 * The answer of a request whose record was saved, given `first`, the key's
 * first record as the store holds it. Normally that is this request's own,
 * and it answers `own`. With several processes (PostgreSQL) another request
 * may have recorded the key first, both having looked before either
 * recorded: this one lost the race, and answers as a retry would be
 * answered: the winner's answer if it was the same request, else
 * idempotency_error (its effect may be done, under its own ids; the key's
 * answer is the winner's).
 */
export async function answerOnceRecorded(
  request: FastifyRequest, context: IdempotencyContext, own: Omit<RecordedAnswerOf, 'replayed'>, ownRecordedBody: string, first: StoredResponse,
): Promise<RecordedAnswerOf> {
  if (first.fingerprint !== context.fingerprint) {
    const { status, body } = answerFor(keyReusedError(context.key));
    request.log.info({ code: 'idempotency_key_reused', status }, 'another request recorded this Idempotency-Key first');
    return { statusCode: status, contentType: JSON_CONTENT_TYPE, body: JSON.stringify(body), replayed: false };
  }
  if (first.body === ownRecordedBody && first.statusCode === own.statusCode) return { ...own, replayed: false };
  return { statusCode: first.statusCode, contentType: first.contentType, body: await replayedBody(request, first.body), replayed: true };
}

function keyReusedError(key: string): DaybookError {
  return new DaybookError('idempotency_key_reused',
    `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
    { idempotencyKey: key }, 'Idempotency-Key');
}

/** The record of an answer to a request with an Idempotency-Key (without any API key secret, see `withoutSecret`, or personal data, see RecordedAnswer). */
export function recordOf(request: FastifyRequest, context: IdempotencyContext, statusCode: number, contentType: string, body: string): IdempotencyRecordInput {
  const recordedAnswer = request.routeOptions.config?.recordedAnswer;
  return {
    keyId: request.auth!.keyId, idempotencyKey: context.key, method: request.method, route: request.routeOptions.url ?? request.url,
    fingerprint: context.fingerprint, statusCode, contentType, body: withoutSecret(recordedAnswer === undefined ? body : recordedAnswer.stored(body)), recordedAtMs: Date.now(),
  };
}

/**
 * An answer as it may be stored: the secret of a newly created API key, or
 * of a webhook endpoint (its signing secret), is left out. Records are events, kept for good in a log that auditors read
 * (`/v1/events`, `/v1/stream`), while a key's secret is stored only peppered
 * and hashed and is shown once, in the answer to its creation; a replay
 * answers the key without it.
 */
export function withoutSecret(body: string): string {
  if (!body.includes('"secret"')) return body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  const object = (parsed as { object?: unknown } | null)?.object;
  if (parsed === null || typeof parsed !== 'object' || (object !== 'api_key' && object !== 'webhook_endpoint') || !('secret' in parsed)) return body;
  const { secret: _secret, ...rest } = parsed as Record<string, unknown>;
  return JSON.stringify(rest);
}

/** What a record's event carries: the request's correlation id, the request as cause, the key as actor, the mode. */
export function recordMetadataOf(request: FastifyRequest): EventMetadata {
  const auth = request.auth!;
  return { correlationId: request.correlationId, causationId: request.id, actor: auth.keyId, mode: auth.mode };
}

function checkedKey(header: string | string[]): string {
  const key = Array.isArray(header) ? header[0] ?? '' : header;
  if (key.length === 0 || key.length > IDEMPOTENCY_KEY_LENGTH_MAX || !IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new DaybookError('validation_failed', `Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_LENGTH_MAX} printable ASCII characters`, {}, 'Idempotency-Key');
  }
  return key;
}

/**
 * Answers worth replaying: successes, and failures whose code's row in the
 * error table is `recordable` (the domain's decisions: insufficient funds, a
 * closed account, an unknown account named). Validation and limit failures,
 * conflicts with concurrent requests and transient failures (a full append
 * queue, an unavailable store) are not kept, so that a retry runs again; nor
 * is a failure without a known code (a bug's 500).
 *
 * @example
 * recordable(409, 'exceeds_credits'); // true: the refusal is the key's answer
 * recordable(400, 'limit_exceeded'); // false: the retry runs
 */
export function recordable(statusCode: number, errorCode: string | undefined): boolean {
  if (statusCode < 400) return true;
  if (statusCode >= 500 || errorCode === undefined || !Object.hasOwn(ERROR_TABLE, errorCode)) return false;
  return ERROR_TABLE[errorCode as ErrorCode].recordable;
}

/** The code of a Stripe error body (`{"error":{"code"}}`); undefined for any other payload. */
export function errorCodeOf(payload: string): string | undefined {
  try {
    const code = (JSON.parse(payload) as { error?: { code?: unknown } } | null)?.error?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

function fingerprintOf(request: FastifyRequest): string {
  const text = canonicalJson({ method: request.method, route: request.routeOptions.url, params: request.params ?? {}, query: request.query ?? {}, body: request.body ?? null });
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The id of a thing this request creates, when the caller gave none: derived
 * from the idempotency key when there is one (so a retry after a crash names
 * the same thing, and the domain answers it with its first result), random
 * otherwise.
 *
 * @example
 * const transferId = body.id ?? idFor(request, 'tr');
 */
export function idFor(request: FastifyRequest, prefix: string, part = ''): string {
  const context = request.idempotency;
  if (context === null) return `${prefix}_${uuidv7().replaceAll('-', '')}`;
  const digest = createHash('sha256').update(`${context.scope}\u0000${request.routeOptions.url}\u0000${part}`, 'utf8').digest();
  return `${prefix}_${base62(digest.subarray(0, 20), 27)}`;
}
