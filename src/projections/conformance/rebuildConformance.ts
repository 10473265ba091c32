/**
 * Blue-green rebuild: generation N serves (and stays live) while N+1 is built;
 * the switch is atomic; queries never see a half-built read model; the old
 * tables are dropped; a second rebuild at once is refused; a definition
 * version bump rebuilds on start; a table dropped by hand stops the runner
 * with a clear error instead of parking every event.
 */
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../catalog.ts';
import { listDeadLetters } from '../deadLetters.ts';
import { createProjectionEngine } from '../engine.ts';
import { dumpReadModel, projectionPosition, queryProjection } from '../queries.ts';
import type { RebuildProgress } from '../rebuild.ts';
import { rebuildProjection } from '../rebuild.ts';
import { ProjectionRunner } from '../runner.ts';
import { appendSpread, failure, type ProjectionHarnessFactory, replayedDump, useProjectionHarness, waitFor } from './harness.ts';
import { referenceProjection, streamStatsProjection } from './streamStats.projection.ts';

interface Observation { version: number; checkpoint: bigint; total: bigint }

export function describeRebuild(factory: ProjectionHarnessFactory): void {
  describe('blue-green rebuild', () => {
    const ctx = useProjectionHarness(factory);

    /** One query: the generation read, its checkpoint and the total of its counts, all in one snapshot. */
    const observe = () => queryProjection(ctx.readModels, 'stream_stats', async (q): Promise<Observation> => {
      const [row] = await q.query<{ total: bigint | null }>(`SELECT sum(events) AS total FROM ${q.table('stream_stats')}`);
      const { position } = await projectionPosition(q, 'stream_stats');
      return { version: q.version, checkpoint: position, total: BigInt(row?.total ?? 0) };
    });

    it('builds N+1 while N serves and stays live, switches atomically, drops N; queries never see a half-built model', async () => {
      await appendSpread(ctx.store, ['acct-1', 'acct-2', 'acct-3', 'pay-1'], 400);
      const definition = streamStatsProjection();
      const engine = createProjectionEngine({ store: ctx.store, readModels: ctx.readModels, projections: [definition], batchSize: 50, idleCheckpointMs: 5 });
      ctx.defer(() => engine.stop());
      await engine.start();
      await engine.waitForPosition('stream_stats', 400n, 20_000);

      // Queries hammer the read model, and appends keep coming, for the whole rebuild.
      let rebuilding = true;
      const observations: Observation[] = [];
      const querying = (async () => {
        while (rebuilding) {
          observations.push(await observe());
          // Let timers and I/O run: on SQLite a query settles without leaving the microtask queue.
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      const appending = (async () => { let n = 0; while (rebuilding && n < 200) { await appendSpread(ctx.store, ['acct-9'], 1); n += 1; } })();
      const progress: RebuildProgress[] = [];
      const result = await engine.rebuild('stream_stats', { batchSize: 25, onProgress: (p) => progress.push(p) });
      await waitFor(() => observations.length > 0 && observations.at(-1)!.version === 2, 10_000, 'a query on the new generation');
      rebuilding = false;
      await Promise.all([querying, appending]);

      expect(result).toMatchObject({ projection: 'stream_stats', previousVersion: 1, version: 2 });
      expect(result.position).toBeGreaterThanOrEqual(400n);
      // Every snapshot is complete: the counts cover exactly the events up to its checkpoint...
      for (const seen of observations) expect(seen.total).toBe(seen.checkpoint);
      // ...and never goes back: N+1 took over at or past where N was.
      for (let index = 1; index < observations.length; index += 1) {
        expect(observations[index]!.checkpoint).toBeGreaterThanOrEqual(observations[index - 1]!.checkpoint);
        expect(observations[index]!.version).toBeGreaterThanOrEqual(observations[index - 1]!.version);
      }
      expect(new Set(observations.map((seen) => seen.version))).toEqual(new Set([1, 2]));
      expect(progress.some((p) => p.phase === 'building' && p.version === 2 && p.eventsPerSecond > 0 && p.etaSeconds !== null)).toBe(true);
      expect(progress.at(-1)!.phase).toBe('done');

      const old = await ctx.readModels.existingTables(['stream_stats_v1', 'stream_stats_types_v1', 'stream_stats_v2', 'stream_stats_types_v2']);
      expect([...old].sort()).toEqual(['stream_stats_types_v2', 'stream_stats_v2']);
      expect(await ctx.readModels.read((tx) => readCheckpoint(tx, 'stream_stats', 1))).toBeNull();

      // The live runner moved on to N+1 by itself.
      const head = (await appendSpread(ctx.store, ['acct-1'], 3));
      await engine.waitForPosition('stream_stats', head, 10_000);
      await waitFor(async () => (await engine.runner('stream_stats').status()).version === 2, 10_000, 'the runner on generation 2');
      expect(await dumpReadModel(ctx.readModels, definition)).toBe(await replayedDump(ctx.store, referenceProjection(), head));
    });

    it('refuses a second rebuild of the same projection while one runs, and takes over a crashed one', async () => {
      await appendSpread(ctx.store, ['acct-1', 'acct-2'], 300);
      const definition = streamStatsProjection();
      const context = { store: ctx.store, readModels: ctx.readModels, definition };
      let second: Promise<unknown> | null = null;
      const first = rebuildProjection(context, {
        batchSize: 5,
        onProgress: () => {
          if (second) return;
          second = rebuildProjection(context, { batchSize: 5 });
          second.catch(() => {}); // Examined below, once the first is done.
        },
      });
      await first;
      const refused = await failure(second!, 'projection_rebuild_in_progress');
      expect(refused.message).toMatch(/already running/);
      expect(await queryProjection(ctx.readModels, 'stream_stats', async (q) => q.version)).toBe(1);

      // A claim whose heartbeat is fresh (another process) blocks; once stale (it crashed), it is taken over.
      const now = Date.now();
      await ctx.readModels.transaction((tx) => tx.execute('INSERT INTO projection_rebuilds (name, target_version, owner, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5)', ['stream_stats', 2, 'elsewhere:1', now, now]));
      await failure(rebuildProjection(context), 'projection_rebuild_in_progress');
      await ctx.readModels.transaction((tx) => tx.execute('UPDATE projection_rebuilds SET heartbeat_at = $1', [now - 60_000]));
      expect(await rebuildProjection(context)).toMatchObject({ previousVersion: 1, version: 2 });
      expect(await ctx.readModels.read((tx) => tx.query('SELECT * FROM projection_rebuilds'))).toEqual([]);
      await failure(createProjectionEngine({ store: ctx.store, readModels: ctx.readModels, projections: [definition] }).rebuild('no_such'), 'projection_not_found');
    });

    it('a new definition version is rebuilt blue-green when its runner starts; older code refuses a newer read model', async () => {
      await appendSpread(ctx.store, ['acct-1', 'acct-2'], 30);
      const v1 = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition: streamStatsProjection() });
      await v1.start();
      await v1.waitForPosition(30n, 10_000);
      await v1.stop();

      const v2 = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition: streamStatsProjection({ version: 2 }) });
      ctx.defer(() => v2.stop());
      await v2.start();
      await waitFor(async () => (await v2.status()).version === 2 && v2.checkpoint === 30n, 10_000, 'generation 2 built and live');
      expect([...await ctx.readModels.existingTables(['stream_stats_v1', 'stream_stats_v2'])]).toEqual(['stream_stats_v2']);

      const stale = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition: streamStatsProjection() });
      await failure(stale.start(), 'validation_failed');
    });

    it('a read-model table dropped by hand stops the runner with a clear error, parks nothing, and a rebuild recovers', async () => {
      await appendSpread(ctx.store, ['acct-1'], 5);
      const definition = streamStatsProjection();
      const runner = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition, initialBackoffMs: 1 });
      await runner.start();
      await runner.waitForPosition(5n, 10_000);
      await ctx.readModels.transaction((tx) => tx.execute('DROP TABLE stream_stats_v1'));
      const head = await appendSpread(ctx.store, ['acct-1'], 2);
      await runner.done;
      const status = await runner.status();
      expect(status.state).toBe('failed');
      expect(status.failure).toMatchObject({ code: 'projection_read_model_missing' });
      expect(status.failure!.message).toMatch(/stream_stats_v1/);
      expect(await listDeadLetters(ctx.readModels, { status: 'all' })).toEqual([]);

      await rebuildProjection({ store: ctx.store, readModels: ctx.readModels, definition });
      const restarted = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition });
      ctx.defer(() => restarted.stop());
      await restarted.start();
      await restarted.waitForPosition(head, 10_000);
      expect(await dumpReadModel(ctx.readModels, definition)).toBe(await replayedDump(ctx.store, referenceProjection(), head));
    });
  });
}
