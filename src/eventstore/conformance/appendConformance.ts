/** Append: expected versions, multi-stream atomicity, concurrency and group commit (DESIGN.md §3 "Append"). */
import { describe, expect, it } from 'vitest';
import { isDaybookError } from '../../kernel/errors.ts';
import type { AppendResult, ExpectedVersion } from '../eventStore.ts';
import {
  type ConformanceFactory, event, events, everything, expectUnchanged, failure, positions, snapshotOf, useStore,
} from './harness.ts';

export function describeAppend(factory: ConformanceFactory): void {
  describeExpectedVersions(factory);
  describeMultiStream(factory);
  describeConcurrency(factory);
}

function describeExpectedVersions(factory: ConformanceFactory): void {
  describe('expected versions', () => {
    const ctx = useStore(factory);
    const seed = async (): Promise<void> => { await ctx.store.append({ streamId: 'acct-1', events: events(2) }); };
    const accepts = async (expectedVersion: ExpectedVersion, streamId: string, newVersion: bigint): Promise<void> => {
      const result = await ctx.store.append({ streamId, expectedVersion, events: [event()] });
      expect(result.streams).toEqual([{ streamId, version: newVersion }]);
      expect(result.duplicate).toBe(false);
    };
    const refuses = async (expectedVersion: ExpectedVersion, streamId: string, expected: string, actual: string): Promise<void> => {
      const before = await snapshotOf(ctx.store);
      const error = await failure(ctx.store.append({ streamId, expectedVersion, events: events(2) }), 'stream_version_conflict');
      expect(error.details).toMatchObject({ streamId, expected, actual });
      await expectUnchanged(ctx.store, before);
      expect(await ctx.store.streamVersion(streamId)).toBe(BigInt(actual));
    };

    it("'any' (and no expectation at all) appends to a new or an existing stream", async () => {
      await accepts('any', 'acct-1', 1n);
      await accepts('any', 'acct-1', 2n);
      const result = await ctx.store.append({ streamId: 'acct-1', events: [event()] });
      expect(result.streams[0]!.version).toBe(3n);
    });

    it("'no_stream' appends to a new stream", async () => {
      await accepts('no_stream', 'acct-1', 1n);
    });

    it("'no_stream' on an existing stream is a conflict naming the stream, expected and actual; nothing is written", async () => {
      await seed();
      await refuses('no_stream', 'acct-1', 'no_stream', '2');
    });

    it("'exists' appends to an existing stream", async () => {
      await seed();
      await accepts('exists', 'acct-1', 3n);
    });

    it("'exists' on a new stream is a conflict with actual 0; nothing is written", async () => {
      await seed();
      await refuses('exists', 'acct-2', 'exists', '0');
    });

    it('an exact version equal to the current one appends; 0 means the stream must not exist', async () => {
      await accepts(0n, 'acct-1', 1n);
      await accepts(1n, 'acct-1', 2n);
      await accepts(2n, 'acct-1', 3n);
    });

    it('an exact version below the current one is a conflict; nothing is written', async () => {
      await seed();
      await refuses(1n, 'acct-1', '1', '2');
    });

    it('an exact version above the current one is a conflict; nothing is written', async () => {
      await seed();
      await refuses(5n, 'acct-1', '5', '2');
    });

    it('an exact version 0 on an existing stream is a conflict', async () => {
      await seed();
      await refuses(0n, 'acct-1', '0', '2');
    });

    it('an exact version other than 0 on a new stream is a conflict', async () => {
      await seed();
      await refuses(1n, 'acct-2', '1', '0');
    });

    it('accepts a safe integer number as an exact version', async () => {
      await seed();
      await accepts(2 as unknown as bigint, 'acct-1', 3n);
    });
  });
}

function describeMultiStream(factory: ConformanceFactory): void {
  describe('multi-stream atomic append', () => {
    const ctx = useStore(factory);

    it('writes several streams in one call, each with its own expectation, positions in call order', async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(1) });
      const result = await ctx.store.append([
        { streamId: 'acct-1', expectedVersion: 1n, events: events(2) },
        { streamId: 'acct-2', expectedVersion: 'no_stream', events: events(1) },
        { streamId: 'ledger-1', expectedVersion: 'any', events: events(3) },
      ]);
      expect(result.duplicate).toBe(false);
      expect(result.streams).toEqual([
        { streamId: 'acct-1', version: 3n }, { streamId: 'acct-2', version: 1n }, { streamId: 'ledger-1', version: 3n },
      ]);
      expect(result.events.map((e) => [e.streamId, e.version, e.position])).toEqual([
        ['acct-1', 2n, 2n], ['acct-1', 3n, 3n], ['acct-2', 1n, 4n], ['ledger-1', 1n, 5n], ['ledger-1', 2n, 6n], ['ledger-1', 3n, 7n],
      ]);
      expect(result.position).toBe(7n);
      const all = await everything(ctx.store);
      expect(all.map((e) => e.eventId)).toEqual([expect.any(String), ...result.events.map((e) => e.eventId)]);
    });

    for (const failing of [0, 1, 2]) {
      it(`a conflict on stream ${failing + 1} of 3 writes none of them and names that stream`, async () => {
        await ctx.store.append([{ streamId: 'acct-1', events: events(1) }, { streamId: 'acct-2', events: events(1) }, { streamId: 'acct-3', events: events(1) }]);
        const before = await snapshotOf(ctx.store);
        const streamIds = ['acct-1', 'acct-2', 'acct-3'];
        const error = await failure(ctx.store.append(streamIds.map((streamId, index) => ({
          streamId, expectedVersion: index === failing ? 7n : 1n, events: events(2),
        }))), 'stream_version_conflict');
        expect(error.details).toMatchObject({ streamId: streamIds[failing], expected: '7', actual: '1' });
        await expectUnchanged(ctx.store, before);
        for (const streamId of streamIds) expect(await ctx.store.streamVersion(streamId)).toBe(1n);
      });
    }

    it('a stream created and another refused in one call: neither is written', async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(1) });
      await failure(ctx.store.append([
        { streamId: 'acct-9', expectedVersion: 'no_stream', events: events(1) },
        { streamId: 'acct-1', expectedVersion: 'no_stream', events: events(1) },
      ]), 'stream_version_conflict');
      expect(await ctx.store.streamVersion('acct-9')).toBe(0n);
      expect(await ctx.store.readStream('acct-9')).toEqual([]);
      expect(await ctx.store.headPosition()).toBe(1n);
    });
  });
}

function settledSplit(results: PromiseSettledResult<AppendResult>[]): { won: AppendResult[]; lost: unknown[] } {
  const won = results.filter((r): r is PromiseFulfilledResult<AppendResult> => r.status === 'fulfilled').map((r) => r.value);
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  return { won, lost };
}

function describeConcurrency(factory: ConformanceFactory): void {
  describe('concurrent appends and group commit', () => {
    const ctx = useStore(factory);
    const RACERS = 20;

    it(`of ${RACERS} racing appends with the same exact expected version exactly one wins`, async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(1) });
      const { won, lost } = settledSplit(await Promise.allSettled(Array.from({ length: RACERS }, (_, i) =>
        ctx.store.append({ streamId: 'acct-1', expectedVersion: 1n, events: [event('Raced', { racer: i }), event('Raced', { racer: i })] }))));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(RACERS - 1);
      for (const error of lost) {
        expect(isDaybookError(error, 'stream_version_conflict'), String(error)).toBe(true);
        expect((error as { details: unknown }).details).toMatchObject({ streamId: 'acct-1', expected: '1', actual: '3' });
      }
      const stream = await ctx.store.readStream('acct-1');
      expect(stream.map((e) => e.version)).toEqual([1n, 2n, 3n]);
      expect(stream[1]!.data).toEqual(stream[2]!.data);
      expect(await ctx.store.headPosition()).toBe(3n);
    });

    it(`of ${RACERS} racing 'no_stream' appends to one new stream exactly one wins`, async () => {
      const { won, lost } = settledSplit(await Promise.allSettled(Array.from({ length: RACERS }, (_, i) =>
        ctx.store.append({ streamId: 'acct-new', expectedVersion: 'no_stream', events: [event('Opened', { racer: i })] }))));
      expect(won).toHaveLength(1);
      expect(lost.every((error) => isDaybookError(error, 'stream_version_conflict'))).toBe(true);
      expect(await ctx.store.readStream('acct-new')).toHaveLength(1);
      expect(await ctx.store.headPosition()).toBe(1n);
    });

    it('among many concurrent appends, one failing its expectation fails alone; its batch-mates succeed', async () => {
      await ctx.store.append({ streamId: 'acct-0', events: events(1) });
      const COUNT = 60;
      const calls = Array.from({ length: COUNT }, (_, i) => i === COUNT / 2
        ? ctx.store.append({ streamId: 'acct-0', expectedVersion: 'no_stream', events: events(1) })
        : ctx.store.append({ streamId: `acct-${i + 1}`, expectedVersion: 'no_stream', events: events(2) }));
      const results = await Promise.allSettled(calls);
      const { won, lost } = settledSplit(results);
      expect(lost).toHaveLength(1);
      expect(results[COUNT / 2]!.status).toBe('rejected');
      expect(isDaybookError(lost[0], 'stream_version_conflict')).toBe(true);
      expect(won).toHaveLength(COUNT - 1);
      const written = won.flatMap((r) => r.events.map((e) => e.position)).sort((a, b) => (a < b ? -1 : 1));
      expect(written).toEqual(positions(2, 1 + 2 * (COUNT - 1)));
      const all = await everything(ctx.store);
      expect(all.map((e) => e.position)).toEqual(positions(1, 1 + 2 * (COUNT - 1)));
      expect(await ctx.store.streamVersion('acct-0')).toBe(1n);
    });

    it('concurrent invalid and valid appends: the invalid one fails alone', async () => {
      const calls = [
        ctx.store.append({ streamId: 'acct-1', events: events(1) }),
        ctx.store.append({ streamId: 'bad stream', events: events(1) }),
        ctx.store.append({ streamId: 'acct-2', events: events(1) }),
      ];
      const results = await Promise.allSettled(calls);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(await ctx.store.headPosition()).toBe(2n);
    });

    it("many concurrent 'any' appends to one stream get distinct, contiguous versions in position order", async () => {
      const COUNT = 100;
      const results = await Promise.all(Array.from({ length: COUNT }, (_, i) => ctx.store.append({ streamId: 'acct-1', events: [event('Hit', { i })] })));
      const versions = results.map((r) => r.events[0]!.version).sort((a, b) => (a < b ? -1 : 1));
      expect(versions).toEqual(positions(1, COUNT));
      const stream = await ctx.store.readStream('acct-1');
      expect(stream.map((e) => e.version)).toEqual(positions(1, COUNT));
      for (let i = 1; i < stream.length; i += 1) expect(stream[i]!.position).toBeGreaterThan(stream[i - 1]!.position);
      expect((await ctx.store.verify()).ok).toBe(true);
    });

    it('optimistic writers retrying on conflicts all land, each exactly once', async () => {
      const WRITERS = 8;
      const EACH = 5;
      const writer = async (w: number): Promise<void> => {
        for (let done = 0; done < EACH;) {
          const version = await ctx.store.streamVersion('acct-1');
          try {
            await ctx.store.append({ streamId: 'acct-1', expectedVersion: version, events: [event('Op', { w, done })] });
            done += 1;
          } catch (error) {
            if (!isDaybookError(error, 'stream_version_conflict')) throw error;
          }
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
      const stream = await ctx.store.readStream('acct-1');
      expect(stream.map((e) => e.version)).toEqual(positions(1, WRITERS * EACH));
      const seen = new Set(stream.map((e) => JSON.stringify(e.data)));
      expect(seen.size).toBe(WRITERS * EACH);
    });
  });
}
