/**
 * The HTTP deliverer of a relay: POSTs each event as JSON to one URL, signed
 * with a shared secret, and a receiver-side check of that signature.
 *
 * Headers of every delivery:
 * - `Idempotency-Key` and `Daybook-Event-Id`: the event id (the same on every retry);
 * - `Daybook-Position`: the event's global position;
 * - `Daybook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
 *
 * A 2xx answer is an acknowledgement. Anything else (another status, a
 * redirect, no answer within `timeoutMs`, a refused connection) is a failure
 * the engine retries, then parks. The secret never appears in an error, a log
 * line or the deliverer's own properties.
 *
 * @example
 * const deliver = createHttpDeliverer({ url: 'https://partner.example/daybook', secret, timeoutMs: 2_000 });
 * const relay = defineRelay({ name: 'partner_webhooks', version: 1, handles: {}, deliver });
 *
 * // On the receiver, with the raw body as it arrived:
 * if (!verifyDaybookSignature(request.headers['daybook-signature'], rawBody, secret)) return respond(400);
 * if (await seen(request.headers['idempotency-key'])) return respond(200); // a redelivery: acknowledge, do nothing
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RecordedEvent } from '../eventstore/index.ts';
import { type Clock, DaybookError, RELAY_DELIVERY_TIMEOUT_MS_MAX, systemClock } from '../kernel/index.ts';
import type { RelayDeliverer } from './relay.ts';

/** Shortest secret accepted: an HMAC key guessable by brute force protects nothing. */
const SECRET_LENGTH_MIN = 16;
/** Default wait for the receiver's answer: short, since on SQLite the delivery holds the write lock. */
const DEFAULT_TIMEOUT_MS = 3_000;
/** Default tolerance of `verifyDaybookSignature` between the signature's time and the receiver's clock. */
const DEFAULT_TOLERANCE_SECONDS = 300;

export interface HttpDelivererOptions {
  /** `http:` or `https:`. */
  url: string;
  /** Shared with the receiver; at least 16 characters. */
  secret: string;
  /** How long to wait for the answer, from 1 to RELAY_DELIVERY_TIMEOUT_MS_MAX (default 3000). */
  timeoutMs?: number;
  /** For the signature's timestamp (default: the system clock). */
  clock?: Clock;
}

/** The JSON body of a delivery: the envelope of the event, positions and versions as decimal strings. */
export interface RelayEventBody {
  id: string;
  type: string;
  streamId: string;
  streamVersion: string;
  position: string;
  schemaVersion: number;
  recordedAt: string;
  data: unknown;
  metadata: unknown;
}

/** The body `createHttpDeliverer` sends for an event. */
export function relayEventBody(event: RecordedEvent): string {
  const body: RelayEventBody = {
    id: event.eventId, type: event.type, streamId: event.streamId, streamVersion: event.version.toString(), position: event.position.toString(),
    schemaVersion: event.schemaVersion, recordedAt: event.recordedAt.toISOString(), data: event.data, metadata: event.metadata,
  };
  return JSON.stringify(body);
}

/** The `Daybook-Signature` header for `body` signed at `unixSeconds`. */
export function signDaybookBody(body: string | Uint8Array, secret: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmacHex(secret, unixSeconds, body)}`;
}

/** A deliverer that POSTs each event to `url`; see the module's comment for the headers and what counts as acknowledged. */
export function createHttpDeliverer(options: HttpDelivererOptions): RelayDeliverer {
  const target = parseTarget(options?.url);
  const secret = options.secret;
  if (typeof secret !== 'string' || secret.length < SECRET_LENGTH_MIN) {
    throw new DaybookError('validation_failed', `secret must be a string of at least ${SECRET_LENGTH_MIN} characters`, {}, 'secret');
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new DaybookError('validation_failed', 'timeoutMs must be a positive integer', {}, 'timeoutMs');
  if (timeoutMs > RELAY_DELIVERY_TIMEOUT_MS_MAX) {
    throw new DaybookError('limit_exceeded', `timeoutMs must be at most ${RELAY_DELIVERY_TIMEOUT_MS_MAX}`, { limit: RELAY_DELIVERY_TIMEOUT_MS_MAX }, 'timeoutMs');
  }
  const clock = options.clock ?? systemClock;
  return async (event, { idempotencyKey, position }) => {
    const body = relayEventBody(event);
    const signature = signDaybookBody(body, secret, Math.floor(clock.nowMs() / 1000));
    const failed = (reason: string): DaybookError => new DaybookError('relay_delivery_failed', `delivering event ${event.eventId} (position ${position}) to ${target.shown}: ${reason}`,
      { eventId: event.eventId, position: position.toString(), url: target.shown });
    let response: Response;
    try {
      response = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json', 'user-agent': 'daybook-relay',
          'idempotency-key': idempotencyKey, 'daybook-event-id': event.eventId, 'daybook-position': position.toString(), 'daybook-signature': signature,
        },
        body,
        // A redirect is no acknowledgement: following it would re-POST the event somewhere nobody configured.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw failed(describeFetchFailure(error, timeoutMs));
    }
    // The answer's body means nothing to the relay; cancelling it frees the connection.
    await response.body?.cancel().catch(() => {});
    if (response.status < 200 || response.status > 299) throw failed(`HTTP ${response.status}`);
  };
}

export interface VerifyOptions {
  /** Largest gap allowed between the signature's time and `now`, either way (default 300 s). */
  toleranceSeconds?: number;
  /** The receiver's time (default: now). */
  now?: Date;
}

/**
 * For receivers: true when `header` (a `Daybook-Signature` value) signs
 * exactly `body` (the raw bytes received) with `secret`, at a time within
 * the tolerance of `now`. Several `v1=` entries are accepted (one may match,
 * e.g. while the secret is rotated). The comparison takes constant time.
 */
export function verifyDaybookSignature(header: string | string[] | undefined | null, body: string | Uint8Array, secret: string, options: VerifyOptions = {}): boolean {
  if (typeof header !== 'string' || typeof secret !== 'string' || secret.length === 0) return false;
  let timestamp: number | null = null;
  const candidates: Buffer[] = [];
  for (const part of header.split(',')) {
    const [key, value, ...rest] = part.trim().split('=');
    if (rest.length > 0 || value === undefined) return false;
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) candidates.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === null || candidates.length === 0) return false;
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (!(Math.abs(nowSeconds - timestamp) <= tolerance)) return false;
  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  let matched = false;
  // Every candidate is compared, so the time taken says nothing about which one matched.
  for (const candidate of candidates) if (timingSafeEqual(candidate, expected)) matched = true;
  return matched;
}

function hmacHex(secret: string, unixSeconds: number, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${unixSeconds}.`).update(body).digest('hex');
}

/** The URL to POST to, and how errors show it: origin and path only, since credentials or tokens may sit in the rest. */
function parseTarget(url: unknown): { url: URL; shown: string } {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new DaybookError('validation_failed', 'url must be an absolute http: or https: URL', {}, 'url');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new DaybookError('validation_failed', 'url must be an absolute http: or https: URL', {}, 'url');
  // fetch refuses them, and the receiver authenticates the signature anyway.
  if (parsed.username !== '' || parsed.password !== '') throw new DaybookError('validation_failed', 'url must not carry credentials (user:password@): the signature authenticates deliveries', {}, 'url');
  return { url: parsed, shown: `${parsed.origin}${parsed.pathname}` };
}

function describeFetchFailure(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: unknown })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  if (typeof cause?.code === 'string') return `cannot reach the receiver (${cause.code})`;
  return `cannot reach the receiver (${error instanceof Error ? error.message : String(error)})`;
}
