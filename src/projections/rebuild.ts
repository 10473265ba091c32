/**
 * Blue-green rebuild: generation N keeps serving queries (and its runner keeps
 * it live) while generation N+1 is built into new tables from the start of
 * the log. Once N+1 has caught up, one transaction switches the active
 * generation, under the projection's exclusive lock and only if N+1 is at
 * least as far along as N, so a query never sees a half-built read model nor
 * goes back in time. Then N's tables are dropped. The runner of N notices the
 * switch at its next batch and carries on with N+1.
 *
 * @example
 * await rebuildProjection({ store, readModels, definition: streamStats }, {
 *   onProgress: (p) => console.log(`${p.position}/${p.head} ${Math.round(p.eventsPerSecond)} ev/s, ETA ${p.etaSeconds}s`),
 * });
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { EventStore } from '../eventstore/index.ts';
import { type Clock, DaybookError, systemClock } from '../kernel/index.ts';
import { BatchProcessor, type FaultHooks, ProjectionInterrupted, type RetryPolicy } from './batchProcessor.ts';
import { type ActiveGeneration, dropOwnedTables, forgetGeneration, readActive, readCheckpoint, setActive } from './catalog.ts';
import { catchUp } from './catchUp.ts';
import { claimRebuild, createGeneration, holdsRebuild, releaseRebuild } from './generations.ts';
import { allPartitions, GENERATION_MAX, type ProjectionDefinition, versionedTable } from './projection.ts';
import type { ReadModelStore } from './readModelStore.ts';

export interface RebuildContext {
  store: EventStore;
  readModels: ReadModelStore;
  definition: ProjectionDefinition;
  clock?: Clock;
}

export interface RebuildProgress {
  projection: string;
  /** The generation being built. */
  version: number;
  phase: 'building' | 'switched' | 'done';
  /** The new generation's checkpoint, and the head it is catching up with. */
  position: bigint;
  head: bigint;
  /** Positions covered since the rebuild started (events handled or passed over). */
  eventsProcessed: number;
  eventsPerSecond: number;
  /** Estimated seconds to reach the head at the current rate; null before a rate is known. */
  etaSeconds: number | null;
}

export interface RebuildOptions extends RetryPolicy {
  onProgress?: (progress: RebuildProgress) => void;
  /** Events per transaction (default 2000). */
  batchSize?: number;
  /** A claim whose heartbeat is older than this is taken to be a crashed rebuild's (default 30 s). */
  staleAfterMs?: number;
  /** Names this rebuild in its claim (default host:pid:random). */
  owner?: string;
  /** Asked between batches: true abandons the rebuild (its tables are dropped; the active generation is untouched). */
  shouldStop?: () => boolean;
  faults?: FaultHooks;
}

export interface RebuildResult {
  projection: string;
  previousVersion: number | null;
  version: number;
  /** The new generation's checkpoint at the switch. */
  position: bigint;
  eventsProcessed: number;
  durationMs: number;
}

/** Rounds of "catch up, try to switch" before giving up on a generation the live runner keeps outpacing. */
const SWITCH_ROUNDS_MAX = 1000;

export async function rebuildProjection(context: RebuildContext, options: RebuildOptions = {}): Promise<RebuildResult> {
  const { store, readModels, definition } = context;
  const clock = context.clock ?? systemClock;
  const name = definition.name;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const startedAt = clock.nowMs();
  const active = await readModels.read((tx) => readActive(tx, name));
  const target = Math.max((active?.version ?? 0) + 1, definition.version);
  if (target > GENERATION_MAX) throw new DaybookError('limit_exceeded', `projection ${name} has reached generation ${GENERATION_MAX}`, { projection: name, limit: GENERATION_MAX });
  await claimRebuild(readModels, { name, targetVersion: target, owner, startedAt, heartbeatAt: startedAt }, options.staleAfterMs ?? 30_000);
  let switched = false;
  try {
    await readModels.transaction((tx) => createGeneration(tx, definition, target, clock));
    const processor = new BatchProcessor({
      readModels, definition, version: target, partitions: allPartitions(definition), clock, maxAttempts: options.maxAttempts, initialBackoffMs: options.initialBackoffMs,
      maxBackoffMs: options.maxBackoffMs, faults: options.faults,
      sleep: (ms) => new Promise((resolve) => setTimeout(() => resolve(!(options.shouldStop?.() ?? false)), ms)),
      guard: async (tx) => {
        if (!(await holdsRebuild(tx, name, owner, clock.nowMs()))) throw new ProjectionInterrupted('rebuild_lost', `the rebuild claim on ${name} was taken over`);
      },
    });
    await processor.load();
    const progress = progressReporter(name, target, clock, options.onProgress);
    for (let round = 0; ; round += 1) {
      if (round >= SWITCH_ROUNDS_MAX) throw new DaybookError('store_unavailable', `rebuild of ${name} could not catch up with the live generation in ${SWITCH_ROUNDS_MAX} rounds`, { projection: name });
      const outcome = await catchUp(store, processor, definition, {
        batchSize: options.batchSize ?? 2000, shouldStop: () => options.shouldStop?.() ?? false,
        onPage: (head) => progress(processor.checkpoint, head, 'building'),
      });
      if (outcome.kind === 'stopping') throw new DaybookError('projection_stopped', `rebuild of ${name} was stopped before it finished`, { projection: name });
      if (outcome.kind === 'blocked') {
        throw new DaybookError('projection_stopped', `rebuild of ${name} stopped on the poison event at position ${outcome.event.position} (policy 'stop'): ${outcome.error}`,
          { projection: name, position: outcome.event.position.toString() });
      }
      switched = await trySwitch(readModels, definition, active, target, processor.checkpoint, owner, clock);
      if (switched) break;
    }
    progress(processor.checkpoint, processor.checkpoint, 'switched');
    if (active) await dropGeneration(readModels, definition, active.version, clock);
    progress(processor.checkpoint, processor.checkpoint, 'done');
    return {
      projection: name, previousVersion: active?.version ?? null, version: target, position: processor.checkpoint,
      eventsProcessed: Number(processor.checkpoint), durationMs: clock.nowMs() - startedAt,
    };
  } catch (error) {
    // An abandoned build leaves nothing behind; the active generation was never touched.
    if (!switched) await dropGeneration(readModels, definition, target, clock).catch(() => {});
    throw error;
  } finally {
    await releaseRebuild(readModels, name, owner).catch(() => {});
  }
}

/**
 * The switch: under the exclusive projection lock (which waits for the batches
 * and queries in flight on the old generation), only if the new generation is
 * at least as far as the old one, so a reader that waited for a position keeps
 * seeing it. False: the old one is ahead; catch up some more.
 */
async function trySwitch(readModels: ReadModelStore, definition: ProjectionDefinition, previous: ActiveGeneration | null, target: number, checkpoint: bigint, owner: string, clock: Clock): Promise<boolean> {
  const name = definition.name;
  return readModels.transaction(async (tx) => {
    await tx.lockProjection(name, 'exclusive');
    if (!(await holdsRebuild(tx, name, owner, clock.nowMs()))) throw new ProjectionInterrupted('rebuild_lost', `the rebuild claim on ${name} was taken over`);
    const current = await readActive(tx, name);
    if ((current?.version ?? null) !== (previous?.version ?? null)) {
      throw new DaybookError('projection_rebuild_in_progress', `projection ${name} switched to v${current?.version} while this rebuild ran`, { projection: name });
    }
    if (previous) {
      const live = await readCheckpoint(tx, name, previous.version);
      if (live !== null && live > checkpoint) return false;
    }
    await setActive(tx, name, { version: target, definitionVersion: definition.version }, clock.nowMs());
    return true;
  });
}

/** Drops a generation's tables and its catalog rows; its unresolved dead letters become `superseded`. */
export async function dropGeneration(readModels: ReadModelStore, definition: ProjectionDefinition, version: number, clock: Clock): Promise<void> {
  await readModels.transaction(async (tx) => {
    // Waits for whatever still holds the shared lock on the old generation (a query started before the switch).
    await tx.lockProjection(definition.name, 'exclusive');
    const active = await readActive(tx, definition.name);
    if (active?.version === version) throw new DaybookError('validation_failed', `generation ${version} of ${definition.name} is active; it cannot be dropped`, { projection: definition.name });
    await dropOwnedTables(tx, definition.name, definition.tables.map((base) => versionedTable(base, version)));
    await forgetGeneration(tx, definition.name, version, clock.nowMs());
  });
}

function progressReporter(projection: string, version: number, clock: Clock, onProgress: RebuildOptions['onProgress']) {
  const startedMs = clock.nowMs();
  return (position: bigint, head: bigint, phase: RebuildProgress['phase']): void => {
    if (!onProgress) return;
    const elapsedSeconds = Math.max(0.001, (clock.nowMs() - startedMs) / 1000);
    const eventsProcessed = Number(position);
    const eventsPerSecond = eventsProcessed / elapsedSeconds;
    const remaining = Number(head > position ? head - position : 0n);
    onProgress({
      projection, version, phase, position, head, eventsProcessed, eventsPerSecond,
      etaSeconds: eventsPerSecond > 0 ? remaining / eventsPerSecond : null,
    });
  };
}
