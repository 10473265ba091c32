import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { uuidv7 } from '../kernel/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** From `X-Correlation-Id` when the caller sent a well-formed one, else generated; echoed back and logged. */
    correlationId: string;
  }
}

export const REQUEST_ID_HEADER = 'x-request-id';
export const CORRELATION_ID_HEADER = 'x-correlation-id';

/** What we accept from a caller as an id: short, printable, safe in logs and headers. Anything else is replaced. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function idFromHeader(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first !== undefined && ID_PATTERN.test(first) ? first : undefined;
}

/** Fastify's `genReqId`: the caller's `X-Request-Id` when well-formed, else a UUIDv7. */
export function requestIdOf(raw: IncomingMessage): string {
  return idFromHeader(raw.headers[REQUEST_ID_HEADER]) ?? uuidv7();
}

/**
 * Correlation ids are settled when the request's logger is made (Fastify's
 * `childLoggerFactory`, which runs before any hook), so that every log line of
 * the request, Fastify's own included, carries it.
 */
const correlationIds = new WeakMap<IncomingMessage, string>();

export function correlationIdOf(raw: IncomingMessage): string {
  let id = correlationIds.get(raw);
  if (id === undefined) {
    id = idFromHeader(raw.headers[CORRELATION_ID_HEADER]) ?? uuidv7();
    correlationIds.set(raw, id);
  }
  return id;
}

/** Puts the correlation id on the request and echoes both ids on every response, errors and 404s included. */
export function registerRequestContext(app: FastifyInstance): void {
  app.decorateRequest('correlationId', '');
  // Callback hooks, not async ones: on every request, a promise and a microtask each saved.
  app.addHook('onRequest', (request, _reply, done) => {
    request.correlationId = correlationIdOf(request.raw);
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    reply.header(CORRELATION_ID_HEADER, request.correlationId || correlationIdOf(request.raw));
    done(null, payload);
  });
}
