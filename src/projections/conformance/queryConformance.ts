/** The query side and investigation: waiting for a position, status and readiness, replay as of a position, state-at. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProjectionEngine } from '../engine.ts';
import { dumpReadModel, queryProjection, waitForPosition } from '../queries.ts';
import { openReadModelStore } from '../readModelStore.ts';
import { replayProjection, stateAt } from '../replay.ts';
import { ProjectionRunner } from '../runner.ts';
import { appendSpread, events, everything, failure, type ProjectionHarnessFactory, replayedDump, useProjectionHarness } from './harness.ts';
import { expectedStats, referenceProjection, streamStatsProjection } from './streamStats.projection.ts';

export function describeQueries(factory: ProjectionHarnessFactory): void {
  describe('query side', () => {
    const ctx = useProjectionHarness(factory);

    it('waits for a position: resolves once the read model has it, times out with a typed error', async () => {
      const definition = streamStatsProjection();
      const engine = createProjectionEngine({ store: ctx.store, readModels: ctx.readModels, projections: [definition] });
      ctx.defer(() => engine.stop());
      await engine.start();
      const { position } = await ctx.store.append({ streamId: 'acct-1', events: events(3) });
      await engine.waitForPosition('stream_stats', position, 10_000);
      const count = await engine.query('stream_stats', async (q) => (await q.query<{ events: bigint }>(`SELECT events FROM ${q.table('stream_stats')} WHERE stream_id = $1`, ['acct-1']))[0]!.events);
      expect(BigInt(count)).toBe(3n);
      // From another process: polling the checkpoint.
      const other = await ctx.openReadModels();
      await waitForPosition(other, 'stream_stats', position, 10_000);

      await engine.stop();
      const later = (await ctx.store.append({ streamId: 'acct-1', events: events(1) })).position;
      const timedOut = await failure(engine.waitForPosition('stream_stats', later, 30), 'projection_wait_timeout');
      expect(timedOut.details).toMatchObject({ projection: 'stream_stats', position: later.toString(), reached: position.toString() });
      await failure(waitForPosition(other, 'stream_stats', later, 20), 'projection_wait_timeout');
      await failure(waitForPosition(other, 'nothing_here', 1n, 20), 'projection_not_found');
      await failure(async () => engine.waitForPosition('nothing_here', 1n, 20), 'projection_not_found');
      await failure(queryProjection(other, 'nothing_here', async () => 1), 'projection_not_found');
    });

    it('reports checkpoint, lag and health; not ready when it lags past the bound or is not running', async () => {
      const definition = streamStatsProjection();
      const engine = createProjectionEngine({ store: ctx.store, readModels: ctx.readModels, projections: [definition] });
      ctx.defer(() => engine.stop());
      const batches: bigint[] = [];
      engine.onBatchCommitted((batch) => batches.push(batch.toPosition));
      await engine.start();
      const head = await appendSpread(ctx.store, ['acct-1', 'acct-2'], 10);
      await engine.waitForPosition('stream_stats', head, 10_000);
      expect(batches.at(-1)).toBe(head);
      const [status] = await engine.status();
      expect(status).toMatchObject({ checkpoint: head, head, positionsBehind: 0n, secondsBehind: 0, state: 'live' });
      expect(status!.lag.count).toBe(10);
      expect(status!.lag.buckets.at(-1)).toMatchObject({ leMs: Number.POSITIVE_INFINITY, count: 10 });
      expect((await engine.health({ maxLagPositions: 0n })).ready).toBe(true);

      await engine.stop();
      await appendSpread(ctx.store, ['acct-1'], 4);
      const stopped = await engine.health({ maxLagPositions: 2n });
      expect(stopped.ready).toBe(false);
      expect(stopped.projections[0]).toMatchObject({ name: 'stream_stats', ready: false, positionsBehind: 4n });
      expect(stopped.projections[0]!.reasons.join('; ')).toMatch(/4 positions behind the head.*|not running/);
      expect(stopped.projections[0]!.secondsBehind).toBeGreaterThanOrEqual(0);
      await failure(async () => engine.runner('nothing_here'), 'projection_not_found');
    });

    it('replays a projection as of a past position into a scratch SQLite file', async () => {
      await appendSpread(ctx.store, ['acct-1', 'acct-2', 'acct-3'], 20);
      const folder = mkdtempSync(join(tmpdir(), 'daybook-replay-'));
      ctx.defer(() => rmSync(folder, { recursive: true, force: true }));
      const path = join(folder, 'at-11.db');
      const definition = streamStatsProjection();
      expect(await replayProjection(ctx.store, definition, { toPosition: 11n, into: path })).toMatchObject({ position: 11n, version: 1, path });
      const scratch = await openReadModelStore(`sqlite:${path}`);
      ctx.defer(() => scratch.close());
      const rows = await queryProjection(scratch, 'stream_stats', (q) => q.query<{ stream_id: string; events: bigint }>(`SELECT stream_id, events FROM ${q.table('stream_stats')} ORDER BY stream_id`));
      const expected = expectedStats((await everything(ctx.store)).filter((event) => event.position <= 11n));
      expect(rows.map((row) => [row.stream_id, BigInt(row.events)])).toEqual([...expected].map(([id, stats]) => [id, stats.events]).sort());

      const taken = join(folder, 'taken.db');
      writeFileSync(taken, '');
      await failure(replayProjection(ctx.store, definition, { toPosition: 1n, into: taken }), 'validation_failed');
      // Past the head: the whole log.
      const whole = join(folder, 'whole.db');
      expect((await replayProjection(ctx.store, definition, { toPosition: 1000n, into: whole })).position).toBe(20n);
      const live = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition });
      ctx.defer(() => live.stop());
      await live.start();
      await live.waitForPosition(20n, 10_000);
      const wholeStore = await openReadModelStore(`sqlite:${whole}`);
      ctx.defer(() => wholeStore.close());
      expect(await dumpReadModel(wholeStore, definition)).toBe(await dumpReadModel(ctx.readModels, definition));
      expect(await dumpReadModel(ctx.readModels, definition)).toBe(await replayedDump(ctx.store, referenceProjection(), 20n));
    });

    it('folds a stream up to a position or a time, through an evolve or as raw events', async () => {
      await ctx.store.append({ streamId: 'acct-7', events: [{ type: 'Opened', data: { amount: 0 } }] });
      await ctx.store.append({ streamId: 'acct-8', events: events(2) });
      await ctx.store.append({ streamId: 'acct-7', events: [{ type: 'Deposited', data: { amount: 50 } }, { type: 'Deposited', data: { amount: 25 } }] });
      const last = (await ctx.store.append({ streamId: 'acct-7', events: [{ type: 'Withdrawn', data: { amount: 10 } }] })).position;
      const balance = {
        initialState: () => ({ balance: 0, events: 0 }),
        evolve: (state: { balance: number; events: number }, event: { type: string; data: unknown }) => {
          const amount = (event.data as { amount: number }).amount;
          return { balance: state.balance + (event.type === 'Withdrawn' ? -amount : event.type === 'Deposited' ? amount : 0), events: state.events + 1 };
        },
      };
      expect(await stateAt(ctx.store, 'acct-7', { position: 4n }, balance)).toEqual({ streamId: 'acct-7', version: 2n, position: 4n, state: { balance: 50, events: 2 } });
      expect(await stateAt(ctx.store, 'acct-7', { position: last }, balance)).toMatchObject({ version: 4n, state: { balance: 65, events: 4 } });
      const raw = await stateAt(ctx.store, 'acct-7', { position: 5n });
      expect(raw.state.map((event) => event.type)).toEqual(['Opened', 'Deposited', 'Deposited']);
      expect(await stateAt(ctx.store, 'acct-7', { position: 0n })).toMatchObject({ version: 0n, state: [] });
      const lastEvent = (await everything(ctx.store)).at(-1)!;
      expect((await stateAt(ctx.store, 'acct-7', { time: lastEvent.recordedAt }, balance)).state.balance).toBe(65);
      expect((await stateAt(ctx.store, 'acct-7', { time: new Date(0) }, balance)).version).toBe(0n);
      await failure(stateAt(ctx.store, 'acct-7', { time: new Date('nope') }), 'validation_failed');
      await failure(stateAt(ctx.store, 'acct-7', { position: -1n }), 'validation_failed');
    });
  });
}
