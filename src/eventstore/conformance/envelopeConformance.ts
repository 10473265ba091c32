/** The envelope every stored event carries (DESIGN.md §3 "Envelope", issue 4 §2 "Envelope"). */
import { describe, expect, it } from 'vitest';
import { isUuidV7, newEventId } from '../../kernel/ids.ts';
import { eventHash } from '../hashChain.ts';
import type { RecordedEvent } from '../eventStore.ts';
import { type ConformanceFactory, event, events, everything, positions, useStore } from './harness.ts';

const CLOCK_TOLERANCE_MS = 2_000;

/** The hash of an event as read back, recomputed from its canonical envelope (data and metadata as written). */
function recomputedHash(recorded: RecordedEvent): string {
  return eventHash({
    eventId: recorded.eventId, streamId: recorded.streamId, version: recorded.version, position: recorded.position,
    type: recorded.type, schemaVersion: recorded.schemaVersion, recordedAtMs: recorded.recordedAt.getTime(),
    dataJson: JSON.stringify(recorded.data), metadataJson: JSON.stringify(recorded.metadata), previousHash: recorded.previousHash,
  });
}

export function describeEnvelope(factory: ConformanceFactory): void {
  describe('envelope', () => {
    const ctx = useStore(factory);

    it('generates a UUIDv7 event id when the caller gives none, distinct per event', async () => {
      const result = await ctx.store.append({ streamId: 'order-1', events: events(3) });
      const read = await ctx.store.readStream('order-1');
      expect(read.map((e) => e.eventId)).toEqual(result.events.map((e) => e.eventId));
      for (const recorded of read) expect(isUuidV7(recorded.eventId), recorded.eventId).toBe(true);
      expect(new Set(read.map((e) => e.eventId)).size).toBe(3);
    });

    it('keeps the event ids the caller supplies (any UUID version)', async () => {
      const v7 = newEventId();
      const v4 = 'f47ac10b-58cc-4372-a567-0e02b2c3d479';
      await ctx.store.append({ streamId: 'order-1', events: [event('A', 1, { id: v7 }), event('B', 2, { id: v4 })] });
      const read = await ctx.store.readStream('order-1');
      expect(read.map((e) => e.eventId)).toEqual([v7, v4]);
    });

    it('reads an upper-case caller id back as the same UUID', async () => {
      const id = newEventId();
      await ctx.store.append({ streamId: 'order-1', events: [event('A', 1, { id: id.toUpperCase() })] });
      const [recorded] = await ctx.store.readStream('order-1');
      expect(recorded!.eventId.toLowerCase()).toBe(id);
    });

    it('numbers stream versions 1..n contiguously across appends', async () => {
      await ctx.store.append({ streamId: 'order-1', events: events(2) });
      await ctx.store.append({ streamId: 'order-2', events: events(1) });
      const third = await ctx.store.append({ streamId: 'order-1', events: events(3) });
      expect(third.events.map((e) => e.version)).toEqual([3n, 4n, 5n]);
      expect(third.streams).toEqual([{ streamId: 'order-1', version: 5n }]);
      expect((await ctx.store.readStream('order-1')).map((e) => e.version)).toEqual([1n, 2n, 3n, 4n, 5n]);
      expect(await ctx.store.streamVersion('order-1')).toBe(5n);
      expect(await ctx.store.streamVersion('order-2')).toBe(1n);
      expect(await ctx.store.streamVersion('order-3')).toBe(0n);
    });

    it('gives global positions 1..n, strictly increasing and contiguous, in append order', async () => {
      const first = await ctx.store.append({ streamId: 'order-1', events: events(2) });
      const second = await ctx.store.append({ streamId: 'order-2', events: events(3) });
      expect(first.events.map((e) => e.position)).toEqual(positions(1, 2));
      expect(first.position).toBe(2n);
      expect(second.events.map((e) => e.position)).toEqual(positions(3, 5));
      expect(second.position).toBe(5n);
      expect((await everything(ctx.store)).map((e) => e.position)).toEqual(positions(1, 5));
      expect(await ctx.store.headPosition()).toBe(5n);
    });

    it('records the type, schema version (default 1) and data as given', async () => {
      const data = { amount: '12.50', currency: 'EUR', lines: [{ sku: 'x', qty: 2 }], note: null, flag: true };
      await ctx.store.append({ streamId: 'order-1', events: [event('OrderPlaced', data), event('OrderNoted', 'text', { schemaVersion: 7 })] });
      const [placed, noted] = await ctx.store.readStream('order-1');
      expect(placed).toMatchObject({ streamId: 'order-1', type: 'OrderPlaced', schemaVersion: 1, data });
      expect(noted).toMatchObject({ type: 'OrderNoted', schemaVersion: 7, data: 'text' });
    });

    it('stores data as written: key order and unusual characters survive', async () => {
      const data = { z: 1, a: { y: [3, 2, 1], b: 'é😀\n"\\\u0000\u2028' }, m: 1.5, big: 12345678901234, neg: -0.001, empty: {} };
      await ctx.store.append({ streamId: 'order-1', events: [event('Odd', data)] });
      const [recorded] = await ctx.store.readStream('order-1');
      expect(JSON.stringify(recorded!.data)).toBe(JSON.stringify(data));
    });

    it('stores undefined data as null', async () => {
      await ctx.store.append({ streamId: 'order-1', events: [{ type: 'Empty', data: undefined }] });
      const [recorded] = await ctx.store.readStream('order-1');
      expect(recorded!.data).toBeNull();
    });

    it('round-trips metadata: correlation, causation, actor, tenant, trace context and other keys', async () => {
      const metadata = {
        correlationId: newEventId(), causationId: newEventId(), actor: 'user:42', tenant: 'acme',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'vendor=1', custom: { nested: [1, 'two'] },
      };
      await ctx.store.append({ streamId: 'order-1', events: [event('A', 1, { metadata }), event('B', 2)] });
      const [withMetadata, without] = await ctx.store.readStream('order-1');
      expect(withMetadata!.metadata).toEqual(metadata);
      expect(without!.metadata).toEqual({});
    });

    it('records the time of the append, never decreasing along the log', async () => {
      const before = Date.now();
      await ctx.store.append({ streamId: 'order-1', events: events(2) });
      await ctx.store.append({ streamId: 'order-2', events: events(2) });
      const after = Date.now();
      const all = await everything(ctx.store);
      for (const recorded of all) {
        expect(recorded.recordedAt).toBeInstanceOf(Date);
        expect(recorded.recordedAt.getTime()).toBeGreaterThanOrEqual(before - CLOCK_TOLERANCE_MS);
        expect(recorded.recordedAt.getTime()).toBeLessThanOrEqual(after + CLOCK_TOLERANCE_MS);
      }
      for (let i = 1; i < all.length; i += 1) expect(all[i]!.recordedAt.getTime()).toBeGreaterThanOrEqual(all[i - 1]!.recordedAt.getTime());
    });

    it('chains hashes per stream: version 1 has an empty previous hash, each next one the hash before it', async () => {
      await ctx.store.append({ streamId: 'order-1', events: events(2) });
      await ctx.store.append({ streamId: 'order-2', events: events(2) });
      await ctx.store.append([{ streamId: 'order-1', events: events(1) }, { streamId: 'order-2', events: events(1) }]);
      for (const streamId of ['order-1', 'order-2']) {
        const stream = await ctx.store.readStream(streamId);
        expect(stream).toHaveLength(3);
        expect(stream[0]!.previousHash).toBe('');
        for (const [index, recorded] of stream.entries()) {
          expect(recorded.hash).toMatch(/^[0-9a-f]{64}$/);
          if (index > 0) expect(recorded.previousHash).toBe(stream[index - 1]!.hash);
        }
      }
      const hashes = (await everything(ctx.store)).map((e) => e.hash);
      expect(new Set(hashes).size).toBe(hashes.length);
    });

    it('hashes the canonical envelope of each event as read back', async () => {
      const metadata = { correlationId: 'c-1', actor: 'ünïcode 😀', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
      await ctx.store.append({ streamId: 'order-1', events: [event('A', { b: 2, a: [1, 'x\ny'] }, { metadata, schemaVersion: 3 }), event('B', null)] });
      await ctx.store.append({ streamId: 'order-1', events: [event('C', 'é')] });
      for (const recorded of await everything(ctx.store)) expect(recorded.hash, `position ${recorded.position}`).toBe(recomputedHash(recorded));
    });
  });
}
