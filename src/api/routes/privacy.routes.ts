import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { EventStore } from '../../eventstore/index.ts';
import { type Clock, DaybookError } from '../../kernel/index.ts';
import { eraseSubject, exportSubject, parseSubject, ShreddingEventStore, type Subject, type SubjectIndex } from '../../privacy/index.ts';
import { useZod } from '../openapi.ts';
import { authOf } from '../security.ts';
import { errorResponses, eventMetadataOf, idempotencyHeaderWire } from '../wire.ts';

const TAGS = ['Privacy'];

const erasureWire = z.object({
  object: z.literal('erasure'),
  subject: z.string(),
  erased_at: z.string(),
  position: z.string().meta({ description: 'Global position of the DataSubjectErased event.' }),
  linked: z.array(z.string()).meta({ description: "Subjects erased with it now (a Stripe customer's payment methods and intents), each with a DataSubjectErased event of its own." }),
}).meta({ id: 'Erasure' });

const subjectWire = z.string().min(1).max(200).meta({
  description: 'bankcustomer:<mode>.<customer id>, pcustomer:<mode>:<cus_…> (erased with its payment methods and intents), paccount:<mode>:<acct_…>, '
    + 'pmethod:<mode>:<pm_…>, pintent:<mode>:<pi_…> or ppayout:<mode>:<po_…>.',
});

/**
 * GDPR erasure and subject access, for admins (erase) and auditors
 * (export). A key sees the subjects of its own mode only: another mode's
 * subject is as unknown as one never seen (404 `subject_not_found`). On a
 * store without crypto-shredding (a library setup) both answer 503.
 */
/** What the privacy routes read besides the store: the subject index, once the server's read models are open. */
export interface PrivacyApi {
  subjectIndex?: SubjectIndex;
}

export function privacyRoutes(store: EventStore, clock: Clock, privacy: PrivacyApi = {}): FastifyPluginAsync {
  return async (plain) => {
    useZod(plain);
    const app = plain.withTypeProvider<ZodTypeProvider>();

    app.post('/v1/admin/erasures', {
      config: { permission: 'privacy:erase' },
      schema: {
        tags: TAGS, summary: "Erase a data subject: destroy its data key, so its personal data reads \"[erased]\" everywhere, for good", headers: idempotencyHeaderWire,
        body: z.strictObject({ subject: subjectWire }),
        response: { 200: erasureWire, ...errorResponses },
      },
    }, async (request) => {
      const subject = ownSubject(request, request.body.subject);
      const result = await eraseSubject(shredding(store), { subject: subject.id, actor: authOf(request).keyId, metadata: eventMetadataOf(request), index: privacy.subjectIndex }, clock);
      return { object: 'erasure' as const, subject: result.subject, erased_at: result.erasedAt, position: result.position.toString(), linked: result.linked };
    });

    app.get('/v1/admin/subjects/:subject/export', {
      // Personal data decrypted: recorded in the access audit (and refused without a purpose when one is required), as any read of it.
      config: { permission: 'privacy:export', pii: (request) => [(request.params as { subject: string }).subject] },
      schema: {
        tags: TAGS, summary: 'Everything held about a data subject (subject access request), personal data decrypted',
        params: z.object({ subject: subjectWire }),
        response: { 200: z.record(z.string(), z.unknown()), ...errorResponses },
      },
    }, async (request) => {
      const subject = ownSubject(request, request.params.subject);
      return exportSubject(shredding(store), subject.id, clock, privacy.subjectIndex) as unknown as Record<string, unknown>;
    });
  };
}

function shredding(store: EventStore): ShreddingEventStore {
  if (!(store instanceof ShreddingEventStore)) throw new DaybookError('store_unavailable', 'this server runs without crypto-shredding: no subject can be erased or exported here');
  return store;
}

function ownSubject(request: FastifyRequest, value: string): Subject {
  const subject = parseSubject(value);
  if (subject.mode !== authOf(request).mode) throw new DaybookError('subject_not_found', `No such data subject: '${value}'`, { subject: value }, 'subject');
  return subject;
}
