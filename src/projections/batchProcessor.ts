/**
 * Applies batches of events to one projection generation with an exactly-once
 * effect: the handler's writes and the checkpoint move commit in one
 * transaction, fenced on the checkpoint's previous value. Shared by the live
 * runner, the rebuild and the replay.
 *
 * Poison events: before a handler runs, an attempt marker is committed on its
 * own (durably counting the attempt even if the handler takes the whole
 * process down). A range that failed once is replayed one event at a time, so
 * the poison event is found; it is retried with exponential backoff, then
 * parked (policy `park`) or recorded as blocking (policy `stop`).
 */
import type { RecordedEvent } from '../eventstore/index.ts';
import { type Clock, DaybookError } from '../kernel/index.ts';
import {
  advanceCheckpoint, type AttemptMarker, attemptMarkerParams, readAttemptMarker, readCheckpoint, WRITE_ATTEMPT_MARKER_SQL,
} from './catalog.ts';
import { errorText } from './deadLetters.ts';
import { isTransientDatabaseError } from './transientErrors.ts';
import { partitionCount, partitionOf, type PoisonPolicy, type ProjectionDefinition, projectionTx, versionedTable } from './projection.ts';
import type { ReadModelStore, WriteTx } from './readModelStore.ts';

/** One committed batch, for lag metrics and waiters. */
export interface BatchCommitted {
  projection: string;
  version: number;
  partition: number;
  /** The checkpoint before the batch (exclusive) and after it (inclusive). */
  fromPosition: bigint;
  toPosition: bigint;
  /** Events handed to the handler (0 for a checkpoint-only move over events the projection does not handle). */
  events: number;
  committedAtMs: number;
  /** Per event: commit time minus the event's recorded-at, in ms (the end-to-end lag). */
  lagsMs: number[];
  /** Time inside the transaction, in ms. */
  durationMs: number;
}

export interface PoisonInfo {
  projection: string;
  version: number;
  event: RecordedEvent;
  error: string;
  attempts: number;
  policy: PoisonPolicy;
}

export interface RetryPolicy {
  /** Attempts per event before it is parked or stops the projection (default 5). */
  maxAttempts?: number;
  /** First backoff after a failure (default 100 ms); doubles per attempt up to `maxBackoffMs` (default 30 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Test hooks: a fault injected inside the batch transaction, after the handler wrote, is treated as a crash (the worker dies). */
export interface FaultHooks {
  beforeCommit?(info: { projection: string; version: number; events: readonly RecordedEvent[] }): void | Promise<void>;
}

export interface BatchProcessorOptions extends RetryPolicy {
  readModels: ReadModelStore;
  definition: ProjectionDefinition;
  version: number;
  /** The partition this processor moves (default 0)… */
  partition?: number;
  /** …or all of these together (a rebuild or replay of a partitioned projection: one pass over the log). */
  partitions?: readonly number[];
  clock: Clock;
  /** The start marker the previous processor of the same worker wrote: finding it again is no sign of a crash. */
  ownStartMarker?: { after: bigint; writtenAtMs: number } | null;
  /** Runs first in every batch transaction: throws `ProjectionInterrupted` when this worker may no longer write this generation. */
  guard(tx: WriteTx): Promise<void>;
  /** Waits `ms`, or less when the worker is asked to stop; resolves to false then. */
  sleep(ms: number): Promise<boolean>;
  onCommitted?(info: BatchCommitted): void;
  onPoison?(info: PoisonInfo): void;
  faults?: FaultHooks;
}

/** The worker may no longer write this generation: another took it over, or a rebuild switched it. Not the handler's fault. */
export class ProjectionInterrupted extends Error {
  constructor(readonly reason: 'version_switched' | 'checkpoint_moved' | 'lease_lost' | 'rebuild_lost', message: string) {
    super(message);
    this.name = 'ProjectionInterrupted';
  }
}

/** A fault hook threw: stands for a crash of the process in the middle of the batch. */
export class SimulatedCrash extends Error {
  constructor(cause: unknown) {
    super(`simulated crash: ${errorText(cause)}`, { cause });
    this.name = 'SimulatedCrash';
  }
}

export type ApplyOutcome = { kind: 'done' } | { kind: 'stopping' } | { kind: 'blocked'; event: RecordedEvent; error: string; attempts: number };

export class BatchProcessor {
  /** The committed checkpoint of this generation (and partition). */
  checkpoint = 0n;
  private marker: AttemptMarker | null = null;
  /** The partition whose row carries the attempt marker and names the batches; `moved` lists every checkpoint row moved. */
  private readonly partition: number;
  private readonly moved: readonly number[];
  private readonly maxAttempts: number;
  readonly name: string;

  constructor(private readonly options: BatchProcessorOptions) {
    this.moved = options.partitions ?? [options.partition ?? 0];
    this.partition = this.moved[0]!;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.name = options.definition.name;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) throw new DaybookError('validation_failed', 'maxAttempts must be a positive integer', {}, 'maxAttempts');
  }

  get version(): number {
    return this.options.version;
  }

  /**
   * Reads the checkpoint and the attempt marker left by earlier runs. A run
   * that started at this very checkpoint and never moved it (its start marker
   * is still there) ended in its first batch: that batch's events now go one
   * at a time, counted. Otherwise this run's start is marked, the only write
   * the marker gets while nothing fails.
   */
  async load(): Promise<void> {
    const { readModels, version } = this.options;
    const loaded = await readModels.read(async (tx) => ({
      checkpoints: await Promise.all(this.moved.map((partition) => readCheckpoint(tx, this.name, version, partition))),
      marker: await readAttemptMarker(tx, this.name, version, this.partition),
    }));
    if (loaded.checkpoints.some((position) => position === null)) throw new ProjectionInterrupted('version_switched', `generation ${version} of ${this.name} has no checkpoint`);
    // Partitions moved together (a rebuild's) are created together and stay at one position.
    const checkpoint = loaded.checkpoints[0]!;
    if (loaded.checkpoints.some((position) => position !== checkpoint)) {
      throw new ProjectionInterrupted('checkpoint_moved', `the partitions of ${this.name} v${version} are at different positions; they cannot move together`);
    }
    const marker = loaded.marker;
    this.checkpoint = checkpoint;
    this.marker = marker;
    const own = this.options.ownStartMarker;
    const isStart = marker !== null && marker.until === 0n && marker.attempts === 0;
    if (isStart && marker.after === checkpoint && !(own && own.after === marker.after && own.writtenAtMs === marker.updatedAtMs)) {
      this.suspectUntil = 'first';
    } else if (marker !== null && marker.until > checkpoint) {
      this.suspectUntil = marker.until;
    } else {
      this.suspectUntil = null;
      await this.writeMarker({ after: checkpoint, until: 0n, attempts: 0, lastError: null });
      this.startMarker = { after: checkpoint, writtenAtMs: this.markerWrittenAtMs };
    }
  }

  /** The start marker this processor wrote, to pass to the next one of the same worker (its own start is not a crash). */
  startMarker: { after: bigint; writtenAtMs: number } | null = null;
  private markerWrittenAtMs = 0;
  /** Events up to this position go one at a time ('first': the first batch after load). */
  private suspectUntil: bigint | 'first' | null = null;

  /** On a graceful stop: a clean end is not a crash, so the next start must not take it for one. */
  async release(): Promise<void> {
    if (this.suspectUntil !== null || this.marker === null || this.marker.until !== 0n) return;
    await this.options.readModels.executeLight(
      'DELETE FROM projection_attempts WHERE name = $1 AND version = $2 AND partition = $3 AND until_position = 0',
      [this.name, this.options.version, this.partition],
    );
    this.marker = null;
  }

  /**
   * Applies `events` (in global order, all after the checkpoint) and moves the
   * checkpoint to `seenTo` (≥ the last event: the events in between are ones
   * the projection does not handle).
   */
  async apply(events: readonly RecordedEvent[], seenTo: bigint): Promise<ApplyOutcome> {
    let pending = events;
    while (pending.length > 0) {
      if (this.suspectUntil === 'first') this.suspectUntil = pending[pending.length - 1]!.position;
      const isolate = this.suspectUntil !== null && pending[0]!.position <= this.suspectUntil;
      const batch = isolate ? pending.slice(0, 1) : pending;
      const rest = pending.slice(batch.length);
      const to = rest.length === 0 ? seenTo : batch[batch.length - 1]!.position;
      const outcome = isolate ? await this.attemptOne(batch[0]!, to) : await this.attemptBatch(batch, to);
      if (outcome === 'retry') continue;
      if (outcome !== 'committed') return outcome;
      pending = rest;
    }
    if (this.checkpoint < seenTo) await this.advance(seenTo);
    return { kind: 'done' };
  }

  /** Moves the checkpoint over events the projection does not handle. */
  async advance(to: bigint): Promise<void> {
    if (to <= this.checkpoint) return;
    await this.commit([], to);
  }

  /** A batch while nothing is suspect: no marker write. If it fails, its events are tried again one at a time, at once (the failure names no event yet). */
  private async attemptBatch(batch: readonly RecordedEvent[], to: bigint): Promise<'committed' | 'retry'> {
    try {
      await this.commit(batch, to);
      return 'committed';
    } catch (error) {
      await this.classify(error);
      const until = batch[batch.length - 1]!.position;
      this.suspectUntil = until;
      await this.writeMarker({ after: this.checkpoint, until, attempts: 0, lastError: errorText(error) });
      return 'retry';
    }
  }

  /** One suspect event: its attempt is counted durably before the handler runs; failures back off, then make it a poison event. */
  private async attemptOne(event: RecordedEvent, to: bigint): Promise<'committed' | 'retry' | ApplyOutcome> {
    const previous = this.marker;
    const sameStart = previous !== null && previous.after === this.checkpoint;
    const suspectUntil = typeof this.suspectUntil === 'bigint' ? this.suspectUntil : event.position;
    const marker: AttemptMarker = {
      after: this.checkpoint,
      until: suspectUntil > event.position ? suspectUntil : event.position,
      attempts: sameStart ? previous!.attempts + 1 : 1,
      lastError: sameStart && previous!.attempts > 0 ? previous!.lastError : null,
    };
    await this.writeMarker(marker);
    if (marker.attempts > this.maxAttempts) return this.poison(event, marker);
    try {
      await this.commit([event], to);
      return 'committed';
    } catch (error) {
      await this.classify(error);
      marker.lastError = errorText(error);
      await this.writeMarker(marker);
      if (marker.attempts >= this.maxAttempts) return this.poison(event, marker);
      const delay = Math.min(this.options.maxBackoffMs ?? 30_000, (this.options.initialBackoffMs ?? 100) * 2 ** (marker.attempts - 1));
      const slept = await this.options.sleep(delay);
      return slept ? 'retry' : { kind: 'stopping' };
    }
  }

  /**
   * Rethrows what is not the handler's fault: an interruption, a (simulated)
   * crash, a database that is gone or unreachable (a lost connection is no
   * reason to park an event), a table dropped by hand.
   */
  private async classify(error: unknown): Promise<void> {
    if (error instanceof ProjectionInterrupted || error instanceof SimulatedCrash) throw error;
    if (error instanceof DaybookError && (error.code === 'store_closed' || error.code === 'store_unavailable' || error.code === 'projection_lease_lost')) throw error;
    if (isTransientDatabaseError(error)) throw new DaybookError('store_unavailable', `the read-model database failed: ${errorText(error)}`);
    // An error that names no cause may still be the connection's: if the database does not answer now, it is not the event's fault.
    await this.options.readModels.ping();
    await this.assertTablesExist(error);
  }

  private async writeMarker(marker: AttemptMarker): Promise<void> {
    const nowMs = this.options.clock.nowMs();
    await this.options.readModels.executeLight(WRITE_ATTEMPT_MARKER_SQL, attemptMarkerParams(this.name, this.options.version, this.partition, marker, nowMs));
    this.marker = { ...marker, updatedAtMs: nowMs };
    this.markerWrittenAtMs = nowMs;
  }

  /** Moves every checkpoint row from `from` to `to`, or throws if one is not at `from` any more (another worker got there). */
  private async fence(tx: WriteTx, from: bigint, to: bigint): Promise<void> {
    for (const partition of this.moved) {
      if (!(await advanceCheckpoint(tx, this.name, this.options.version, partition, from, to, this.options.clock.nowMs()))) {
        throw new ProjectionInterrupted('checkpoint_moved', `the checkpoint of ${this.name} v${this.options.version} partition ${partition} moved away from ${from}: another worker applied this range`);
      }
    }
  }

  /** The batch transaction: guard, fenced checkpoint move, handler, commit. */
  private async commit(batch: readonly RecordedEvent[], to: bigint): Promise<void> {
    const { readModels, definition, version, clock, faults } = this.options;
    const from = this.checkpoint;
    const started = performance.now();
    if (batch.length > 0 && definition.beforeBatch) {
      await definition.beforeBatch(batch, (fn) => readModels.read((tx) => fn(projectionTx(tx, this.name, version))), { projection: this.name, version });
    }
    await readModels.transaction(async (tx) => {
      await this.options.guard(tx);
      await this.fence(tx, from, to);
      if (batch.length > 0) await definition.handle(batch, projectionTx(tx, this.name, version));
      if (faults?.beforeCommit) {
        try {
          await faults.beforeCommit({ projection: this.name, version, events: batch });
        } catch (error) {
          throw new SimulatedCrash(error);
        }
      }
    });
    const committedAtMs = clock.nowMs();
    this.checkpoint = to;
    if (typeof this.suspectUntil === 'bigint' && to >= this.suspectUntil) this.suspectUntil = null;
    this.options.onCommitted?.({
      projection: this.name, version, partition: this.partition, fromPosition: from, toPosition: to, events: batch.length, committedAtMs,
      lagsMs: batch.map((event) => committedAtMs - event.recordedAt.getTime()), durationMs: performance.now() - started,
    });
  }

  /** The handler keeps failing on this event: park it and go on, or record it as blocking and stop. */
  private async poison(event: RecordedEvent, marker: AttemptMarker): Promise<'committed' | ApplyOutcome> {
    const { readModels, definition, version, clock } = this.options;
    const policy = definition.onPoison ?? 'park';
    const error = marker.lastError ?? `the process ended during ${marker.attempts - 1} attempt(s) (a crash, not an exception)`;
    const attempts = Math.min(marker.attempts, this.maxAttempts);
    const status = policy === 'park' ? 'parked' : 'blocking';
    const from = this.checkpoint;
    await readModels.transaction(async (tx) => {
      await this.options.guard(tx);
      if (policy === 'park') await this.fence(tx, from, event.position);
      // One row per (projection, generation, position), however many workers or restarts reach it.
      await tx.execute(
        `INSERT INTO projection_dead_letters (projection, version, position, event_id, stream_id, event_type, error, attempts, parked_at, status, partition)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (projection, version, position) DO UPDATE SET status = excluded.status, error = excluded.error, attempts = excluded.attempts, parked_at = excluded.parked_at
         WHERE projection_dead_letters.status IN ('parked', 'blocking')`,
        [this.name, version, event.position, event.eventId, event.streamId, event.type, error, attempts, clock.nowMs(), status, partitionOf(event.streamId, partitionCount(definition))],
      );
    });
    this.options.onPoison?.({ projection: this.name, version, event, error, attempts, policy });
    if (policy === 'stop') return { kind: 'blocked', event, error, attempts };
    this.checkpoint = event.position;
    if (typeof this.suspectUntil === 'bigint' && event.position >= this.suspectUntil) this.suspectUntil = null;
    this.options.onCommitted?.({
      projection: this.name, version, partition: this.partition, fromPosition: from, toPosition: event.position, events: 0,
      committedAtMs: clock.nowMs(), lagsMs: [], durationMs: 0,
    });
    return 'committed';
  }

  /** A failure caused by a missing table is not the event's fault: parking every event would silently empty the read model. */
  private async assertTablesExist(cause: unknown): Promise<void> {
    const { readModels, definition, version } = this.options;
    const expected = definition.tables.map((base) => versionedTable(base, version));
    const present = await readModels.existingTables(expected);
    const missing = expected.filter((table) => !present.has(table));
    if (missing.length > 0) {
      throw new DaybookError('projection_read_model_missing',
        `projection ${this.name} v${version}: table(s) ${missing.join(', ')} missing (dropped by hand?); rebuild the projection. Last error: ${errorText(cause)}`,
        { projection: this.name, version, missing });
    }
  }
}
