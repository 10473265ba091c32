/**
 * What the conformance suite needs from a backend, and the helpers its parts
 * share. A backend's test file hands `describeEventStoreConformance` a factory
 * that opens a fresh, empty store per test.
 */
import { afterEach, beforeEach, expect } from 'vitest';
import type { ErrorCode } from '../../kernel/errorCodes.ts';
import { type DaybookError, isDaybookError } from '../../kernel/errors.ts';
import type { EventStoreOptions } from '../createEventStore.ts';
import type { EventStore, NewEvent, RecordedEvent, StreamWrite, Subscription } from '../eventStore.ts';

export interface ConformanceHarness {
  /** A fresh store with no events. */
  store: EventStore;
  /** Closes the store and removes its database. */
  teardown(): Promise<void>;
  /**
   * Runs raw SQL against the store's database, bypassing the store, so the
   * integrity tests can edit stored rows. The suite uses plain `events` with
   * literal values only (no placeholders), so the same text runs on both backends.
   */
  tamper(sql: string, params?: unknown[]): Promise<void>;
}

/** Opens a fresh, empty store. `options` carry what the suite registers itself (upcasters); no per-backend options. */
export type ConformanceFactory = (options?: EventStoreOptions) => Promise<ConformanceHarness>;

export interface StoreContext {
  readonly store: EventStore;
  tamper(sql: string): Promise<void>;
}

/** A fresh store for every test of the enclosing `describe`, torn down after it. */
export function useStore(factory: ConformanceFactory, options?: EventStoreOptions): StoreContext {
  let harness: ConformanceHarness | null = null;
  beforeEach(async () => {
    harness = await factory(options);
    expect(await harness.store.headPosition()).toBe(0n);
  });
  afterEach(async () => {
    const current = harness;
    harness = null;
    await current?.teardown();
  });
  const current = (): ConformanceHarness => {
    if (!harness) throw new Error('no store: use it inside a test');
    return harness;
  };
  return {
    get store() { return current().store; },
    tamper: (sql) => current().tamper(sql),
  };
}

/** An event of `type` with `data`. */
export function event(type = 'ThingHappened', data: unknown = { n: 1 }, extra: Partial<NewEvent> = {}): NewEvent {
  return { type, data, ...extra };
}

/** `count` events numbered from `from` in their data. */
export function events(count: number, type = 'ThingHappened', from = 1): NewEvent[] {
  return Array.from({ length: count }, (_, index) => event(type, { n: from + index }));
}

/** Appends one event per entry to the named streams, one call each, in order. */
export async function appendEach(store: EventStore, writes: ReadonlyArray<[streamId: string, type: string]>): Promise<void> {
  for (const [streamId, type] of writes) await store.append({ streamId, events: [event(type)] });
}

/** The error a call fails with, checked to be a DaybookError with `code`. Fails the test if the call succeeds. */
export async function failure(call: Promise<unknown> | (() => unknown), code: ErrorCode): Promise<DaybookError> {
  let outcome: unknown;
  try {
    await (typeof call === 'function' ? call() : call);
  } catch (error) {
    outcome = error;
  }
  if (outcome === undefined) throw new Error(`expected a DaybookError ${code}, but the call succeeded`);
  if (!isDaybookError(outcome, code)) throw new Error(`expected a DaybookError ${code}, got ${String((outcome as Error)?.stack ?? outcome)}`);
  return outcome;
}

/** The whole log, read page by page. */
export async function everything(store: EventStore): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for await (const recorded of store.streamAll()) all.push(recorded);
  return all;
}

/** Checks that nothing was written: the head and the log are as before. */
export async function expectUnchanged(store: EventStore, before: { head: bigint; count: number }): Promise<void> {
  expect(await store.headPosition()).toBe(before.head);
  expect((await everything(store)).length).toBe(before.count);
}

export async function snapshotOf(store: EventStore): Promise<{ head: bigint; count: number }> {
  return { head: await store.headPosition(), count: (await everything(store)).length };
}

/** Rejects if `promise` has not settled within `boundMs`: the suite waits for conditions, never sleeps. */
export async function within<T>(promise: Promise<T>, boundMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${boundMs} ms`)), boundMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` (yielding to the event loop) until it holds, or fails after `boundMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, boundMs: number, what: string): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not true within ${boundMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** The next `count` events of a subscription, failing if they do not all arrive within `boundMs`. */
export async function take(subscription: Subscription, count: number, boundMs = 10_000): Promise<RecordedEvent[]> {
  const iterator = subscription[Symbol.asyncIterator]();
  const taken: RecordedEvent[] = [];
  const deadline = Date.now() + boundMs;
  while (taken.length < count) {
    const next = await within(iterator.next(), Math.max(1, deadline - Date.now()), `subscription delivering ${count} events (got ${taken.length})`);
    if (next.done) throw new Error(`subscription ended after ${taken.length} of ${count} events`);
    taken.push(next.value);
  }
  return taken;
}

/** Positions from..to inclusive, as bigints. */
export function positions(from: number, to: number): bigint[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => BigInt(from + index));
}

/** Appends `total` events in calls of `perCall`, over streams named by `streamOf(callIndex)`. */
export async function appendMany(store: EventStore, total: number, perCall: number, streamOf: (call: number) => string, type = 'ThingHappened'): Promise<void> {
  for (let call = 0, written = 0; written < total; call += 1) {
    const count = Math.min(perCall, total - written);
    const write: StreamWrite = { streamId: streamOf(call), events: events(count, type, written + 1) };
    await store.append(write);
    written += count;
  }
}
