/**
 * Several processes sharing a partitioned projection (PostgreSQL). Each
 * worker heartbeats in `projection_workers` and holds leases on some
 * partitions in `projection_leases`, a fair share of them (partitions ÷ live
 * workers, rounded up), running one {@link ProjectionRunner} per partition it
 * holds. Every batch transaction locks its lease row FOR SHARE and checks it
 * is still held and unexpired, so a takeover waits for the batch in flight and
 * a worker whose lease lapsed rolls its batch back: no event's effect is applied
 * twice (the checkpoint fence would refuse it too). A worker killed outright
 * stops heartbeating; its leases lapse after `leaseMs` and the others take its
 * partitions at their next heartbeat: takeover within leaseMs + heartbeatMs.
 * Times are the database's clock, so the workers' clocks need not agree.
 *
 * @example
 * const group = new ProjectionWorkerGroup({ store, readModels, definition: balances, leaseMs: 5000, heartbeatMs: 1000 });
 * await group.start();
 * // … on SIGTERM:
 * await group.stop(); // finishes batches in flight, hands the partitions back at once
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DaybookError, systemClock } from '../kernel/index.ts';
import { ensureFirstGeneration } from './generations.ts';
import { allPartitions, partitionCount } from './projection.ts';
import type { SqlDialect, WriteTx } from './readModelStore.ts';
import { ProjectionRunner, type ProjectionRunnerOptions, type ProjectionStatus } from './runner.ts';

export interface WorkerGroupOptions extends Omit<ProjectionRunnerOptions, 'partition' | 'guard'> {
  /** This worker's name in the group (default host:pid:random). */
  owner?: string;
  /** How long a lease lasts without a heartbeat (default 5000 ms). */
  leaseMs?: number;
  /** How often leases are extended and the shares rebalanced (default 1000 ms; at most leaseMs / 2). */
  heartbeatMs?: number;
  /** Called with the partitions this worker runs, whenever they change. */
  onOwnedChange?: (owned: number[]) => void;
}

/** The database's clock in ms since the epoch, as an SQL expression (leases are compared against it, never a worker's clock). */
function nowSql(dialect: SqlDialect): string {
  return dialect === 'postgres'
    ? '(extract(epoch from clock_timestamp()) * 1000)::bigint'
    : "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";
}

export class ProjectionWorkerGroup {
  readonly owner: string;
  readonly name: string;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly partitions: number;
  private readonly runners = new Map<number, ProjectionRunner>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private running = false;
  private lastError: unknown = null;
  /** The shares last reported to onOwnedChange. */
  private reported: string | null = null;

  constructor(private readonly options: WorkerGroupOptions) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.name = options.definition.name;
    this.leaseMs = options.leaseMs ?? 5000;
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.partitions = partitionCount(options.definition);
    if (!Number.isInteger(this.leaseMs) || this.leaseMs < 100) throw new DaybookError('validation_failed', 'leaseMs must be an integer of at least 100', {}, 'leaseMs');
    if (!Number.isInteger(this.heartbeatMs) || this.heartbeatMs < 10 || this.heartbeatMs * 2 > this.leaseMs) {
      throw new DaybookError('validation_failed', 'heartbeatMs must be an integer from 10 to leaseMs / 2', {}, 'heartbeatMs');
    }
  }

  /** Joins the group: the first heartbeat (and the partitions it wins) before it resolves, then one every heartbeatMs. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // The first generation is made once, by whichever worker gets there first.
    await ensureFirstGeneration(this.options.readModels, this.options.definition, this.options.clock ?? systemClock);
    await this.tick();
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().catch((error) => { this.lastError = error; }).finally(() => { this.ticking = null; this.schedule(); });
    }, this.heartbeatMs);
  }

  /** Leaves the group: batches in flight commit, then the leases are handed back at once (no waiting for them to lapse). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    await Promise.all([...this.runners.values()].map((runner) => runner.stop()));
    this.runners.clear();
    await this.options.readModels.transaction(async (tx) => {
      await tx.execute('DELETE FROM projection_leases WHERE name = $1 AND owner = $2', [this.name, this.owner]);
      await tx.execute('DELETE FROM projection_workers WHERE name = $1 AND owner = $2', [this.name, this.owner]);
    }).catch(() => {});
    this.reported = '';
    this.options.onOwnedChange?.([]);
  }

  /** The partitions this worker runs now. */
  owned(): number[] {
    return [...this.runners.keys()].sort((a, b) => a - b);
  }

  /** The runners of the partitions held here. */
  runnersHere(): ProjectionRunner[] {
    return this.owned().map((partition) => this.runners.get(partition)!);
  }

  status(): Promise<ProjectionStatus[]> {
    return Promise.all(this.runnersHere().map((runner) => runner.status()));
  }

  /** The last heartbeat's error, if it failed (the next one tries again). */
  get heartbeatError(): unknown {
    return this.lastError;
  }

  /** One heartbeat: extend what is held, drop what lapsed, then take or hand back partitions towards a fair share. */
  private async tick(): Promise<void> {
    const { held, live } = await this.heartbeat();
    for (const [partition, runner] of this.runners) {
      // Lapsed (a pause longer than the lease?) or ended by its guard: the partition may be someone else's now.
      if (!held.has(partition) || runner.state === 'stopped') {
        this.runners.delete(partition);
        await runner.stop();
        held.delete(partition);
      }
    }
    const share = Math.ceil(this.partitions / Math.max(1, live));
    if (held.size > share) await this.handBack([...held].sort((a, b) => b - a).slice(0, held.size - share), held);
    if (held.size < share) await this.take(share - held.size, held);
    for (const partition of held) if (!this.runners.has(partition) && this.running) await this.startRunner(partition);
    this.lastError = null;
    const owned = this.owned();
    if (owned.join() !== this.reported) {
      this.reported = owned.join();
      this.options.onOwnedChange?.(owned);
    }
  }

  /** Records this worker alive, forgets dead ones, and extends its unexpired leases. */
  private async heartbeat(): Promise<{ held: Set<number>; live: number }> {
    const name = this.name;
    return this.options.readModels.transaction(async (tx) => {
      const now = nowSql(tx.dialect);
      await tx.execute(
        `INSERT INTO projection_workers (name, owner, heartbeat_at) VALUES ($1, $2, ${now})
         ON CONFLICT (name, owner) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`, [name, this.owner],
      );
      await tx.execute(`DELETE FROM projection_workers WHERE name = $1 AND heartbeat_at < ${now} - $2`, [name, this.leaseMs]);
      const [row] = await tx.query<{ live: bigint }>('SELECT count(*) AS live FROM projection_workers WHERE name = $1', [name]);
      const extended = await tx.query<{ partition: bigint }>(
        `UPDATE projection_leases SET expires_at = ${now} + $1 WHERE name = $2 AND owner = $3 AND expires_at > ${now} RETURNING partition`,
        [this.leaseMs, name, this.owner],
      );
      return { held: new Set(extended.map((lease) => Number(lease.partition))), live: Number(row?.live ?? 1) };
    });
  }

  /** Takes up to `count` partitions whose lease is free or lapsed. */
  private async take(count: number, held: Set<number>): Promise<void> {
    const name = this.name;
    const candidates = allPartitions(this.options.definition).filter((partition) => !held.has(partition));
    // Start at an offset of our own, so workers joining together do not all race for partition 0 first.
    const offset = Number.parseInt(this.owner.replace(/[^0-9a-f]/g, '').slice(-6) || '0', 16) % Math.max(1, candidates.length);
    const ordered = [...candidates.slice(offset), ...candidates.slice(0, offset)];
    let taken = 0;
    for (const partition of ordered) {
      if (taken >= count) break;
      const won = await this.options.readModels.transaction(async (tx) => {
        const now = nowSql(tx.dialect);
        const rows = await tx.query(
          `INSERT INTO projection_leases (name, partition, owner, expires_at) VALUES ($1, $2, $3, ${now} + $4)
           ON CONFLICT (name, partition) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
           WHERE projection_leases.expires_at <= ${now} OR projection_leases.owner = excluded.owner
           RETURNING partition`,
          [name, partition, this.owner, this.leaseMs],
        );
        return rows.length === 1;
      });
      if (won) { held.add(partition); taken += 1; }
    }
  }

  /** Hands partitions back: their runners finish the batch in flight first. */
  private async handBack(partitions: number[], held: Set<number>): Promise<void> {
    for (const partition of partitions) {
      const runner = this.runners.get(partition);
      this.runners.delete(partition);
      await runner?.stop();
      await this.options.readModels.transaction((tx) => tx.execute('DELETE FROM projection_leases WHERE name = $1 AND partition = $2 AND owner = $3', [this.name, partition, this.owner]));
      held.delete(partition);
    }
  }

  private async startRunner(partition: number): Promise<void> {
    const runner = new ProjectionRunner({ ...this.options, partition, guard: (tx) => this.holdsLease(tx, partition) });
    this.runners.set(partition, runner);
    await runner.start().catch((error) => { this.lastError = error; });
  }

  /**
   * Inside every batch transaction of a partition's runner: the lease row,
   * locked FOR SHARE (a takeover waits for this batch), must still be ours and
   * unexpired, or the batch rolls back.
   */
  private async holdsLease(tx: WriteTx, partition: number): Promise<void> {
    const now = nowSql(tx.dialect);
    const sql = `SELECT 1 AS held FROM projection_leases WHERE name = $1 AND partition = $2 AND owner = $3 AND expires_at > ${now}${tx.dialect === 'postgres' ? ' FOR SHARE' : ''}`;
    const rows = await tx.query(sql, [this.name, partition, this.owner]);
    if (rows.length === 0) {
      throw new DaybookError('projection_lease_lost', `worker ${this.owner} no longer holds partition ${partition} of ${this.name}; the batch rolled back`,
        { projection: this.name, partition, owner: this.owner });
    }
  }
}
