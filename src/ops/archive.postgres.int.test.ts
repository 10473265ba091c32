/**
 * `archiveStore` through the port on PostgreSQL: the server stamps recorded
 * times itself, so the events all fall in the current month; with the clock
 * and `--before` two months on, that month is closed and archived to one
 * file, which verifies, and a second run skips it. With the real clock the
 * running month is left alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeIfPostgres, type TestDatabase } from '../../test/support/postgres.ts';
import { openLocalKeyProvider } from '../audit/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { systemClock } from '../kernel/index.ts';
import { archiveStore, verifyArchive } from './index.ts';

describeIfPostgres('archive on PostgreSQL', () => {
  let db: TestDatabase;
  let store: EventStore;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = await openEventStore(db.url);
    dir = mkdtempSync(join(tmpdir(), 'daybook-archive-pg-'));
    for (const streamId of ['acct-1', 'acct-2', 'acct-1']) await store.append({ streamId, events: [{ type: 'Counted', data: { n: 1 } }, { type: 'Counted', data: { n: 2 } }] });
  });

  afterAll(async () => {
    await store?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves the running month alone', async () => {
    const report = await archiveStore(store, { beforeMs: Date.now() + 400 * 86_400_000, outDir: join(dir, 'now'), keys: openLocalKeyProvider({ dir: join(dir, 'keys') }), clock: systemClock });
    expect(report.periods).toEqual([]);
  });

  it('archives a closed month to one file that verifies, then skips it', async () => {
    const later = Date.now() + 62 * 86_400_000;
    const keys = openLocalKeyProvider({ dir: join(dir, 'keys') });
    const options = { beforeMs: later, outDir: join(dir, 'later'), keys, clock: { nowMs: () => later } };
    const first = await archiveStore(store, options);
    expect(first.periods.map((p) => [p.outcome, p.fromPosition, p.toPosition, p.count])).toEqual([['written', 1n, 6n, 6]]);
    const report = await verifyArchive(first.periods[0]!.file, { keys: keys.trustedKeys() });
    expect(report).toMatchObject({ ok: true, eventsChecked: 6, chainLinksChecked: 4 });
    expect((await archiveStore(store, options)).periods.map((p) => p.outcome)).toEqual(['skipped']);
  });
});
