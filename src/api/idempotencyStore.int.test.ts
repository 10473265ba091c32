/**
 * The idempotency record store on SQLite: records outlive the cache (read
 * back from the store), the first of two racing saves wins and both get it,
 * the per-scope lock hands over in order, and an opened store indexes the
 * records in the log so that a fresh key reads nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { systemClock } from '../kernel/index.ts';
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
});
