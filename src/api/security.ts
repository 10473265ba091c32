import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ApiKeyMode, type ApiKeyRecord, hasPermission, type Permission, redactSecret, type Role } from '../auth/index.ts';
import { DaybookError } from '../kernel/index.ts';
import type { AccessAuditSettings } from './accessAudit.hooks.ts';
import type { IdempotencyStore } from './idempotencyStore.ts';
import type { RateLimiter } from './rateLimiter.ts';

/** Who is calling: set on every request to a route that needs a permission, once the key is known. */
export interface AuthContext {
  keyId: string;
  role: Role;
  mode: ApiKeyMode;
}

/** `public` routes (probes, metrics, docs) need no key; every `/v1` route names a permission. */
export type RoutePermission = Permission | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: RoutePermission;
  }
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

export interface ApiSecurity {
  keys: { authenticate(secret: string): ApiKeyRecord | undefined; get(keyId: string): ApiKeyRecord | undefined };
  rateLimiter: RateLimiter;
  idempotency: IdempotencyStore;
  /** Where reads of personal data are recorded (accessAudit.hooks.ts); nothing is recorded when absent. */
  accessAudit?: AccessAuditSettings;
}

/** The key from `Authorization: Bearer sk_…`, or from Basic auth with the key as user (what Stripe's clients send). */
export function secretFrom(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^(Bearer|Basic)\s+(\S+)\s*$/i.exec(header);
  if (match === null) return undefined;
  if (match[1]!.toLowerCase() === 'bearer') return match[2];
  const decoded = Buffer.from(match[2]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon === -1 ? decoded : decoded.slice(0, colon);
  return user.length > 0 ? user : undefined;
}

/**
 * A keep-alive connection sends the same Authorization header request after
 * request: the key it proved is remembered on the connection, as a SHA-256
 * digest of the secret (never the secret itself), so the peppered hash is
 * computed once per connection and key. Revocation still takes effect at
 * once: the key is looked up by id on every request.
 */
const provenOnConnection = new WeakMap<object, { digest: Buffer; keyId: string }>();

const digestOf = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

/**
 * Whether a secret is the one whose digest was remembered, in constant time:
 * `===` on strings stops at the first differing character, which would let
 * a caller on the connection measure how much of a guess is right. Digests
 * are always 32 bytes, so `timingSafeEqual` never sees unequal lengths.
 */
export function matchesDigest(digest: Buffer, secret: string): boolean {
  return timingSafeEqual(digest, digestOf(secret));
}

function authenticateOnConnection(security: ApiSecurity | undefined, request: FastifyRequest, secret: string): ApiKeyRecord | undefined {
  if (security === undefined) return undefined;
  const socket = request.raw.socket as object | undefined;
  const proven = socket === undefined ? undefined : provenOnConnection.get(socket);
  if (proven !== undefined && matchesDigest(proven.digest, secret)) {
    const key = security.keys.get(proven.keyId);
    if (key !== undefined && key.revokedAtMs === null) return key;
  }
  const key = security.keys.authenticate(secret);
  if (key !== undefined && socket !== undefined) provenOnConnection.set(socket, { digest: digestOf(secret), keyId: key.keyId });
  return key;
}

/** The caller of a route that needs a permission; a programmer error anywhere else. */
export function authOf(request: FastifyRequest): AuthContext {
  if (request.auth === null) throw new Error(`route ${request.routeOptions.url} reads the caller but declares no permission`);
  return request.auth;
}

/**
 * Authentication, authorization and rate limiting, in that order, before the
 * body is even read (so an anonymous caller cannot make us parse a megabyte):
 * 401 without a valid key, 403 when the key's role lacks the route's
 * permission, 429 with Retry-After past the key's rate. Validation follows,
 * then idempotency (see idempotency.hooks.ts).
 */
export function registerSecurity(app: FastifyInstance, security: ApiSecurity | undefined): void {
  app.decorateRequest('auth', null);
  // A callback hook: it never waits, and most requests pass, so no promise is made for them.
  app.addHook('onRequest', (request, _reply, done) => {
    try {
      checkCaller(security, request);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  });
}

/** The route's permission against the caller's key, then the key's rate; throws the operating error that answers. */
function checkCaller(security: ApiSecurity | undefined, request: FastifyRequest): void {
  const permission = request.routeOptions.config?.permission;
  if (permission === undefined || permission === 'public' || request.is404) return;
  const secret = secretFrom(request.headers.authorization);
  if (secret === undefined) {
    throw new DaybookError('authentication_required',
      'You did not provide an API key. Send it as "Authorization: Bearer sk_…", or as the user name of Basic authentication.');
  }
  const key = authenticateOnConnection(security, request, secret);
  if (key === undefined) throw new DaybookError('api_key_invalid', `Invalid API Key provided: ${redactSecret(secret)}`);
  request.auth = { keyId: key.keyId, role: key.role, mode: key.mode };
  // The request's logger is its own child already: binding in place is cheaper than another child. A silent one is shared: nothing to bind.
  if (request.log.level !== 'silent') (request.log as unknown as { setBindings(bindings: object): void }).setBindings({ keyId: key.keyId, role: key.role, mode: key.mode });
  if (!hasPermission(key.role, permission)) {
    throw new DaybookError('permission_denied', `The API key ${key.keyId} has the role ${key.role}, which lacks the permission ${permission} this request needs.`, {
      role: key.role, permission,
    });
  }
  const verdict = security!.rateLimiter.take(key.keyId);
  if (!verdict.allowed) {
    const retryAfterSeconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
    throw new DaybookError('rate_limited', `Too many requests with API key ${key.keyId}; retry after ${retryAfterSeconds} s.`, { retryAfterSeconds });
  }
}
