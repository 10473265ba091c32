/**
 * PostgreSQL for test files. Global setup (test/globalSetup.ts) finds one server
 * for the whole run; each test file takes its own database on it.
 *
 * @example
 *   describeIfPostgres('postgres event store', () => {
 *     let db: TestDatabase;
 *     beforeAll(async () => { db = await createTestDatabase(); });
 *     afterAll(() => db.drop());
 *     it('appends', async () => { const store = await createPostgresEventStore({ url: db.url }); ... });
 *   });
 *
 * Without PostgreSQL a `describeIf…` block is skipped with a loud line on
 * stderr; under `CI=true` it fails instead, with the reason.
 */
import { appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, inject, it } from 'vitest';
import type { TestPostgresInfo, TestPostgresKind } from './findTestPostgres.ts';
import { acquirePgliteLock } from './pgliteLock.ts';
import { findPostgresBinDir } from './postgresServer.ts';

export { findTestPostgres, type TestPostgres, type TestPostgresInfo, type TestPostgresKind } from './findTestPostgres.ts';
export { findFreePort, findPostgresBinDir, startPostgresServer, type PostgresServer } from './postgresServer.ts';

/** What global setup provides under `daybookPostgres`. */
export type ProvidedTestPostgres = TestPostgresInfo & {
  /** Workers append skipped suites here; global teardown repeats them at the end of the run. */
  skipLogPath: string;
};

export type TestDatabase = { url: string; drop(): Promise<void> };

export type PostgresAvailability = {
  available: boolean;
  kind: TestPostgresKind;
  reason: string;
  /** Real concurrent sessions: false for PGlite, which runs one query at a time. */
  concurrent: boolean;
};

export function postgresAvailability(): PostgresAvailability {
  const { kind, reason } = providedPostgres();
  const concurrent = kind === 'server' || kind === 'external';
  return { available: kind !== 'none', kind, reason, concurrent };
}

function providedPostgres(): ProvidedTestPostgres {
  // Undefined when a config without our global setup runs this file.
  const provided = inject('daybookPostgres') as ProvidedTestPostgres | undefined;
  return provided ?? {
    kind: 'none', url: '', skipLogPath: '',
    reason: 'test/globalSetup.ts did not run: is it in vitest.config.ts globalSetup?',
  };
}

/**
 * A fresh database for one test file (or one test). On a real server it is a
 * new `daybook_test_<random>` database; on PGlite, which has one database, it
 * is that database, emptied, and held until drop() so other files wait.
 * Close your own connections before drop().
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const provided = providedPostgres();
  switch (provided.kind) {
    case 'server':
    case 'external':
      return createServerDatabase(provided.url);
    case 'pglite':
      return claimPgliteDatabase(provided.url);
    case 'none':
      throw new Error(`no PostgreSQL for tests: ${provided.reason}`);
  }
}

async function createServerDatabase(adminUrl: string): Promise<TestDatabase> {
  // Hex only: the name is safe to splice into DDL, which takes no parameters.
  const name = `daybook_test_${randomBytes(8).toString('hex')}`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const drop = () =>
    withClient(adminUrl, async (client) => {
      // A pool the test forgot to close would otherwise block DROP DATABASE.
      await client.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      await client.query(`DROP DATABASE IF EXISTS ${name}`);
    });
  return { url: url.toString(), drop };
}

async function claimPgliteDatabase(url: string): Promise<TestDatabase> {
  const lock = await acquirePgliteLock(url);
  try {
    // A file that crashed before its drop() may have left tables behind.
    await withClient(url, emptyPgliteDatabase);
  } catch (error) {
    lock.release();
    throw error;
  }
  const drop = async () => {
    try {
      await withClient(url, emptyPgliteDatabase);
    } finally {
      lock.release();
    }
  };
  return { url, drop };
}

/** One test database for a whole file, handed out empty on each call. */
export interface ResettableTestDatabase {
  /** The database's url, after dropping the `daybook` schema: each caller starts from a fresh store, without the cost of a new database. */
  emptied(): Promise<string>;
  /** Drops the database, if one was made (for `afterAll`). */
  drop(): Promise<void>;
}

/**
 * A database created on first use and emptied for every caller.
 *
 * @example
 * const database = resettableTestDatabase();
 * afterAll(() => database.drop());
 * const store = await openEventStore(await database.emptied());
 */
export function resettableTestDatabase(): ResettableTestDatabase {
  let database: Promise<TestDatabase> | null = null;
  return {
    async emptied() {
      database ??= createTestDatabase();
      const { url } = await database;
      await withClient(url, (client) => client.query('DROP SCHEMA IF EXISTS daybook CASCADE'));
      return url;
    },
    async drop() {
      if (database) await (await database).drop();
    },
  };
}

async function emptyPgliteDatabase(client: pg.Client): Promise<void> {
  await client.query('DROP SCHEMA IF EXISTS daybook CASCADE');
  await client.query('DROP SCHEMA IF EXISTS public CASCADE');
  await client.query('CREATE SCHEMA public');
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

/** Runs `fn` as a describe block when PostgreSQL (any kind) is available. */
export function describeIfPostgres(name: string, fn: () => void): void {
  const { available, reason } = postgresAvailability();
  describeWhen(name, fn, available ? null : reason);
}

/** Runs `fn` when PostgreSQL serves concurrent connections (a real server, not PGlite). */
export function describeIfConcurrentPostgres(name: string, fn: () => void): void {
  const { available, concurrent, kind, reason } = postgresAvailability();
  const missing = !available ? reason
    : concurrent ? null
    : `needs concurrent connections, but the test PostgreSQL is ${kind} (${reason})`;
  describeWhen(name, fn, missing);
}

/** Runs `fn` when PostgreSQL's binaries are installed, for tests that start and crash their own server. */
export function describeIfPostgresBinaries(name: string, fn: () => void): void {
  describeWhen(name, fn, findPostgresBinDir() === null ? 'no PostgreSQL binaries under /usr/lib/postgresql/*/bin' : null);
}

function describeWhen(name: string, fn: () => void, missingReason: string | null): void {
  if (missingReason === null) {
    describe(name, fn);
    return;
  }
  // CI must prove the PostgreSQL paths, so there a missing server is a failure, not a skip.
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has the PostgreSQL it needs (CI=true turns this skip into a failure)', () => {
        throw new Error(`PostgreSQL tests cannot run: ${missingReason}`);
      });
    });
    return;
  }
  console.error(`!! PostgreSQL tests SKIPPED: ${name}: ${missingReason}`);
  recordSkip(name, missingReason);
  describe.skip(name, fn);
}

function recordSkip(name: string, reason: string): void {
  const { skipLogPath } = providedPostgres();
  if (skipLogPath) appendFileSync(skipLogPath, `${JSON.stringify({ name, reason })}\n`);
}
