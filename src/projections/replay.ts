/**
 * Temporal investigation: a projection built as of a past position into a
 * scratch SQLite file (whatever the backend of the log), and a stream's state
 * at a past position or time.
 *
 * @example
 * const scratch = await replayProjection(store, streamStats, { toPosition: 1200n, into: '/tmp/stats-at-1200.db' });
 * const { state } = await stateAt(store, 'account-42', { time: new Date('2025-01-31T23:59:59Z') }, accountDecider);
 */
import { existsSync } from 'node:fs';
import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import { type Clock, DaybookError, READ_BATCH_MAX, systemClock } from '../kernel/index.ts';
import { BatchProcessor } from './batchProcessor.ts';
import { setActive } from './catalog.ts';
import { catchUp } from './catchUp.ts';
import { createGeneration } from './generations.ts';
import { allPartitions, type ProjectionDefinition } from './projection.ts';
import { openReadModelStore } from './readModelStore.ts';

export interface ReplayOptions {
  /** Build the read model as it was when the log ended at this position. */
  toPosition: bigint;
  /** Path of the scratch SQLite file; it must not exist yet. */
  into: string;
  /** Events per transaction (default 2000). */
  batchSize?: number;
  clock?: Clock;
}

export interface ReplayResult {
  path: string;
  projection: string;
  version: number;
  /** The position the scratch read model reflects (the requested one, or the head if the log is shorter). */
  position: bigint;
  durationMs: number;
}

export async function replayProjection(store: EventStore, definition: ProjectionDefinition, options: ReplayOptions): Promise<ReplayResult> {
  if (typeof options.toPosition !== 'bigint' || options.toPosition < 0n) throw new DaybookError('validation_failed', 'toPosition must be a non-negative bigint', {}, 'toPosition');
  if (typeof options.into !== 'string' || options.into.length === 0) throw new DaybookError('validation_failed', 'into must be a file path', {}, 'into');
  if (existsSync(options.into)) throw new DaybookError('validation_failed', `${options.into} exists; replay writes into a new scratch file`, { path: options.into }, 'into');
  const clock = options.clock ?? systemClock;
  const started = clock.nowMs();
  const scratch = await openReadModelStore(`sqlite:${options.into}`);
  try {
    const version = definition.version;
    await scratch.transaction(async (tx) => {
      await createGeneration(tx, definition, version, clock);
      await setActive(tx, definition.name, { version, definitionVersion: definition.version }, clock.nowMs());
    });
    const processor = new BatchProcessor({
      readModels: scratch, definition, version, partitions: allPartitions(definition), clock, maxAttempts: 3, initialBackoffMs: 1,
      sleep: async () => true,
      guard: async () => {},
    });
    await processor.load();
    const outcome = await catchUp(store, processor, definition, { batchSize: options.batchSize ?? 2000, shouldStop: () => false, toPosition: options.toPosition });
    if (outcome.kind === 'blocked') {
      throw new DaybookError('projection_stopped', `replay of ${definition.name} stopped on the poison event at position ${outcome.event.position}: ${outcome.error}`, { projection: definition.name });
    }
    return { path: options.into, projection: definition.name, version, position: processor.checkpoint, durationMs: clock.nowMs() - started };
  } finally {
    await scratch.close();
  }
}

/** Folds recorded events into a state: a decider fits (`initialState`, `evolve`), with `decode` when its events are not the recorded ones as they are. */
export interface StateFolder<State, Event = RecordedEvent> {
  initialState: () => State;
  evolve: (state: State, event: Event) => State;
  decode?: (event: RecordedEvent) => Event;
}

export type StatePoint = { position: bigint } | { time: Date };

export interface StreamStateAt<State> {
  streamId: string;
  /** The stream's version at that point (0n: it did not exist yet). */
  version: bigint;
  /** Global position of the last event folded (0n when none). */
  position: bigint;
  state: State;
}

/**
 * A stream as it was at a global position or a time: folded through `folder`
 * (a decider's evolve) when given, else the raw events up to that point.
 */
export async function stateAt<State, Event = RecordedEvent>(store: EventStore, streamId: string, at: StatePoint, folder: StateFolder<State, Event>): Promise<StreamStateAt<State>>;
export async function stateAt(store: EventStore, streamId: string, at: StatePoint): Promise<StreamStateAt<RecordedEvent[]>>;
export async function stateAt<State, Event>(store: EventStore, streamId: string, at: StatePoint, folder?: StateFolder<State, Event>): Promise<StreamStateAt<State | RecordedEvent[]>> {
  const bound = asOf(at);
  let state: State | RecordedEvent[] = folder ? folder.initialState() : [];
  let version = 0n;
  let position = 0n;
  for (;;) {
    const page = await store.readStream(streamId, { ...bound, fromVersion: version + 1n, limit: READ_BATCH_MAX });
    for (const event of page) {
      if (folder) state = folder.evolve(state as State, folder.decode ? folder.decode(event) : (event as unknown as Event));
      else (state as RecordedEvent[]).push(event);
      version = event.version;
      position = event.position;
    }
    if (page.length < READ_BATCH_MAX) break;
  }
  return { streamId, version, position, state };
}

function asOf(at: StatePoint): { asOfPosition?: bigint; asOfTime?: Date } {
  if (typeof at !== 'object' || at === null) throw new DaybookError('validation_failed', 'state-at needs { position } or { time }', {}, 'at');
  if ('position' in at) {
    if (typeof at.position !== 'bigint' || at.position < 0n) throw new DaybookError('validation_failed', 'position must be a non-negative bigint', {}, 'position');
    return { asOfPosition: at.position };
  }
  if ('time' in at) {
    if (!(at.time instanceof Date) || Number.isNaN(at.time.getTime())) throw new DaybookError('validation_failed', 'time must be a valid Date', {}, 'time');
    return { asOfTime: at.time };
  }
  throw new DaybookError('validation_failed', 'state-at needs { position } or { time }', {}, 'at');
}
