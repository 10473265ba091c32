import path from 'node:path';
import { openEventStore, type EventStore } from '../../src/index.ts';
import type { Backend, BenchContext } from '../support/bench.ts';

/** A Daybook store in a fresh temp folder (SQLite) or a fresh database (PostgreSQL). */
export interface FreshStore {
  store: EventStore;
  url: string;
  /** SQLite: the database file, for raw reads of the same rows. */
  sqlitePath: string | null;
  /** Closes the store (if still open) and removes its folder or database. */
  dispose(): Promise<void>;
}

export async function freshStore(ctx: BenchContext, backend: Backend, label: string): Promise<FreshStore> {
  if (backend === 'sqlite') {
    const dir = await ctx.tempDir(label);
    const sqlitePath = path.join(dir.path, 'daybook.db');
    const url = `sqlite:${sqlitePath}`;
    const store = await openEventStore(url).catch(async (error: unknown) => { await dir.remove(); throw error; });
    return { store, url, sqlitePath, dispose: async () => { await store.close().catch(() => {}); await dir.remove(); } };
  }
  const database = await ctx.postgres.database();
  const store = await openEventStore(database.url).catch(async (error: unknown) => { await database.drop(); throw error; });
  return { store, url: database.url, sqlitePath: null, dispose: async () => { await store.close().catch(() => {}); await database.drop(); } };
}

/** True for Daybook's optimistic-concurrency error. */
export function isVersionConflict(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'stream_version_conflict';
}
