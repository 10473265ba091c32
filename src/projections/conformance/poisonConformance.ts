/** Poison events: retried with backoff, then parked (the projection goes on) or blocking (policy 'stop'); then retried or skipped by an operator. */
import { describe, expect, it } from 'vitest';
import type { PoisonInfo } from '../batchProcessor.ts';
import { listDeadLetters, retryDeadLetter, skipDeadLetter } from '../deadLetters.ts';
import { createProjectionEngine } from '../engine.ts';
import { ProjectionRegistry } from '../projection.ts';
import { dumpReadModel, queryProjection } from '../queries.ts';
import { ProjectionRunner } from '../runner.ts';
import { events, failure, type ProjectionHarnessFactory, replayedDump, useProjectionHarness, waitFor } from './harness.ts';
import { referenceProjection, streamStatsProjection } from './streamStats.projection.ts';

export function describePoison(factory: ProjectionHarnessFactory): void {
  describe('poison events', () => {
    const ctx = useProjectionHarness(factory);

    const countOf = (streamId: string) => queryProjection(ctx.readModels, 'stream_stats', async (q) => {
      const rows = await q.query<{ events: bigint }>(`SELECT events FROM ${q.table('stream_stats')} WHERE stream_id = $1`, [streamId]);
      return rows[0] ? BigInt(rows[0].events) : 0n;
    });

    it('retries a failing event with backoff, parks it, goes on; an operator then retries one and skips another', async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(5) });
      const first = (await ctx.store.append({ streamId: 'acct-bad', events: events(1, 'Broken', { poison: true }) })).position;
      await ctx.store.append({ streamId: 'acct-1', events: events(5) });
      const second = (await ctx.store.append({ streamId: 'acct-worse', events: events(1, 'Broken', { poison: true }) })).position;
      const head = (await ctx.store.append({ streamId: 'acct-2', events: events(2) })).position;
      const definition = streamStatsProjection();
      const poisoned: PoisonInfo[] = [];
      const runner = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition, batchSize: 100, maxAttempts: 3, initialBackoffMs: 1 });
      ctx.defer(() => runner.stop());
      runner.onPoison((info) => poisoned.push(info));
      await runner.start();
      await runner.waitForPosition(head, 10_000);

      // The batch failed once as a whole; then the poison event alone, maxAttempts times.
      expect(definition.callsAt(first)).toBe(1 + 3);
      expect(poisoned.map((info) => [info.event.position, info.policy, info.attempts])).toEqual([[first, 'park', 3], [second, 'park', 3]]);
      const letters = await listDeadLetters(ctx.readModels);
      expect(letters.map((letter) => [letter.position, letter.status, letter.attempts, letter.streamId])).toEqual([[first, 'parked', 3, 'acct-bad'], [second, 'parked', 3, 'acct-worse']]);
      expect(letters[0]!.error).toMatch(/poison event at position/);
      expect(await countOf('acct-1')).toBe(10n);
      expect(await countOf('acct-bad')).toBe(0n);
      expect((await runner.status()).parkedEvents).toBe(2);

      const registry = new ProjectionRegistry([definition]);
      // Still broken: the retry fails, the letter stays parked with one more attempt.
      await expect(retryDeadLetter({ store: ctx.store, readModels: ctx.readModels, registry }, letters[0]!.id)).rejects.toThrow(/poison event/);
      expect((await listDeadLetters(ctx.readModels))[0]).toMatchObject({ status: 'parked', attempts: 4 });
      // "Fixed": the retry applies it.
      definition.poison = () => false;
      expect(await retryDeadLetter({ store: ctx.store, readModels: ctx.readModels, registry }, letters[0]!.id)).toMatchObject({ status: 'retried' });
      expect(await countOf('acct-bad')).toBe(1n);
      expect(await skipDeadLetter(ctx.readModels, letters[1]!.id.toString())).toMatchObject({ status: 'skipped' });
      expect(await countOf('acct-worse')).toBe(0n);
      expect(await listDeadLetters(ctx.readModels)).toEqual([]);
      expect((await listDeadLetters(ctx.readModels, { status: 'all' })).map((letter) => letter.status)).toEqual(['retried', 'skipped']);

      await failure(retryDeadLetter({ store: ctx.store, readModels: ctx.readModels, registry }, letters[0]!.id), 'validation_failed');
      await failure(skipDeadLetter(ctx.readModels, 999n), 'not_found');
      await failure(skipDeadLetter(ctx.readModels, 'seven'), 'validation_failed');
      await failure(listDeadLetters(ctx.readModels, { status: 'lost' as never }), 'validation_failed');
    });

    it("policy 'stop' stops on the event, says so in health and waits; a skip lets it go on", async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(3) });
      const poison = (await ctx.store.append({ streamId: 'acct-1', events: events(1, 'Broken', { poison: true }) })).position;
      const head = (await ctx.store.append({ streamId: 'acct-2', events: events(3) })).position;
      const definition = streamStatsProjection({ onPoison: 'stop' });
      const engine = createProjectionEngine({ store: ctx.store, readModels: ctx.readModels, projections: [definition], maxAttempts: 2, initialBackoffMs: 1, blockedPollMs: 5 });
      ctx.defer(() => engine.stop());
      await engine.start();
      const runner = engine.runner('stream_stats');
      await waitFor(() => runner.state === 'blocked', 10_000, 'the runner stopped on the poison event');
      expect(runner.checkpoint).toBe(poison - 1n);
      await failure(engine.waitForPosition('stream_stats', head, 1000), 'projection_stopped');
      const health = await engine.health();
      expect(health.ready).toBe(false);
      expect(health.projections[0]).toMatchObject({ name: 'stream_stats', ready: false, state: 'blocked', blocking: 1, parked: 0 });
      expect(health.projections[0]!.reasons.join()).toMatch(new RegExp(`poison event at position ${poison}`));
      const [letter] = await engine.listDeadLetters();
      expect(letter).toMatchObject({ position: poison, status: 'blocking', attempts: 2 });

      await engine.skipDeadLetter(letter!.id);
      await waitFor(() => runner.state === 'live' && runner.checkpoint === head, 10_000, 'the runner went on past the skipped event');
      expect((await engine.health()).ready).toBe(true);
      definition.poison = () => false;
      expect(await dumpReadModel(ctx.readModels, definition)).toBe(await replayedDumpWithout(poison));
    });

    it("policy 'stop': after a fix, a retry applies the event and the projection goes on", async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(2) });
      const poison = (await ctx.store.append({ streamId: 'acct-1', events: events(1, 'Broken', { poison: true }) })).position;
      const head = (await ctx.store.append({ streamId: 'acct-1', events: events(2) })).position;
      const definition = streamStatsProjection({ onPoison: 'stop' });
      const engine = createProjectionEngine({ store: ctx.store, readModels: ctx.readModels, projections: [definition], maxAttempts: 2, initialBackoffMs: 1, blockedPollMs: 5 });
      ctx.defer(() => engine.stop());
      await engine.start();
      await waitFor(() => engine.runner('stream_stats').state === 'blocked', 10_000, 'blocked');
      definition.poison = () => false;
      const [letter] = await engine.listDeadLetters();
      expect(letter!.position).toBe(poison);
      expect(await engine.retryDeadLetter(letter!.id)).toMatchObject({ status: 'retried' });
      await waitFor(() => engine.runner('stream_stats').state !== 'blocked', 10_000, 'the runner resumed');
      await engine.waitForPosition('stream_stats', head, 10_000);
      expect(await dumpReadModel(ctx.readModels, definition)).toBe(await replayedDump(ctx.store, referenceProjection(), head));
    });

    async function replayedDumpWithout(position: bigint): Promise<string> {
      const reference = streamStatsProjection();
      reference.poison = () => false;
      // The reference skips the event the way the operator did: as if it were not in the log.
      const handle = reference.handle.bind(reference);
      const skipping = { ...reference, handle: (batch: Parameters<typeof handle>[0], tx: Parameters<typeof handle>[1]) => handle(batch.filter((event) => event.position !== position), tx) };
      return replayedDump(ctx.store, skipping, await ctx.store.headPosition());
    }
  });
}
