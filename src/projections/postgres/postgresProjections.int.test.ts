/**
 * The projections conformance suite on PostgreSQL. One database per file;
 * each test starts from an empty one (schema dropped), then opens a fresh
 * event store and read-model store on it.
 */
import pg from 'pg';
import { afterAll } from 'vitest';
import { createTestDatabase, describeIfPostgres, postgresAvailability, type TestDatabase } from '../../../test/support/postgres.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { describeProjectionConformance } from '../conformance/projectionConformance.ts';
import { openReadModelStore } from '../readModelStore.ts';

let database: Promise<TestDatabase> | null = null;

describeIfPostgres('postgres projections', () => {
  afterAll(async () => {
    if (database) await (await database).drop();
  });

  describeProjectionConformance('postgres', async () => {
    database ??= createTestDatabase();
    const { url } = await database;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('DROP SCHEMA IF EXISTS daybook CASCADE');
    } finally {
      await client.end();
    }
    // PGlite's socket server takes at most 8 connections: small pools keep both stores under it.
    const pglite = postgresAvailability().kind === 'pglite';
    const store = await openEventStore(url, { poolSize: pglite ? 2 : undefined, subscriptionPollMs: 50 });
    const readModels = await openReadModelStore(url, { poolSize: pglite ? 1 : 4 });
    return {
      store,
      readModels,
      openReadModels: () => openReadModelStore(url, { poolSize: pglite ? 1 : 4 }),
      async teardown() {
        await readModels.close();
        await store.close();
      },
    };
  });
});
