/**
 * Finds the PostgreSQL that the test run will use, once, in vitest's global
 * setup. It imports nothing from vitest so that it can run outside a test file.
 *
 * Order: `DAYBOOK_TEST_DATABASE_URL` (a server you run), then PostgreSQL's
 * binaries on this machine (a private server), then PGlite behind a socket (one
 * connection at a time), else none.
 *
 * `DAYBOOK_TEST_POSTGRES=server|pglite|none` forces one route, to check the
 * fallbacks on a machine that has the binaries, e.g.
 * `DAYBOOK_TEST_POSTGRES=pglite npx vitest run`. It is ignored when
 * `DAYBOOK_TEST_DATABASE_URL` is set.
 *
 * When the private server is missing or does not start, `CI=true` stops the
 * run there, with the reason (CI must prove the PostgreSQL paths); elsewhere
 * the run falls back to PGlite and says so loudly, at the start and again at
 * the end (see `serverFallback`).
 */
import pg from 'pg';
import { findFreePort, findPostgresBinDir, startPostgresServer, type PostgresServer } from './postgresServer.ts';

export type TestPostgresKind = 'external' | 'server' | 'pglite' | 'none';

/** What global setup hands to the test files through vitest's `provide`/`inject`. */
export type TestPostgresInfo = { kind: TestPostgresKind; url: string; reason: string };

export type TestPostgres = TestPostgresInfo & {
  stop(): Promise<void>;
  /** Set when the run fell back from the private server: global setup prints it at the start and the end. */
  warning?: string;
};

type Route = 'server' | 'pglite' | 'none';

const ROUTES: readonly Route[] = ['server', 'pglite', 'none'];
const PGLITE_CONNECTIONS_MAX = 8;

/** What the search reads from outside; tests pass their own. */
export type FindTestPostgresOptions = {
  env?: NodeJS.ProcessEnv;
  findBinDir?: () => string | null;
  startServer?: () => Promise<PostgresServer>;
};

export async function findTestPostgres(options: FindTestPostgresOptions = {}): Promise<TestPostgres> {
  const { env = process.env, findBinDir = findPostgresBinDir, startServer = startPostgresServer } = options;
  const externalUrl = env.DAYBOOK_TEST_DATABASE_URL;
  if (externalUrl) return useExternal(externalUrl);
  const forced = forcedRoute(env);
  if (forced === 'pglite') return startPglite('forced by DAYBOOK_TEST_POSTGRES=pglite');
  if (forced === 'none') return none('forced by DAYBOOK_TEST_POSTGRES=none');
  const binDir = findBinDir();
  let failure: string;
  if (binDir === null) {
    failure = 'no PostgreSQL binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)';
  } else {
    try {
      const server = await startServer();
      return { kind: 'server', url: server.url, reason: `private server from ${binDir}`, stop: server.stop };
    } catch (error) {
      failure = `PostgreSQL from ${binDir} did not start: ${(error as Error).message}`;
    }
  }
  const fallback = serverFallback({ ci: env.CI === 'true', forcedServer: forced === 'server', failure });
  if (fallback.action === 'fail') throw new Error(fallback.message);
  process.stderr.write(`${fallback.message}\n`);
  const found = fallback.action === 'none' ? none(failure) : await startPglite(failure);
  return { ...found, warning: fallback.message };
}

export type ServerFallback = { action: 'fail' | 'pglite' | 'none'; message: string };

/**
 * What to do when the private server is missing or did not start (`failure`
 * says which): under `CI=true`, fail the run with the reason, since CI must
 * run the concurrency and crash suites; with `DAYBOOK_TEST_POSTGRES=server`,
 * no PostgreSQL (its suites skip, loudly); else PGlite, with a loud warning.
 */
export function serverFallback(input: { ci: boolean; forcedServer: boolean; failure: string }): ServerFallback {
  const { ci, forcedServer, failure } = input;
  if (ci) return { action: 'fail', message: `!! ${failure}. CI=true needs a real PostgreSQL server, so the run stops here.` };
  if (forcedServer) return { action: 'none', message: `!! ${failure}. DAYBOOK_TEST_POSTGRES=server: the PostgreSQL suites will be SKIPPED.` };
  return { action: 'pglite', message: `!! ${failure}. Falling back to PGlite: the suites that need concurrent connections will be SKIPPED.` };
}

function forcedRoute(env: NodeJS.ProcessEnv): Route | null {
  const value = env.DAYBOOK_TEST_POSTGRES;
  if (value === undefined || value === '') return null;
  if (!(ROUTES as readonly string[]).includes(value)) {
    throw new Error(`DAYBOOK_TEST_POSTGRES=${value}: expected one of ${ROUTES.join(', ')}`);
  }
  return value as Route;
}

/** A URL the caller chose is checked once, so a typo says so instead of failing every test. */
async function useExternal(url: string): Promise<TestPostgres> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { kind: 'external', url, reason: 'DAYBOOK_TEST_DATABASE_URL', stop: async () => {} };
  } catch (error) {
    return none(`DAYBOOK_TEST_DATABASE_URL is set but does not answer: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * PGlite is PostgreSQL compiled to WebAssembly, in this process: one session,
 * which its socket server shares out one query (or one open transaction) at a
 * time. It accepts a few connections, so that a closing connection does not
 * lock out the next one, but they are not concurrent: a second connection waits
 * while the first holds a transaction, and locks and settings are shared.
 * Imported lazily: only this route needs it.
 */
async function startPglite(whyNotServer: string): Promise<TestPostgres> {
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
    const db = await PGlite.create();
    const port = await findFreePort();
    const socketServer = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: PGLITE_CONNECTIONS_MAX });
    await socketServer.start();
    const stop = async () => {
      await socketServer.stop();
      await db.close();
    };
    const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    return { kind: 'pglite', url, reason: `PGlite, one query at a time: ${whyNotServer}`, stop };
  } catch (error) {
    return none(`${whyNotServer}; PGlite did not start either: ${(error as Error).message}`);
  }
}

function none(reason: string): TestPostgres {
  return { kind: 'none', url: '', reason, stop: async () => {} };
}
