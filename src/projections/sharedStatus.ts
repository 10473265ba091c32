/**
 * The projections' state as the database holds it, whichever process runs
 * them: per partition, the active generation's checkpoint, how far behind the
 * head it is, and whether a worker holds a live lease on it (PostgreSQL
 * worker groups); per projection, its unresolved dead letters. What an API
 * process that runs no projection reports on `/readyz` and `/metrics`, and
 * what `daybook status` prints.
 *
 * @example
 * const report = await sharedProjectionHealth({ store, readModels, projections: builtinProjections(), clock }, { maxLagSeconds: 30 });
 * report.ready; // false when a partition has no live worker, is stopped on a poison event, or lags
 */
import type { EventStore } from '../eventstore/index.ts';
import type { Clock } from '../kernel/index.ts';
import { readActive, readCheckpoints } from './catalog.ts';
import { countDeadLetters } from './deadLetters.ts';
import type { HealthOptions, HealthReport, ProjectionHealth } from './engine.ts';
import { allPartitions, type ProjectionDefinition } from './projection.ts';
import type { ReadModelStore } from './readModelStore.ts';

export interface SharedPartitionStatus {
  name: string;
  partition: number;
  /** The active generation (0 when the projection has none yet: no worker ever started it). */
  version: number;
  checkpoint: bigint;
  positionsBehind: bigint;
  secondsBehind: number;
  /** The worker holding a live lease on the partition, or null (none, or a single-process store). */
  owner: string | null;
}

export interface SharedStatusContext {
  store: EventStore;
  readModels: ReadModelStore;
  projections: Iterable<ProjectionDefinition>;
  clock: Clock;
}

type LeaseRow = { name: string; partition: bigint; owner: string; expires_at: bigint };

/** Every partition of every projection, read from the database (one read snapshot) and the store's head. */
export async function readSharedProjectionStatus(context: SharedStatusContext): Promise<SharedPartitionStatus[]> {
  const definitions = [...context.projections];
  const head = await context.store.headPosition();
  const nowMs = context.clock.nowMs();
  const rows = await context.readModels.read(async (tx) => {
    const leases = await tx.query<LeaseRow>('SELECT name, partition, owner, expires_at FROM projection_leases');
    const out: Array<Omit<SharedPartitionStatus, 'positionsBehind' | 'secondsBehind'>> = [];
    for (const definition of definitions) {
      const active = await readActive(tx, definition.name);
      const checkpoints = active === null ? [] : await readCheckpoints(tx, definition.name, active.version);
      for (const partition of allPartitions(definition)) {
        const lease = leases.find((row) => row.name === definition.name && Number(row.partition) === partition && Number(row.expires_at) > nowMs);
        out.push({
          name: definition.name, partition, version: active?.version ?? 0,
          checkpoint: checkpoints.find((row) => row.partition === partition)?.position ?? 0n, owner: lease?.owner ?? null,
        });
      }
    }
    return out;
  });
  const ages = new Map<bigint, number>();
  const secondsBehindFrom = async (checkpoint: bigint): Promise<number> => {
    if (checkpoint >= head) return 0;
    let age = ages.get(checkpoint);
    if (age === undefined) {
      const [oldest] = await context.store.readAll({ after: checkpoint, limit: 1 });
      age = oldest === undefined ? 0 : Math.max(0, (nowMs - oldest.recordedAt.getTime()) / 1000);
      ages.set(checkpoint, age);
    }
    return age;
  };
  const statuses: SharedPartitionStatus[] = [];
  for (const row of rows) {
    statuses.push({ ...row, positionsBehind: head > row.checkpoint ? head - row.checkpoint : 0n, secondsBehind: await secondsBehindFrom(row.checkpoint) });
  }
  return statuses;
}

/**
 * Readiness from the database, in the shape of `ProjectionEngine.health`:
 * a partition is `live` while a worker holds its lease (on SQLite, where the
 * one server runs everything, while it is within the lag), `blocked` when a
 * dead letter stops it, `stopped` when no worker holds it.
 */
export async function sharedProjectionHealth(context: SharedStatusContext & { leased: boolean }, options: HealthOptions = {}): Promise<HealthReport> {
  const maxLagSeconds = options.maxLagSeconds ?? 30;
  const [statuses, letters] = await Promise.all([readSharedProjectionStatus(context), countDeadLetters(context.readModels)]);
  const projections = statuses.map((status): ProjectionHealth => {
    const counts = letters.get(status.name) ?? { parked: 0, blocking: 0 };
    const reasons: string[] = [];
    const running = !context.leased || status.owner !== null;
    if (!running) reasons.push('no worker holds this partition (start a process with --role projections or all)');
    if (counts.blocking > 0) reasons.push(`stopped on ${counts.blocking} poison event(s): see daybook dlq list`);
    if (status.secondsBehind > maxLagSeconds) reasons.push(`${status.secondsBehind.toFixed(1)} s behind the head (more than ${maxLagSeconds} s)`);
    if (options.maxLagPositions !== undefined && status.positionsBehind > options.maxLagPositions) {
      reasons.push(`${status.positionsBehind} positions behind the head (more than ${options.maxLagPositions})`);
    }
    return {
      name: status.name, partition: status.partition, ready: reasons.length === 0, reasons,
      state: counts.blocking > 0 ? 'blocked' : running ? 'live' : 'stopped',
      checkpoint: status.checkpoint, positionsBehind: status.positionsBehind, secondsBehind: status.secondsBehind, parked: counts.parked, blocking: counts.blocking,
    };
  });
  return { ready: projections.every((projection) => projection.ready), projections };
}
