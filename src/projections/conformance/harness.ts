/**
 * What the projections conformance suite needs from a backend, and helpers
 * its parts share. A backend's test file hands `describeProjectionConformance`
 * a factory that opens a fresh, empty event store and read-model store on the
 * same database, per test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import type { EventStore, NewEvent, RecordedEvent } from '../../eventstore/index.ts';
import { type DaybookError, type ErrorCode, isDaybookError } from '../../kernel/index.ts';
import type { ProjectionDefinition } from '../projection.ts';
import { dumpReadModel } from '../queries.ts';
import type { ReadModelStore } from '../readModelStore.ts';
import { replayProjection } from '../replay.ts';
import { openReadModelStore } from '../readModelStore.ts';

export interface ProjectionHarness {
  store: EventStore;
  readModels: ReadModelStore;
  /** Another read-model store on the same database, as a second process would open it. */
  openReadModels(): Promise<ReadModelStore>;
  /** Closes everything and removes the database. */
  teardown(): Promise<void>;
}

export type ProjectionHarnessFactory = () => Promise<ProjectionHarness>;

export interface HarnessContext {
  readonly store: EventStore;
  readonly readModels: ReadModelStore;
  openReadModels(): Promise<ReadModelStore>;
  /** Closed after the test. */
  defer(cleanup: () => Promise<void> | void): void;
}

/** A fresh store for every test of the enclosing `describe`, torn down after it (with whatever the test deferred first). */
export function useProjectionHarness(factory: ProjectionHarnessFactory): HarnessContext {
  let harness: ProjectionHarness | null = null;
  let cleanups: Array<() => Promise<void> | void> = [];
  beforeEach(async () => {
    harness = await factory();
    expect(await harness.store.headPosition()).toBe(0n);
  });
  afterEach(async () => {
    const current = harness;
    const pending = cleanups.reverse();
    harness = null;
    cleanups = [];
    for (const cleanup of pending) await cleanup();
    await current?.teardown();
  });
  const current = (): ProjectionHarness => {
    if (!harness) throw new Error('no harness: use it inside a test');
    return harness;
  };
  return {
    get store() { return current().store; },
    get readModels() { return current().readModels; },
    openReadModels: async () => {
      const opened = await current().openReadModels();
      cleanups.push(() => opened.close());
      return opened;
    },
    defer: (cleanup) => { cleanups.push(cleanup); },
  };
}

/** `count` events of `type` on one stream, with `n` numbering them. */
export function events(count: number, type = 'ThingHappened', extra: Record<string, unknown> = {}): NewEvent[] {
  return Array.from({ length: count }, (_, index) => ({ type, data: { n: index + 1, ...extra } }));
}

/** Appends `count` events spread round-robin over `streams`, one append call per event. */
export async function appendSpread(store: EventStore, streams: readonly string[], count: number, type = 'ThingHappened'): Promise<bigint> {
  let position = 0n;
  for (let index = 0; index < count; index += 1) {
    const result = await store.append({ streamId: streams[index % streams.length]!, events: [{ type: index % 3 === 0 ? type : `${type}Again`, data: { n: index } }] });
    position = result.position;
  }
  return position;
}

export async function everything(store: EventStore): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for await (const event of store.streamAll()) all.push(event);
  return all;
}

/** The error a call fails with, checked to be a DaybookError with `code`. */
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

/** Polls `condition` until it holds, or fails after `boundMs`: the suite waits for conditions, never sleeps. */
export async function waitFor(condition: () => boolean | Promise<boolean>, boundMs: number, what: string): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not true within ${boundMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * The read model as a replay from zero builds it, into a scratch SQLite file:
 * the reference every live read model must equal, byte for byte, in its dump.
 */
export async function replayedDump(store: EventStore, definition: ProjectionDefinition, toPosition: bigint): Promise<string> {
  const folder = mkdtempSync(join(tmpdir(), 'daybook-replay-'));
  try {
    const path = join(folder, 'scratch.db');
    await replayProjection(store, definition, { toPosition, into: path });
    const scratch = await openReadModelStore(`sqlite:${path}`);
    try {
      return await dumpReadModel(scratch, definition);
    } finally {
      await scratch.close();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
