/** Reads: a stream either way, the global log filtered and paged, everything as of a position or a time (DESIGN.md §3 "Reads"). */
import { describe, expect, it } from 'vitest';
import { READ_BATCH_MAX, READ_PAGE_SIZE } from '../../kernel/limits.ts';
import type { EventStore, RecordedEvent } from '../eventStore.ts';
import type { Upcaster } from '../upcasters.ts';
import { appendEach, type ConformanceFactory, event, events, everything, failure, positions, useStore, waitFor } from './harness.ts';

const versionsOf = (read: RecordedEvent[]): bigint[] => read.map((e) => e.version);
const positionsOf = (read: RecordedEvent[]): bigint[] => read.map((e) => e.position);

/** Appends, after waiting until the clock has moved past the newest recorded time, so that the call gets a later recorded-at. */
async function appendLater(store: EventStore, streamId: string, count: number): Promise<number> {
  const all = await everything(store);
  const newest = all.length === 0 ? 0 : all[all.length - 1]!.recordedAt.getTime();
  await waitFor(() => Date.now() > newest + 1, 5_000, 'the clock moving past the newest recorded time');
  const result = await store.append({ streamId, events: events(count) });
  const [first] = await store.readAll({ after: result.events[0]!.position - 1n, limit: 1 });
  expect(first!.recordedAt.getTime(), 'a later append gets a later recorded-at').toBeGreaterThan(newest);
  return first!.recordedAt.getTime();
}

export function describeReads(factory: ConformanceFactory): void {
  describeStreamReads(factory);
  describeStreamListing(factory);
  describeLookupById(factory);
  describeFirstEvents(factory);
  describeLogReads(factory);
  describeAsOf(factory);
  describePaging(factory);
}

function describeLookupById(factory: ConformanceFactory): void {
  describe('readEventsById', () => {
    const ctx = useStore(factory);
    const ID_A = '0190a000-0000-5000-8000-00000000000a';
    const ID_B = '0190a000-0000-5000-8000-00000000000b';
    const ABSENT = '0190a000-0000-5000-8000-0000000000ff';

    it('finds events by id across streams, in position order, whatever case the id is given in, and leaves out ids not stored', async () => {
      await ctx.store.append({ streamId: 'look-1', events: [event('A', { n: 1 }, { id: ID_B })] });
      await ctx.store.append({ streamId: 'look-2', events: [event('B'), event('C', { n: 2 }, { id: ID_A })] });
      const found = await ctx.store.readEventsById([ID_A, ABSENT, ID_B.toUpperCase(), ID_A]);
      expect(found.map((e) => [e.eventId, e.streamId, e.version, e.type])).toEqual([[ID_B, 'look-1', 1n, 'A'], [ID_A, 'look-2', 2n, 'C']]);
      expect(found[1]!.data).toEqual({ n: 2 });
      expect(await ctx.store.readEventsById([])).toEqual([]);
      expect(await ctx.store.readEventsById([ABSENT])).toEqual([]);
    });

    it('refuses an id that is not a UUID, and more than READ_BATCH_MAX ids', async () => {
      await failure(ctx.store.readEventsById(['not-a-uuid']), 'validation_failed');
      await failure(ctx.store.readEventsById(Array.from({ length: READ_BATCH_MAX + 1 }, () => ABSENT)), 'limit_exceeded');
    });
  });
}

/** Version 1 of `Noted` carried `text`; version 2 calls it `note`. */
const NOTED_UPCASTERS: Upcaster[] = [
  { type: 'Noted', fromSchemaVersion: 1, toSchemaVersion: 2, upcast: (data) => ({ note: (data as { text: string }).text }) },
];

function describeFirstEvents(factory: ConformanceFactory): void {
  describe('readFirstEvents', () => {
    const ctx = useStore(factory);
    const firstOf = (found: Map<string, RecordedEvent>): Array<[string, bigint, string, unknown]> =>
      [...found.values()].map((e) => [e.streamId, e.version, e.type, e.data] as [string, bigint, string, unknown]).sort((a, b) => (a[0] < b[0] ? -1 : 1));

    it('answers the first event of each stored stream, keyed by stream id, and leaves out streams that do not exist', async () => {
      await ctx.store.append({ streamId: 'first-1', events: [event('A', { n: 1 }), event('B', { n: 2 })] });
      await ctx.store.append([{ streamId: 'first-2', events: [event('C', { n: 3 })] }, { streamId: 'other-9', events: [event('D')] }]);
      await ctx.store.append({ streamId: 'first-1', events: [event('E', { n: 4 })] });
      const found = await ctx.store.readFirstEvents(['first-2', 'absent-1', 'first-1', 'first-10']);
      expect(firstOf(found)).toEqual([['first-1', 1n, 'A', { n: 1 }], ['first-2', 1n, 'C', { n: 3 }]]);
      expect(found.get('first-1')).toEqual((await ctx.store.readStream('first-1', { limit: 1 }))[0]);
      expect(found.has('absent-1')).toBe(false);
      expect((await ctx.store.readFirstEvents([])).size).toBe(0);
      expect((await ctx.store.readFirstEvents(['absent-1', 'absent-2'])).size).toBe(0);
    });

    it('finds a stream appended after a read that missed it', async () => {
      expect((await ctx.store.readFirstEvents(['late-1'])).size).toBe(0);
      await ctx.store.append({ streamId: 'late-1', expectedVersion: 'no_stream', events: [event('Late', { n: 7 })] });
      expect(firstOf(await ctx.store.readFirstEvents(['late-1', 'late-2']))).toEqual([['late-1', 1n, 'Late', { n: 7 }]]);
    });

    it('folds repeated ids: each stream answers once', async () => {
      await ctx.store.append({ streamId: 'dup-1', events: events(2) });
      const found = await ctx.store.readFirstEvents(['dup-1', 'dup-1', 'dup-2', 'dup-1']);
      expect(firstOf(found)).toEqual([['dup-1', 1n, 'ThingHappened', { n: 1 }]]);
    });

    it('takes READ_BATCH_MAX ids, refuses one more (repeats count) with limit_exceeded, and a bad stream id or a non-array with validation_failed', async () => {
      await ctx.store.append({ streamId: 'bound-0', events: events(1) });
      const atBound = Array.from({ length: READ_BATCH_MAX }, (_, i) => `bound-${i}`);
      expect([...(await ctx.store.readFirstEvents(atBound)).keys()]).toEqual(['bound-0']);
      await failure(ctx.store.readFirstEvents([...atBound, 'bound-0']), 'limit_exceeded');
      await failure(ctx.store.readFirstEvents(Array.from({ length: READ_BATCH_MAX + 1 }, () => 'bound-0')), 'limit_exceeded');
      await failure(ctx.store.readFirstEvents(['bound-0', 'not a stream id']), 'validation_failed');
      await failure(ctx.store.readFirstEvents(['']), 'validation_failed');
      await failure(ctx.store.readFirstEvents([42 as unknown as string]), 'validation_failed');
      await failure(ctx.store.readFirstEvents('bound-0' as unknown as string[]), 'validation_failed');
    });

    describe('with upcasters', () => {
      const upcasting = useStore(factory, { upcasters: NOTED_UPCASTERS });
      it('upcasts as readStream does', async () => {
        await upcasting.store.append({ streamId: 'note-1', events: [event('Noted', { text: 'old' }, { schemaVersion: 1 })] });
        await upcasting.store.append({ streamId: 'note-2', events: [event('Noted', { note: 'new' }, { schemaVersion: 2 })] });
        const found = await upcasting.store.readFirstEvents(['note-1', 'note-2']);
        expect(found.get('note-1')).toMatchObject({ schemaVersion: 2, data: { note: 'old' } });
        expect(found.get('note-2')).toMatchObject({ schemaVersion: 2, data: { note: 'new' } });
        expect(found.get('note-1')).toEqual((await upcasting.store.readStream('note-1'))[0]);
      });
    });
  });
}

function describeStreamListing(factory: ConformanceFactory): void {
  describe('listStreams', () => {
    const ctx = useStore(factory);
    const seed = async (): Promise<void> => {
      // Same-category ids in an order that is not byte order, a stream with several events, neighbours whose ids share the prefix.
      for (const streamId of ['acct-2', 'acct-10', 'acct', 'acct-1', 'acctx-1', 'acc-1', 'acct.x', 'other-1', 'acct-1', 'acct-b']) {
        await ctx.store.append({ streamId, events: events(2) });
      }
    };

    it("lists a category's streams once each, in byte order, and nothing of neighbouring categories", async () => {
      await seed();
      expect(await ctx.store.listStreams({ category: 'acct' })).toEqual(['acct', 'acct-1', 'acct-10', 'acct-2', 'acct-b']);
      expect(await ctx.store.listStreams({ category: 'acctx' })).toEqual(['acctx-1']);
      expect(await ctx.store.listStreams({ category: 'acct.x' })).toEqual(['acct.x']);
      expect(await ctx.store.listStreams({ category: 'nothing' })).toEqual([]);
    });

    it('pages with after and limit, and an after before the category starts at its first stream', async () => {
      await seed();
      const first = await ctx.store.listStreams({ category: 'acct', limit: 2 });
      expect(first).toEqual(['acct', 'acct-1']);
      expect(await ctx.store.listStreams({ category: 'acct', after: first.at(-1), limit: 2 })).toEqual(['acct-10', 'acct-2']);
      expect(await ctx.store.listStreams({ category: 'acct', after: 'acct-2', limit: 2 })).toEqual(['acct-b']);
      expect(await ctx.store.listStreams({ category: 'acct', after: 'acct-b' })).toEqual([]);
      expect(await ctx.store.listStreams({ category: 'acct', after: 'a', limit: 1 })).toEqual(['acct']);
    });

    it('sees a stream created after the last page', async () => {
      await seed();
      const listed = await ctx.store.listStreams({ category: 'acct' });
      await ctx.store.append({ streamId: 'acct-c', events: events(1) });
      expect(await ctx.store.listStreams({ category: 'acct', after: listed.at(-1) })).toEqual(['acct-c']);
    });

    it('refuses an empty category, one with a dash, and a limit past READ_BATCH_MAX', async () => {
      for (const category of ['', 'acct-1']) {
        await expect(ctx.store.listStreams({ category })).rejects.toMatchObject({ code: 'validation_failed', param: 'category' });
      }
      await expect(ctx.store.listStreams({ category: 'acct', limit: READ_BATCH_MAX + 1 })).rejects.toMatchObject({ code: 'limit_exceeded' });
      await expect(ctx.store.listStreams({ category: 'acct', limit: 0 })).rejects.toMatchObject({ code: 'validation_failed' });
    });
  });
}

function describeStreamReads(factory: ConformanceFactory): void {
  describe('readStream', () => {
    const ctx = useStore(factory);
    const seed = async (): Promise<void> => {
      for (let i = 0; i < 5; i += 1) {
        await ctx.store.append([{ streamId: 'acct-1', events: [event('Hit', { i })] }, { streamId: 'acct-10', events: [event('Other')] }]);
      }
    };

    it('reads a whole stream forwards by default, only that stream', async () => {
      await seed();
      const read = await ctx.store.readStream('acct-1');
      expect(versionsOf(read)).toEqual(positions(1, 5));
      expect(read.every((e) => e.streamId === 'acct-1')).toBe(true);
      expect(read.map((e) => e.data)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    });

    it('reads forwards from a version, inclusive, with a limit', async () => {
      await seed();
      expect(versionsOf(await ctx.store.readStream('acct-1', { fromVersion: 3n }))).toEqual([3n, 4n, 5n]);
      expect(versionsOf(await ctx.store.readStream('acct-1', { fromVersion: 2n, limit: 2 }))).toEqual([2n, 3n]);
      expect(versionsOf(await ctx.store.readStream('acct-1', { limit: 1 }))).toEqual([1n]);
      expect(await ctx.store.readStream('acct-1', { fromVersion: 6n })).toEqual([]);
    });

    it('reads backwards from the end by default, or from a version, inclusive, with a limit', async () => {
      await seed();
      expect(versionsOf(await ctx.store.readStream('acct-1', { direction: 'backwards' }))).toEqual([5n, 4n, 3n, 2n, 1n]);
      expect(versionsOf(await ctx.store.readStream('acct-1', { direction: 'backwards', limit: 2 }))).toEqual([5n, 4n]);
      expect(versionsOf(await ctx.store.readStream('acct-1', { direction: 'backwards', fromVersion: 3n }))).toEqual([3n, 2n, 1n]);
      expect(versionsOf(await ctx.store.readStream('acct-1', { direction: 'backwards', fromVersion: 4n, limit: 2 }))).toEqual([4n, 3n]);
    });

    it('reads a stream that does not exist as empty', async () => {
      await seed();
      expect(await ctx.store.readStream('acct-2')).toEqual([]);
      expect(await ctx.store.readStream('acct-2', { direction: 'backwards' })).toEqual([]);
    });

    it('reads a stream as of a global position', async () => {
      await seed();
      const read = await ctx.store.readStream('acct-1', { asOfPosition: 6n });
      expect(versionsOf(read)).toEqual([1n, 2n, 3n]);
      expect(versionsOf(await ctx.store.readStream('acct-1', { direction: 'backwards', asOfPosition: 6n }))).toEqual([3n, 2n, 1n]);
      expect(await ctx.store.readStream('acct-1', { asOfPosition: 0n })).toEqual([]);
    });
  });
}

function describeLogReads(factory: ConformanceFactory): void {
  describe('readAll', () => {
    const ctx = useStore(factory);
    // Positions:          1              2              3               4                5              6              7                8
    const seed = (): Promise<void> => appendEach(ctx.store, [
      ['account-1', 'Opened'], ['payment-1', 'Paid'], ['account-2', 'Opened'], ['accounts-1', 'Opened'],
      ['account-1', 'Closed'], ['account', 'Opened'], ['account-x-y', 'Paid'], ['payment-2', 'Refunded'],
    ]);

    it('reads the whole log in position order from the start', async () => {
      await seed();
      const read = await ctx.store.readAll();
      expect(positionsOf(read)).toEqual(positions(1, 8));
      expect(read.map((e) => e.streamId)).toEqual(['account-1', 'payment-1', 'account-2', 'accounts-1', 'account-1', 'account', 'account-x-y', 'payment-2']);
    });

    it('reads from after a position, exclusive, with a limit', async () => {
      await seed();
      expect(positionsOf(await ctx.store.readAll({ after: 3n }))).toEqual(positions(4, 8));
      expect(positionsOf(await ctx.store.readAll({ after: 3n, limit: 2 }))).toEqual([4n, 5n]);
      expect(await ctx.store.readAll({ after: 8n })).toEqual([]);
      expect(await ctx.store.readAll({ after: 100n })).toEqual([]);
    });

    it('filters by category: the stream id before the first dash, or the whole id without one', async () => {
      await seed();
      expect(positionsOf(await ctx.store.readAll({ category: 'account' }))).toEqual([1n, 3n, 5n, 6n, 7n]);
      expect(positionsOf(await ctx.store.readAll({ category: 'payment' }))).toEqual([2n, 8n]);
      expect(positionsOf(await ctx.store.readAll({ category: 'accounts' }))).toEqual([4n]);
      expect(await ctx.store.readAll({ category: 'acc' })).toEqual([]);
    });

    it('filters by event types', async () => {
      await seed();
      expect(positionsOf(await ctx.store.readAll({ types: ['Paid'] }))).toEqual([2n, 7n]);
      expect(positionsOf(await ctx.store.readAll({ types: ['Closed', 'Refunded'] }))).toEqual([5n, 8n]);
      expect(await ctx.store.readAll({ types: ['Nothing'] })).toEqual([]);
      expect(positionsOf(await ctx.store.readAll({ types: [] }))).toEqual(positions(1, 8));
    });

    it('combines category, types, after and limit', async () => {
      await seed();
      expect(positionsOf(await ctx.store.readAll({ category: 'account', types: ['Opened'] }))).toEqual([1n, 3n, 6n]);
      expect(positionsOf(await ctx.store.readAll({ category: 'account', types: ['Opened', 'Paid'], after: 1n, limit: 2 }))).toEqual([3n, 6n]);
      expect(positionsOf(await ctx.store.readAll({ category: 'account', after: 5n }))).toEqual([6n, 7n]);
    });

    it('reads as of a global position, alone or with after and filters', async () => {
      await seed();
      expect(positionsOf(await ctx.store.readAll({ asOfPosition: 4n }))).toEqual(positions(1, 4));
      expect(positionsOf(await ctx.store.readAll({ after: 2n, asOfPosition: 5n }))).toEqual([3n, 4n, 5n]);
      expect(positionsOf(await ctx.store.readAll({ category: 'account', asOfPosition: 5n }))).toEqual([1n, 3n, 5n]);
      expect(await ctx.store.readAll({ asOfPosition: 0n })).toEqual([]);
    });
  });
}

function describeAsOf(factory: ConformanceFactory): void {
  describe('reads as of a time', () => {
    const ctx = useStore(factory);

    it('readAll as of a recorded-at time returns exactly the events recorded at or before it', async () => {
      const t1 = await appendLater(ctx.store, 'acct-1', 2);
      const t2 = await appendLater(ctx.store, 'acct-2', 1);
      const t3 = await appendLater(ctx.store, 'acct-1', 3);
      const all = await everything(ctx.store);
      for (const time of [t1, t2, t3]) {
        const expected = all.filter((e) => e.recordedAt.getTime() <= time).map((e) => e.position);
        expect(positionsOf(await ctx.store.readAll({ asOfTime: new Date(time) })), `as of ${time}`).toEqual(expected);
      }
      expect(positionsOf(await ctx.store.readAll({ asOfTime: new Date(t2) }))).toEqual(positions(1, 3));
      expect(await ctx.store.readAll({ asOfTime: new Date(t1 - 1) })).toEqual([]);
      expect(positionsOf(await ctx.store.readAll({ asOfTime: new Date(t3 + 60_000) }))).toEqual(positions(1, 6));
    });

    it('readAll and streamAll since a recorded-at time start at the first event recorded at or after it', async () => {
      const t1 = await appendLater(ctx.store, 'acct-1', 2);
      const t2 = await appendLater(ctx.store, 'acct-2', 1);
      const t3 = await appendLater(ctx.store, 'acct-1', 3);
      const all = await everything(ctx.store);
      for (const time of [t1, t2, t3, t1 - 1, t2 + 1]) {
        const expected = all.filter((e) => e.recordedAt.getTime() >= time).map((e) => e.position);
        expect(positionsOf(await ctx.store.readAll({ sinceTime: new Date(time) })), `since ${time}`).toEqual(expected);
      }
      expect(positionsOf(await ctx.store.readAll({ sinceTime: new Date(t2) }))).toEqual(positions(3, 6));
      expect(positionsOf(await ctx.store.readAll({ sinceTime: new Date(t2), after: 4n }))).toEqual([5n, 6n]);
      expect(positionsOf(await ctx.store.readAll({ sinceTime: new Date(t3), after: 1n }))).toEqual(positions(4, 6));
      expect(positionsOf(await ctx.store.readAll({ sinceTime: new Date(t2), category: 'acct', asOfTime: new Date(t2) }))).toEqual([3n]);
      expect(await ctx.store.readAll({ sinceTime: new Date(t3 + 60_000) })).toEqual([]);
      const streamed: bigint[] = [];
      for await (const event of ctx.store.streamAll({ sinceTime: new Date(t3) })) streamed.push(event.position);
      expect(streamed).toEqual(positions(4, 6));
    });

    it('readStream as of a time, and the earlier of a time and a position when both are given', async () => {
      const t1 = await appendLater(ctx.store, 'acct-1', 2);
      await appendLater(ctx.store, 'acct-1', 2);
      const t3 = await appendLater(ctx.store, 'acct-1', 1);
      expect(versionsOf(await ctx.store.readStream('acct-1', { asOfTime: new Date(t1) }))).toEqual([1n, 2n]);
      expect(versionsOf(await ctx.store.readStream('acct-1', { direction: 'backwards', asOfTime: new Date(t1) }))).toEqual([2n, 1n]);
      expect(versionsOf(await ctx.store.readStream('acct-1', { asOfTime: new Date(t3), asOfPosition: 3n }))).toEqual([1n, 2n, 3n]);
      expect(positionsOf(await ctx.store.readAll({ asOfTime: new Date(t1), asOfPosition: 4n }))).toEqual([1n, 2n]);
    });
  });
}

function describePaging(factory: ConformanceFactory): void {
  describe('paging the whole log', () => {
    const ctx = useStore(factory);
    const TOTAL = 2_500;
    const PER_CALL = 250;
    // Call i writes stream `odd-i` or `even-i`, with type T0, T1 or T2 by i % 3.
    const seed = async (): Promise<void> => {
      for (let call = 0; call * PER_CALL < TOTAL; call += 1) {
        const streamId = `${call % 2 === 0 ? 'even' : 'odd'}-${call}`;
        await ctx.store.append({ streamId, events: events(PER_CALL, `T${call % 3}`, call * PER_CALL + 1) });
      }
    };
    const expectOnceInOrder = (read: RecordedEvent[], expected: bigint[]): void => {
      expect(read.length).toBe(expected.length);
      expect(positionsOf(read)).toEqual(expected);
    };
    const callOf = (position: bigint): number => Math.floor((Number(position) - 1) / PER_CALL);

    it(`streamAll gives every one of ${TOTAL} events once, in order, across pages of ${READ_PAGE_SIZE}`, async () => {
      await seed();
      const read: RecordedEvent[] = [];
      for await (const recorded of ctx.store.streamAll()) read.push(recorded);
      expectOnceInOrder(read, positions(1, TOTAL));
      expect(read.map((e) => (e.data as { n: number }).n)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    });

    it('streamAll with a category, types, after or as-of bound pages through the matching events only', async () => {
      await seed();
      const all = positions(1, TOTAL);
      const collect = async (options: Parameters<EventStore['streamAll']>[0]): Promise<RecordedEvent[]> => {
        const read: RecordedEvent[] = [];
        for await (const recorded of ctx.store.streamAll(options)) read.push(recorded);
        return read;
      };
      expectOnceInOrder(await collect({ category: 'odd' }), all.filter((p) => callOf(p) % 2 === 1));
      expectOnceInOrder(await collect({ types: ['T1', 'T2'] }), all.filter((p) => callOf(p) % 3 !== 0));
      expectOnceInOrder(await collect({ category: 'even', types: ['T0'] }), all.filter((p) => callOf(p) % 6 === 0));
      expectOnceInOrder(await collect({ after: 999n }), positions(1000, TOTAL));
      expectOnceInOrder(await collect({ asOfPosition: 2_001n }), positions(1, 2_001));
      expectOnceInOrder(await collect({ after: 1_000n, asOfPosition: 2_000n }), positions(1_001, 2_000));
    });

    it(`readAll returns one page of ${READ_PAGE_SIZE} by default and up to the limit asked`, async () => {
      await seed();
      expectOnceInOrder(await ctx.store.readAll(), positions(1, READ_PAGE_SIZE));
      expectOnceInOrder(await ctx.store.readAll({ after: BigInt(READ_PAGE_SIZE) }), positions(READ_PAGE_SIZE + 1, 2 * READ_PAGE_SIZE));
      expectOnceInOrder(await ctx.store.readAll({ limit: READ_BATCH_MAX }), positions(1, TOTAL));
      expectOnceInOrder(await ctx.store.readAll({ limit: 1_500 }), positions(1, 1_500));
    });

    it('readStream returns a long stream whole by default and pages it with fromVersion', async () => {
      for (let i = 0; i < 3; i += 1) await ctx.store.append({ streamId: 'long-1', events: events(900) });
      expect(versionsOf(await ctx.store.readStream('long-1'))).toEqual(positions(1, 2_700));
      expect(versionsOf(await ctx.store.readStream('long-1', { fromVersion: 1_001n, limit: 1_000 }))).toEqual(positions(1_001, 2_000));
      expect(versionsOf(await ctx.store.readStream('long-1', { direction: 'backwards', limit: 1_000 }))).toEqual(positions(1_701, 2_700).reverse());
    });
  });
}
