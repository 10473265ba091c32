/**
 * The access audit at the edge: every answer that carries personal data is
 * recorded (who, which route, which data subjects, when, why) before it
 * leaves, or within ACCESS_AUDIT_FLUSH_MS when the log buffers (see
 * AccessAuditLog). A route says it answers personal data with
 * `config.pii`: `'answer'` (the subjects are the customers, and on the
 * Stripe listener the connected accounts, found in the answer, expansions
 * and event payloads included) or a function naming them. On the Stripe
 * listener a read with `expand` is looked at too, since an expansion can
 * bring a customer into any object.
 *
 * Why: the `Daybook-Purpose` header (or `X-Purpose`); null when absent,
 * and with DAYBOOK_REQUIRE_PURPOSE=true a read of personal data without one
 * is refused (400 `access_purpose_required`) before anything is read.
 * Reads that answer no data subject (an empty list, a refusal) record nothing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessAuditLog } from '../compliance/accessAudit/index.ts';
import { ACCESS_AUDIT_SUBJECTS_MAX, ACCESS_PURPOSE_LENGTH_MAX, type Clock, DaybookError } from '../kernel/index.ts';

export type PiiSubjects = 'answer' | ((request: FastifyRequest, answer: unknown) => string[]);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on routes whose answers carry personal data: how to name the data subjects (see accessAudit.hooks.ts). */
    pii?: PiiSubjects;
  }
}

export interface AccessAuditSettings {
  log: AccessAuditLog;
  /** DAYBOOK_REQUIRE_PURPOSE. */
  requirePurpose: boolean;
  /** When a read happened. */
  clock: Clock;
}

export const PURPOSE_HEADERS = ['daybook-purpose', 'x-purpose'] as const;

/** The caller's stated purpose: `Daybook-Purpose`, else `X-Purpose`, trimmed; null when neither says anything. */
export function purposeOf(request: FastifyRequest): string | null {
  for (const header of PURPOSE_HEADERS) {
    const raw = request.headers[header];
    const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
    if (value === undefined || value === '') continue;
    if (value.length > ACCESS_PURPOSE_LENGTH_MAX) throw new DaybookError('validation_failed', `${header} is longer than ${ACCESS_PURPOSE_LENGTH_MAX} characters`, { limit: ACCESS_PURPOSE_LENGTH_MAX }, header);
    return value;
  }
  return null;
}

/** Which objects are data subjects, by `object`: customers everywhere; connected accounts on the Stripe listener (native `account`s are ledger accounts). */
const SUBJECT_OBJECTS = { api: ['customer'], stripe: ['customer', 'account'] } as const;

/**
 * Stripe payment objects hold personal data of their own (billing details,
 * receipt email, shipping, description, metadata, dispute evidence; see
 * src/privacy/paymentSubjects.ts): an answer carrying any of it names the
 * object as a subject. One without it (a bare card payment) names none.
 */
const PAYMENT_OBJECTS: ReadonlySet<string> = new Set(['payment_method', 'payment_intent', 'charge', 'refund', 'payout', 'dispute']);

const hasText = (value: unknown): boolean => typeof value === 'string' && value !== '';
const hasAnyValue = (value: unknown): boolean =>
  value !== null && typeof value === 'object' ? Object.values(value as Record<string, unknown>).some(hasAnyValue) : value !== null && value !== undefined && value !== '' && value !== false;

/** True when a payment object's answer carries some of its personal fields. */
export function paymentObjectCarriesPersonalData(record: Record<string, unknown>): boolean {
  return hasText(record.description) || hasText(record.receipt_email) || hasAnyValue(record.metadata) || hasAnyValue(record.shipping)
    || hasAnyValue(record.billing_details) || hasAnyValue(record.evidence);
}

export function registerAccessAudit(app: FastifyInstance, settings: AccessAuditSettings | undefined, channel: 'api' | 'stripe'): void {
  if (settings === undefined) return;
  const piiOf = (request: FastifyRequest): PiiSubjects | undefined =>
    request.routeOptions.config?.pii ?? (channel === 'stripe' && (hasExpand(request.query) || hasExpand(request.body)) ? 'answer' : undefined);

  app.addHook('preHandler', (request, _reply, done) => {
    try {
      if (request.auth !== null && piiOf(request) !== undefined && purposeOf(request) === null && settings.requirePurpose) {
        throw new DaybookError('access_purpose_required',
          'This request reads personal data: say why in a Daybook-Purpose header (e.g. "Daybook-Purpose: support ticket 4711"); this deployment requires one (DAYBOOK_REQUIRE_PURPOSE).', {}, 'Daybook-Purpose');
      }
      done();
    } catch (error) {
      done(error as Error);
    }
  });

  const audited = new WeakSet<FastifyRequest>();
  const record = async (request: FastifyRequest, statusCode: number, payload: unknown): Promise<void> => {
    const pii = piiOf(request);
    if (pii === undefined || request.auth === null || statusCode >= 300) return;
    audited.add(request);
    const subjects = pii === 'answer' ? subjectsIn(payload, SUBJECT_OBJECTS[channel], channel === 'stripe') : pii(request, payload);
    if (subjects.length === 0) return;
    const { keyId, role, mode } = request.auth;
    await settings.log.record({
      actor: { keyId, role, mode }, channel, method: request.method, route: request.routeOptions.url ?? request.url,
      subjects: subjects.slice(0, ACCESS_AUDIT_SUBJECTS_MAX), purpose: purposeOf(request), at: new Date(settings.clock.nowMs()).toISOString(),
      requestId: request.id, correlationId: request.correlationId || null,
    });
  };

  app.addHook('preSerialization', async (request, reply, payload: unknown) => {
    await record(request, reply.statusCode, payload);
    return payload;
  });

  // Answers sent as text skip preSerialization: an Idempotency-Key replay, an answer rendered ahead (create+confirm). They carry the same data.
  app.addHook('onSend', async (request, reply, payload: unknown) => {
    if (audited.has(request) || typeof payload !== 'string' || piiOf(request) === undefined || reply.statusCode >= 300) return payload;
    const type = reply.getHeader('content-type');
    if (typeof type !== 'string' || !type.includes('json')) return payload;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      return payload;
    }
    await record(request, reply.statusCode, parsed);
    return payload;
  });
}

function hasExpand(query: unknown): boolean {
  const expand = (query as { expand?: unknown } | null)?.expand;
  return expand !== undefined && !(Array.isArray(expand) && expand.length === 0);
}

/** The ids of the objects of these kinds anywhere in an answer (and of payment objects carrying personal data, with `payments`), once each, in the order met. */
export function subjectsIn(answer: unknown, objects: readonly string[], payments = false): string[] {
  const found = new Set<string>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > 12 || value === null || typeof value !== 'object' || found.size >= ACCESS_AUDIT_SUBJECTS_MAX) return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    const record = value as Record<string, unknown>;
    if (typeof record.object === 'string' && typeof record.id === 'string') {
      if (objects.includes(record.object) || (payments && PAYMENT_OBJECTS.has(record.object) && paymentObjectCarriesPersonalData(record))) found.add(record.id);
    }
    for (const key in record) if (typeof record[key] === 'object') visit(record[key], depth + 1);
  };
  visit(answer, 0);
  return [...found];
}
