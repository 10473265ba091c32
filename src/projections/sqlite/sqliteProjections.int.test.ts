/** The projections conformance suite on SQLite: the event store and the read models share one file, a fresh one per test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEventStore } from '../../eventstore/open.ts';
import { describeProjectionConformance } from '../conformance/projectionConformance.ts';
import { openReadModelStore } from '../readModelStore.ts';

describeProjectionConformance('sqlite', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'daybook-projections-'));
  const url = `sqlite:${join(folder, 'daybook.db')}`;
  const store = await openEventStore(url, { subscriptionPollMs: 50 });
  const readModels = await openReadModelStore(url);
  return {
    store,
    readModels,
    openReadModels: () => openReadModelStore(url),
    async teardown() {
      await readModels.close();
      await store.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
});
