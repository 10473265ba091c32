/**
 * PostgreSQL-only faults: the read-model connections killed under a running
 * projection (pg_terminate_backend, as a failover or an operator would) are
 * the database's trouble, not the events': nothing is parked, the runner
 * reconnects and the read model still equals a replay from zero.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { createTestDatabase, describeIfConcurrentPostgres, type TestDatabase } from '../../../test/support/postgres.ts';
import type { EventStore } from '../../eventstore/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { replayedDump, waitFor } from '../conformance/harness.ts';
import { referenceProjection } from '../conformance/streamStats.projection.ts';
import { listDeadLetters } from '../deadLetters.ts';
import { dumpReadModel } from '../queries.ts';
import { openReadModelStore, type ReadModelStore } from '../readModelStore.ts';
import { ProjectionRunner } from '../runner.ts';

async function retried<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= 10) throw error;
    }
  }
}

describeIfConcurrentPostgres('projections on PostgreSQL: lost connections', () => {
  let database: TestDatabase;
  let store: EventStore;
  let readModels: ReadModelStore;
  let admin: pg.Client;

  beforeAll(async () => { database = await createTestDatabase(); });
  afterAll(async () => { await database?.drop(); });
  beforeEach(async () => {
    admin = new pg.Client({ connectionString: database.url, application_name: 'daybook-test-admin' });
    await admin.connect();
    await admin.query('DROP SCHEMA IF EXISTS daybook CASCADE');
    store = await openEventStore(database.url, { subscriptionPollMs: 50 });
    readModels = await openReadModelStore(database.url);
  });
  afterEach(async () => {
    await readModels.close();
    await store.close();
    await admin.end();
  });

  it('keeps going when its connections are terminated mid-run, parking nothing', async () => {
    const definition = referenceProjection();
    const runner = new ProjectionRunner({ store, readModels, definition, batchSize: 20, initialBackoffMs: 1 });
    await runner.start();
    let appending = true;
    let appended = 0;
    const appender = (async () => {
      while (appending) {
        // The store's own connections may be among those terminated: an append that fails is simply not counted.
        const ok = await store.append({ streamId: `acct-${appended % 9}`, events: [{ type: 'Deposited', data: { n: appended } }] }).then(() => true, () => false);
        if (ok) appended += 1;
      }
    })();
    for (let round = 0; round < 5; round += 1) {
      const before = appended;
      await waitFor(() => appended >= before + 40, 20_000, 'appends between terminations');
      // Every other session on the database but ours and the event store's writers: the read-model pool among them.
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND query NOT LIKE '%append_batch%' AND query NOT LIKE 'LISTEN%'`,
      );
    }
    appending = false;
    await appender;
    // The test's own reads may meet one of the store's terminated idle connections first: pg drops each as it fails.
    const head = await retried(() => store.headPosition());
    await runner.waitForPosition(head, 30_000);
    await waitFor(() => runner.state === 'live', 10_000, 'the runner live again');
    expect(await listDeadLetters(readModels, { status: 'all' })).toEqual([]);
    expect(await dumpReadModel(readModels, definition)).toBe(await retried(() => replayedDump(store, referenceProjection(), head)));
    await runner.stop();
  });
});
