/**
 * Relays on real SQLite and real PostgreSQL, delivering over real HTTP to a
 * node:http receiver: every event exactly once and in global order when the
 * receiver is well; no gap and no re-sent batch when it fails a few times or
 * hangs; a delivery that keeps failing is parked in the dead-letter table, the
 * relay goes on, and retrying the letter delivers it (with policy 'stop' it
 * waits on it, in order); a deliverer's socket-like error is still the
 * delivery's fault, not the database's; a new version of a relay
 * takes over without re-delivering the history.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeIfConcurrentPostgres, resettableTestDatabase } from '../../test/support/postgres.ts';
import type { RecordedEvent } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { everything, type ProjectionHarnessFactory, useProjectionHarness, waitFor } from './conformance/harness.ts';
import { createProjectionEngine } from './engine.ts';
import { queryProjection } from './queries.ts';
import { openReadModelStore } from './readModelStore.ts';
import { defineRelay, type RelayOptions } from './relay.ts';
import { createHttpDeliverer, verifyDaybookSignature } from './relayHttp.ts';
import { type Answer, type ReceivedRequest, type RelayReceiver, startRelayReceiver } from './relayTestReceiver.ts';
import { ProjectionRunner, type ProjectionRunnerOptions } from './runner.ts';

const SECRET = 'relay-test-secret-0123456789';
const WAIT_MS = 30_000;

function describeRelays(backend: string, factory: ProjectionHarnessFactory): void {
  describe(`relays on ${backend}`, () => {
    const ctx = useProjectionHarness(factory);

    async function receiver(answer?: (request: Omit<ReceivedRequest, 'answer'>) => Answer | Promise<Answer>): Promise<RelayReceiver> {
      const started = await startRelayReceiver(answer);
      ctx.defer(() => started.close());
      return started;
    }

    function relayTo(target: RelayReceiver, options: Partial<RelayOptions> & { timeoutMs?: number } = {}) {
      const { timeoutMs, ...rest } = options;
      return defineRelay({
        name: 'webhooks', version: 1, handles: { categories: ['acct'] },
        deliver: createHttpDeliverer({ url: target.url, secret: SECRET, timeoutMs: timeoutMs ?? 10_000 }), ...rest,
      });
    }

    async function run(definition: ProjectionRunnerOptions['definition'], options: Partial<ProjectionRunnerOptions> = {}): Promise<ProjectionRunner> {
      const runner = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition, maxAttempts: 5, initialBackoffMs: 1, ...options });
      ctx.defer(() => runner.stop());
      await runner.start();
      return runner;
    }

    /** `count` events on streams acct-0…acct-3, one append each, with an unrelated event every fifth; returns the relayed ones. */
    async function appendAccounts(count: number, data: (index: number) => Record<string, unknown> = () => ({})): Promise<RecordedEvent[]> {
      const before = await ctx.store.headPosition();
      for (let index = 0; index < count; index += 1) {
        await ctx.store.append({ streamId: `acct-${index % 4}`, events: [{ type: 'Deposited', data: { n: index, ...data(index) } }] });
        if (index % 5 === 0) await ctx.store.append({ streamId: 'other-1', events: [{ type: 'Noise', data: { n: index } }] });
      }
      return (await everything(ctx.store)).filter((event) => event.position > before && event.streamId.startsWith('acct-'));
    }

    const ids = (list: ReadonlyArray<{ eventId: string }>) => list.map((item) => item.eventId);

    it('delivers every event exactly once, in global order, signed, then follows live', async () => {
      const target = await receiver();
      const relayed = await appendAccounts(40);
      const runner = await run(relayTo(target), { batchSize: 7 });
      await runner.waitForPosition(await ctx.store.headPosition(), WAIT_MS);
      const live = await appendAccounts(5);
      await runner.waitForPosition(await ctx.store.headPosition(), WAIT_MS);

      const all = [...relayed, ...live];
      expect(ids(target.requests)).toEqual(ids(all));
      target.requests.forEach((request, index) => {
        const event = all[index]!;
        expect(request.answer).toBe(200);
        expect(request.idempotencyKey).toBe(event.eventId);
        expect(request.position).toBe(event.position);
        expect(verifyDaybookSignature(request.signature, request.body, SECRET)).toBe(true);
        expect(JSON.parse(request.body)).toMatchObject({ id: event.eventId, type: 'Deposited', streamId: event.streamId, position: event.position.toString(), data: event.data });
      });
      const sent = await queryProjection(ctx.readModels, 'webhooks', (q) => q.query<{ delivered: bigint; last_position: bigint }>(`SELECT delivered, last_position FROM ${q.table('webhooks_sent')}`));
      expect(sent.map((row) => [BigInt(row.delivered), BigInt(row.last_position)])).toEqual([[45n, all.at(-1)!.position]]);
    });

    it('a receiver failing its first requests still gets everything, in order, without a gap', async () => {
      const target = await receiver(({ index }) => (index < 3 ? 503 : 200));
      const relayed = await appendAccounts(20);
      const runner = await run(relayTo(target), { batchSize: 100 });
      await runner.waitForPosition(await ctx.store.headPosition(), WAIT_MS);

      expect(target.requests.slice(0, 3).map((request) => [request.eventId, request.answer])).toEqual(Array(3).fill([relayed[0]!.eventId, 503]));
      expect(ids(target.acknowledged())).toEqual(ids(relayed));
      expect(target.requests).toHaveLength(3 + relayed.length);
    });

    it('a failure in the middle of a batch re-sends none of the events the receiver already acknowledged', async () => {
      const relayed = await appendAccounts(20);
      const tenth = relayed[9]!.eventId;
      let refusals = 0;
      const target = await receiver(({ eventId }) => (eventId === tenth && refusals++ < 2 ? 503 : 200));
      const runner = await run(relayTo(target), { batchSize: 100 });
      await runner.waitForPosition(await ctx.store.headPosition(), WAIT_MS);

      expect(ids(target.acknowledged())).toEqual(ids(relayed));
      // The batch rolled back after the 10th failed, and its events were applied again one at a time: only the 10th went out again.
      expect(ids(target.requests)).toEqual([...ids(relayed.slice(0, 10)), tenth, ...ids(relayed.slice(9))]);
    });

    it('holds no lock while a receiver is slow to answer: appends go on meanwhile and are relayed after', async () => {
      let release!: () => void;
      const released = new Promise<void>((resolve) => { release = resolve; });
      let firstArrived!: () => void;
      const arrived = new Promise<void>((resolve) => { firstArrived = resolve; });
      const target = await receiver(async ({ index }) => {
        if (index === 0) {
          firstArrived();
          await released;
        }
        return 200;
      });
      const relayed = await appendAccounts(3);
      const runner = await run(relayTo(target, { timeoutMs: 30_000 }), { batchSize: 100 });
      await arrived;
      // The first delivery is waiting on the receiver: appends must not wait on it (on SQLite they share the file's write lock with the read model).
      const during = await appendAccounts(12);
      release();
      await runner.waitForPosition(await ctx.store.headPosition(), WAIT_MS);
      expect(ids(target.acknowledged())).toEqual(ids([...relayed, ...during]));
    });

    it('a receiver that does not answer in time is tried again; no event is lost', async () => {
      const target = await receiver(({ index }) => (index === 0 ? 'hang' : 200));
      const relayed = await appendAccounts(6);
      const runner = await run(relayTo(target, { timeoutMs: 1_000 }), { batchSize: 100 });
      await runner.waitForPosition(await ctx.store.headPosition(), WAIT_MS);

      expect(target.requests[0]).toMatchObject({ eventId: relayed[0]!.eventId, answer: 'hung' });
      // At least once: a slow machine may time out an answered request too, so duplicates are folded by their key.
      expect([...new Set(target.acknowledged().map((request) => request.idempotencyKey))]).toEqual(ids(relayed));
      expect(await ctx.readModels.read((tx) => tx.query('SELECT * FROM projection_dead_letters'))).toEqual([]);
    });

    it('parks an event its receiver keeps refusing, goes on, and delivers it when the dead letter is retried', async () => {
      let refusing = true;
      const target = await receiver(({ body }) => (refusing && (JSON.parse(body) as { data: { refuse?: boolean } }).data.refuse ? 500 : 200));
      const relayed = await appendAccounts(6, (index) => (index === 2 ? { refuse: true } : {}));
      const bad = relayed[2]!;
      const engine = createProjectionEngine({ store: ctx.store, readModels: ctx.readModels, projections: [relayTo(target)], maxAttempts: 3, initialBackoffMs: 1 });
      ctx.defer(() => engine.stop());
      await engine.start();
      await engine.waitForPosition('webhooks', await ctx.store.headPosition(), WAIT_MS);

      const [letter, ...others] = await engine.listDeadLetters();
      expect(others).toEqual([]);
      expect(letter).toMatchObject({ projection: 'webhooks', position: bad.position, eventId: bad.eventId, status: 'parked', attempts: 3 });
      expect(letter!.error).toContain('HTTP 500');
      expect(letter!.error).not.toContain(SECRET);
      expect(letter!.error).not.toContain('not-shown');
      expect(ids(target.acknowledged())).toEqual(ids(relayed.filter((event) => event !== bad)));

      // The relay went on: later events are delivered live.
      const later = await appendAccounts(3);
      await engine.waitForPosition('webhooks', await ctx.store.headPosition(), WAIT_MS);
      expect(ids(target.acknowledged()).slice(-3)).toEqual(ids(later));

      refusing = false;
      expect(await engine.retryDeadLetter(letter!.id)).toMatchObject({ status: 'retried' });
      const last = target.acknowledged().at(-1)!;
      expect(last).toMatchObject({ eventId: bad.eventId, idempotencyKey: bad.eventId, position: bad.position });
      expect(verifyDaybookSignature(last.signature, last.body, SECRET)).toBe(true);
      expect(await engine.listDeadLetters()).toEqual([]);
    });

    it("with policy 'stop' the relay waits on the refused event, delivering nothing after it, until the letter is retried", async () => {
      let refusing = true;
      const target = await receiver(({ body }) => (refusing && (JSON.parse(body) as { data: { refuse?: boolean } }).data.refuse ? 500 : 200));
      const relayed = await appendAccounts(6, (index) => (index === 2 ? { refuse: true } : {}));
      const engine = createProjectionEngine({
        store: ctx.store, readModels: ctx.readModels, projections: [relayTo(target, { onPoison: 'stop' })], maxAttempts: 2, initialBackoffMs: 1, blockedPollMs: 5,
      });
      ctx.defer(() => engine.stop());
      await engine.start();
      await waitFor(() => engine.runner('webhooks').state === 'blocked', WAIT_MS, 'the relay stopped on the refused event');

      expect(ids(target.acknowledged())).toEqual(ids(relayed.slice(0, 2)));
      expect(target.requests.every((request) => request.position <= relayed[2]!.position)).toBe(true);
      const [letter] = await engine.listDeadLetters();
      expect(letter).toMatchObject({ position: relayed[2]!.position, status: 'blocking' });

      refusing = false;
      await engine.retryDeadLetter(letter!.id);
      const head = await ctx.store.headPosition();
      const runner = engine.runner('webhooks');
      await waitFor(() => runner.state === 'live' && runner.checkpoint === head, WAIT_MS, 'the relay went on past the retried event');
      expect(ids(target.acknowledged())).toEqual(ids(relayed));
    });

    it('a deliverer failing with a socket-like error code is retried and parked, not mistaken for a database outage', async () => {
      const relayed = await appendAccounts(4, (index) => (index === 1 ? { refuse: true } : {}));
      const calls: Array<[string, string, bigint]> = [];
      const definition = defineRelay({
        name: 'webhooks', version: 1, handles: { categories: ['acct'] },
        async deliver(event, { idempotencyKey, position }) {
          calls.push([event.eventId, idempotencyKey, position]);
          // The code the engine reads as "the database connection is gone" when a database driver throws it.
          if ((event.data as { refuse?: boolean }).refuse) throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' });
        },
      });
      const runner = await run(definition, { batchSize: 100, maxAttempts: 2 });
      await runner.waitForPosition(await ctx.store.headPosition(), WAIT_MS);

      const letters = await ctx.readModels.read((tx) => tx.query<{ position: bigint; error: string; status: string }>('SELECT position, error, status FROM projection_dead_letters'));
      expect(letters.map((row) => [BigInt(row.position), row.status])).toEqual([[relayed[1]!.position, 'parked']]);
      expect(letters[0]!.error).toMatch(/relay webhooks: delivering event .* failed: Error: connect ECONNREFUSED/);
      for (const [eventId, key, position] of calls) {
        expect(key).toBe(eventId);
        expect(position).toBe(relayed.find((event) => event.eventId === eventId)!.position);
      }
    });

    it('a new version takes over where the old one stopped: no history again, but what it parked is tried again', async () => {
      let refusing = true;
      const target = await receiver(({ body }) => (refusing && (JSON.parse(body) as { data: { refuse?: boolean } }).data.refuse ? 500 : 200));
      const relayed = await appendAccounts(8, (index) => (index === 5 ? { refuse: true } : {}));
      const first = await run(relayTo(target), { batchSize: 3, maxAttempts: 2 });
      await first.waitForPosition(await ctx.store.headPosition(), WAIT_MS);
      await first.stop();
      const bad = relayed[5]!;
      expect(ids(target.acknowledged())).toEqual(ids(relayed.filter((event) => event !== bad)));

      refusing = false;
      const later = await appendAccounts(3);
      const second = await run(relayTo(target, { version: 2 }), { batchSize: 3 });
      await second.waitForPosition(await ctx.store.headPosition(), WAIT_MS);
      expect((await second.status()).version).toBe(2);
      expect(ids(target.acknowledged())).toEqual([...ids(relayed.filter((event) => event !== bad)), bad.eventId, ...ids(later)]);
      const letters = await ctx.readModels.read((tx) => tx.query<{ status: string }>('SELECT status FROM projection_dead_letters'));
      expect(letters.map((row) => row.status)).toEqual(['superseded']);
    });
  });
}

describeRelays('sqlite', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'daybook-relay-'));
  const url = `sqlite:${join(folder, 'daybook.db')}`;
  const store = await openEventStore(url, { subscriptionPollMs: 50 });
  const readModels = await openReadModelStore(url);
  return {
    store, readModels, openReadModels: () => openReadModelStore(url),
    async teardown() {
      await readModels.close();
      await store.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
});

const database = resettableTestDatabase();

describeIfConcurrentPostgres('relays on postgres', () => {
  afterAll(async () => {
    await database.drop();
  });

  describeRelays('postgres', async () => {
    const url = await database.emptied();
    const store = await openEventStore(url, { subscriptionPollMs: 50 });
    const readModels = await openReadModelStore(url);
    return {
      store, readModels, openReadModels: () => openReadModelStore(url),
      async teardown() {
        await readModels.close();
        await store.close();
      },
    };
  });
});
