/** The event store conformance suite on the embedded SQLite backend: a fresh file in a temp folder per test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describeEventStoreConformance } from '../conformance/index.ts';
import { openEventStore } from '../open.ts';

describeEventStoreConformance('sqlite', async (options) => {
  const folder = mkdtempSync(join(tmpdir(), 'daybook-sqlite-'));
  const path = join(folder, 'events.db');
  const store = await openEventStore(`sqlite:${path}`, options);
  return {
    store,
    async tamper(sql: string, params: unknown[] = []) {
      const db = new Database(path, { timeout: 5_000 });
      try {
        db.prepare(sql).run(...params);
      } finally {
        db.close();
      }
    },
    async teardown() {
      await store.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
});
