/**
 * A PostgreSQL read replica (hot standby, DAYBOOK_READ_DATABASE_URL) for
 * read-model queries, and its lag.
 *
 * What goes where: every write (projection batches, checkpoints, webhook
 * delivery state, the event store's appends) and every wait for a checkpoint
 * use the primary; a read-model query (`ReadModelStore.read`) goes to the
 * replica when it has replayed everything the primary had once the query
 * began, else to the primary. The rule, per query: read the primary's WAL
 * position (`pg_current_wal_insert_lsn()`: the insert position, since read
 * models commit with `synchronous_commit=off` and their commit records may
 * still sit in the WAL buffers; fetched after the query began, so after
 * any write its caller saw acknowledged and after the checkpoint wait that
 * preceded it), then open the replica's REPEATABLE READ snapshot with
 * `pg_last_wal_replay_lsn() >= that` as its first statement: the snapshot
 * then holds every transaction committed up to that position, the caller's
 * write and the read model's commit of it included. Behind, unreachable, not
 * a standby, or cancelled by a recovery conflict: the query runs on the
 * primary. Concurrent queries share one primary position fetch (one that
 * started after they arrived), so the primary sees a tiny query per burst,
 * not per read.
 *
 * The monitor polls both servers every second for `/metrics`
 * (`daybook_replica_lag_seconds`: 0 when the replica has replayed the
 * primary's position, else the age of its last replayed transaction, from
 * `pg_last_xact_replay_timestamp()`; `daybook_replica_lag_bytes`: the LSN
 * difference) and for routing (a replica seen down is skipped until it answers).
 *
 * @example
 * const replica = await openReplicaReadModels({ primaryUrl, replicaUrl, primary: readModels });
 * await replica.readModels.read((tx) => tx.query('SELECT 1')); // on the replica when caught up
 * replica.monitor.status(); // { up: true, lagSeconds: 0, lagBytes: 0n, reads: { replica: 1, primary: 0 } }
 */
import pg from 'pg';
import type { Logger } from '../edge/index.ts';
import { openReadModelStore, type ReadModelStore, type WriteTx } from './readModelStore.ts';

/** How often the monitor samples both servers. */
export const REPLICA_POLL_MS = 1000;

export interface ReplicaStatus {
  /** The replica answers and is in recovery (a standby). */
  up: boolean;
  lagSeconds: number | null;
  lagBytes: bigint | null;
  /** Queries routed so far, by where they ran. */
  reads: { replica: number; primary: number };
}

/** `16/B374D848` → a byte position. */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!match) throw new Error(`not an LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${match[1]}`) << 32n) + BigInt(`0x${match[2]}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

type ReplicaSample = { standby: boolean; replay: string | null; age: number | null };

export class ReplicaMonitor {
  private readonly primaryPool: pg.Pool;
  private readonly replicaPool: pg.Pool;
  private current: Promise<bigint> | null = null;
  private next: Promise<bigint> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private sampling: Promise<void> | null = null;
  private state: ReplicaStatus = { up: false, lagSeconds: null, lagBytes: null, reads: { replica: 0, primary: 0 } };

  constructor(primaryUrl: string, replicaUrl: string, private readonly logger?: Logger) {
    this.primaryPool = new pg.Pool({ connectionString: primaryUrl, max: 2, connectionTimeoutMillis: 2000 });
    this.replicaPool = new pg.Pool({ connectionString: replicaUrl, max: 1, connectionTimeoutMillis: 2000 });
    this.primaryPool.on('error', () => {});
    this.replicaPool.on('error', () => {});
  }

  status(): ReplicaStatus {
    return { ...this.state, reads: { ...this.state.reads } };
  }

  /** Samples now, then every REPLICA_POLL_MS. */
  async start(): Promise<void> {
    await this.sample();
    const tick = (): void => {
      this.timer = setTimeout(() => {
        this.sampling = this.sample().finally(() => { this.sampling = null; if (this.timer !== null) tick(); });
      }, REPLICA_POLL_MS);
      this.timer.unref();
    };
    tick();
  }

  /** The primary's WAL position, read by a query that started after this call. */
  primaryLsn(): Promise<bigint> {
    if (this.current === null) {
      this.current = this.fetchPrimaryLsn().finally(() => { this.current = null; });
      return this.current;
    }
    // One in flight started before this caller arrived: share the next one, which starts once it ends.
    this.next ??= this.current.catch(() => {}).then(() => {
      this.next = null;
      return this.primaryLsn();
    });
    return this.next;
  }

  /** The replica was found behind, unreachable or in conflict: counted, and marked down when it does not answer. */
  routed(target: 'replica' | 'primary'): void {
    this.state.reads[target] += 1;
  }

  markDown(error: unknown): void {
    if (this.state.up) this.logger?.warn({ err: error }, 'read replica unavailable: reads go to the primary');
    this.state = { ...this.state, up: false };
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.sampling;
    await Promise.allSettled([this.primaryPool.end(), this.replicaPool.end()]);
  }

  private async fetchPrimaryLsn(): Promise<bigint> {
    const { rows } = await this.primaryPool.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    return parseLsn(rows[0]!.lsn);
  }

  private async sample(): Promise<void> {
    let primary: bigint | null = null;
    try {
      primary = await this.fetchPrimaryLsn();
    } catch {
      // The primary does not answer (or is itself a standby): the lag is unknown; /readyz reports the store.
    }
    let replica: ReplicaSample;
    try {
      const { rows } = await this.replicaPool.query<ReplicaSample>(
        `SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replay,
                extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 AS age`);
      replica = rows[0]!;
    } catch (error) {
      this.markDown(error);
      this.state = { ...this.state, lagSeconds: null, lagBytes: null };
      return;
    }
    if (!replica.standby || replica.replay === null) {
      if (this.state.up) this.logger?.warn('DAYBOOK_READ_DATABASE_URL is not a standby (promoted?): reads go to the primary');
      this.state = { ...this.state, up: false, lagSeconds: null, lagBytes: null };
      return;
    }
    if (!this.state.up) this.logger?.info('read replica available');
    const replay = parseLsn(replica.replay);
    const lagBytes = primary === null ? null : primary > replay ? primary - replay : 0n;
    const lagSeconds = lagBytes === null ? null : lagBytes === 0n ? 0 : Math.max(0, replica.age ?? 0);
    this.state = { ...this.state, up: true, lagSeconds, lagBytes };
  }
}

/** The replica is behind the position the query must see: run it on the primary. */
class ReplicaBehind extends Error {}

/** SQLSTATEs on which a replica query is retried on the primary: recovery conflicts and lost connections. */
function replicaFault(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (code === '40001' || code.startsWith('08') || code === '57P01' || code === 'store_unavailable')) return true;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** A read-model store whose queries may go to the replica (see the module comment); writes go to the primary. */
class RoutedReadModelStore implements ReadModelStore {
  readonly backend = 'postgres' as const;

  constructor(private readonly primary: ReadModelStore, private readonly replica: ReadModelStore, private readonly monitor: ReplicaMonitor) {}

  transaction<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    return this.primary.transaction(fn);
  }

  async read<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    if (this.monitor.status().up) {
      try {
        const lsn = formatLsn(await this.monitor.primaryLsn());
        const result = await this.replica.read(async (tx) => {
          const [row] = await tx.query<{ caught_up: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught_up', [lsn]);
          if (row?.caught_up !== true) throw new ReplicaBehind();
          return fn(tx);
        });
        this.monitor.routed('replica');
        return result;
      } catch (error) {
        if (!(error instanceof ReplicaBehind) && !replicaFault(error)) throw error;
        if (!(error instanceof ReplicaBehind) && (error as { code?: string }).code !== '40001') this.monitor.markDown(error);
      }
    }
    this.monitor.routed('primary');
    return this.primary.read(fn);
  }

  executeLight(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.primary.executeLight(sql, params);
  }

  ping(): Promise<void> {
    return this.primary.ping();
  }

  existingTables(names: readonly string[]): Promise<Set<string>> {
    return this.primary.existingTables(names);
  }

  /** The primary belongs to the caller; only the replica's pool closes here. */
  close(): Promise<void> {
    return this.replica.close();
  }
}

export interface ReplicaReadModels {
  /** Queries to the replica when caught up; everything else to `primary`. */
  readModels: ReadModelStore;
  monitor: ReplicaMonitor;
  close(): Promise<void>;
}

/** Opens the replica's read-model store (no migrations: a standby is read-only) and starts its monitor. */
export async function openReplicaReadModels(options: { primaryUrl: string; replicaUrl: string; primary: ReadModelStore; logger?: Logger }): Promise<ReplicaReadModels> {
  const replica = await openReadModelStore(options.replicaUrl, { migrate: false });
  const monitor = new ReplicaMonitor(options.primaryUrl, options.replicaUrl, options.logger);
  await monitor.start();
  const readModels = new RoutedReadModelStore(options.primary, replica, monitor);
  return {
    readModels, monitor,
    close: async () => {
      await monitor.close();
      await readModels.close();
    },
  };
}
