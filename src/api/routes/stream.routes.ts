import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BUSINESS_CATEGORIES_WITH_PII, mayStreamCategory } from '../../auth/index.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/index.ts';
import { ACCESS_AUDIT_SUBJECTS_MAX, DaybookError, EVENT_TYPE_PATTERN, STREAMS_PER_KEY_DEFAULT, STREAMS_TOTAL_DEFAULT } from '../../kernel/index.ts';
import { type AccessAuditSettings, purposeOf } from '../accessAudit.hooks.ts';
import { piiSubjectOfStreamId } from '../piiStreams.ts';
import { EventVisibility, eventToWire } from '../eventVisibility.ts';
import { StreamFeed } from '../streamFeed.ts';
import { StreamGate, type StreamLimits } from '../streamGate.ts';
import { useZod } from '../openapi.ts';
import { CORRELATION_ID_HEADER, REQUEST_ID_HEADER } from '../requestContext.ts';
import { authOf } from '../security.ts';
import { errorResponses } from '../wire.ts';

/** A comment line this often keeps proxies from closing an idle stream. */
export const SSE_HEARTBEAT_MS = 15_000;
const TYPES_MAX = 50;
/** Events held before they are written even when more are ready. */
const STREAM_FLUSH_EVENTS = 500;

const streamQuery = z.strictObject({
  category: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:@]*$/, 'must be a stream category (the stream id before its first -)').max(100).optional()
    .meta({ description: 'Only streams of this category, e.g. ledger.' }),
  types: z.string().max(5000).optional().meta({ description: 'Comma-separated event types, e.g. TransferPosted,AccountOpened.' }),
  after: z.string().regex(/^(0|[1-9][0-9]{0,18})$/, 'must be a global position').optional()
    .meta({ description: 'Start after this global position (0: the whole log). Default: the head (new events only). Last-Event-ID wins when sent.' }),
});

/**
 * `GET /v1/stream`: server-sent events of the global log, from a position
 * (`Last-Event-ID`, as EventSource sends on reconnect, or `?after=`),
 * filtered by category and types, and by what the key may see (its mode, its
 * role's categories). Each event's SSE id is its global position, so a
 * reconnect resumes exactly after the last event received. Open streams are
 * capped per key and in all (429 past a cap, see streamGate.ts); all of them
 * follow one shared read of the log (see streamFeed.ts).
 */
export function streamRoutes(
  store: EventStore, limits: StreamLimits = { perKey: STREAMS_PER_KEY_DEFAULT, total: STREAMS_TOTAL_DEFAULT }, audit?: AccessAuditSettings,
): FastifyPluginAsync {
  return async (plain) => {
    useZod(plain);
    const app = plain.withTypeProvider<ZodTypeProvider>();
    const open = new Set<() => void>();
    const visibility = new EventVisibility(store);
    const gate = new StreamGate(limits);
    // Streams never end on their own: stop them when the app closes, or the server would wait for them forever.
    app.addHook('preClose', async () => { for (const stop of open) stop(); });

    app.get('/v1/stream', {
      config: { permission: 'stream:read' },
      schema: {
        tags: ['Events'], summary: 'Live events (text/event-stream), resumable with Last-Event-ID', querystring: streamQuery,
        headers: z.object({ 'last-event-id': z.string().regex(/^(0|[1-9][0-9]{0,18})$/, 'must be a global position').optional() }),
        response: { 200: z.string().meta({ description: 'text/event-stream: `id: <position>`, `event: <type>`, `data: <event JSON>`.' }), ...errorResponses },
      },
    }, async (request, reply) => {
      const auth = authOf(request);
      const { category } = request.query;
      if (category !== undefined && !mayStreamCategory(auth.role, category)) {
        throw new DaybookError('permission_denied', `The ${auth.role} role may not read the ${category} category.`, {}, 'category');
      }
      const mayCarryPii = category === undefined || BUSINESS_CATEGORIES_WITH_PII.includes(category) || category === 'screening';
      if (audit?.requirePurpose === true && mayCarryPii && purposeOf(request) === null && mayStreamPii(auth.role)) {
        throw new DaybookError('access_purpose_required',
          'This feed may carry personal data: say why in a Daybook-Purpose header; this deployment requires one (DAYBOOK_REQUIRE_PURPOSE).', {}, 'Daybook-Purpose');
      }
      const types = parseTypes(request.query.types);
      const resumeFrom = request.headers['last-event-id'] ?? request.query.after;
      const after = resumeFrom === undefined ? await store.headPosition() : BigInt(resumeFrom);
      const release = gate.acquire(auth.keyId);
      const feed = new StreamFeed(store, after, { category, types });

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        [REQUEST_ID_HEADER]: request.id,
        [CORRELATION_ID_HEADER]: request.correlationId,
      });
      raw.write(`retry: 2000\n: streaming after position ${after}\n\n`);
      const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
      const stop = (): void => {
        clearInterval(heartbeat);
        feed.close();
        release();
        open.delete(stop);
      };
      open.add(stop);
      request.raw.once('close', stop);
      raw.once('close', stop);
      // Gone while the head was read: no close event is coming for it.
      if (raw.socket === null || raw.socket.destroyed) stop();
      const record = audit === undefined ? null : async (subjects: string[]) => audit.log.record({
        actor: { keyId: auth.keyId, role: auth.role, mode: auth.mode }, channel: 'api', method: 'GET', route: '/v1/stream',
        subjects, purpose: purposeOf(request), at: new Date(audit.clock.nowMs()).toISOString(), requestId: request.id, correlationId: request.correlationId || null,
      });
      await pump(feed.events(), raw, (event) => visibility.mayRead(auth, event), request.log, record);
      stop();
      raw.end();
    });
  };
}

const IDLE = Symbol('idle');

/**
 * Writes the visible events to the socket. Events of streams holding personal
 * data are access-audited before they leave (`record`, one record per run of
 * events the feed had ready, at most ACCESS_AUDIT_SUBJECTS_MAX subjects each).
 */
async function pump(
  events: AsyncIterable<RecordedEvent>, raw: ServerResponse, visible: (event: RecordedEvent) => Promise<boolean>,
  log: { warn(obj: object, msg: string): void }, record: ((subjects: string[]) => Promise<void>) | null,
): Promise<void> {
  const pending: string[] = [];
  const subjects = new Set<string>();
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    if (record !== null && subjects.size > 0) await record([...subjects]);
    subjects.clear();
    for (const line of pending.splice(0)) {
      if (raw.destroyed) return;
      if (!raw.write(line)) await drained(raw);
    }
  };
  try {
    const iterator = events[Symbol.asyncIterator]();
    for (;;) {
      const next = iterator.next();
      // Whatever the feed has ready goes out together, after one audit record; a wait for more first sends what is held.
      let step = await Promise.race([next, new Promise<typeof IDLE>((resolve) => setImmediate(() => resolve(IDLE)))]);
      if (step === IDLE) {
        await flush();
        step = await next;
      }
      if (step.done === true || raw.destroyed) break;
      const event = step.value;
      if (!(await visible(event))) continue;
      const subject = record === null ? null : piiSubjectOfStreamId(event.streamId);
      if (subject !== null) subjects.add(subject);
      pending.push(`id: ${event.position}\nevent: ${event.type}\ndata: ${JSON.stringify(eventToWire(event))}\n\n`);
      if (pending.length >= STREAM_FLUSH_EVENTS || subjects.size >= ACCESS_AUDIT_SUBJECTS_MAX) await flush();
    }
    await flush();
  } catch (error) {
    // The store closed, or the log could not be read: end the stream; the client resumes with Last-Event-ID.
    log.warn({ err: error }, 'event stream ended');
  }
}

/** Resolves once the socket takes more, or is gone; leaves no listener behind (a long stream waits many times). */
function drained(raw: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      raw.off('drain', done);
      raw.off('close', done);
      resolve();
    };
    raw.once('drain', done);
    raw.once('close', done);
  });
}

function parseTypes(text: string | undefined): string[] | undefined {
  if (text === undefined || text === '') return undefined;
  const types = text.split(',').map((type) => type.trim()).filter(Boolean);
  if (types.length > TYPES_MAX) throw new DaybookError('limit_exceeded', `at most ${TYPES_MAX} types`, { limit: TYPES_MAX }, 'types');
  const bad = types.find((type) => !EVENT_TYPE_PATTERN.test(type));
  if (bad !== undefined) throw new DaybookError('validation_failed', `types: ${JSON.stringify(bad.slice(0, 100))} is not an event type`, {}, 'types');
  return types;
}

/** True when the role's feed may include a category with personal data. */
function mayStreamPii(role: Parameters<typeof mayStreamCategory>[0]): boolean {
  return BUSINESS_CATEGORIES_WITH_PII.some((category) => mayStreamCategory(role, category));
}
