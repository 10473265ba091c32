import { resolve } from 'node:path';
import type { Clock } from '../kernel/clock.ts';
import { DaybookError } from '../kernel/errors.ts';
import { createEventStore, type EventStoreOptions } from './createEventStore.ts';
import type { EventStore } from './eventStore.ts';

export interface OpenEventStoreOptions extends EventStoreOptions {
  clock?: Clock;
  /** Apply pending migrations on open (default true). With false, a store with pending migrations is refused. */
  migrate?: boolean;
  /** SQLite only: open without the writer lock, for reading while another process writes. */
  readOnly?: boolean;
  /** PostgreSQL only: connections in the read pool (default 10). */
  poolSize?: number;
}

/**
 * The one entry point: `sqlite:<path>` (embedded, one writer process) or
 * `postgres://…` / `postgresql://…` (many processes).
 *
 * @example
 * const store = await openEventStore('sqlite:./data/daybook.db');
 * const store = await openEventStore('postgres://daybook@127.0.0.1:5432/daybook');
 */
export async function openEventStore(url: string, options: OpenEventStoreOptions = {}): Promise<EventStore> {
  if (typeof url !== 'string') throw new DaybookError('validation_failed', 'event store url must be a string', {}, 'url');
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path.length === 0 || path === ':memory:') throw new DaybookError('validation_failed', 'sqlite url needs a file path, e.g. sqlite:./data/daybook.db', {}, 'url');
    const { openSqliteEngine } = await import('./sqlite/sqliteEngine.ts');
    const engine = await openSqliteEngine({ path: resolve(path), clock: options.clock, readOnly: options.readOnly, migrate: options.migrate });
    return createEventStore(engine, options);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { openPostgresEngine } = await import('./postgres/postgresEngine.ts');
    const engine = await openPostgresEngine({ url, migrate: options.migrate, poolSize: options.poolSize });
    return createEventStore(engine, options);
  }
  throw new DaybookError('validation_failed', `unsupported event store url ${JSON.stringify(url.split(':')[0])}: use sqlite:<path> or postgres://…`, {}, 'url');
}
