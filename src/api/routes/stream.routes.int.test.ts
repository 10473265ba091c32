/**
 * `GET /v1/stream` over real HTTP: server-sent events of the global log,
 * each with its global position as id, filtered by category and types and by
 * what the key may see (its mode; its role's categories; system events for
 * admins and auditors only), resumable with Last-Event-ID; open streams end
 * when the app closes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

let api: ApiHarness;
let baseUrl: string;

beforeAll(async () => {
  api = await openApiHarness();
  baseUrl = await api.app.listen({ port: 0, host: '127.0.0.1' });
  for (const [id, mode] of [['s-test', 'test'], ['s-live', 'live']] as const) {
    const response = await api.app.inject({ method: 'POST', url: '/v1/accounts', payload: { id, currency: 'USD' }, headers: api.as('operator', mode) });
    expect(response.statusCode).toBe(200);
  }
});
afterAll(async () => { await api.close(); });

interface SseEvent { id: string; event: string; data: { stream_id: string; type: string; position: string; metadata: Record<string, unknown> } }

/** Reads events until `count` arrive or the bound passes, then aborts. */
async function readEvents(url: string, headers: Record<string, string>, count: number, boundMs = 1500): Promise<{ status: number; events: SseEvent[]; contentType: string | null }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), boundMs);
  const response = await fetch(`${baseUrl}${url}`, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  if (response.status !== 200) {
    clearTimeout(timer);
    return { status: response.status, events, contentType: response.headers.get('content-type') };
  }
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = Object.fromEntries(block.split('\n').filter((line) => !line.startsWith(':') && line.includes(': ')).map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)]));
        if (fields.data !== undefined) events.push({ id: fields.id!, event: fields.event!, data: JSON.parse(fields.data) });
      }
      if (events.length >= count) break;
    }
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { status: 200, events, contentType: response.headers.get('content-type') };
}

describe('/v1/stream', () => {
  it('streams the log from a position, ids being global positions', async () => {
    const { events, contentType } = await readEvents('/v1/stream?after=0', api.as('auditor'), 1000);
    expect(contentType).toMatch(/^text\/event-stream/);
    const positions = events.map((event) => BigInt(event.id));
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
    expect(events.every((event) => event.id === event.data.position && event.event === event.data.type)).toBe(true);
    // An auditor of test mode: test ledger events and system events (API keys), no live events.
    expect(events.some((event) => event.data.stream_id === 'ledger-test')).toBe(true);
    const keyEvents = events.filter((event) => event.data.stream_id.startsWith('apikey-'));
    expect(keyEvents.length).toBeGreaterThan(0);
    expect(JSON.stringify(keyEvents)).not.toContain('secretHash');
    expect(events.some((event) => event.data.stream_id === 'ledger-live')).toBe(false);
  });

  it('shows an operator only business events of its mode, and filters by category and type', async () => {
    const live = await readEvents('/v1/stream?after=0', api.as('operator', 'live'), 1000);
    expect(live.events.length).toBeGreaterThan(0);
    expect(live.events.every((event) => /^ledger-(banking-)?live$/.test(event.data.stream_id))).toBe(true);
    expect(live.events.some((event) => event.data.stream_id === 'ledger-live')).toBe(true);
    const opened = await readEvents('/v1/stream?after=0&category=ledger&types=AccountOpened', api.as('support'), 1000);
    expect(new Set(opened.events.map((event) => event.event))).toEqual(new Set(['AccountOpened']));
    expect(opened.events.every((event) => /^ledger-(banking-)?test$/.test(event.data.stream_id))).toBe(true);
    expect(opened.events.filter((event) => event.data.stream_id === 'ledger-test')).toHaveLength(1);
    expect((await readEvents('/v1/stream?category=apikey', api.as('support'), 1)).status).toBe(403);
  });

  it('resumes after Last-Event-ID and delivers new events live', async () => {
    const all = await readEvents('/v1/stream?after=0&category=ledger', api.as('operator'), 1000);
    const last = all.events.at(-1)!;
    const next = readEvents('/v1/stream?category=ledger', { ...api.as('operator'), 'last-event-id': last.id }, 1, 5000);
    await api.app.inject({ method: 'POST', url: '/v1/accounts', payload: { id: 's-new', currency: 'USD' }, headers: { ...api.as('operator'), 'x-correlation-id': 'corr-sse' } });
    const { events } = await next;
    expect(events).toHaveLength(1);
    expect(BigInt(events[0]!.id)).toBeGreaterThan(BigInt(last.id));
    expect(events[0]!.data.metadata.correlationId).toBe('corr-sse');
  });

  it('ends open streams when the app closes, so shutdown does not wait for clients', async () => {
    const other = await openApiHarness();
    const url = await other.app.listen({ port: 0, host: '127.0.0.1' });
    const response = await fetch(`${url}/v1/stream`, { headers: other.as('operator') });
    expect(response.status).toBe(200);
    const reading = response.text();
    // Without the preClose hook, close() would wait for this client for ever (the test would time out).
    await other.close();
    await reading;
  });
});
