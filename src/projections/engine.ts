/**
 * The projections of one process, put together: a registry of definitions, a
 * runner per projection, and the operations the CLI and the server need
 * (rebuild, replay, dead letters, queries, waits, status and readiness).
 *
 * @example
 * const engine = createProjectionEngine({ store, readModels, projections: [streamStats, balances] });
 * await engine.start();
 * const result = await store.append({ streamId: 'acct-1', events: [{ type: 'Opened', data: {} }] });
 * await engine.waitForPosition('stream_stats', result.position, 2_000);
 * const rows = await engine.query('stream_stats', (q) => q.query(`SELECT * FROM ${q.table('stream_stats')}`));
 * const { ready } = await engine.health({ maxLagSeconds: 30 });
 * await engine.stop();
 */
import type { EventStore } from '../eventstore/index.ts';
import { type Clock, DaybookError, systemClock } from '../kernel/index.ts';
import type { BatchCommitted, FaultHooks, PoisonInfo, RetryPolicy } from './batchProcessor.ts';
import { countDeadLetters, type DeadLetter, listDeadLetters, type ListDeadLettersOptions, retryDeadLetter, skipDeadLetter } from './deadLetters.ts';
import { allPartitions, type ProjectionDefinition, type ProjectionTx, ProjectionRegistry } from './projection.ts';
import { queryProjection, waitForPosition as pollForPosition } from './queries.ts';
import type { ReadModelStore } from './readModelStore.ts';
import { rebuildProjection, type RebuildOptions, type RebuildResult } from './rebuild.ts';
import { replayProjection, type ReplayOptions, type ReplayResult } from './replay.ts';
import { ProjectionRunner, type ProjectionRunnerOptions, type ProjectionStatus } from './runner.ts';
import { ProjectionWorkerGroup } from './workerGroup.ts';

export interface ProjectionEngineOptions extends RetryPolicy {
  store: EventStore;
  readModels: ReadModelStore;
  projections: Iterable<ProjectionDefinition>;
  clock?: Clock;
  batchSize?: number;
  idleCheckpointMs?: number;
  lingerMs?: number;
  blockedPollMs?: number;
  autoRebuild?: boolean;
  faults?: FaultHooks;
  /**
   * Share the partitions with other processes through leases (PostgreSQL):
   * each projection runs as a {@link ProjectionWorkerGroup}. Without it this
   * process runs every partition of every projection.
   */
  group?: { owner?: string; leaseMs?: number; heartbeatMs?: number };
}

export interface HealthOptions {
  /** Not ready when a projection's oldest unreflected event is older than this (default 30 s). */
  maxLagSeconds?: number;
  /** Not ready when a projection is more than this many positions behind the head (default: no bound). */
  maxLagPositions?: bigint;
}

export interface ProjectionHealth {
  name: string;
  partition: number;
  ready: boolean;
  /** Why not ready (empty when ready). */
  reasons: string[];
  state: ProjectionStatus['state'];
  checkpoint: bigint;
  positionsBehind: bigint;
  secondsBehind: number;
  /** Unresolved dead letters (all processes). */
  parked: number;
  blocking: number;
}

export interface HealthReport {
  ready: boolean;
  projections: ProjectionHealth[];
}

export class ProjectionEngine {
  readonly registry: ProjectionRegistry;
  /** Per projection, one runner per partition (index = partition). */
  private readonly runners = new Map<string, ProjectionRunner[]>();
  /** Or, sharing partitions with other processes, one worker group per projection. */
  private readonly groups = new Map<string, ProjectionWorkerGroup>();
  // Held here, not by the runners: a group makes runners as it wins partitions.
  private readonly batchListeners = new Set<(batch: BatchCommitted) => void>();
  private readonly poisonListeners = new Set<(info: PoisonInfo) => void>();
  private readonly clock: Clock;

  constructor(private readonly options: ProjectionEngineOptions) {
    this.registry = new ProjectionRegistry(options.projections);
    this.clock = options.clock ?? systemClock;
    for (const definition of this.registry.all()) {
      if (options.group) this.groups.set(definition.name, new ProjectionWorkerGroup({ ...this.runnerOptions(definition), ...options.group }));
      else this.runners.set(definition.name, allPartitions(definition).map((partition) => new ProjectionRunner({ ...this.runnerOptions(definition), partition })));
    }
  }

  private runnerOptions(definition: ProjectionDefinition): ProjectionRunnerOptions {
    const { store, readModels, batchSize, idleCheckpointMs, lingerMs, blockedPollMs, autoRebuild, faults, maxAttempts, initialBackoffMs, maxBackoffMs } = this.options;
    return {
      store, readModels, definition, clock: this.clock, batchSize, idleCheckpointMs, lingerMs, blockedPollMs, autoRebuild, faults, maxAttempts, initialBackoffMs, maxBackoffMs,
      onBatchCommitted: (batch) => { for (const listener of this.batchListeners) listener(batch); },
      onPoison: (info) => { for (const listener of this.poisonListeners) listener(info); },
    };
  }

  /** Starts the runners (all, or the named ones). */
  async start(names: readonly string[] = this.registry.names()): Promise<void> {
    for (const name of names) this.registry.get(name);
    await Promise.all(names.flatMap((name) => {
      const group = this.groups.get(name);
      return group ? [group.start()] : this.runnersOf(name).map((runner) => runner.start());
    }));
  }

  /** Stops every runner gracefully: batches in flight commit (and a group hands its partitions back). */
  async stop(): Promise<void> {
    await Promise.all([...this.allRunners().map((runner) => runner.stop()), ...[...this.groups.values()].map((group) => group.stop())]);
  }

  /** The worker group of a projection, when partitions are shared with other processes. */
  group(name: string): ProjectionWorkerGroup | undefined {
    this.registry.get(name);
    return this.groups.get(name);
  }

  /** The runner of a projection (of one of its partitions); `projection_not_found` for an unknown name. */
  runner(name: string, partition = 0): ProjectionRunner {
    const runner = this.runnersOf(name)[partition];
    if (!runner) throw new DaybookError('validation_failed', `projection ${name} has no partition ${partition}`, { projection: name, partition }, 'partition');
    return runner;
  }

  /** The runners of a projection here: one per partition, or (in a group) those of the partitions held here. */
  runnersOf(name: string): ProjectionRunner[] {
    this.registry.get(name);
    return this.groups.get(name)?.runnersHere() ?? this.runners.get(name)!;
  }

  private allRunners(): ProjectionRunner[] {
    return this.registry.names().flatMap((name) => this.runnersOf(name));
  }

  /** Called after each committed batch of any projection (for the lag histogram and gauges). */
  onBatchCommitted(listener: (batch: BatchCommitted) => void): () => void {
    this.batchListeners.add(listener);
    return () => this.batchListeners.delete(listener);
  }

  /** Called when an event is parked or stops a projection. */
  onPoison(listener: (info: PoisonInfo) => void): () => void {
    this.poisonListeners.add(listener);
    return () => this.poisonListeners.delete(listener);
  }

  status(): Promise<ProjectionStatus[]> {
    return Promise.all(this.allRunners().map((runner) => runner.status()));
  }

  /** Readiness: not ready when a projection is stopped on a poison event, failed, or lags more than allowed. */
  async health(options: HealthOptions = {}): Promise<HealthReport> {
    const maxLagSeconds = options.maxLagSeconds ?? 30;
    const [statuses, letters] = await Promise.all([this.status(), countDeadLetters(this.options.readModels)]);
    const projections = statuses.map((status): ProjectionHealth => {
      const reasons: string[] = [];
      if (status.state === 'blocked') reasons.push(`stopped on the poison event at position ${status.blockedOn?.position}: ${status.blockedOn?.error}`);
      if (status.state === 'failed') reasons.push(`failed: ${status.failure?.message}`);
      if (status.state === 'stopped' || status.state === 'idle') reasons.push(`not running (${status.state})`);
      if (status.secondsBehind > maxLagSeconds) reasons.push(`${status.secondsBehind.toFixed(1)} s behind the head (more than ${maxLagSeconds} s)`);
      if (options.maxLagPositions !== undefined && status.positionsBehind > options.maxLagPositions) {
        reasons.push(`${status.positionsBehind} positions behind the head (more than ${options.maxLagPositions})`);
      }
      const counts = letters.get(status.name) ?? { parked: 0, blocking: 0 };
      return {
        name: status.name, partition: status.partition, ready: reasons.length === 0, reasons, state: status.state, checkpoint: status.checkpoint,
        positionsBehind: status.positionsBehind, secondsBehind: status.secondsBehind, parked: counts.parked, blocking: counts.blocking,
      };
    });
    return { ready: projections.every((projection) => projection.ready), projections };
  }

  /** Waits for the read model to reach `position`: through the local runner when it runs here, else by polling its checkpoint. */
  async waitForPosition(name: string, position: bigint, timeoutMs: number): Promise<void> {
    const runners = this.runnersOf(name);
    const local = (runner: ProjectionRunner): boolean => ['live', 'catching_up', 'blocked', 'failed'].includes(runner.state);
    if (!this.groups.has(name) && runners.every(local)) {
      await Promise.all(runners.map((runner) => runner.waitForPosition(position, timeoutMs)));
      return;
    }
    return pollForPosition(this.options.readModels, name, position, timeoutMs);
  }

  async query<T>(name: string, fn: (reader: ProjectionTx) => Promise<T>): Promise<T> {
    this.registry.get(name);
    return queryProjection(this.options.readModels, name, fn);
  }

  /** Blue-green rebuild; `projection_rebuild_in_progress` when another is running. */
  async rebuild(name: string, options: RebuildOptions = {}): Promise<RebuildResult> {
    const definition = this.registry.get(name);
    return rebuildProjection({ store: this.options.store, readModels: this.options.readModels, definition, clock: this.clock }, {
      batchSize: this.options.batchSize === undefined ? undefined : Math.max(this.options.batchSize, 2000),
      maxAttempts: this.options.maxAttempts, initialBackoffMs: this.options.initialBackoffMs, maxBackoffMs: this.options.maxBackoffMs,
      ...options,
    });
  }

  async replay(name: string, options: ReplayOptions): Promise<ReplayResult> {
    return replayProjection(this.options.store, this.registry.get(name), { clock: this.clock, ...options });
  }

  listDeadLetters(options?: ListDeadLettersOptions): Promise<DeadLetter[]> {
    return listDeadLetters(this.options.readModels, options);
  }

  /** Retries a dead letter now; a local runner stopped on it resumes at once. */
  async retryDeadLetter(id: bigint | number | string): Promise<DeadLetter> {
    const letter = await retryDeadLetter({ store: this.options.store, readModels: this.options.readModels, registry: this.registry, clock: this.clock }, id);
    if (this.registry.has(letter.projection)) for (const runner of this.runnersOf(letter.projection)) runner.nudge();
    return letter;
  }

  /** Skips a dead letter; a local runner stopped on it resumes at once. */
  async skipDeadLetter(id: bigint | number | string): Promise<DeadLetter> {
    const letter = await skipDeadLetter(this.options.readModels, id, this.clock);
    if (this.registry.has(letter.projection)) for (const runner of this.runnersOf(letter.projection)) runner.nudge();
    return letter;
  }
}

export function createProjectionEngine(options: ProjectionEngineOptions): ProjectionEngine {
  return new ProjectionEngine(options);
}
