/**
 * PostgreSQL for benchmarks: `DAYBOOK_BENCH_DATABASE_URL` when set, else a
 * private server (test/support/postgresServer.ts: fsync and synchronous_commit
 * on) started on first use and stopped by `close()`. Each workload gets a
 * fresh database so that workloads do not see each other's tables or bloat.
 */
import pg from 'pg';
import { startPostgresServer, type PostgresServer } from '../../test/support/postgresServer.ts';

export interface BenchDatabase {
  url: string;
  name: string;
  /** Drops the database (closing whatever connections are left on it). */
  drop(): Promise<void>;
}

export interface PostgresProvider {
  /** A new, empty database `bench_<pid>_<n>`. */
  database(): Promise<BenchDatabase>;
  /** Where the databases live and with what durability settings, once one was made. */
  describe(): string | null;
  close(): Promise<void>;
}

export const BENCH_DATABASE_URL_ENV = 'DAYBOOK_BENCH_DATABASE_URL';

/** `settings`: extra `name=value` server settings for the private server (ignored with DAYBOOK_BENCH_DATABASE_URL). */
export function createPostgresProvider(env: NodeJS.ProcessEnv = process.env, settings: readonly string[] = []): PostgresProvider {
  let server: PostgresServer | null = null;
  let started: Promise<{ baseUrl: string; admin: pg.Client; description: string }> | null = null;
  let description: string | null = null;
  let counter = 0;
  const created = new Set<string>();

  const start = async () => {
    const fromEnv = env[BENCH_DATABASE_URL_ENV];
    let baseUrl: string;
    if (fromEnv) {
      baseUrl = fromEnv;
    } else {
      server = await startPostgresServer({ settings });
      baseUrl = server.url;
    }
    const admin = new pg.Client({ connectionString: baseUrl });
    admin.on('error', () => {});
    await admin.connect();
    const shownSettings = await admin.query<{ name: string; setting: string }>(
      "SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'wal_level', 'wal_compression', 'max_wal_size', 'checkpoint_timeout') ORDER BY name",
    );
    const shown = shownSettings.rows.map((row) => `${row.name}=${row.setting}`).join(' ');
    const where = fromEnv ? `${BENCH_DATABASE_URL_ENV} (${redact(baseUrl)})` : `private server on port ${server!.port}`;
    description = `PostgreSQL: ${where}; ${shown}`;
    return { baseUrl, admin, description };
  };

  return {
    async database() {
      started ??= start();
      const { baseUrl, admin } = await started;
      const name = `bench_${process.pid}_${++counter}`;
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.query(`CREATE DATABASE ${name}`);
      created.add(name);
      const url = new URL(baseUrl);
      url.pathname = `/${name}`;
      return {
        url: url.toString(),
        name,
        drop: async () => {
          if (!created.delete(name)) return;
          await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        },
      };
    },
    describe: () => description,
    async close() {
      if (started) {
        const { admin } = await started.catch(() => ({ admin: null }));
        if (admin) {
          // Leave nothing behind on a server we do not own.
          for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
          await admin.end().catch(() => {});
        }
      }
      created.clear();
      const owned = server as PostgresServer | null;
      server = null;
      await owned?.stop();
    },
  };
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable url)';
  }
}
