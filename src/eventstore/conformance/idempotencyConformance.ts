/** Idempotency: the same event ids again return the first result and write nothing, forever (issue 4 §2 "Idempotency"). */
import { describe, expect, it } from 'vitest';
import { isDaybookError } from '../../kernel/errors.ts';
import { newEventId } from '../../kernel/ids.ts';
import type { AppendResult, NewEvent, StreamWrite } from '../eventStore.ts';
import { type ConformanceFactory, event, expectUnchanged, failure, snapshotOf, useStore } from './harness.ts';

/** Events with fresh caller ids. */
function withIds(count: number, type = 'Paid'): NewEvent[] {
  return Array.from({ length: count }, (_, i) => event(type, { amount: 100 + i, note: `n${i}` }, { id: newEventId() }));
}

/** What a retry must return: the first result, marked duplicate. */
function asDuplicate(first: AppendResult): AppendResult {
  return { ...first, duplicate: true };
}

export function describeIdempotency(factory: ConformanceFactory): void {
  describe('idempotency', () => {
    const ctx = useStore(factory);

    it('re-appending the same ids with the same content returns the first result and writes nothing', async () => {
      const write: StreamWrite = { streamId: 'pay-1', expectedVersion: 'no_stream', events: withIds(3) };
      const first = await ctx.store.append(write);
      expect(first.duplicate).toBe(false);
      const before = await snapshotOf(ctx.store);
      const again = await ctx.store.append(write);
      expect(again).toEqual(asDuplicate(first));
      await expectUnchanged(ctx.store, before);
      expect((await ctx.store.readStream('pay-1')).map((e) => e.version)).toEqual([1n, 2n, 3n]);
    });

    it('a retry whose expectation no longer holds still returns the first result, not a conflict', async () => {
      const write: StreamWrite = { streamId: 'pay-1', expectedVersion: 0n, events: withIds(2) };
      const first = await ctx.store.append(write);
      await ctx.store.append({ streamId: 'pay-1', events: withIds(1, 'Refunded') });
      const before = await snapshotOf(ctx.store);
      expect(await ctx.store.append(write)).toEqual(asDuplicate(first));
      expect(await ctx.store.append({ ...write, expectedVersion: 'no_stream' })).toEqual(asDuplicate(first));
      await expectUnchanged(ctx.store, before);
    });

    it('holds forever, not for a window: a retry after many other appends is still a duplicate', async () => {
      const write: StreamWrite = { streamId: 'pay-1', events: withIds(1) };
      const first = await ctx.store.append(write);
      for (let i = 0; i < 20; i += 1) await ctx.store.append({ streamId: `pay-${i + 2}`, events: withIds(10) });
      const before = await snapshotOf(ctx.store);
      expect(await ctx.store.append(write)).toEqual(asDuplicate(first));
      await expectUnchanged(ctx.store, before);
    });

    it('a multi-stream call retried returns its first result', async () => {
      const writes: StreamWrite[] = [{ streamId: 'pay-1', events: withIds(2) }, { streamId: 'pay-2', expectedVersion: 'no_stream', events: withIds(1) }];
      const first = await ctx.store.append(writes);
      const before = await snapshotOf(ctx.store);
      expect(await ctx.store.append(writes)).toEqual(asDuplicate(first));
      await expectUnchanged(ctx.store, before);
    });

    it('the same content in another key order, with other metadata or an upper-case id, is the same event', async () => {
      const id = newEventId();
      const first = await ctx.store.append({ streamId: 'pay-1', events: [event('Paid', { a: 1, b: { c: 2, d: 3 } }, { id, metadata: { actor: 'x' } })] });
      const before = await snapshotOf(ctx.store);
      const again = await ctx.store.append({ streamId: 'pay-1', events: [event('Paid', { b: { d: 3, c: 2 }, a: 1 }, { id: id.toUpperCase(), metadata: { actor: 'y' } })] });
      expect(again).toEqual(asDuplicate(first));
      await expectUnchanged(ctx.store, before);
    });

    it('two identical appends at once write once and both get the same positions and versions', async () => {
      const write: StreamWrite = { streamId: 'pay-1', expectedVersion: 'no_stream', events: withIds(3) };
      const [a, b] = await Promise.all([ctx.store.append(write), ctx.store.append(write)]);
      expect(a.events).toEqual(b.events);
      expect(a.streams).toEqual(b.streams);
      expect([a.duplicate, b.duplicate].filter((duplicate) => !duplicate)).toHaveLength(1);
      expect(await ctx.store.headPosition()).toBe(3n);
      expect(await ctx.store.readStream('pay-1')).toHaveLength(3);
    });

    it('ten identical appends at once, among other appends, write once', async () => {
      const write: StreamWrite = { streamId: 'pay-1', events: withIds(2) };
      const others = Array.from({ length: 10 }, (_, i) => ctx.store.append({ streamId: `other-${i}`, events: withIds(1) }));
      const copies = Array.from({ length: 10 }, () => ctx.store.append(write));
      const results = await Promise.all(copies);
      await Promise.all(others);
      for (const result of results) expect(result.events).toEqual(results[0]!.events);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(await ctx.store.readStream('pay-1')).toHaveLength(2);
      expect(await ctx.store.headPosition()).toBe(12n);
    });

    it('the same id with other data is an event_id_conflict; nothing is written', async () => {
      const [paid] = withIds(1);
      await ctx.store.append({ streamId: 'pay-1', events: [paid!] });
      const before = await snapshotOf(ctx.store);
      const error = await failure(ctx.store.append({ streamId: 'pay-1', events: [{ ...paid!, data: { amount: 999 } }] }), 'event_id_conflict');
      expect(error.details).toMatchObject({ eventId: paid!.id });
      await expectUnchanged(ctx.store, before);
    });

    it('the same id with another type, schema version or stream is an event_id_conflict', async () => {
      const [paid] = withIds(1);
      await ctx.store.append({ streamId: 'pay-1', events: [paid!] });
      const before = await snapshotOf(ctx.store);
      await failure(ctx.store.append({ streamId: 'pay-1', events: [{ ...paid!, type: 'Refunded' }] }), 'event_id_conflict');
      await failure(ctx.store.append({ streamId: 'pay-1', events: [{ ...paid!, schemaVersion: 2 }] }), 'event_id_conflict');
      await failure(ctx.store.append({ streamId: 'pay-2', events: [paid!] }), 'event_id_conflict');
      await expectUnchanged(ctx.store, before);
      expect(await ctx.store.streamVersion('pay-2')).toBe(0n);
    });

    it('a call mixing existing ids with new ones is an event_id_conflict; the new ones are not written', async () => {
      const [first, second] = withIds(2);
      await ctx.store.append({ streamId: 'pay-1', events: [first!] });
      const before = await snapshotOf(ctx.store);
      await failure(ctx.store.append({ streamId: 'pay-1', events: [first!, second!] }), 'event_id_conflict');
      await failure(ctx.store.append({ streamId: 'pay-1', events: [second!, first!] }), 'event_id_conflict');
      await failure(ctx.store.append([{ streamId: 'pay-2', events: [second!] }, { streamId: 'pay-1', events: [first!] }]), 'event_id_conflict');
      await expectUnchanged(ctx.store, before);
    });

    it('a conflicting id racing its original: one is written, the other is an event_id_conflict', async () => {
      const [paid] = withIds(1);
      const results = await Promise.allSettled([
        ctx.store.append({ streamId: 'pay-1', events: [paid!] }),
        ctx.store.append({ streamId: 'pay-1', events: [{ ...paid!, data: { amount: 1 } }] }),
      ]);
      const rejected = results.filter((r) => r.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect(isDaybookError((rejected[0] as PromiseRejectedResult).reason, 'event_id_conflict')).toBe(true);
      expect(await ctx.store.headPosition()).toBe(1n);
    });
  });
}
