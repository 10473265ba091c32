/** Helpers shared by the ops tests: a real SQLite store in a temp folder, filled with events of a few streams. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore, type OpenEventStoreOptions } from '../eventstore/open.ts';

export interface TempStore {
  dir: string;
  storePath: string;
  url: string;
  store: EventStore;
  /** Appends `count` events, `perAppend` at a time, round-robin over `streams` streams of category `acct`. */
  fill(count: number, perAppend?: number): Promise<void>;
  cleanup(): Promise<void>;
}

export async function openTempStore(options: OpenEventStoreOptions = {}, streams = 7): Promise<TempStore> {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-ops-'));
  const live = join(dir, 'live');
  const storePath = join(live, 'daybook.db');
  const url = `sqlite:${storePath}`;
  const store = await openEventStore(url, options);
  let next = 0;
  return {
    dir, storePath, url, store,
    async fill(count, perAppend = 50) {
      for (let done = 0; done < count; done += perAppend) {
        const n = Math.min(perAppend, count - done);
        const stream = `acct-${next % streams}`;
        next += 1;
        await store.append({ streamId: stream, events: Array.from({ length: n }, (_, i) => ({ type: 'Counted', data: { n: done + i } })) });
      }
    },
    async cleanup() {
      await store.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
