/** Limits and validation (STYLE.md §6, issue 4 §2 "Limits"): each bound tested at and past its value; a violation writes nothing. */
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../kernel/errorCodes.ts';
import { newEventId } from '../../kernel/ids.ts';
import {
  EVENT_BYTES_MAX, EVENT_TYPE_LENGTH_MAX, EVENTS_PER_APPEND_MAX, READ_BATCH_MAX, STREAM_ID_LENGTH_MAX, STREAMS_PER_APPEND_MAX,
} from '../../kernel/limits.ts';
import type { StreamWrite } from '../eventStore.ts';
import { type ConformanceFactory, event, events, everything, expectUnchanged, failure, snapshotOf, useStore } from './harness.ts';

export function describeLimits(factory: ConformanceFactory): void {
  describeAppendLimits(factory);
  describeAppendValidation(factory);
  describeReadLimits(factory);
  describeClosed(factory);
}

function describeAppendLimits(factory: ConformanceFactory): void {
  describe('limits on append', () => {
    const ctx = useStore(factory);
    /** Appends `write` after a first event, expects `code`, and checks that nothing of it was written. */
    const refused = async (write: StreamWrite | StreamWrite[], code: ErrorCode = 'limit_exceeded'): Promise<void> => {
      await ctx.store.append({ streamId: 'seed-1', events: events(1) });
      const before = await snapshotOf(ctx.store);
      await failure(ctx.store.append(write), code);
      await expectUnchanged(ctx.store, before);
    };
    // Data `"xx…x"` (n + 2 bytes) with metadata `{}` (2 bytes): n = EVENT_BYTES_MAX - 4 is exactly at the bound.
    const ASCII_AT_BOUND = EVENT_BYTES_MAX - 4;

    it(`accepts an event of exactly EVENT_BYTES_MAX (${EVENT_BYTES_MAX}) bytes of data and metadata, and reads it back whole`, async () => {
      await ctx.store.append({ streamId: 'big-1', events: [event('Big', 'x'.repeat(ASCII_AT_BOUND))] });
      const [read] = await ctx.store.readStream('big-1');
      expect((read!.data as string).length).toBe(ASCII_AT_BOUND);
      expect((await ctx.store.verify()).ok).toBe(true);
    });

    it('refuses an event one byte over EVENT_BYTES_MAX with limit_exceeded; nothing of the call is written', async () => {
      await refused({ streamId: 'big-1', events: [event('Small'), event('Big', 'x'.repeat(ASCII_AT_BOUND + 1))] });
    });

    it('counts UTF-8 bytes, not characters, and counts the metadata too', async () => {
      // "éé…é": 2 bytes each plus 2 quotes; metadata {} adds 2.
      const atBound = (EVENT_BYTES_MAX - 4) / 2;
      await ctx.store.append({ streamId: 'big-1', events: [event('Big', 'é'.repeat(atBound))] });
      await refused({ streamId: 'big-2', events: [event('Big', 'é'.repeat(atBound + 1))] });
      // metadata {"a":"yyy"} is 8 + k bytes; data "" is 2.
      const k = EVENT_BYTES_MAX - 10;
      await ctx.store.append({ streamId: 'big-3', events: [event('Big', '', { metadata: { a: 'y'.repeat(k) } })] });
      await refused({ streamId: 'big-4', events: [event('Big', '', { metadata: { a: 'y'.repeat(k + 1) } })] });
    });

    it(`accepts EVENTS_PER_APPEND_MAX (${EVENTS_PER_APPEND_MAX}) events in one call and refuses one more, also across streams`, async () => {
      const result = await ctx.store.append({ streamId: 'many-1', events: events(EVENTS_PER_APPEND_MAX) });
      expect(result.events).toHaveLength(EVENTS_PER_APPEND_MAX);
      await refused({ streamId: 'many-2', events: events(EVENTS_PER_APPEND_MAX + 1) });
      const half = EVENTS_PER_APPEND_MAX / 2;
      await refused([{ streamId: 'many-3', events: events(half) }, { streamId: 'many-4', events: events(half + 1) }]);
    });

    it(`accepts STREAMS_PER_APPEND_MAX (${STREAMS_PER_APPEND_MAX}) streams in one call and refuses one more`, async () => {
      const writes = (count: number, prefix: string): StreamWrite[] => Array.from({ length: count }, (_, i) => ({ streamId: `${prefix}-${i}`, events: events(1) }));
      const result = await ctx.store.append(writes(STREAMS_PER_APPEND_MAX, 'ok'));
      expect(result.streams).toHaveLength(STREAMS_PER_APPEND_MAX);
      await refused(writes(STREAMS_PER_APPEND_MAX + 1, 'over'));
    });

    it(`accepts a stream id of STREAM_ID_LENGTH_MAX (${STREAM_ID_LENGTH_MAX}) characters and refuses a longer one`, async () => {
      const longest = `a-${'b'.repeat(STREAM_ID_LENGTH_MAX - 2)}`;
      await ctx.store.append({ streamId: longest, events: events(1) });
      expect(await ctx.store.readStream(longest)).toHaveLength(1);
      await refused({ streamId: `${longest}c`, events: events(1) });
    });

    it(`accepts an event type of EVENT_TYPE_LENGTH_MAX (${EVENT_TYPE_LENGTH_MAX}) characters and refuses a longer one`, async () => {
      const longest = `T${'y'.repeat(EVENT_TYPE_LENGTH_MAX - 1)}`;
      await ctx.store.append({ streamId: 'type-1', events: [event(longest)] });
      expect((await ctx.store.readStream('type-1'))[0]!.type).toBe(longest);
      await refused({ streamId: 'type-1', events: [event(`${longest}z`)] });
    });
  });
}

function describeAppendValidation(factory: ConformanceFactory): void {
  describe('validation on append', () => {
    const ctx = useStore(factory);
    const invalid = async (write: unknown): Promise<void> => {
      await ctx.store.append({ streamId: 'seed-1', events: events(1) });
      const before = await snapshotOf(ctx.store);
      await failure(ctx.store.append(write as StreamWrite), 'validation_failed');
      await expectUnchanged(ctx.store, before);
    };

    for (const streamId of ['', 'acct 1', '-acct', '_acct', 'acct/1', 'acct\n1', 'ünï-1', 'acct-1;', 42, null]) {
      it(`refuses stream id ${JSON.stringify(streamId)}`, async () => {
        await invalid({ streamId, events: events(1) });
      });
    }

    for (const type of ['', '1Opened', '_Opened', 'Account-Opened', 'Account Opened', 'a/b', 'Ünïcode', 7]) {
      it(`refuses event type ${JSON.stringify(type)}`, async () => {
        await invalid({ streamId: 'acct-1', events: [event(), { type, data: {} }] });
      });
    }

    for (const expectedVersion of [-1n, -1, 1.5, 'latest', 'NO_STREAM', null, {}]) {
      it(`refuses expected version ${typeof expectedVersion === 'bigint' ? `${expectedVersion}n` : JSON.stringify(expectedVersion)}`, async () => {
        await invalid({ streamId: 'acct-1', expectedVersion, events: events(1) });
      });
    }

    for (const id of ['not-a-uuid', '', '0190a0b0-0000-7000-8000', '0190a0b0-0000-7000-8000-00000000000g', 12]) {
      it(`refuses event id ${JSON.stringify(id)}`, async () => {
        await invalid({ streamId: 'acct-1', events: [event(), { type: 'A', data: {}, id }] });
      });
    }

    for (const schemaVersion of [0, -1, 1.5, 65_536]) {
      it(`refuses schema version ${schemaVersion}`, async () => {
        await invalid({ streamId: 'acct-1', events: [{ type: 'A', data: {}, schemaVersion }] });
      });
    }

    it('accepts schema version 65535', async () => {
      await ctx.store.append({ streamId: 'acct-1', events: [{ type: 'A', data: {}, schemaVersion: 65_535 }] });
      expect((await ctx.store.readStream('acct-1'))[0]!.schemaVersion).toBe(65_535);
    });

    it('refuses data that is not JSON: a bigint, a cycle, a function', async () => {
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      for (const data of [{ amount: 10n }, 10n, cycle, () => 1]) await invalid({ streamId: 'acct-1', events: [event('A', data)] });
    });

    it('refuses metadata that is not a JSON object', async () => {
      for (const metadata of [{ tenant: 1n }, ['a'], 'tenant', 5]) await invalid({ streamId: 'acct-1', events: [event('A', {}, { metadata: metadata as never })] });
    });

    it('refuses a call with no writes, a write with no events, or a write that is not an object', async () => {
      await invalid([]);
      await invalid({ streamId: 'acct-1', events: [] });
      await invalid({ streamId: 'acct-1' });
      await invalid([{ streamId: 'acct-1', events: events(1) }, null]);
    });

    it('refuses one stream twice in a call, or one event id twice', async () => {
      await invalid([{ streamId: 'acct-1', events: events(1) }, { streamId: 'acct-1', events: events(1) }]);
      const id = newEventId();
      await invalid({ streamId: 'acct-1', events: [event('A', 1, { id }), event('A', 1, { id })] });
      await invalid([{ streamId: 'acct-1', events: [event('A', 1, { id })] }, { streamId: 'acct-2', events: [event('A', 1, { id: id.toUpperCase() })] }]);
    });
  });
}

function describeReadLimits(factory: ConformanceFactory): void {
  describe('limits on reads', () => {
    const ctx = useStore(factory);

    it(`accepts a read limit of READ_BATCH_MAX (${READ_BATCH_MAX}) and refuses more with limit_exceeded`, async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(3) });
      expect(await ctx.store.readAll({ limit: READ_BATCH_MAX })).toHaveLength(3);
      expect(await ctx.store.readStream('acct-1', { limit: READ_BATCH_MAX })).toHaveLength(3);
      await failure(ctx.store.readAll({ limit: READ_BATCH_MAX + 1 }), 'limit_exceeded');
      await failure(ctx.store.readStream('acct-1', { limit: READ_BATCH_MAX + 1 }), 'limit_exceeded');
      await failure(ctx.store.readStream('acct-1', { direction: 'backwards', limit: READ_BATCH_MAX + 1 }), 'limit_exceeded');
    });

    it('refuses a limit that is not a positive integer, a negative position, or an invalid time', async () => {
      for (const limit of [0, -1, 1.5, Number.NaN]) {
        await failure(ctx.store.readAll({ limit }), 'validation_failed');
        await failure(ctx.store.readStream('acct-1', { limit }), 'validation_failed');
      }
      await failure(ctx.store.readAll({ after: -1n }), 'validation_failed');
      await failure(ctx.store.readAll({ asOfTime: new Date(Number.NaN) }), 'validation_failed');
      await failure(ctx.store.readStream('acct-1', { asOfTime: new Date(Number.NaN) }), 'validation_failed');
      await failure(ctx.store.readAll({ sinceTime: new Date(Number.NaN) }), 'validation_failed');
    });
  });
}

function describeClosed(factory: ConformanceFactory): void {
  describe('closed store', () => {
    const ctx = useStore(factory);

    it('refuses every call with store_closed once closed; closing twice is harmless', async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(1) });
      await ctx.store.close();
      await ctx.store.close();
      const store = ctx.store;
      await failure(store.append({ streamId: 'acct-1', events: events(1) }), 'store_closed');
      await failure(store.readStream('acct-1'), 'store_closed');
      await failure(store.readAll(), 'store_closed');
      await failure(everything(store), 'store_closed');
      await failure(store.headPosition(), 'store_closed');
      await failure(store.streamVersion('acct-1'), 'store_closed');
      await failure(store.listStreams({ category: 'acct' }), 'store_closed');
      await failure(store.verify(), 'store_closed');
      await failure(store.saveSnapshot({ streamId: 'acct-1', version: 1n, schemaVersion: 1, state: {} }), 'store_closed');
      await failure(store.loadSnapshot('acct-1', 1), 'store_closed');
      await failure(() => store.subscribe(), 'store_closed');
    });

    it('settles appends already accepted before close: they resolve, durable', async () => {
      const pending = Array.from({ length: 20 }, (_, i) => ctx.store.append({ streamId: `acct-${i}`, events: events(2) }));
      await ctx.store.close();
      const results = await Promise.all(pending);
      const written = results.flatMap((r) => r.events.map((e) => e.position)).sort((a, b) => (a < b ? -1 : 1));
      expect(written).toEqual(Array.from({ length: 40 }, (_, i) => BigInt(i + 1)));
    });
  });
}
