import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { DaybookError } from '../kernel/errors.ts';

/**
 * Who may write a ledger partition, when several processes share one
 * PostgreSQL. A lease is a row (partition, owner, expiry, heartbeat) in
 * `daybook.ledger_leases`; its owner extends it every heartbeat, and anyone
 * may take it once it has lapsed, so a killed owner's partition changes hands
 * within `leaseMs` plus one heartbeat of the taker. Times are the database's
 * clock, as in the projection worker group (src/projections/workerGroup.ts).
 *
 * The lease is for throughput only: two engines writing one partition would
 * contend, never corrupt it, because every append carries the exact expected
 * version of the partition stream. So a paused owner that writes after its
 * lease lapsed is refused by the store, not trusted by the lease.
 */
export interface LeaseClaim {
  /** True when the caller holds the lease now. */
  readonly held: boolean;
  /** The holder (the caller when `held`). */
  readonly owner: string;
  /** When the holder's lease lapses, by the database's clock, in ms since the epoch. */
  readonly expiresAtMs: number;
}

/** One partition's lease, as the ledger engine uses it. */
export interface PartitionLease {
  readonly partition: string;
  readonly owner: string;
  /** How long a lease lasts without a heartbeat. */
  readonly leaseMs: number;
  /** How often the holder extends it (and a standby tries to take it). */
  readonly heartbeatMs: number;
  /** Takes the lease when it is free, lapsed or already ours; otherwise says who holds it. */
  acquire(): Promise<LeaseClaim>;
  /** Extends a lease we hold; false when it is no longer ours (it lapsed and was taken, or released). */
  renew(): Promise<boolean>;
  /** Hands the lease back at once (no waiting for it to lapse). */
  release(): Promise<void>;
}

export interface PostgresPartitionLeasesOptions {
  url: string;
  /** This process's name among the owners (default host:pid:random). */
  owner?: string;
  /** Default 5000 ms. */
  leaseMs?: number;
  /** Default 1000 ms; at most leaseMs / 2. */
  heartbeatMs?: number;
}

const NOW = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

/**
 * Partition leases in PostgreSQL, one small pool per process.
 *
 * @example
 * const leases = await PostgresPartitionLeases.open({ url, leaseMs: 5000, heartbeatMs: 1000 });
 * const ledger = await LedgerEngine.open(store, { partition: 'usd', lease: leases.lease('usd'), standby: true });
 * // … on shutdown: await ledger.close(); await leases.close();
 */
export class PostgresPartitionLeases {
  readonly owner: string;
  readonly leaseMs: number;
  readonly heartbeatMs: number;

  private constructor(private readonly pool: pg.Pool, options: PostgresPartitionLeasesOptions) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.leaseMs = options.leaseMs ?? 5000;
    this.heartbeatMs = options.heartbeatMs ?? 1000;
  }

  static async open(options: PostgresPartitionLeasesOptions): Promise<PostgresPartitionLeases> {
    const leaseMs = options.leaseMs ?? 5000;
    const heartbeatMs = options.heartbeatMs ?? 1000;
    if (!Number.isInteger(leaseMs) || leaseMs < 100) throw new DaybookError('validation_failed', 'leaseMs must be an integer of at least 100', {}, 'leaseMs');
    if (!Number.isInteger(heartbeatMs) || heartbeatMs < 10 || heartbeatMs * 2 > leaseMs) {
      throw new DaybookError('validation_failed', 'heartbeatMs must be an integer from 10 to leaseMs / 2', {}, 'heartbeatMs');
    }
    const pool = new pg.Pool({ connectionString: options.url, max: 2 });
    pool.on('error', () => {});
    try {
      await createTable(pool);
    } catch (error) {
      await pool.end();
      throw new DaybookError('store_unavailable', `cannot prepare ledger leases: ${(error as Error).message}`);
    }
    return new PostgresPartitionLeases(pool, options);
  }

  lease(partition: string): PartitionLease {
    const { pool, owner, leaseMs, heartbeatMs } = this;
    return {
      partition, owner, leaseMs, heartbeatMs,
      async acquire() {
        const taken = await pool.query<{ owner: string; expires_at: string }>(
          `INSERT INTO daybook.ledger_leases (partition, owner, expires_at, heartbeat_at, acquired_at) VALUES ($1, $2, ${NOW} + $3, ${NOW}, ${NOW})
           ON CONFLICT (partition) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at, heartbeat_at = excluded.heartbeat_at,
             acquired_at = CASE WHEN ledger_leases.owner = excluded.owner THEN ledger_leases.acquired_at ELSE excluded.acquired_at END
           WHERE ledger_leases.expires_at <= ${NOW} OR ledger_leases.owner = excluded.owner
           RETURNING owner, expires_at::text`,
          [partition, owner, leaseMs],
        );
        const row = taken.rows[0] ?? (await pool.query<{ owner: string; expires_at: string }>(
          'SELECT owner, expires_at::text FROM daybook.ledger_leases WHERE partition = $1', [partition],
        )).rows[0];
        // The row was deleted between the two statements (a release): free now, try again next heartbeat.
        if (row === undefined) return { held: false, owner: '', expiresAtMs: 0 };
        return { held: row.owner === owner, owner: row.owner, expiresAtMs: Number.parseInt(row.expires_at, 10) };
      },
      async renew() {
        const result = await pool.query(
          `UPDATE daybook.ledger_leases SET expires_at = ${NOW} + $3, heartbeat_at = ${NOW} WHERE partition = $1 AND owner = $2 AND expires_at > ${NOW}`,
          [partition, owner, leaseMs],
        );
        return result.rowCount === 1;
      },
      async release() {
        await pool.query('DELETE FROM daybook.ledger_leases WHERE partition = $1 AND owner = $2', [partition, owner]);
      },
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Made once, by whichever process gets the advisory lock first (concurrent CREATE IF NOT EXISTS can collide). */
async function createTable(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query("SELECT pg_advisory_xact_lock(hashtext('daybook.ledger_leases'))");
    await client.query('CREATE SCHEMA IF NOT EXISTS daybook');
    await client.query(`CREATE TABLE IF NOT EXISTS daybook.ledger_leases (
      partition text COLLATE "C" PRIMARY KEY,
      owner text NOT NULL,
      expires_at bigint NOT NULL,
      heartbeat_at bigint NOT NULL,
      acquired_at bigint NOT NULL
    )`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
