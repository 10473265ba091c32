/**
 * The projections conformance suite on PostgreSQL. One database per file;
 * each test starts from an empty one (schema dropped), then opens a fresh
 * event store and read-model store on it.
 *
 * It needs a real server: runners, appends, queries and rebuilds run at once
 * on several connections, and PGlite's socket server interleaves the
 * extended-protocol messages of concurrent statements from different
 * connections ("bind message supplies 9 parameters, but prepared statement
 * requires 3"), so on PGlite it is skipped, loudly (and fails under CI=true).
 */
import { afterAll } from 'vitest';
import { describeIfConcurrentPostgres, resettableTestDatabase } from '../../../test/support/postgres.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { describeProjectionConformance } from '../conformance/projectionConformance.ts';
import { openReadModelStore } from '../readModelStore.ts';

const database = resettableTestDatabase();

describeIfConcurrentPostgres('postgres projections', () => {
  afterAll(async () => {
    await database.drop();
  });

  describeProjectionConformance('postgres', async () => {
    const url = await database.emptied();
    const store = await openEventStore(url, { subscriptionPollMs: 50 });
    const readModels = await openReadModelStore(url);
    return {
      store,
      readModels,
      openReadModels: () => openReadModelStore(url),
      async teardown() {
        await readModels.close();
        await store.close();
      },
    };
  });
});
