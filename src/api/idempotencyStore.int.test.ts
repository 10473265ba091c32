/**
 * The idempotency record store on SQLite: records outlive the cache (read
 * back from the store), the first of two racing saves wins and both get it,
 * the per-scope lock hands over in order, opening reads nothing, and the
 * cache misses of one event-loop turn are answered by one store read (a
 * failed read rejects its own batch only).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { DaybookError, systemClock } from '../kernel/index.ts';
import { IdempotencyStore } from './idempotencyStore.ts';

let dir: string;
let store: EventStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-idem-store-'));
  store = await openEventStore(`sqlite:${join(dir, 'daybook.db')}`);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const record = (body: string) => ({
  keyId: 'key_1', idempotencyKey: 'k', method: 'POST', route: '/v1/x', fingerprint: 'f', statusCode: 200, contentType: 'application/json', body, recordedAtMs: 1,
});

describe('IdempotencyStore', () => {
  it('reads records back from the store once the cache has let them go', async () => {
    const records = new IdempotencyStore(store, systemClock, 2);
    for (const key of ['a', 'b', 'c']) await records.save(IdempotencyStore.scopeOf('key_1', key), record(`{"key":"${key}"}`), {});
    expect((await records.lookup(IdempotencyStore.scopeOf('key_1', 'a')))?.body).toBe('{"key":"a"}');
    expect(await new IdempotencyStore(store, systemClock).lookup(IdempotencyStore.scopeOf('key_1', 'c'))).toMatchObject({ statusCode: 200, body: '{"key":"c"}' });
    expect(await records.lookup(IdempotencyStore.scopeOf('key_2', 'a'))).toBeUndefined();
  });

  it('opens without reading the log (memory and start-up do not grow with the keys ever recorded); a record made before is found by one read', async () => {
    const first = await IdempotencyStore.open(store, systemClock);
    await first.save(IdempotencyStore.scopeOf('key_1', 'before'), record('"before"'), {});
    let reads = 0;
    const counting = (target: EventStore): EventStore => ({
      ...target,
      readStream: (streamId, options) => { reads += 1; return target.readStream(streamId, options); },
      readFirstEvents: (streamIds) => { reads += 1; return target.readFirstEvents(streamIds); },
      readAll: (options) => { reads += 1; return target.readAll(options); },
      listStreams: (options) => { reads += 1; return target.listStreams(options); },
    });
    const reopened = await IdempotencyStore.open(counting(store), systemClock);
    expect(reads).toBe(0);
    expect((await reopened.lookup(IdempotencyStore.scopeOf('key_1', 'before')))?.body).toBe('"before"');
    expect(reads).toBe(1);
    expect(await reopened.lookup(IdempotencyStore.scopeOf('key_1', 'fresh-1'))).toBeUndefined();
    expect(reads).toBe(2);
    // Saved through this instance: read from its cache.
    await reopened.save(IdempotencyStore.scopeOf('key_1', 'after'), record('"after"'), {});
    expect((await reopened.lookup(IdempotencyStore.scopeOf('key_1', 'after')))?.body).toBe('"after"');
    expect(reads).toBe(2);
  });

  it('lets the first of two racing saves win, and answers both with it', async () => {
    const one = new IdempotencyStore(store, systemClock);
    const two = new IdempotencyStore(store, systemClock);
    const scope = IdempotencyStore.scopeOf('key_1', 'race');
    const [first, second] = await Promise.all([one.save(scope, record('"one"'), {}), two.save(scope, record('"two"'), {})]);
    expect(first.body).toBe(second.body);
  });

  it('hands a scope over to waiters one at a time', async () => {
    const records = new IdempotencyStore(store, systemClock);
    const order: string[] = [];
    const releaseFirst = await records.acquire('s');
    const second = records.acquire('s').then((release) => { order.push('second'); release(); });
    const third = records.acquire('s').then((release) => { order.push('third'); release(); });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(order).toEqual([]);
    order.push('first');
    releaseFirst();
    releaseFirst();
    await Promise.all([second, third]);
    expect(order[0]).toBe('first');
    expect(order.slice(1).sort()).toEqual(['second', 'third']);
  });

  describe('batched lookups', () => {
    /** A real store whose readFirstEvents calls are counted (and, when `gate` is set, held and failed): it forwards to SQLite. */
    const counted = (target: EventStore, calls: string[][], hold?: { gate: Promise<void>; failCall: number }): EventStore => ({
      ...target,
      readStream: () => { throw new Error('a lookup must not read streams one by one'); },
      readFirstEvents: async (streamIds) => {
        calls.push([...streamIds]);
        if (hold !== undefined && calls.length === hold.failCall) {
          await hold.gate;
          throw new DaybookError('store_unavailable', 'injected: the batch read failed');
        }
        return target.readFirstEvents(streamIds);
      },
    });
    const scope = (key: string): string => IdempotencyStore.scopeOf('key_1', key);

    it('answers 50 concurrent lookups, recorded and not, with one store read of each distinct key once', async () => {
      const writer = new IdempotencyStore(store, systemClock);
      const recorded = Array.from({ length: 20 }, (_, i) => `rec-${i}`);
      for (const key of recorded) await writer.save(scope(key), record(`"${key}"`), {});
      const calls: string[][] = [];
      const records = new IdempotencyStore(counted(store, calls), systemClock);
      // 20 recorded keys, 28 never recorded, and one of each asked twice: 50 lookups of 48 keys.
      const keys = [...recorded, ...Array.from({ length: 28 }, (_, i) => `fresh-${i}`), 'rec-3', 'fresh-5'];
      const answers = await Promise.all(keys.map((key) => records.lookup(scope(key))));
      expect(answers.map((answer) => answer?.body)).toEqual(keys.map((key) => (key.startsWith('rec-') ? `"${key}"` : undefined)));
      expect(calls).toHaveLength(1);
      expect(new Set(calls[0]).size).toBe(48);
      expect(calls[0]).toHaveLength(48);
      // The recorded ones are now cached: asking again reads nothing; a fresh key is read again (it may be recorded since).
      expect((await records.lookup(scope('rec-7')))?.body).toBe('"rec-7"');
      expect(await records.lookup(scope('fresh-1'))).toBeUndefined();
      expect(calls).toHaveLength(2);
      expect(calls[1]).toEqual([IdempotencyStore.streamIdOf(scope('fresh-1'))]);
    });

    it('batches lookups made in separate callbacks of one loop turn (as requests arriving on separate sockets), microtasks run between them', async () => {
      await new IdempotencyStore(store, systemClock).save(scope('seen'), record('"seen"'), {});
      const calls: string[][] = [];
      const records = new IdempotencyStore(counted(store, calls), systemClock);
      // Immediates queued before the first lookup all run in this check phase; the flush it schedules runs in the next one.
      const answers = await Promise.all(['seen', 'new-1', 'new-2', 'new-3'].map((key) =>
        new Promise((resolve, reject) => setImmediate(() => { records.lookup(scope(key)).then((answer) => resolve(answer?.body), reject); }))));
      expect(answers).toEqual(['"seen"', undefined, undefined, undefined]);
      expect(calls).toHaveLength(1);
    });

    it('rejects every lookup of a batch whose read fails, and only those: the next turn reads again', async () => {
      await new IdempotencyStore(store, systemClock).save(scope('kept'), record('"kept"'), {});
      let release!: () => void;
      const gate = new Promise<void>((resolve) => { release = resolve; });
      const calls: string[][] = [];
      const records = new IdempotencyStore(counted(store, calls, { gate, failCall: 1 }), systemClock);
      const failing = ['kept', 'lost-1', 'lost-2'].map((key) => records.lookup(scope(key)).then(() => 'answered', (error: unknown) => error));
      await new Promise((resolve) => setImmediate(resolve));
      expect(calls, 'the first batch is being read').toHaveLength(1);
      // A second batch while the first is still held: it is read on its own and answers.
      const [kept, lost] = await Promise.all([records.lookup(scope('kept')), records.lookup(scope('lost-1'))]);
      expect([kept?.body, lost]).toEqual(['"kept"', undefined]);
      expect(calls).toHaveLength(2);
      release();
      const outcomes = await Promise.all(failing);
      for (const outcome of outcomes) expect(outcome).toMatchObject({ code: 'store_unavailable', message: 'injected: the batch read failed' });
      // Nothing of the failed batch lingers: the same keys are read afresh.
      expect(await records.lookup(scope('lost-2'))).toBeUndefined();
      expect(calls).toHaveLength(3);
    });
  });
});
