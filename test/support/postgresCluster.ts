/**
 * A PostgreSQL primary and a synchronous streaming standby on loopback ports,
 * from Debian's binaries, in temp folders: the failover drill and
 * `scripts/cluster` use it. The primary commits with
 * `synchronous_commit=remote_apply` and `synchronous_standby_names =
 * 'FIRST 1 (standby1)'`, so an acknowledged commit is already applied (and
 * visible) on the standby: after the primary dies and the standby is
 * promoted, every acknowledged write is there.
 *
 * @example
 * const cluster = await startReplicatedPostgres();
 * const url = await cluster.createDatabase('daybook'); // on the primary
 * cluster.primary.kill('SIGKILL');
 * await cluster.standby.promote();
 * await cluster.stop();
 */
import pg from 'pg';
import { type PostgresServer, startPostgresServer } from './postgresServer.ts';

export const STANDBY_NAME = 'standby1';
const SYNC_TIMEOUT_MS = 30_000;

export interface ReplicatedPostgres {
  primary: PostgresServer;
  standby: PostgresServer;
  /** Creates a database on the primary; resolves with its url on the primary. */
  createDatabase(name: string): Promise<string>;
  /** `url` with its host and port swapped for the standby's (same database). */
  onStandby(url: string): string;
  stop(): Promise<void>;
}

export async function startReplicatedPostgres(options: { detached?: boolean } = {}): Promise<ReplicatedPostgres> {
  const small = ['shared_buffers=128MB', 'max_connections=200'];
  const primary = await startPostgresServer({
    detached: options.detached, settings: [...small, 'wal_level=replica', 'max_wal_senders=10', 'wal_keep_size=512MB', 'synchronous_commit=remote_apply'],
  });
  let standby: PostgresServer;
  try {
    standby = await startPostgresServer({ detached: options.detached, settings: small, standbyOf: { server: primary, name: STANDBY_NAME } });
  } catch (error) {
    await primary.stop();
    throw error;
  }
  try {
    await withClient(primary.url, async (client) => {
      // Set once the standby streams: before, every commit on the primary would wait for it.
      await client.query(`ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (${STANDBY_NAME})'`);
      await client.query('SELECT pg_reload_conf()');
      const deadline = Date.now() + SYNC_TIMEOUT_MS;
      for (;;) {
        const { rows } = await client.query<{ sync_state: string }>('SELECT sync_state FROM pg_stat_replication WHERE application_name = $1', [STANDBY_NAME]);
        if (rows[0]?.sync_state === 'sync') break;
        if (Date.now() > deadline) throw new Error(`the standby did not become synchronous within ${SYNC_TIMEOUT_MS} ms (state ${rows[0]?.sync_state ?? 'not connected'})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
  } catch (error) {
    await standby.stop();
    await primary.stop();
    throw error;
  }
  const onStandby = (url: string): string => {
    const parsed = new URL(url);
    parsed.port = String(standby.port);
    return parsed.toString();
  };
  return {
    primary, standby, onStandby,
    createDatabase: async (name) => {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      await withClient(primary.url, (client) => client.query(`CREATE DATABASE ${name}`));
      const url = new URL(primary.url);
      url.pathname = `/${name}`;
      return url.toString();
    },
    stop: async () => {
      await Promise.allSettled([standby.stop(), primary.stop()]);
    },
  };
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
