/**
 * The HTTP deliverer against a real node:http receiver, and the receiver's
 * signature check: a good header is accepted; a tampered body, a wrong
 * secret, an old (or future) timestamp and malformed headers are refused.
 * Failures (a status, a refused connection) are `relay_delivery_failed`
 * errors that never show the secret nor the URL's query.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../eventstore/index.ts';
import { fixedClock, isDaybookError, RELAY_DELIVERY_TIMEOUT_MS_MAX } from '../kernel/index.ts';
import { createHttpDeliverer, relayEventBody, signDaybookBody, verifyDaybookSignature } from './relayHttp.ts';
import { type RelayReceiver, startRelayReceiver } from './relayTestReceiver.ts';

const SECRET = 'whsec-0123456789abcdef';
const T = 1_790_000_000;
const AT_T = new Date(T * 1000);

const event: RecordedEvent = {
  eventId: '0190f5a4-0000-7000-8000-000000000001', streamId: 'acct-1', version: 3n, position: 42n, type: 'Deposited', schemaVersion: 1,
  data: { amountMinor: '1250', currency: 'USD' }, metadata: { correlationId: 'c-1' }, recordedAt: new Date('2026-11-25T10:00:00.000Z'), hash: 'h', previousHash: 'p',
};

async function rejection(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('verifyDaybookSignature', () => {
  const body = relayEventBody(event);
  const header = signDaybookBody(body, SECRET, T);

  it('accepts a good header, within the tolerance either way', () => {
    expect(header).toMatch(/^t=1790000000,v1=[0-9a-f]{64}$/);
    expect(verifyDaybookSignature(header, body, SECRET, { now: AT_T })).toBe(true);
    expect(verifyDaybookSignature(header, Buffer.from(body), SECRET, { now: new Date((T + 300) * 1000) })).toBe(true);
    expect(verifyDaybookSignature(header, body, SECRET, { now: new Date((T - 300) * 1000) })).toBe(true);
  });

  it('rejects a tampered body', () => {
    expect(verifyDaybookSignature(header, body.replace('1250', '9250'), SECRET, { now: AT_T })).toBe(false);
    expect(verifyDaybookSignature(header, `${body} `, SECRET, { now: AT_T })).toBe(false);
  });

  it('rejects a wrong secret', () => {
    expect(verifyDaybookSignature(header, body, `${SECRET}x`, { now: AT_T })).toBe(false);
    expect(verifyDaybookSignature(header, body, '', { now: AT_T })).toBe(false);
  });

  it('rejects an old timestamp, and one too far ahead', () => {
    expect(verifyDaybookSignature(header, body, SECRET, { now: new Date((T + 301) * 1000) })).toBe(false);
    expect(verifyDaybookSignature(header, body, SECRET, { now: new Date((T + 60) * 1000), toleranceSeconds: 30 })).toBe(false);
    expect(verifyDaybookSignature(header, body, SECRET, { now: new Date((T - 301) * 1000) })).toBe(false);
    // The timestamp is signed: moving it to now breaks the signature.
    expect(verifyDaybookSignature(header.replace(`t=${T}`, `t=${T + 1000}`), body, SECRET, { now: new Date((T + 1000) * 1000) })).toBe(false);
  });

  it('rejects malformed or missing headers, and accepts any matching v1 (secret rotation)', () => {
    const v1 = header.split('v1=')[1]!;
    for (const bad of [undefined, null, '', 'v1=' + v1, `t=${T}`, `t=${T},v1=${v1.slice(2)}`, `t=abc,v1=${v1}`, `t=${T},v1=${v1}=`, ['a', 'b']]) {
      expect(verifyDaybookSignature(bad as string, body, SECRET, { now: AT_T })).toBe(false);
    }
    const other = signDaybookBody(body, 'previous-secret-0123456789', T).split('v1=')[1]!;
    expect(verifyDaybookSignature(`t=${T},v1=${other},v1=${v1}`, body, SECRET, { now: AT_T })).toBe(true);
    expect(verifyDaybookSignature(`t=${T},v1=${other}`, body, SECRET, { now: AT_T })).toBe(false);
  });
});

describe('createHttpDeliverer', () => {
  let receiver: RelayReceiver | null = null;
  afterEach(async () => { await receiver?.close(); receiver = null; });

  it('refuses bad options', () => {
    const code = (make: () => unknown): string | undefined => {
      try { make(); } catch (error) { return isDaybookError(error) ? error.code : 'other'; }
      return undefined;
    };
    expect(code(() => createHttpDeliverer({ url: 'ftp://example.com/x', secret: SECRET }))).toBe('validation_failed');
    expect(code(() => createHttpDeliverer({ url: 'not a url', secret: SECRET }))).toBe('validation_failed');
    expect(code(() => createHttpDeliverer({ url: 'https://user:pw@example.com/x', secret: SECRET }))).toBe('validation_failed');
    expect(code(() => createHttpDeliverer({ url: 'https://example.com/x', secret: 'short' }))).toBe('validation_failed');
    expect(code(() => createHttpDeliverer({ url: 'https://example.com/x', secret: SECRET, timeoutMs: 0 }))).toBe('validation_failed');
    expect(code(() => createHttpDeliverer({ url: 'https://example.com/x', secret: SECRET, timeoutMs: RELAY_DELIVERY_TIMEOUT_MS_MAX }))).toBeUndefined();
    expect(code(() => createHttpDeliverer({ url: 'https://example.com/x', secret: SECRET, timeoutMs: RELAY_DELIVERY_TIMEOUT_MS_MAX + 1 }))).toBe('limit_exceeded');
  });

  it('POSTs the event with its idempotency headers and a signature of the exact body, at the clock\'s time', async () => {
    receiver = await startRelayReceiver(() => 204);
    const deliver = createHttpDeliverer({ url: receiver.url, secret: SECRET, timeoutMs: 10_000, clock: fixedClock(T * 1000 + 999) });
    await deliver(event, { idempotencyKey: event.eventId, position: event.position });
    const [request] = receiver.requests;
    expect(request).toMatchObject({ idempotencyKey: event.eventId, eventId: event.eventId, position: 42n, answer: 204 });
    expect(request!.signature).toBe(signDaybookBody(request!.body, SECRET, T));
    expect(verifyDaybookSignature(request!.signature, request!.body, SECRET, { now: AT_T })).toBe(true);
    expect(JSON.parse(request!.body)).toEqual({
      id: event.eventId, type: 'Deposited', streamId: 'acct-1', streamVersion: '3', position: '42', schemaVersion: 1,
      recordedAt: '2026-11-25T10:00:00.000Z', data: event.data, metadata: event.metadata,
    });
  });

  it('fails on a non-2xx answer and on a refused connection, naming neither the secret nor the query', async () => {
    receiver = await startRelayReceiver(() => 409);
    const deliver = createHttpDeliverer({ url: receiver.url, secret: SECRET, timeoutMs: 10_000 });
    const refused = await rejection(deliver(event, { idempotencyKey: event.eventId, position: event.position }));
    expect(isDaybookError(refused, 'relay_delivery_failed')).toBe(true);
    expect(refused.message).toContain('HTTP 409');

    // A port that was just closed: nobody listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const unreachable = await rejection(createHttpDeliverer({ url: `http://127.0.0.1:${port}/x?token=not-shown`, secret: SECRET })(event, { idempotencyKey: event.eventId, position: event.position }));
    expect(isDaybookError(unreachable, 'relay_delivery_failed')).toBe(true);
    for (const error of [refused, unreachable]) {
      expect(error.message).not.toContain(SECRET);
      expect(error.message).not.toContain('not-shown');
      expect(JSON.stringify((error as { details?: unknown }).details)).not.toContain(SECRET);
    }
  });
});
