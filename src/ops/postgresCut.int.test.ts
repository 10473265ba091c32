/**
 * Point-in-time restore on real PostgreSQL: a database the operator restored
 * (here: one the test filled) has its log cut in place at a position or a
 * time; the head, the chains, snapshots past the cut and the projections
 * (checkpoint moved back, read model rebuilt from the kept events) follow,
 * and new appends continue from the cut.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeIfPostgres, type TestDatabase } from '../../test/support/postgres.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { streamStatsProjection } from '../projections/conformance/streamStats.projection.ts';
import { createProjectionEngine, openReadModelStore, waitForPosition } from '../projections/index.ts';
import { cutPostgresStore } from './index.ts';

const stats = () => streamStatsProjection({ name: 'acct_stats' });

describeIfPostgres('cutting a restored PostgreSQL store in place', () => {
  let db: TestDatabase;
  let store: EventStore | undefined;
  beforeAll(async () => { db = await createTestDatabase(); });
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  afterAll(async () => { await db?.drop(); });

  async function fresh(): Promise<EventStore> {
    const reset = await openReadModelStore(db.url);
    await reset.transaction((tx) => tx.execute('DROP SCHEMA IF EXISTS daybook CASCADE'));
    await reset.close();
    store = await openEventStore(db.url);
    return store;
  }

  async function fill(target: EventStore, count: number, prefix = 'acct'): Promise<void> {
    for (let done = 0; done < count; done += 50) {
      await target.append({ streamId: `${prefix}-${(done / 50) % 5}`, events: Array.from({ length: 50 }, (_, i) => ({ type: 'Counted', data: { n: done + i } })) });
    }
  }

  async function projectToHead(target: EventStore): Promise<void> {
    const readModels = await openReadModelStore(db.url);
    const engine = createProjectionEngine({ store: target, readModels, projections: [stats()] });
    await engine.start();
    await waitForPosition(readModels, 'acct_stats', await target.headPosition(), 20_000);
    await engine.stop();
    await readModels.close();
  }

  async function statsOf(): Promise<{ counted: number; checkpoint: bigint }> {
    const readModels = await openReadModelStore(db.url);
    try {
      return await readModels.read(async (tx) => {
        const [active] = await tx.query<{ version: number }>("SELECT version FROM projection_active WHERE name = 'acct_stats'");
        const [sum] = await tx.query<{ counted: string }>(`SELECT coalesce(sum(events), 0)::text AS counted FROM acct_stats_v${active!.version}`);
        const [checkpoint] = await tx.query<{ position: string }>('SELECT position::text AS position FROM projection_checkpoints WHERE name = $1 AND version = $2', ['acct_stats', active!.version]);
        return { counted: Number(sum!.counted), checkpoint: BigInt(checkpoint!.position) };
      });
    } finally {
      await readModels.close();
    }
  }

  it('to a position: log, head, snapshots and projections follow; appends go on from the cut', async () => {
    const live = await fresh();
    await fill(live, 1000);
    await live.saveSnapshot({ streamId: 'acct-0', version: 200n, schemaVersion: 1, state: { late: true } });
    await live.saveSnapshot({ streamId: 'acct-1', version: 50n, schemaVersion: 1, state: { early: true } });
    await projectToHead(live);
    await live.close();
    store = undefined;

    const report = await cutPostgresStore({ url: db.url, description: 'test', toPosition: 420n, projections: [stats()] });
    expect(report).toMatchObject({ headPosition: 420n, eventsKept: 420, eventsCut: 580, projectionsRebuilt: ['acct_stats'] });
    expect(report.cut).toMatchObject({ snapshotsDropped: 1, checkpointsMovedBack: 1 });
    expect(await statsOf()).toEqual({ counted: 420, checkpoint: 420n });

    store = await openEventStore(db.url);
    expect(await store.verify()).toMatchObject({ ok: true, headPosition: 420n, eventsChecked: 420 });
    expect(await store.loadSnapshot('acct-0', 1)).toBeNull();
    expect(await store.loadSnapshot('acct-1', 1)).toMatchObject({ version: 50n });
    const [kept] = await store.readAll({ after: 419n, limit: 1 });
    expect(kept!.hash).toBe(report.headHash);
    expect((await store.append({ streamId: 'acct-0', events: [{ type: 'After', data: {} }] })).position).toBe(421n);
    expect((await store.verify()).ok).toBe(true);
  });

  it('to a time: keeps the events recorded at or before it', async () => {
    const live = await fresh();
    await fill(live, 300);
    const [last] = await live.readAll({ after: 299n, limit: 1 });
    const cutAtMs = last!.recordedAt.getTime();
    // Later events must carry a later millisecond: wait for the clock to pass it.
    while (Date.now() <= cutAtMs + 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await fill(live, 200, 'late');
    await live.close();
    store = undefined;

    const report = await cutPostgresStore({ url: db.url, description: 'test', toTimeMs: cutAtMs, projections: [] });
    expect(report).toMatchObject({ headPosition: 300n, eventsCut: 200 });
  });

  it('refuses a position past the head, and a cut without a point', async () => {
    const live = await fresh();
    await fill(live, 100);
    await live.close();
    store = undefined;
    await expect(cutPostgresStore({ url: db.url, description: 'test', toPosition: 101n, projections: [] }))
      .rejects.toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/position 101 is past the store's head 100/) });
    await expect(cutPostgresStore({ url: db.url, description: 'test', projections: [] })).rejects.toMatchObject({ code: 'validation_failed' });
    store = await openEventStore(db.url);
    expect(await store.headPosition()).toBe(100n);
  });
});
