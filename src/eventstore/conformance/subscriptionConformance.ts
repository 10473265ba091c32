/** Subscriptions: catch up, then live; never skip, never duplicate (issue 4 §2 "Subscriptions", DESIGN.md §3 "Global order"). */
import { describe, expect, it } from 'vitest';
import { READ_PAGE_SIZE } from '../../kernel/limits.ts';
import type { RecordedEvent, Subscription } from '../eventStore.ts';
import { appendEach, type ConformanceFactory, event, events, everything, positions, take, useStore, waitFor, within } from './harness.ts';

const positionsOf = (read: RecordedEvent[]): bigint[] => read.map((e) => e.position);

/** Drains a subscription in the background until it ends, keeping what it delivered. */
function drain(subscription: Subscription): { seen: RecordedEvent[]; ended: Promise<void> } {
  const seen: RecordedEvent[] = [];
  const ended = (async () => { for await (const recorded of subscription) seen.push(recorded); })();
  return { seen, ended };
}

export function describeSubscriptions(factory: ConformanceFactory): void {
  describe('subscriptions', () => {
    const ctx = useStore(factory);

    it('catches up on the existing log, then delivers new events live', async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(3) });
      const subscription = ctx.store.subscribe();
      try {
        expect(positionsOf(await take(subscription, 3))).toEqual(positions(1, 3));
        await ctx.store.append({ streamId: 'acct-2', events: events(2) });
        expect(positionsOf(await take(subscription, 2))).toEqual(positions(4, 5));
        await ctx.store.append({ streamId: 'acct-1', events: events(1) });
        const [live] = await take(subscription, 1);
        expect(live).toMatchObject({ position: 6n, streamId: 'acct-1', version: 4n });
        expect(live).toEqual((await ctx.store.readAll({ after: 5n }))[0]);
      } finally {
        subscription.close();
      }
    });

    it(`catches up over more than two pages of ${READ_PAGE_SIZE}, filtered or not, each event once`, async () => {
      for (let call = 0; call < 10; call += 1) await ctx.store.append({ streamId: `${call % 2 === 0 ? 'even' : 'odd'}-${call}`, events: events(250) });
      const unfiltered = ctx.store.subscribe();
      const odd = ctx.store.subscribe({ category: 'odd' });
      try {
        expect(positionsOf(await take(unfiltered, 2_500))).toEqual(positions(1, 2_500));
        const oddPositions = positions(1, 2_500).filter((p) => Math.floor(Number(p - 1n) / 250) % 2 === 1);
        expect(positionsOf(await take(odd, oddPositions.length))).toEqual(oddPositions);
        await ctx.store.append({ streamId: 'odd-99', events: events(1) });
        expect(positionsOf(await take(unfiltered, 1))).toEqual([2_501n]);
        expect(positionsOf(await take(odd, 1))).toEqual([2_501n]);
      } finally {
        unfiltered.close();
        odd.close();
      }
    });

    it('starts on an empty store and delivers the first events live', async () => {
      const subscription = ctx.store.subscribe();
      try {
        const pending = take(subscription, 2);
        await ctx.store.append({ streamId: 'acct-1', events: events(2) });
        expect(positionsOf(await pending)).toEqual([1n, 2n]);
      } finally {
        subscription.close();
      }
    });

    it('starts strictly after the given position', async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(5) });
      const subscription = ctx.store.subscribe({ after: 3n });
      try {
        expect(positionsOf(await take(subscription, 2))).toEqual([4n, 5n]);
        await ctx.store.append({ streamId: 'acct-1', events: events(1) });
        expect(positionsOf(await take(subscription, 1))).toEqual([6n]);
      } finally {
        subscription.close();
      }
    });

    it('delivers every event of its category when live commits mix categories (batches of others are passed over, never its own)', async () => {
      const mine = ctx.store.subscribe({ category: 'mine' });
      const all = ctx.store.subscribe();
      try {
        // Both are live and waiting before anything is appended (a waiting subscription is the one that may pass batches over).
        const mineTaken = take(mine, 81);
        const allTaken = take(all, 120 + 40 + 5 + 1);
        await new Promise((resolve) => setTimeout(resolve, 50));
        // Concurrent appends share commits: some hold only other categories, some both (atomic multi-stream appends), some only this one.
        const appends = Array.from({ length: 120 }, (_, i) => {
          if (i % 3 === 0) return ctx.store.append({ streamId: `other-${i}`, events: [event('Noted')] });
          if (i % 3 === 1) return ctx.store.append([{ streamId: `other-${i}`, events: [event('Noted')] }, { streamId: `mine-${i}`, events: [event('Mixed')] }]);
          return ctx.store.append({ streamId: `mine-${i}`, events: [event('Alone')] });
        });
        await Promise.all(appends);
        for (let i = 0; i < 5; i += 1) await ctx.store.append({ streamId: `other-late-${i}`, events: [event('Noted')] });
        await ctx.store.append({ streamId: 'mine-last', events: [event('Last')] });
        const everything = await allTaken;
        const expected = everything.filter((recorded) => recorded.streamId.startsWith('mine-')).map((recorded) => recorded.position);
        expect(expected).toHaveLength(81);
        expect(positionsOf(await mineTaken)).toEqual(expected);
      } finally {
        mine.close();
        all.close();
      }
    });

    it('filters by category and types, in catch-up and live, without duplicates', async () => {
      await appendEach(ctx.store, [['acct-1', 'Opened'], ['pay-1', 'Paid'], ['acct-2', 'Closed'], ['acct-3', 'Opened']]);
      const byCategory = ctx.store.subscribe({ category: 'acct' });
      const byTypes = ctx.store.subscribe({ types: ['Opened', 'Paid'] });
      const both = ctx.store.subscribe({ category: 'acct', types: ['Opened'] });
      try {
        expect(positionsOf(await take(byCategory, 3))).toEqual([1n, 3n, 4n]);
        expect(positionsOf(await take(byTypes, 3))).toEqual([1n, 2n, 4n]);
        expect(positionsOf(await take(both, 2))).toEqual([1n, 4n]);
        // Many non-matching events, then one matching: the cursor passes the others without delivering them.
        for (let i = 0; i < 5; i += 1) await ctx.store.append({ streamId: `pay-${i + 2}`, events: [event('Refunded')] });
        await appendEach(ctx.store, [['acct-4', 'Opened'], ['pay-9', 'Paid']]);
        expect(await take(byCategory, 1)).toMatchObject([{ position: 10n, streamId: 'acct-4' }]);
        expect(positionsOf(await take(byTypes, 2))).toEqual([10n, 11n]);
        expect(positionsOf(await take(both, 1))).toEqual([10n]);
      } finally {
        byCategory.close();
        byTypes.close();
        both.close();
      }
      const after = drain(byCategory);
      await within(after.ended, 5_000, 'closed subscription ending');
      expect(after.seen).toEqual([]);
    });

    it('never skips or duplicates an event while many writers append concurrently', async () => {
      const WRITERS = 16;
      const APPENDS = 25;
      const random = seededRandom(42);
      const all = ctx.store.subscribe();
      const filtered = ctx.store.subscribe({ category: 'w1' });
      const drains = [drain(all), drain(filtered)];
      const late: { subscription: Subscription | null; drained: ReturnType<typeof drain> | null } = { subscription: null, drained: null };
      // Writers yield a random number of turns before each append, so appends arrive while batches are being committed.
      const writers = Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = 0; i < APPENDS; i += 1) {
          for (let turns = Math.floor(random() * 4); turns > 0; turns -= 1) await new Promise((resolve) => setImmediate(resolve));
          const burst = w % 4 === 0 ? 3 : 1;
          await Promise.all(Array.from({ length: burst }, (_, b) => ctx.store.append({ streamId: `w${w}-${(i + b) % 3}`, events: events(1 + ((w + i) % 3)) })));
          if (w === 0 && i === Math.floor(APPENDS / 2)) {
            late.subscription = ctx.store.subscribe({ after: 5n });
            late.drained = drain(late.subscription);
          }
        }
      });
      try {
        await Promise.all(writers);
        const log = await everything(ctx.store);
        expect(BigInt(log.length)).toBe(await ctx.store.headPosition());
        const inW1 = log.filter((e) => e.streamId.startsWith('w1-'));
        const expectations: Array<[ReturnType<typeof drain>, RecordedEvent[], string]> = [
          [drains[0]!, log, 'unfiltered subscriber'], [drains[1]!, inW1, 'category subscriber'], [late.drained!, log.slice(5), 'late subscriber'],
        ];
        for (const [{ seen }, expected, what] of expectations) {
          const last = expected[expected.length - 1]!.position;
          await waitFor(() => seen.length > 0 && seen[seen.length - 1]!.position >= last, 10_000, `${what} reaching position ${last}`);
          expect(seen.map((e) => e.eventId), what).toEqual(expected.map((e) => e.eventId));
        }
      } finally {
        all.close();
        filtered.close();
        late.subscription?.close();
      }
      for (const { ended } of [...drains, late.drained!]) await within(ended, 5_000, 'subscriptions ending');
    });

    it('close() ends an iteration that is waiting for live events, and delivers nothing after', async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(2) });
      const subscription = ctx.store.subscribe();
      const { seen, ended } = drain(subscription);
      await waitUntilSeen(seen, 2, 5_000, 'catch-up');
      subscription.close();
      await within(ended, 5_000, 'iteration ending after close()');
      await ctx.store.append({ streamId: 'acct-1', events: events(1) });
      expect(positionsOf(seen)).toEqual([1n, 2n]);
    });

    it('close() before iterating ends the iteration at once', async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(2) });
      const subscription = ctx.store.subscribe();
      subscription.close();
      const { seen, ended } = drain(subscription);
      await within(ended, 5_000, 'iteration ending');
      expect(seen).toEqual([]);
    });

    it('breaking out of a for-await loop ends the subscription', async () => {
      await ctx.store.append({ streamId: 'acct-1', events: events(3) });
      const subscription = ctx.store.subscribe();
      const seen: RecordedEvent[] = [];
      await within((async () => {
        for await (const recorded of subscription) {
          seen.push(recorded);
          if (seen.length === 2) break;
        }
      })(), 5_000, 'the loop');
      expect(positionsOf(seen)).toEqual([1n, 2n]);
      const next = await within(subscription[Symbol.asyncIterator]().next(), 5_000, 'next after break');
      expect(next.done).toBe(true);
    });
  });
}

/** A small deterministic generator (mulberry32), so a failing interleaving can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves once `seen` holds `count` events; fails after `boundMs`. */
async function waitUntilSeen(seen: RecordedEvent[], count: number, boundMs: number, what: string): Promise<void> {
  await waitFor(() => seen.length >= count, boundMs, `${what} (saw ${seen.length} of ${count})`);
  expect(seen.length).toBe(count);
}
