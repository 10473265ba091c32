/**
 * Exactly-once effect: a crash in the middle of a batch (after the handler
 * wrote) commits nothing of it, leaves the checkpoint where it was, and the
 * resumed run gives the same read model as a replay from zero. An event that
 * crashes the whole worker every time is parked after the bounded number of
 * attempts, counted durably across the crashes.
 */
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../catalog.ts';
import { listDeadLetters } from '../deadLetters.ts';
import { dumpReadModel } from '../queries.ts';
import { ProjectionRunner } from '../runner.ts';
import { appendSpread, events, everything, type ProjectionHarnessFactory, replayedDump, useProjectionHarness } from './harness.ts';
import { referenceProjection, streamStatsProjection } from './streamStats.projection.ts';

export function describeExactlyOnce(factory: ProjectionHarnessFactory): void {
  describe('exactly-once effect', () => {
    const ctx = useProjectionHarness(factory);

    it('a crash after the handler wrote commits nothing of the batch; the resumed run equals a replay from zero', async () => {
      await appendSpread(ctx.store, ['acct-1', 'acct-2', 'acct-3'], 25);
      const definition = streamStatsProjection();
      let batches = 0;
      const crashing = new ProjectionRunner({
        store: ctx.store, readModels: ctx.readModels, definition, batchSize: 6,
        faults: { beforeCommit: () => { batches += 1; if (batches === 3) throw new Error('power cut'); } },
      });
      await crashing.start();
      await crashing.done;
      expect(crashing.state).toBe('failed');
      expect((await crashing.status()).failure?.message).toMatch(/power cut/);
      // Two batches of six committed; the third wrote, then "crashed" before its commit.
      expect(definition.calls.length).toBe(3);
      const checkpoint = await ctx.readModels.read((tx) => readCheckpoint(tx, 'stream_stats', 1));
      expect(checkpoint).toBe(12n);
      expect(await dumpReadModel(ctx.readModels, definition)).toBe(await replayedDump(ctx.store, referenceProjection(), 12n));

      const resumed = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition, batchSize: 6 });
      ctx.defer(() => resumed.stop());
      await resumed.start();
      await resumed.waitForPosition(25n, 10_000);
      const more = (await ctx.store.append({ streamId: 'acct-9', events: events(4) })).position;
      await resumed.waitForPosition(more, 10_000);
      expect(await dumpReadModel(ctx.readModels, definition)).toBe(await replayedDump(ctx.store, referenceProjection(), more));
      // The rolled-back batch was handed out again; every committed effect exactly once.
      const committedCalls = definition.calls.filter((_, index) => index !== 2).flat();
      expect(committedCalls).toEqual((await everything(ctx.store)).map((event) => event.position));
    });

    it('parks an event that crashes the worker on every attempt, after the bounded attempts counted across crashes', async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(4) });
      const poison = (await ctx.store.append({ streamId: 'acct-2', events: events(1, 'Crash', { poison: true }) })).position;
      await ctx.store.append({ streamId: 'acct-1', events: events(3) });
      const definition = streamStatsProjection();
      definition.poison = () => false;
      const crashOn = (events: readonly { position: bigint }[]) => { if (events.some((event) => event.position === poison)) throw new Error('segfault'); };
      const maxAttempts = 3;
      let crashes = 0;
      for (let start = 0; start < 10; start += 1) {
        const worker = new ProjectionRunner({
          store: ctx.store, readModels: ctx.readModels, definition, batchSize: 50, maxAttempts, initialBackoffMs: 1,
          faults: { beforeCommit: ({ events }) => crashOn(events) },
        });
        await worker.start();
        const outcome = await Promise.race([worker.done.then(() => 'died' as const), worker.waitForPosition(8n, 10_000).then(() => 'done' as const, () => 'died' as const)]);
        if (outcome === 'done') { await worker.stop(); break; }
        crashes += 1;
      }
      // One crash of the first, many-event batch (which counts against no single event), then maxAttempts of the event alone.
      expect(crashes).toBe(1 + maxAttempts);
      expect(definition.callsAt(poison)).toBe(1 + maxAttempts);
      const [letter] = await listDeadLetters(ctx.readModels);
      expect(letter).toMatchObject({ projection: 'stream_stats', position: poison, status: 'parked', attempts: maxAttempts, eventType: 'Crash' });
      expect(letter!.error).toMatch(/process ended|crash/);
      expect(await ctx.readModels.read((tx) => readCheckpoint(tx, 'stream_stats', 1))).toBe(8n);
    });

    it('a worker that dies in its first batch is noticed at the next start, which takes that batch one event at a time', async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(3) });
      const definition = streamStatsProjection();
      const worker = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition, faults: { beforeCommit: () => { throw new Error('kill -9'); } } });
      await worker.start();
      await worker.done;
      expect(worker.state).toBe('failed');
      // Its start is on record, before any handler ran: the durable trace a crash leaves.
      const rows = await ctx.readModels.read((tx) => tx.query<{ after_position: bigint; until_position: bigint }>('SELECT after_position, until_position FROM projection_attempts'));
      expect(rows.map((row) => [BigInt(row.after_position), BigInt(row.until_position)])).toEqual([[0n, 0n]]);
      expect(definition.calls).toEqual([[1n, 2n, 3n]]);

      const next = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition });
      await next.start();
      await next.waitForPosition(3n, 10_000);
      await next.stop();
      expect(definition.calls.slice(1)).toEqual([[1n], [2n], [3n]]);
      // A clean stop is not a crash: the next start batches again.
      await ctx.store.append({ streamId: 'acct-1', events: events(2) });
      const third = new ProjectionRunner({ store: ctx.store, readModels: ctx.readModels, definition });
      ctx.defer(() => third.stop());
      await third.start();
      await third.waitForPosition(5n, 10_000);
      expect(definition.calls.at(-1)).toEqual([4n, 5n]);
    });
  });
}
