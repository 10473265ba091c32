import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_TABLE, GENERIC_ERROR_MESSAGE, stripeError, type StripeErrorBody } from '../edge/index.ts';
import { type ErrorCode, isDaybookError } from '../kernel/index.ts';
import { CORRELATION_ID_HEADER, correlationIdOf, REQUEST_ID_HEADER } from './requestContext.ts';

/** Daybook's own API takes JSON bodies (a form-encoded body, curl's default for -d, lands here). */
const UNSUPPORTED_MEDIA_TYPE_MESSAGE = 'Unsupported media type: send the request body as JSON, with the header Content-Type: application/json.';

interface ErrorAnswer {
  status: number;
  body: StripeErrorBody;
}

/**
 * Every error leaves as a Stripe error object. Operating errors (`DaybookError`)
 * get their row of ERROR_TABLE; bad input that Fastify catches before a handler
 * runs (schema validation, bad JSON, too-large bodies, wrong media types) is the
 * caller's fault, never a 5xx; anything else is a bug: logged in full under the
 * request id, answered with a generic 500 that reveals nothing.
 */
/**
 * Failures of the store itself: their messages carry the database's own text
 * (hosts, ports, database and user names, file paths), which is for the
 * operator, not the caller. The caller gets the code and these words; the
 * full error is logged under the request id (every 5xx is).
 */
const STORE_FAILURE_MESSAGES: Partial<Record<ErrorCode, string>> = {
  store_unavailable: 'The store does not answer. Try again later; a write retried with the same Idempotency-Key takes effect at most once.',
  store_closed: 'The store is closed: the server is stopping. Try again later.',
  store_locked: 'The store is held by another process. Try again later.',
  migration_failed: 'The store is not ready: its migrations are not applied. Try again later.',
};

export function answerFor(error: unknown): ErrorAnswer {
  if (isDaybookError(error)) {
    const row = ERROR_TABLE[error.code];
    const message = STORE_FAILURE_MESSAGES[error.code] ?? error.message;
    return { status: row.http, body: stripeError(row.stripeType, error.code, message, error.param) };
  }
  const fastifyError = error as Partial<FastifyError>;
  if (Array.isArray(fastifyError.validation)) return validationAnswer(fastifyError as FastifyError);
  if (isFastifyClientError(fastifyError)) {
    const status = fastifyError.statusCode;
    const code = status === 413 ? 'limit_exceeded' : 'validation_failed';
    const message = status === 415 ? UNSUPPORTED_MEDIA_TYPE_MESSAGE : fastifyError.message ?? 'Bad request';
    return { status, body: stripeError('invalid_request_error', code, message) };
  }
  return { status: 500, body: stripeError('api_error', undefined, GENERIC_ERROR_MESSAGE) };
}

function validationAnswer(error: FastifyError): ErrorAnswer {
  const first = error.validation?.[0];
  const missing = (first?.params as { missingProperty?: unknown } | undefined)?.missingProperty;
  const path = [error.validationContext, ...(first?.instancePath ?? '').split('/').filter(Boolean)];
  // zod names unknown fields in `keys` (a strict object), on the object's own path.
  const unknown = (first?.params as { keys?: unknown } | undefined)?.keys;
  const unknownKey = Array.isArray(unknown) && typeof unknown[0] === 'string' ? [unknown[0]] : [];
  const param = typeof missing === 'string' ? missing : [...path.slice(1), ...unknownKey].join('.') || undefined;
  const message = param !== undefined && typeof first?.message === 'string' ? `Invalid ${param}: ${first.message}` : error.message;
  return { status: 400, body: stripeError('invalid_request_error', 'validation_failed', message, param) };
}

/** Fastify's own 4xx errors (FST_ERR_CTP_*, FST_ERR_VALIDATION, …): their messages are fixed strings, safe to return. */
function isFastifyClientError(error: Partial<FastifyError>): error is FastifyError & { statusCode: number } {
  return typeof error.code === 'string' && error.code.startsWith('FST_')
    && typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500;
}

function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body } = answerFor(error);
  const retryAfterSeconds = isDaybookError(error) ? error.details.retryAfterSeconds : undefined;
  if (typeof retryAfterSeconds === 'number') reply.header('retry-after', String(retryAfterSeconds));
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: body.error.code, status }, body.error.message);
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/** Installs the error handler and the Stripe-shaped 404 on the root context; plugins inherit both. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) => {
    const message = `Unrecognized request URL (${request.method}: ${request.url.split('?')[0]}).`;
    return reply.code(404).send(stripeError('invalid_request_error', 'not_found', message));
  });
}

/** For Fastify's `frameworkErrors` option: errors raised before routing (a malformed URL, say). */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  // No hooks run for these, so the ids are echoed here.
  reply.header(REQUEST_ID_HEADER, request.id).header(CORRELATION_ID_HEADER, correlationIdOf(request.raw));
  sendError(error, request, reply);
}

/**
 * For Fastify's `clientErrorHandler` option: requests Node's HTTP parser
 * refuses before Fastify sees them (headers or URL past the size bound, a
 * malformed request line, a request that took too long to arrive). Node
 * answers those on the socket itself; Fastify's default writes a non-Stripe
 * body. This answers them as every other error, then closes the connection.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, body] = error.code === 'HPE_HEADER_OVERFLOW'
    ? [431, 'Request Header Fields Too Large', stripeError('invalid_request_error', 'limit_exceeded', 'The request headers (URL included) exceed the size allowed.')]
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', stripeError('invalid_request_error', undefined, 'The request did not arrive in time.')]
      : [400, 'Bad Request', stripeError('invalid_request_error', 'validation_failed', 'Malformed HTTP request.')];
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${text}`);
  }
  socket.destroy(error);
}
