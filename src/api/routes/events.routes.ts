import { piiSubjectOfStreamId } from '../piiStreams.ts';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { EventStore } from '../../eventstore/index.ts';
import { DaybookError, PAGE_SIZE_MAX, STREAM_ID_LENGTH_MAX, STREAM_ID_PATTERN } from '../../kernel/index.ts';
import { EventVisibility, eventToWire } from '../eventVisibility.ts';
import { useZod } from '../openapi.ts';
import { authOf } from '../security.ts';
import { errorResponses } from '../wire.ts';

export const eventWire = z.object({
  object: z.literal('event'),
  id: z.string(),
  stream_id: z.string(),
  version: z.string(),
  position: z.string(),
  type: z.string(),
  schema_version: z.number().int(),
  data: z.unknown(),
  metadata: z.record(z.string(), z.unknown()),
  recorded_at: z.string(),
  hash: z.string(),
  previous_hash: z.string(),
}).meta({ id: 'Event' });

const eventsQuery = z.strictObject({
  stream: z.string().min(1).max(STREAM_ID_LENGTH_MAX).regex(STREAM_ID_PATTERN, 'must be a stream id (letters, digits and _ . : @ -)')
    .meta({ description: 'The aggregate\'s stream, e.g. ledger-test.' }),
  after_version: z.string().regex(/^(0|[1-9][0-9]{0,18})$/, 'must be an integer string').optional().meta({ description: 'Return events after this version (default 0).' }),
  limit: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).default(PAGE_SIZE_MAX),
});

/** The data subject whose stream a page of events comes from, when that stream holds personal data. */
function piiSubjectOfStream(answer: unknown): string[] {
  const first = (answer as { data?: Array<{ stream_id?: unknown }> } | null)?.data?.[0];
  const streamId = first?.stream_id;
  if (typeof streamId !== 'string') return [];
  const subject = piiSubjectOfStreamId(streamId);
  return subject === null ? [] : [subject];
}

/** The raw, hash-chained history of any aggregate, for auditors. */
export function eventRoutes(store: EventStore): FastifyPluginAsync {
  return async (plain) => {
    useZod(plain);
    const app = plain.withTypeProvider<ZodTypeProvider>();
    const visibility = new EventVisibility(store);
    app.get('/v1/events', {
      // A customer's (or connected account's) stream holds personal data: its subject is recorded by the access audit.
      config: { permission: 'events:read', pii: (_request, answer) => piiSubjectOfStream(answer) },
      schema: {
        tags: ['Audit'], summary: 'Raw event history of one stream, oldest first', querystring: eventsQuery,
        response: { 200: z.object({ object: z.literal('list'), data: z.array(eventWire), has_more: z.boolean(), url: z.string() }), ...errorResponses },
      },
    }, async (request) => {
      const auth = authOf(request);
      const { stream, limit } = request.query;
      const afterVersion = BigInt(request.query.after_version ?? '0');
      const [first] = await store.readStream(stream, { limit: 1 });
      // Another mode's stream is as absent as a stream that never was.
      if (first === undefined || !(await visibility.mayRead(auth, first))) throw new DaybookError('not_found', `No such stream: '${stream}'`, {}, 'stream');
      const page = await store.readStream(stream, { fromVersion: afterVersion + 1n, limit: limit + 1 });
      return { object: 'list' as const, data: page.slice(0, limit).map(eventToWire), has_more: page.length > limit, url: '/v1/events' };
    });
  };
}
