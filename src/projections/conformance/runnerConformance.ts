/** The runner: catch up, then live; batches in global order, each event once; filters; graceful stop; two workers on one projection. */
import { describe, expect, it } from 'vitest';
import type { BatchCommitted } from '../batchProcessor.ts';
import { createProjectionEngine } from '../engine.ts';
import { partitionOf } from '../projection.ts';
import { dumpReadModel, queryProjection } from '../queries.ts';
import { ProjectionRunner } from '../runner.ts';
import { appendSpread, everything, failure, type ProjectionHarnessFactory, replayedDump, useProjectionHarness, waitFor } from './harness.ts';
import { expectedStats, referenceProjection, streamStatsProjection } from './streamStats.projection.ts';

type StatsRow = { stream_id: string; events: bigint; last_type: string; last_position: bigint };

export function describeRunner(factory: ProjectionHarnessFactory): void {
  describe('runner', () => {
    const ctx = useProjectionHarness(factory);

    const startRunner = async (definition = streamStatsProjection(), options: { batchSize?: number } = {}) => {
      const runner = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition, batchSize: options.batchSize ?? 7, idleCheckpointMs: 5 });
      ctx.defer(() => runner.stop());
      await runner.start();
      return runner;
    };

    const statsRows = (name = 'stream_stats') => queryProjection(ctx.readModels, name, (q) =>
      q.query<StatsRow>(`SELECT stream_id, events, last_type, last_position FROM ${q.table(name)} ORDER BY stream_id`));

    it('catches up on the log in batches, then follows live, each event once and in global order', async () => {
      await appendSpread(ctx.store, ['acct-1', 'acct-2', 'pay-1'], 30);
      const definition = streamStatsProjection();
      const committed: BatchCommitted[] = [];
      const runner = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition, batchSize: 7 });
      ctx.defer(() => runner.stop());
      runner.onBatchCommitted((batch) => committed.push(batch));
      await runner.start();
      await runner.waitForPosition(30n, 10_000);
      const live = await appendSpread(ctx.store, ['acct-1', 'acct-3'], 12);
      await runner.waitForPosition(live, 10_000);

      const log = await everything(ctx.store);
      const seen = definition.calls.flat();
      expect(seen).toEqual(log.map((event) => event.position));
      expect(definition.calls.some((batch) => batch.length > 1)).toBe(true);
      expect(Math.max(...definition.calls.map((batch) => batch.length))).toBeLessThanOrEqual(7);
      // Checkpoints chain: each batch starts where the previous one ended.
      for (let index = 1; index < committed.length; index += 1) expect(committed[index]!.fromPosition).toBe(committed[index - 1]!.toPosition);
      expect(committed[0]!.fromPosition).toBe(0n);
      expect(committed.at(-1)!.toPosition).toBe(42n);
      expect(committed.flatMap((batch) => batch.lagsMs).every((lag) => lag >= 0)).toBe(true);

      const expected = expectedStats(log);
      const rows = await statsRows();
      expect(rows.map((row) => [row.stream_id, BigInt(row.events), row.last_type, BigInt(row.last_position)]))
        .toEqual([...expected].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, s]) => [id, s.events, s.lastType, s.lastPosition]));

      const status = await runner.status();
      expect(status).toMatchObject({ name: 'stream_stats', state: 'live', version: 1, checkpoint: 42n, head: 42n, positionsBehind: 0n, secondsBehind: 0, eventsApplied: 42 });
      expect(status.lag.count).toBe(42);
      expect(await dumpReadModel(ctx.readModels, definition)).toBe(await replayedDump(ctx.store, referenceProjection(), 42n));
    });

    it('applies only the categories and types it handles, yet its checkpoint passes the others', async () => {
      const definition = streamStatsProjection({ name: 'acct_stats', handles: { categories: ['acct'] } });
      const runner = await startRunner(definition);
      await appendSpread(ctx.store, ['acct-1', 'pay-1', 'acct-2', 'fee-1'], 20);
      const last = (await ctx.store.append({ streamId: 'pay-2', events: [{ type: 'Paid', data: {} }] })).position;
      await runner.waitForPosition(last, 10_000);
      expect(runner.checkpoint).toBe(last);
      const rows = await statsRows('acct_stats');
      expect(rows.map((row) => row.stream_id)).toEqual(['acct-1', 'acct-2']);
      expect(definition.calls.flat().length).toBe(10);

      const typed = streamStatsProjection({ name: 'typed_stats', handles: { types: ['ThingHappened'], categories: ['acct', 'fee'] } });
      const second = await startRunner(typed);
      await second.waitForPosition(last, 10_000);
      const log = await everything(ctx.store);
      const wanted = log.filter((event) => event.type === 'ThingHappened' && /^(acct|fee)-/.test(event.streamId)).map((event) => event.position);
      expect(typed.calls.flat()).toEqual(wanted);
    });

    it('stops gracefully: the batch in flight commits whole, and a new runner resumes where it stopped', async () => {
      await appendSpread(ctx.store, ['acct-1', 'acct-2'], 40);
      const definition = streamStatsProjection();
      const runner = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition, batchSize: 3 });
      let stopping: Promise<void> | null = null;
      runner.onBatchCommitted((batch) => { if (batch.toPosition >= 9n) stopping ??= runner.stop(); });
      await runner.start();
      await waitFor(() => stopping !== null, 10_000, 'a stop during the catch-up');
      await stopping;
      expect(runner.state).toBe('stopped');
      const stoppedAt = runner.checkpoint;
      expect(stoppedAt).toBeLessThan(40n);
      expect(await dumpReadModel(ctx.readModels, definition)).toBe(await replayedDump(ctx.store, referenceProjection(), stoppedAt));

      const resumed = await startRunner(definition, { batchSize: 3 });
      await resumed.waitForPosition(40n, 10_000);
      expect(definition.calls.flat()).toEqual((await everything(ctx.store)).map((event) => event.position));
    });

    it('runs a partitioned projection as one runner per partition, each stream in order, equal to a replay', async () => {
      const definition = streamStatsProjection({ name: 'split_stats', partitions: 4 });
      const engine = createProjectionEngine({ store: ctx.store, readModels: ctx.readModels, projections: [definition], batchSize: 9, idleCheckpointMs: 5 });
      ctx.defer(() => engine.stop());
      await appendSpread(ctx.store, Array.from({ length: 12 }, (_, index) => `acct-${index}`), 60);
      await engine.start();
      expect(engine.runnersOf('split_stats').map((runner) => runner.partition)).toEqual([0, 1, 2, 3]);
      const head = await appendSpread(ctx.store, ['acct-1', 'acct-5', 'pay-3'], 30);
      await engine.waitForPosition('split_stats', head, 10_000);
      const log = await everything(ctx.store);
      // Every event once; each stream's events in order, all by the one runner of its partition.
      expect(definition.calls.flat().sort((a, b) => Number(a - b))).toEqual(log.map((event) => event.position));
      for (const batch of definition.calls) {
        const partitions = new Set(batch.map((position) => partitionOf(log[Number(position) - 1]!.streamId, 4)));
        expect(partitions.size).toBe(1);
      }
      const checkpoints = await ctx.readModels.read((tx) => tx.query<{ partition: bigint; position: bigint }>("SELECT partition, position FROM projection_checkpoints WHERE name = 'split_stats' ORDER BY partition"));
      expect(checkpoints.map((row) => Number(row.partition))).toEqual([0, 1, 2, 3]);
      expect(await dumpReadModel(ctx.readModels, definition)).toBe(await replayedDump(ctx.store, referenceProjection({ name: 'split_stats', partitions: 4 }), head));
      // A rebuild moves the four partitions together, in one pass.
      await engine.rebuild('split_stats');
      expect(await dumpReadModel(ctx.readModels, definition)).toBe(await replayedDump(ctx.store, referenceProjection({ name: 'split_stats', partitions: 4 }), head));
    });

    it('refuses a table another projection owns, and leaves that table alone', async () => {
      await appendSpread(ctx.store, ['acct-1'], 3);
      const owner = await startRunner(streamStatsProjection({ name: 'owner' }));
      await owner.waitForPosition(3n, 10_000);
      const intruder = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition: streamStatsProjection({ name: 'intruder', tableName: 'owner' }) });
      const refused = await failure(intruder.start(), 'validation_failed');
      expect(refused.message).toMatch(/owner_v1 belongs to projection owner/);
      expect((await statsRows('owner')).length).toBe(1);
    });

    it('never applies an effect twice when two workers (two connections, as two processes) run the same projection', async () => {
      const first = streamStatsProjection();
      const second = streamStatsProjection();
      const otherReadModels = await ctx.openReadModels();
      const a = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition: first, batchSize: 5 });
      const b = new ProjectionRunner({ store: ctx.store, readModels: otherReadModels, definition: second, batchSize: 5 });
      ctx.defer(() => a.stop());
      ctx.defer(() => b.stop());
      await Promise.all([a.start(), b.start()]);
      const appends = Array.from({ length: 6 }, (_, index) => appendSpread(ctx.store, [`acct-${index}`], 15));
      await Promise.all(appends);
      const head = await ctx.store.headPosition();
      await waitFor(async () => (await ctx.readModels.read((tx) => tx.query<{ position: bigint }>("SELECT position FROM projection_checkpoints WHERE name = 'stream_stats'")))[0]!.position === head, 15_000, 'the checkpoint at the head');
      expect(await dumpReadModel(ctx.readModels, first)).toBe(await replayedDump(ctx.store, referenceProjection(), head));
    });
  });
}
