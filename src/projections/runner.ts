/**
 * Runs one projection: catches up from its checkpoint with `readAll` (pages
 * bounded by the head read first, filtered by the store where it can), then
 * follows live through `store.subscribe`, applying batches through a
 * {@link BatchProcessor}. A stop lets the batch in flight commit. A blue-green
 * switch made by a rebuild (here or in another process) interrupts the next
 * batch, which rolls back; the runner then carries on with the new generation.
 *
 * @example
 * const runner = new ProjectionRunner({ store, readModels, definition: streamStats });
 * runner.onBatchCommitted((batch) => lagHistogram.observe(...batch.lagsMs));
 * await runner.start();
 * await runner.waitForPosition(appendResult.position, 5_000);
 * await runner.stop();
 */
import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import { type Clock, DaybookError, isDaybookError, systemClock } from '../kernel/index.ts';
import {
  type ApplyOutcome, type BatchCommitted, BatchProcessor, type FaultHooks, type PoisonInfo, ProjectionInterrupted, type RetryPolicy,
} from './batchProcessor.ts';
import { readActiveForBatch } from './catalog.ts';
import { catchUp, handledEvents } from './catchUp.ts';
import { errorText } from './deadLetters.ts';
import { ensureFirstGeneration } from './generations.ts';
import { LagHistogram } from './lagHistogram.ts';
import { LiveFeed } from './liveFeed.ts';
import { PositionWaiters } from './positionWaiters.ts';
import { isTransientDatabaseError } from './transientErrors.ts';
import { partitionCount, partitionOf, type ProjectionDefinition } from './projection.ts';
import type { ProjectionStatus, RunnerState } from './projectionStatus.ts';
import type { ReadModelStore, WriteTx } from './readModelStore.ts';
import { rebuildProjection, type RebuildProgress } from './rebuild.ts';

export type { ProjectionStatus, RunnerState } from './projectionStatus.ts';

export interface ProjectionRunnerOptions extends RetryPolicy {
  store: EventStore;
  readModels: ReadModelStore;
  definition: ProjectionDefinition;
  clock?: Clock;
  /**
   * Most events per transaction: default 2000, or 500 for a definition with a
   * `beforeBatch` (a relay: its batch is also what a crash may deliver twice).
   * Batches are only this big when events are waiting: live, a batch takes
   * what arrived since the previous one. On PostgreSQL each transaction costs
   * a dozen round trips, so under a backlog bigger batches are what lets a
   * projection catch up.
   */
  batchSize?: number;
  /**
   * Live, under load: at most one commit per this many ms, so that events
   * arriving meanwhile share a transaction (default 0: on SQLite a longer
   * transaction holds the write lock the event store's writer waits for). An event after a
   * quiet spell is applied at once.
   */
  lingerMs?: number;
  /** How soon the checkpoint moves over a run of events the projection does not handle, when nothing else moves it (default 100 ms). */
  idleCheckpointMs?: number;
  /** While stopped on a poison event (policy `stop`): how often to look whether an operator resolved it (default 1000 ms). */
  blockedPollMs?: number;
  /** When the active generation was built by an older definition version, rebuild it blue-green before going live (default true). */
  autoRebuild?: boolean;
  /** Rebuilds started by the runner call this with their progress. */
  onRebuildProgress?: (progress: RebuildProgress) => void;
  faults?: FaultHooks;
  /** Of a partitioned projection: the one partition this runner applies (default 0). */
  partition?: number;
  /**
   * Runs in every batch transaction after the active-generation check, e.g.
   * a lease check; throwing `projection_lease_lost` rolls the batch back and
   * ends the runner (its partition belongs to another worker now).
   */
  guard?: (tx: WriteTx) => Promise<void>;
  /** Listeners from the start (as `onBatchCommitted` and `onPoison` would add them): for runners made by an engine or a group. */
  onBatchCommitted?: (batch: BatchCommitted) => void;
  onPoison?: (info: PoisonInfo) => void;
}


const BATCH_SIZE_DEFAULT = 2000;
const RELAY_BATCH_SIZE_DEFAULT = 500;

export class ProjectionRunner {
  readonly name: string;
  readonly partition: number;
  private readonly partitions: number;
  private readonly store: EventStore;
  private readonly readModels: ReadModelStore;
  private readonly definition: ProjectionDefinition;
  private readonly clock: Clock;
  private readonly batchSize: number;
  private processor: BatchProcessor | null = null;
  private feed: LiveFeed | null = null;
  private loop: Promise<void> | null = null;
  private stopRequested = false;
  private endSleep: ((goOn: boolean) => void) | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Highest position seen live, handled or not: may be ahead of the committed checkpoint. */
  private seen = 0n;
  private stateValue: RunnerState = 'idle';
  private failure: unknown = null;
  private blockedOn: ProjectionStatus['blockedOn'] = null;
  private readonly waiters: PositionWaiters;
  private readonly listeners = new Set<(batch: BatchCommitted) => void>();
  private readonly poisonListeners = new Set<(info: PoisonInfo) => void>();
  private readonly lag = new LagHistogram();
  private eventsApplied = 0;
  private batchesCommitted = 0;
  private parkedEvents = 0;
  private lastCommittedAt: Date | null = null;
  /** Wall time of the last commit (Date.now), for the live linger. */
  private lastCommitMs = 0;

  constructor(private readonly options: ProjectionRunnerOptions) {
    this.store = options.store;
    this.readModels = options.readModels;
    this.definition = options.definition;
    this.name = options.definition.name;
    this.clock = options.clock ?? systemClock;
    this.waiters = new PositionWaiters(this.name);
    if (options.onBatchCommitted) this.listeners.add(options.onBatchCommitted);
    if (options.onPoison) this.poisonListeners.add(options.onPoison);
    this.batchSize = options.batchSize ?? (options.definition.beforeBatch ? RELAY_BATCH_SIZE_DEFAULT : BATCH_SIZE_DEFAULT);
    this.partitions = partitionCount(options.definition);
    this.partition = options.partition ?? 0;
    if (!Number.isInteger(this.partition) || this.partition < 0 || this.partition >= this.partitions) {
      throw new DaybookError('validation_failed', `partition must be an integer from 0 to ${this.partitions - 1}`, {}, 'partition');
    }
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 10_000) {
      throw new DaybookError('validation_failed', 'batchSize must be an integer from 1 to 10000', {}, 'batchSize');
    }
  }

  get state(): RunnerState {
    return this.stateValue;
  }

  /** The committed checkpoint of the generation this runner writes. */
  get checkpoint(): bigint {
    return this.processor?.checkpoint ?? 0n;
  }

  /** Starts in the background; resolves once the runner has loaded its checkpoint (or rejects if it cannot). */
  async start(): Promise<void> {
    if (this.loop) return;
    this.stopRequested = false;
    this.leaseLost = false;
    this.failure = null;
    this.stateValue = 'starting';
    let ready!: () => void;
    let failed!: (error: unknown) => void;
    const started = new Promise<void>((resolve, reject) => { ready = resolve; failed = reject; });
    this.loop = this.run(ready).catch((error) => {
      this.fail(error);
      failed(error);
    });
    await started;
  }

  /** Graceful: the batch in flight commits, then the runner stops. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    if (this.stateValue !== 'failed' && this.loop) this.stateValue = 'stopping';
    this.endSleep?.(false);
    this.feed?.wake();
    await this.loop;
    this.loop = null;
  }

  /** Resolves when the runner has ended (stopped or failed). */
  get done(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /** Called after every committed batch (and checkpoint move); returns the unsubscribe function. */
  onBatchCommitted(listener: (batch: BatchCommitted) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called when an event is parked or stops the projection. */
  onPoison(listener: (info: PoisonInfo) => void): () => void {
    this.poisonListeners.add(listener);
    return () => this.poisonListeners.delete(listener);
  }

  /**
   * Resolves once the read model reflects every event up to `position`
   * (read-your-writes for the command that returned it). Rejects with
   * `projection_wait_timeout` after `timeoutMs`, and with `projection_stopped`
   * when the runner is stopped on a poison event or failed.
   */
  waitForPosition(position: bigint, timeoutMs: number): Promise<void> {
    if (this.checkpoint >= position) return Promise.resolve();
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    const waiting = this.waiters.add(position, timeoutMs, () => this.checkpoint);
    // Events it does not handle may already have passed: move the checkpoint over them now rather than on the idle timer.
    if (this.seen >= position) this.feed?.wake();
    return waiting;
  }

  async status(): Promise<ProjectionStatus> {
    const head = await this.store.headPosition();
    const checkpoint = this.checkpoint;
    const behind = head > checkpoint ? head - checkpoint : 0n;
    let secondsBehind = 0;
    if (behind > 0n) {
      const [oldest] = await this.store.readAll({ after: checkpoint, limit: 1 });
      if (oldest) secondsBehind = Math.max(0, (this.clock.nowMs() - oldest.recordedAt.getTime()) / 1000);
    }
    const failure = this.failure === null ? null : { code: isDaybookError(this.failure) ? this.failure.code : 'internal', message: errorText(this.failure) };
    return {
      name: this.name, partition: this.partition, state: this.stateValue, policy: this.definition.onPoison ?? 'park',
      version: this.processor?.version ?? 0, definitionVersion: this.definition.version,
      checkpoint, head, positionsBehind: behind, secondsBehind,
      lastCommittedAt: this.lastCommittedAt, eventsApplied: this.eventsApplied, batchesCommitted: this.batchesCommitted,
      parkedEvents: this.parkedEvents, blockedOn: this.blockedOn, failure, lag: this.lag.snapshot(),
    };
  }

  private async run(ready: () => void): Promise<void> {
    let signalled = false;
    const signalReady = (): void => { if (!signalled) { signalled = true; ready(); } };
    while (!this.stopRequested) {
      try {
        const prepared = await this.prepare();
        signalReady();
        if (!prepared) continue;
        const outcome = await this.catchUp();
        if (outcome.kind === 'done' && !this.stopRequested) await this.followLive();
        else if (outcome.kind === 'blocked') await this.waitWhileBlocked(outcome);
      } catch (error) {
        if (isDaybookError(error, 'projection_lease_lost')) {
          // The partition is another worker's now: this runner ends; its group decides what runs here.
          this.failure = error;
          this.leaseLost = true;
          break;
        }
        if (isTransientDatabaseError(error) && signalled) {
          // The database is unreachable or locked: not the events' fault. Wait, then start over from the checkpoint.
          this.failure = error;
          this.unavailableMs = Math.min(30_000, this.unavailableMs === 0 ? 100 : this.unavailableMs * 2);
          await this.sleep(this.unavailableMs);
          continue;
        }
        if (!(error instanceof ProjectionInterrupted)) throw error;
        // A rebuild switched the generation, or another worker moved the checkpoint: reload and go on.
      }
    }
    signalReady();
    // A clean stop leaves no start marker behind: the next start must not take it for a crash.
    // (Not after a lost lease: the marker is the new owner's business now.)
    if (!this.leaseLost) await this.processor?.release().catch(() => {});
    this.stateValue = 'stopped';
    this.waiters.rejectAll(new DaybookError('projection_stopped', `projection ${this.name} was stopped`, { projection: this.name }));
  }

  /** Finds (or creates, or rebuilds) the generation to write and loads its checkpoint. False: wait and look again. */
  private async prepare(): Promise<boolean> {
    this.stateValue = 'starting';
    const active = await ensureFirstGeneration(this.readModels, this.definition, this.clock);
    if (!active) {
      // A rebuild elsewhere is building the first generation: wait for its switch.
      await this.sleep(this.options.blockedPollMs ?? 1000);
      return false;
    }
    if (active.definitionVersion > this.definition.version) {
      throw new DaybookError('validation_failed',
        `projection ${this.name}: the read model was built by definition v${active.definitionVersion}, newer than this code's v${this.definition.version}`,
        { projection: this.name, active: active.definitionVersion, code: this.definition.version });
    }
    if (active.definitionVersion < this.definition.version && this.options.autoRebuild !== false) {
      this.stateValue = 'rebuilding';
      await rebuildProjection({ store: this.store, readModels: this.readModels, definition: this.definition, clock: this.clock }, {
        onProgress: this.options.onRebuildProgress, batchSize: this.options.batchSize, maxAttempts: this.options.maxAttempts,
        initialBackoffMs: this.options.initialBackoffMs, maxBackoffMs: this.options.maxBackoffMs, shouldStop: () => this.stopRequested,
      }).catch(async (error) => {
        // Asked to stop mid-rebuild: the rebuild dropped its tables; the old generation stays active.
        if (this.stopRequested) return;
        if (!isDaybookError(error, 'projection_rebuild_in_progress')) throw error;
        await this.sleep(this.options.blockedPollMs ?? 1000);
      });
      return false;
    }
    const previous = this.processor;
    this.processor = this.newProcessor(active.version, previous?.version === active.version ? previous.startMarker : null);
    await this.processor.load();
    this.seen = this.processor.checkpoint;
    // Another worker (or a rebuild) may have taken the read model past what was waited for.
    this.waiters.resolveUpTo(this.processor.checkpoint);
    return true;
  }

  private newProcessor(version: number, ownStartMarker: BatchProcessor['startMarker']): BatchProcessor {
    return new BatchProcessor({
      readModels: this.readModels, definition: this.definition, version, partition: this.partition, clock: this.clock, ownStartMarker,
      maxAttempts: this.options.maxAttempts, initialBackoffMs: this.options.initialBackoffMs, maxBackoffMs: this.options.maxBackoffMs,
      faults: this.options.faults,
      sleep: (ms) => this.sleep(ms),
      guard: async (tx) => {
        if ((await readActiveForBatch(tx, this.name)) !== version) {
          throw new ProjectionInterrupted('version_switched', `projection ${this.name}: generation ${version} is no longer active`);
        }
        await this.options.guard?.(tx);
      },
      onCommitted: (batch) => this.committed(batch),
      onPoison: (info) => {
        if (info.policy === 'park') this.parkedEvents += 1;
        for (const listener of this.poisonListeners) listener(info);
      },
    });
  }

  private async catchUp(): Promise<ApplyOutcome> {
    this.stateValue = 'catching_up';
    const outcome = await catchUp(this.store, this.processor!, this.definition, {
      batchSize: this.batchSize, shouldStop: () => this.stopRequested, keep: (events) => this.handled(events),
    });
    this.seen = this.processor!.checkpoint;
    return outcome;
  }

  private async followLive(): Promise<void> {
    const processor = this.processor!;
    this.stateValue = 'live';
    const feed = new LiveFeed(this.store, processor.checkpoint);
    this.feed = feed;
    try {
      while (!this.stopRequested) {
        const chunk = await feed.take(this.batchSize, this.lastCommitMs + (this.options.lingerMs ?? 0));
        if (chunk === null) return;
        if (chunk.length > 0) this.seen = chunk[chunk.length - 1]!.position;
        const events = this.handled(chunk);
        if (events.length === 0) {
          await this.advanceIdle(feed);
          continue;
        }
        const outcome = await processor.apply(events, this.seen);
        if (outcome.kind === 'blocked') { await this.waitWhileBlocked(outcome); return; }
        if (outcome.kind === 'stopping') return;
      }
    } finally {
      feed.close();
      this.feed = null;
      if (this.idleTimer) { clearTimeout(this.idleTimer); this.idleTimer = null; }
      await feed.done;
    }
  }

  /** Moves the checkpoint over events it does not handle: at once for a waiter, else once things are quiet for idleCheckpointMs. */
  private async advanceIdle(feed: LiveFeed): Promise<void> {
    const processor = this.processor!;
    if (this.seen <= processor.checkpoint) return;
    const waited = this.waiters.waitingUpTo(this.seen);
    // At most one checkpoint-only commit per idleCheckpointMs, however busy the log is with events of others.
    if (waited || this.idleDue) {
      this.idleDue = false;
      await processor.advance(this.seen);
      return;
    }
    this.idleTimer ??= setTimeout(() => {
      this.idleTimer = null;
      this.idleDue = true;
      feed.wake();
    }, this.options.idleCheckpointMs ?? 100);
  }

  private idleDue = false;
  private leaseLost = false;
  /** Backoff while the database is unavailable; back to 0 once a batch commits. */
  private unavailableMs = 0;

  /** Stopped on a poison event (policy `stop`): waits until an operator retries or skips it, then goes on. */
  private async waitWhileBlocked(outcome: Extract<ApplyOutcome, { kind: 'blocked' }>): Promise<void> {
    const { event } = outcome;
    this.blockedOn = { position: event.position, eventId: event.eventId, error: outcome.error, attempts: outcome.attempts };
    this.stateValue = 'blocked';
    this.waiters.rejectAll(this.refusal()!);
    const version = this.processor!.version;
    while (!this.stopRequested) {
      const rows = await this.readModels.read((tx) => tx.query<{ status: string }>(
        'SELECT status FROM projection_dead_letters WHERE projection = $1 AND version = $2 AND position = $3', [this.name, version, event.position],
      ));
      if (rows[0]?.status !== 'blocking') break;
      await this.sleep(this.options.blockedPollMs ?? 1000);
    }
    this.blockedOn = null;
  }

  private handled(events: readonly RecordedEvent[]): RecordedEvent[] {
    const handled = handledEvents(this.definition, events);
    return this.partitions === 1 ? handled : handled.filter((event) => partitionOf(event.streamId, this.partitions) === this.partition);
  }

  private committed(batch: BatchCommitted): void {
    if (this.unavailableMs !== 0) { this.unavailableMs = 0; this.failure = null; }
    this.eventsApplied += batch.events;
    this.batchesCommitted += 1;
    this.lastCommittedAt = new Date(batch.committedAtMs);
    this.lastCommitMs = Date.now();
    for (const lagMs of batch.lagsMs) this.lag.observe(lagMs);
    this.waiters.resolveUpTo(batch.toPosition);
    for (const listener of this.listeners) listener(batch);
  }

  private refusal(): DaybookError | null {
    if (this.stateValue === 'blocked' && this.blockedOn) {
      return new DaybookError('projection_stopped', `projection ${this.name} is stopped on the poison event at position ${this.blockedOn.position}: ${this.blockedOn.error}`,
        { projection: this.name, position: this.blockedOn.position.toString() });
    }
    if (this.stateValue === 'failed') {
      return new DaybookError('projection_stopped', `projection ${this.name} failed: ${errorText(this.failure)}`, { projection: this.name });
    }
    return null;
  }

  private fail(error: unknown): void {
    this.failure = error;
    this.stateValue = 'failed';
    this.loop = null;
    this.waiters.rejectAll(this.refusal()!);
  }

  /** Resolves after `ms`, or at once (to false) when a stop is asked for. */
  private sleep(ms: number): Promise<boolean> {
    if (this.stopRequested) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { this.endSleep = null; resolve(true); }, ms);
      this.endSleep = (goOn) => { clearTimeout(timer); this.endSleep = null; resolve(goOn); };
    });
  }

  /** Cuts a wait short (a backoff, or the poll while stopped on a poison event): e.g. after an operator resolved a dead letter. */
  nudge(): void {
    this.endSleep?.(true);
  }
}
