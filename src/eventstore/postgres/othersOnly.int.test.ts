/**
 * `subscribe({ othersOnly: true })` on PostgreSQL (the ledger follower's
 * subscription): two stores on one database stand for two processes. The
 * subscriber's own commits may be passed over, but every event another
 * process commits in its category is delivered, in order, however the two
 * processes' commits interleave.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeIfConcurrentPostgres, type TestDatabase } from '../../../test/support/postgres.ts';
import type { EventStore, RecordedEvent } from '../eventStore.ts';
import { openEventStore } from '../open.ts';

describeIfConcurrentPostgres('postgres subscription of other processes\' writes (othersOnly)', () => {
  let database: TestDatabase;
  let mine: EventStore;
  let other: EventStore;

  beforeAll(async () => {
    database = await createTestDatabase();
    mine = await openEventStore(database.url);
    other = await openEventStore(database.url);
  });
  afterAll(async () => {
    await mine.close();
    await other.close();
    await database.drop();
  });

  it('delivers every event the other process commits, interleaved with this process\'s own commits', async () => {
    const subscription = mine.subscribe({ category: 'ledger', othersOnly: true });
    const seen: RecordedEvent[] = [];
    const wanted = 60;
    const reading = (async () => {
      for await (const event of subscription) {
        if (event.streamId === 'ledger-other') seen.push(event);
        if (seen.length === wanted) return;
      }
    })();
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Each round: this process commits around the other's commit, some concurrently, so local announcements land on both sides of it.
      for (let round = 0; round < wanted / 2; round += 1) {
        await Promise.all([
          mine.append({ streamId: 'ledger-mine', events: [{ type: 'Moved', data: { round } }] }),
          other.append({ streamId: 'ledger-other', events: [{ type: 'Moved', data: { round, at: 0 } }] }),
        ]);
        await other.append({ streamId: 'ledger-other', events: [{ type: 'Moved', data: { round, at: 1 } }] });
        await mine.append({ streamId: 'ledger-mine', events: [{ type: 'Moved', data: { round } }] });
      }
      await Promise.race([reading, new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${seen.length} of ${wanted} delivered`)), 20_000))]);
      const stored = (await mine.readStream('ledger-other', { limit: 1000 })).map((event) => event.position);
      expect(stored).toHaveLength(wanted);
      expect(seen.map((event) => event.position)).toEqual(stored);
    } finally {
      subscription.close();
    }
  });
});
