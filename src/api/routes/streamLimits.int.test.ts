/**
 * `GET /v1/stream` under load, over real HTTP on a real SQLite store: open
 * streams are capped per API key and in total (429 past the cap, the slot
 * given back when the client goes); many subscribers, some catching up from
 * position 0 over more than a page and some joining at the head while writes
 * run, each get exactly the events they may see, in order, with no gap and
 * no duplicate; and the store's log reads per commit do not grow with the
 * number of subscribers (counted on the storage engine under the store).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventStore } from '../../eventstore/createEventStore.ts';
import type { EventStore } from '../../eventstore/index.ts';
import { openSqliteEngine } from '../../eventstore/sqlite/sqliteEngine.ts';
import type { StorageEngine } from '../../eventstore/storageEngine.ts';
import { READ_PAGE_SIZE } from '../../kernel/index.ts';
import { type ApiServices, openApiServices } from '../apiServices.ts';
import { TEST_PEPPER } from '../apiTestkit.ts';
import { buildApp } from '../buildApp.ts';

/** The engine calls that read the log or its head: what a subscriber costs the store. */
const LOG_READS = new Set<PropertyKey>(['readAllRows', 'headPosition', 'readStreamRows']);

interface Harness {
  store: EventStore;
  services: ApiServices;
  app: FastifyInstance;
  baseUrl: string;
  reads: { count: number };
  keyOf(role: 'admin' | 'operator', index?: number): Promise<{ authorization: string }>;
  close(): Promise<void>;
}

let harness: Harness | undefined;
const open: SseClient[] = [];

afterEach(async () => {
  for (const client of open.splice(0)) client.close();
  await harness?.close();
  harness = undefined;
});

async function openHarness(streamLimits?: { perKey: number; total: number }): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-stream-limits-'));
  const engine = await openSqliteEngine({ path: join(dir, 'daybook.db') });
  const reads = { count: 0 };
  const counted = new Proxy(engine, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        if (LOG_READS.has(property)) reads.count += 1;
        return method.apply(target, args);
      };
    },
  }) as StorageEngine;
  // A poll far longer than the test: every read counted is one a commit caused.
  const store = createEventStore(counted, { subscriptionPollMs: 600_000 });
  const services = await openApiServices(store, { dataDir: dir, pepper: TEST_PEPPER, rateLimit: { perSecond: 0, burst: 0 }, ...(streamLimits ? { streamLimits } : {}) });
  const app = await buildApp({ store, security: services.security, plugins: services.plugins });
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  const made = new Map<string, string>();
  harness = {
    store, services, app, baseUrl, reads,
    async keyOf(role, index = 0) {
      const name = `${role}-${index}`;
      if (!made.has(name)) made.set(name, (await services.keys.create({ role, mode: 'test', createdBy: 'test' })).secret);
      return { authorization: `Bearer ${made.get(name)!}` };
    },
    async close() {
      // fetch may have opened a spare connection that never carried a request, which the server would wait for (stream.routes.int.test.ts covers closing with streams open).
      app.server.closeAllConnections();
      await app.close();
      await services.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

interface SseEvent { position: bigint; type: string; data: { stream_id: string; metadata: Record<string, unknown> | null } }

/** One server-sent-events connection, read in the background. */
class SseClient {
  status = 0;
  errorCode: string | undefined;
  /** The position the server said it streams after (its first comment line). */
  startedAfter: bigint | undefined;
  readonly events: SseEvent[] = [];
  private readonly controller = new AbortController();
  private waiters: Array<() => void> = [];
  private ended = false;

  static async connect(baseUrl: string, url: string, headers: Record<string, string>): Promise<SseClient> {
    const client = new SseClient();
    open.push(client);
    const response = await fetch(`${baseUrl}${url}`, { headers, signal: client.controller.signal });
    client.status = response.status;
    if (response.status !== 200) {
      client.errorCode = ((await response.json()) as { error: { code: string } }).error.code;
      return client;
    }
    void client.read(response.body as unknown as AsyncIterable<Uint8Array>);
    await client.until(() => client.startedAfter !== undefined, 'the opening comment');
    return client;
  }

  private async read(body: AsyncIterable<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          this.parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        this.notify();
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    } finally {
      this.ended = true;
      this.notify();
    }
  }

  private parse(block: string): void {
    const fields: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const started = /^: streaming after position (\d+)$/.exec(line);
      if (started) this.startedAfter = BigInt(started[1]!);
      const colon = line.indexOf(': ');
      if (!line.startsWith(':') && colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 2);
    }
    if (fields.data !== undefined) this.events.push({ position: BigInt(fields.id!), type: fields.event!, data: JSON.parse(fields.data) });
  }

  private notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Waits (bounded) for a condition on what arrived. */
  async until(condition: () => boolean, what: string, boundMs = 20_000): Promise<void> {
    const deadline = Date.now() + boundMs;
    while (!condition()) {
      if (this.ended) throw new Error(`the stream ended before ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${boundMs} ms (${this.events.length} events so far)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  close(): void {
    this.controller.abort();
  }
}

/** Opens a stream until it is accepted (the server lets go of a closed one when it sees the socket close), bounded. */
async function connectOnceFree(h: Harness, url: string, headers: Record<string, string>): Promise<SseClient> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = await SseClient.connect(h.baseUrl, url, headers);
    if (client.status === 200 || Date.now() > deadline) { console.log("attempts until", Date.now() - deadline + 10_000); return client; }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('/v1/stream limits', () => {
  it('caps open streams per API key: the one past the cap gets 429, and a closed stream frees its slot', async () => {
    const h = await openHarness({ perKey: 2, total: 10 });
    const key = await h.keyOf('operator');
    const first = await SseClient.connect(h.baseUrl, '/v1/stream', key);
    const second = await SseClient.connect(h.baseUrl, '/v1/stream', key);
    expect([first.status, second.status]).toEqual([200, 200]);
    const refused = await SseClient.connect(h.baseUrl, '/v1/stream', key);
    expect([refused.status, refused.errorCode]).toEqual([429, 'rate_limited']);
    // Another key still gets its own.
    expect((await SseClient.connect(h.baseUrl, '/v1/stream', await h.keyOf('operator', 1))).status).toBe(200);
    first.close();
    expect((await connectOnceFree(h, '/v1/stream', key)).status).toBe(200);
    expect((await SseClient.connect(h.baseUrl, '/v1/stream', key)).status).toBe(429);
  });

  it('caps open streams in total, across keys', async () => {
    const h = await openHarness({ perKey: 5, total: 3 });
    const clients = [];
    for (let index = 0; index < 3; index += 1) clients.push(await SseClient.connect(h.baseUrl, '/v1/stream', await h.keyOf('operator', index)));
    expect(clients.map((client) => client.status)).toEqual([200, 200, 200]);
    const refused = await SseClient.connect(h.baseUrl, '/v1/stream', await h.keyOf('operator', 3));
    expect([refused.status, refused.errorCode]).toEqual([429, 'rate_limited']);
    clients[1]!.close();
    expect((await connectOnceFree(h, '/v1/stream', await h.keyOf('operator', 3))).status).toBe(200);
  });
});

describe('/v1/stream fan-out', () => {
  it('gives many subscribers, from position 0 and from the head, every event they may see, in order, once, while writes run', async () => {
    const h = await openHarness({ perKey: 50, total: 50 });
    const key = await h.keyOf('admin');
    let written = 0;
    // Three test-mode events out of four, one type in two: the filters have work to do.
    const write = async (count: number) => {
      const events = Array.from({ length: count }, (_, index) => ({
        type: (written + index) % 2 === 0 ? 'Counted' : 'Other', data: { n: written + index }, metadata: { mode: (written + index) % 4 === 3 ? 'live' : 'test' },
      }));
      written += count;
      await h.store.append({ streamId: `bulk-${written % 7}`, events });
    };
    // More than a page before anyone subscribes, so a catch-up from 0 spans pages.
    for (let index = 0; index < 3; index += 1) await write(READ_PAGE_SIZE - 1);
    const subscribers: SseClient[] = [];
    const writing = (async () => {
      for (let round = 0; round < 40; round += 1) await Promise.all([write(5), write(3)]);
    })();
    for (let index = 0; index < 12; index += 1) {
      const url = ['/v1/stream?category=bulk&after=0', '/v1/stream?category=bulk', '/v1/stream?category=bulk&types=Counted&after=0'][index % 3]!;
      subscribers.push(await SseClient.connect(h.baseUrl, url, key));
    }
    await writing;
    const log = (await readWhole(h.store)).filter((event) => event.streamId.startsWith('bulk-') && event.metadata?.mode === 'test');
    const last = log.at(-1)!.position;
    for (const [index, subscriber] of subscribers.entries()) {
      expect(subscriber.status).toBe(200);
      const wanted = log.filter((event) => event.position > subscriber.startedAfter! && (index % 3 !== 2 || event.type === 'Counted'));
      await subscriber.until(() => subscriber.events.length >= wanted.length && (wanted.length === 0 || subscriber.events.some((event) => event.position >= wanted.at(-1)!.position)), `subscriber ${index} reaching ${last}`);
      expect(subscriber.events.map((event) => event.position)).toEqual(wanted.map((event) => event.position));
    }
  });

  it('reads the log once per commit, however many subscribers follow it', async () => {
    const h = await openHarness({ perKey: 50, total: 50 });
    const key = await h.keyOf('operator');
    const subscribers = [await SseClient.connect(h.baseUrl, '/v1/stream?category=ledger', key)];
    let accounts = 0;
    const readsPerCommit = async (commits: number): Promise<number> => {
      const before = h.reads.count;
      for (let index = 0; index < commits; index += 1) {
        const id = `acct-${(accounts += 1)}`;
        const response = await h.app.inject({ method: 'POST', url: '/v1/accounts', payload: { id, currency: 'USD' }, headers: key });
        expect(response.statusCode).toBe(200);
        for (const subscriber of subscribers) {
          await subscriber.until(() => subscriber.events.some((event) => event.type === 'AccountOpened' && JSON.stringify(event.data).includes(`"${id}"`)), `the opening of ${id}`);
        }
      }
      return (h.reads.count - before) / commits;
    };
    const withOne = await readsPerCommit(10);
    for (let index = 0; index < 19; index += 1) subscribers.push(await SseClient.connect(h.baseUrl, '/v1/stream?category=ledger', key));
    const withTwenty = await readsPerCommit(10);
    expect(withTwenty).toBeLessThanOrEqual(withOne + 0.5);
  });
});

async function readWhole(store: EventStore) {
  const events = [];
  for await (const event of store.streamAll()) events.push(event);
  return events;
}
