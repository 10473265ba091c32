/**
 * Rendering Stripe event objects from their streams: rendered in log order
 * (as deliveries go), each event reads only the stream events since the one
 * before it, not the stream from its start, and the body is the same as a
 * renderer with nothing kept gives (the object as it was at that event,
 * also for a deletion's "just before" state and for an older event
 * retrieved after newer ones).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../eventstore/index.ts';
import { closeWorld, ctxOf, openWorld, type World } from '../../payments/app/payments.propertyWorld.ts';
import type { PaymentEventRow } from '../../payments/index.ts';
import { StripeEventRenderer } from './stripeEvents.ts';

const REFUNDS = 40;

/** The store, counting the events its stream reads return. */
function counting(store: EventStore): { store: EventStore; read: { events: number } } {
  const read = { events: 0 };
  const counted = new Proxy(store, {
    get(target, key) {
      if (key === 'readStream') {
        return async (...args: Parameters<EventStore['readStream']>) => {
          const page = await target.readStream(...args);
          read.events += page.length;
          return page;
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: counted, read };
}

describe('Stripe event rendering', () => {
  let dir: string;
  let world: World;
  let rows: PaymentEventRow[];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'daybook-events-render-'));
    world = await openWorld(`sqlite:${join(dir, 'daybook.db')}`, { percentBps: 0n, fixedMinor: 0n, settlementDelayMs: 0, disputeFeeMinor: 0n });
    const ctx = ctxOf('test');
    await world.payments.createAndConfirmPaymentIntent(ctx, {
      paymentIntentId: 'pi_many', amount: 100_000n, currency: 'usd', customerId: null, paymentMethodId: null, captureMethod: 'automatic', description: null,
      paymentMethod: 'pm_card_bypassPending', newPaymentMethodId: 'pm_many', chargeId: 'ch_many',
    });
    for (let i = 0; i < REFUNDS; i += 1) await world.payments.createRefund(ctx, { paymentIntentId: 'pi_many', chargeId: null, refundId: `re_${i}`, amount: 100n, reason: null });
    const streamId = 'pintent-test.pi_many';
    const events = await world.store.readStream(streamId, { limit: 1000 });
    rows = events.map((event) => ({
      mode: 'test', id: `evt_${event.version}`, type: 'payment_intent.updated', position: event.position, seq: 0, createdS: 1, streamId, streamVersion: event.version,
      subjectKind: 'payment_intent', subjectId: 'pi_many', before: event.version % 5n === 0n, requestId: null, idempotencyKey: null,
    }));
  });
  afterAll(async () => {
    await closeWorld(world);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads each stream event about once when events are rendered in order, with the bodies a fresh renderer gives', async () => {
    const { store, read } = counting(world.store);
    const renderer = new StripeEventRenderer(store);
    const bodies: string[] = [];
    for (const row of rows) bodies.push(await renderer.body(row));
    expect(rows.length).toBeGreaterThan(REFUNDS);
    // Each render reads the events since the last one, and its own (for its time): at most two reads per row.
    expect(read.events).toBeLessThanOrEqual(rows.length * 2);
    for (const [index, row] of rows.entries()) expect(bodies[index]).toBe(await new StripeEventRenderer(world.store).body(row));
    const refundsOf = (body: string) => (JSON.parse(body) as { data: { object: { amount_received: number } } }).data.object;
    expect(refundsOf(bodies.at(-1)!)).toMatchObject({ object: 'payment_intent', id: 'pi_many' });
  });

  it('renders an older event after newer ones as it was then', async () => {
    const renderer = new StripeEventRenderer(world.store);
    const last = await renderer.body(rows.at(-1)!);
    const first = await renderer.body(rows[0]!);
    expect(first).toBe(await new StripeEventRenderer(world.store).body(rows[0]!));
    expect(first).not.toBe(last);
  });

  it('with room for one stream, still folds on from the state it kept', async () => {
    const { store, read } = counting(world.store);
    const bounded = new StripeEventRenderer(store, 1);
    await bounded.body(rows[3]!);
    const before = read.events;
    await bounded.body(rows[4]!);
    expect(read.events - before).toBeLessThanOrEqual(1);
  });

  it('keeps no state folded from reads an erasure overtook: the fold is read again', async () => {
    const listeners: Array<(streamId: string) => void> = [];
    let gate: Promise<void> | null = null;
    let reads = 0;
    const gated = new Proxy(world.store, {
      get(target, key) {
        if (key === 'onStreamInvalidated') return (listener: (streamId: string) => void) => { listeners.push(listener); return () => {}; };
        if (key === 'readStream') {
          return async (...args: Parameters<EventStore['readStream']>) => {
            const page = await target.readStream(...args);
            reads += page.length;
            if (gate !== null) await gate;
            return page;
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const renderer = new StripeEventRenderer(gated);
    let release!: () => void;
    gate = new Promise<void>((resolve) => { release = resolve; });
    const racing = renderer.body(rows[9]!);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The erasure happens while the fold is reading: what it read holds data the store no longer gives.
    for (const listener of listeners) listener('pintent-test.pi_many');
    gate = null;
    release();
    expect(await racing).toBe(await new StripeEventRenderer(world.store).body(rows[9]!));
    // Read twice through event 10: the first fold was dropped, not kept.
    expect(reads).toBe(20);
  });
});
