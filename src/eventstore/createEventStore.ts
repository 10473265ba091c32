import { DaybookError } from '../kernel/errors.ts';
import { isUuid } from '../kernel/ids.ts';
import { toJsonText } from '../kernel/json.ts';
import { KeyedLocks } from '../kernel/keyedLocks.ts';
import { READ_BATCH_MAX, READ_PAGE_SIZE, STREAM_ID_LENGTH_MAX } from '../kernel/limits.ts';
import type {
  EventStore, ListStreamsOptions, ReadAllOptions, ReadRawLogOptions, ReadStreamOptions, RecordedEvent, Snapshot, SnapshotText, StreamWrite, SubscribeOptions, Subscription,
} from './eventStore.ts';
import { checkStreamId, prepareAppend } from './prepareAppend.ts';
import type { LogQuery, StorageEngine } from './storageEngine.ts';
import { toRecordedEvent } from './storedRow.ts';
import { createSubscription } from './subscription.ts';
import { createUpcasters, type Upcaster } from './upcasters.ts';
import { verifyChains } from './verify.ts';

export interface EventStoreOptions {
  upcasters?: readonly Upcaster[];
  /** Fallback poll interval of live subscriptions, in ms (they are woken on commit first). */
  subscriptionPollMs?: number;
}

/** Builds the public port over a backend's engine: validation, upcasting, paging, subscriptions and verify are shared. */
export function createEventStore(engine: StorageEngine, options: EventStoreOptions = {}): EventStore {
  const upcasters = createUpcasters(options.upcasters);
  const locks = new KeyedLocks();
  let closed = false;
  const ensureOpen = (): void => {
    if (closed) throw new DaybookError('store_closed', 'the event store is closed');
  };

  const resolveAsOf = async (asOfPosition?: bigint, asOfTime?: Date): Promise<bigint | null> => {
    let bound: bigint | null = asOfPosition ?? null;
    if (asOfTime !== undefined) {
      if (!(asOfTime instanceof Date) || Number.isNaN(asOfTime.getTime())) throw new DaybookError('validation_failed', 'asOfTime must be a valid Date', {}, 'asOfTime');
      const atTime = await positionAtTime(engine, asOfTime.getTime());
      bound = bound === null || atTime < bound ? atTime : bound;
    }
    return bound;
  };

  /** `after`, or later: the last position recorded before `sinceTime`. */
  const resolveAfter = async (after: bigint, sinceTime?: Date): Promise<bigint> => {
    if (sinceTime === undefined) return after;
    if (!(sinceTime instanceof Date) || Number.isNaN(sinceTime.getTime())) throw new DaybookError('validation_failed', 'sinceTime must be a valid Date', {}, 'sinceTime');
    const before = await positionAtTime(engine, sinceTime.getTime() - 1);
    return before > after ? before : after;
  };

  const logQuery = async (options: ReadAllOptions, limit: number): Promise<LogQuery> => ({
    after: await resolveAfter(checkPosition(options.after ?? 0n, 'after'), options.sinceTime),
    category: options.category ?? null,
    types: options.types && options.types.length > 0 ? options.types : null,
    limit,
    maxPosition: await resolveAsOf(options.asOfPosition, options.asOfTime),
  });

  return {
    backend: engine.backend,
    async append(writes: StreamWrite | readonly StreamWrite[]) {
      ensureOpen();
      return engine.append(prepareAppend(writes));
    },
    async readStream(streamId: string, readOptions: ReadStreamOptions = {}) {
      ensureOpen();
      const rows = await engine.readStreamRows(streamId, {
        direction: readOptions.direction ?? 'forwards',
        fromVersion: readOptions.fromVersion ?? null,
        limit: checkLimit(readOptions.limit ?? READ_BATCH_MAX),
        maxPosition: await resolveAsOf(readOptions.asOfPosition, readOptions.asOfTime),
      });
      return rows.map((row) => toRecordedEvent(row, upcasters));
    },
    async readAll(readOptions: ReadAllOptions = {}) {
      ensureOpen();
      const rows = await engine.readAllRows(await logQuery(readOptions, checkLimit(readOptions.limit ?? READ_PAGE_SIZE)));
      return rows.map((row) => toRecordedEvent(row, upcasters));
    },
    async readEventsById(eventIds: readonly string[]) {
      ensureOpen();
      if (!Array.isArray(eventIds)) throw new DaybookError('validation_failed', 'eventIds must be an array of UUIDs', {}, 'eventIds');
      if (eventIds.length > READ_BATCH_MAX) {
        throw new DaybookError('limit_exceeded', `at most ${READ_BATCH_MAX} event ids per lookup, got ${eventIds.length}`, { limit: READ_BATCH_MAX }, 'eventIds');
      }
      const ids = [...new Set(eventIds.map((id) => (isUuid(id) ? id.toLowerCase() : badEventId(id))))];
      if (ids.length === 0) return [];
      return (await engine.readRowsByEventIds(ids)).map((row) => toRecordedEvent(row, upcasters));
    },
    async readFirstEvents(streamIds: readonly string[]) {
      ensureOpen();
      if (!Array.isArray(streamIds)) throw new DaybookError('validation_failed', 'streamIds must be an array of stream ids', {}, 'streamIds');
      if (streamIds.length > READ_BATCH_MAX) {
        throw new DaybookError('limit_exceeded', `at most ${READ_BATCH_MAX} stream ids per lookup, got ${streamIds.length}`, { limit: READ_BATCH_MAX }, 'streamIds');
      }
      const ids = [...new Set(streamIds.map((id) => checkStreamId(id, 'streamIds')))];
      const found = new Map<string, RecordedEvent>();
      if (ids.length === 0) return found;
      for (const row of await engine.readFirstRows(ids)) found.set(row.streamId, toRecordedEvent(row, upcasters));
      return found;
    },
    async readRawLog(readOptions: ReadRawLogOptions = {}) {
      ensureOpen();
      const query = await logQuery({ after: readOptions.after, asOfPosition: readOptions.asOfPosition, category: readOptions.category }, checkLimit(readOptions.limit ?? READ_PAGE_SIZE));
      return engine.readAllRows(query);
    },
    async *streamAll(readOptions: Omit<ReadAllOptions, 'limit'> = {}): AsyncGenerator<RecordedEvent> {
      ensureOpen();
      const query = await logQuery(readOptions, READ_PAGE_SIZE);
      for (;;) {
        const rows = await engine.readAllRows(query);
        for (const row of rows) yield toRecordedEvent(row, upcasters);
        if (rows.length < query.limit) return;
        query.after = rows[rows.length - 1]!.position;
      }
    },
    subscribe(subscribeOptions: SubscribeOptions = {}): Subscription {
      ensureOpen();
      return createSubscription(engine, upcasters, subscribeOptions, options.subscriptionPollMs ?? 500);
    },
    headPosition: async () => { ensureOpen(); return engine.headPosition(); },
    streamVersion: async (streamId) => { ensureOpen(); return engine.streamVersion(streamId); },
    async listStreams(listOptions: ListStreamsOptions) {
      ensureOpen();
      const { category, after } = listOptions;
      if (typeof category !== 'string' || category.length === 0 || category.includes('-') || category.length > STREAM_ID_LENGTH_MAX) {
        throw new DaybookError('validation_failed', 'category must be a non-empty stream id prefix without "-"', {}, 'category');
      }
      if (after !== undefined && typeof after !== 'string') throw new DaybookError('validation_failed', 'after must be a stream id', {}, 'after');
      return engine.listStreams(category, after ?? null, checkLimit(listOptions.limit ?? READ_PAGE_SIZE));
    },
    verify: async () => { ensureOpen(); return verifyChains(engine); },
    async lock<T>(name: string, run: () => Promise<T>): Promise<T> {
      ensureOpen();
      if (typeof name !== 'string' || name.length === 0 || name.length > LOCK_NAME_LENGTH_MAX) {
        throw new DaybookError('validation_failed', `a lock name is 1 to ${LOCK_NAME_LENGTH_MAX} characters`, {}, 'name');
      }
      // In this process first, so that it never waits on the database for a lock it already holds for another caller.
      return locks.run(name, engine.crossProcessLock === undefined ? run : () => engine.crossProcessLock!(name, run));
    },
    async saveSnapshot(snapshot: Snapshot | SnapshotText) {
      ensureOpen();
      if (!Number.isInteger(snapshot.schemaVersion) || snapshot.schemaVersion < 1) throw new DaybookError('validation_failed', 'snapshot schemaVersion must be a positive integer', {}, 'schemaVersion');
      if (typeof snapshot.version !== 'bigint' || snapshot.version < 1n) throw new DaybookError('validation_failed', 'snapshot version must be a positive bigint', {}, 'version');
      let stateJson: string;
      if ('stateJson' in snapshot) {
        if (typeof snapshot.stateJson !== 'string' || snapshot.stateJson.length === 0) throw new DaybookError('validation_failed', 'snapshot stateJson must be JSON text', {}, 'stateJson');
        stateJson = snapshot.stateJson;
      } else {
        stateJson = toJsonText(snapshot.state, 'state');
      }
      await engine.saveSnapshot({ streamId: snapshot.streamId, version: snapshot.version, schemaVersion: snapshot.schemaVersion, stateJson });
    },
    async loadSnapshotText(streamId: string, schemaVersion: number) {
      ensureOpen();
      const found = await engine.loadSnapshot(streamId, schemaVersion);
      return found === null ? null : { streamId, version: found.version, schemaVersion, stateJson: found.stateJson };
    },
    async loadSnapshot<State>(streamId: string, schemaVersion: number) {
      ensureOpen();
      const found = await engine.loadSnapshot(streamId, schemaVersion);
      if (!found) return null;
      let state: State;
      try {
        state = JSON.parse(found.stateJson) as State;
      } catch {
        throw new DaybookError('integrity_violation', `the snapshot of ${streamId} (schema version ${schemaVersion}) is not JSON`, { streamId });
      }
      return { streamId, version: found.version, schemaVersion, state };
    },
    onAppended: (listener) => engine.onBatch(listener),
    async close() {
      if (closed) return;
      closed = true;
      await engine.close();
    },
  };
}

const LOCK_NAME_LENGTH_MAX = 500;

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1) throw new DaybookError('validation_failed', 'limit must be a positive integer', {}, 'limit');
  if (limit > READ_BATCH_MAX) throw new DaybookError('limit_exceeded', `limit ${limit} is over the maximum of ${READ_BATCH_MAX}`, { limit: READ_BATCH_MAX }, 'limit');
  return limit;
}

function checkPosition(position: bigint, field: string): bigint {
  if (typeof position !== 'bigint' || position < 0n) throw new DaybookError('validation_failed', `${field} must be a non-negative bigint`, {}, field);
  return position;
}

/**
 * The last position recorded at or before a time. Recorded-at times never
 * decrease along the log (each backend clamps them), so a binary search over
 * positions finds it without an index on time.
 */
async function positionAtTime(engine: StorageEngine, timeMs: number): Promise<bigint> {
  let low = 0n;
  let high = await engine.headPosition();
  while (low < high) {
    const middle = (low + high + 1n) / 2n;
    const recordedAt = await engine.recordedAtOf(middle);
    if (recordedAt !== null && recordedAt <= timeMs) low = middle;
    else high = middle - 1n;
  }
  return low;
}

function badEventId(id: unknown): never {
  throw new DaybookError('validation_failed', `event id ${JSON.stringify(String(id)).slice(0, 60)} is not a UUID`, {}, 'eventIds');
}
