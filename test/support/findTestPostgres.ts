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
 */
import pg from 'pg';
import { findFreePort, findPostgresBinDir, startPostgresServer } from './postgresServer.ts';

export type TestPostgresKind = 'external' | 'server' | 'pglite' | 'none';

/** What global setup hands to the test files through vitest's `provide`/`inject`. */
export type TestPostgresInfo = { kind: TestPostgresKind; url: string; reason: string };

export type TestPostgres = TestPostgresInfo & { stop(): Promise<void> };

type Route = 'server' | 'pglite' | 'none';

const ROUTES: readonly Route[] = ['server', 'pglite', 'none'];
const PGLITE_CONNECTIONS_MAX = 8;

export async function findTestPostgres(): Promise<TestPostgres> {
  const externalUrl = process.env.DAYBOOK_TEST_DATABASE_URL;
  if (externalUrl) return useExternal(externalUrl);
  const forced = forcedRoute();
  if (forced === 'pglite') return startPglite('forced by DAYBOOK_TEST_POSTGRES=pglite');
  if (forced === 'none') return none('forced by DAYBOOK_TEST_POSTGRES=none');
  const binDir = findPostgresBinDir();
  if (binDir === null) {
    if (forced === 'server') return none('DAYBOOK_TEST_POSTGRES=server, but no PostgreSQL binaries under /usr/lib/postgresql/*/bin');
    return startPglite('no PostgreSQL binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)');
  }
  try {
    const server = await startPostgresServer();
    return { kind: 'server', url: server.url, reason: `private server from ${binDir}`, stop: server.stop };
  } catch (error) {
    const failure = `PostgreSQL from ${binDir} did not start: ${(error as Error).message}`;
    return forced === 'server' ? none(failure) : startPglite(failure);
  }
}

function forcedRoute(): Route | null {
  const value = process.env.DAYBOOK_TEST_POSTGRES;
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
