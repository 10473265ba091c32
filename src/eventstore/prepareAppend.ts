import { DaybookError } from '../kernel/errors.ts';
import { isUuid, newEventId } from '../kernel/ids.ts';
import { canonicalJson, toJsonText } from '../kernel/json.ts';
import {
  EVENT_BYTES_MAX, EVENT_TYPE_LENGTH_MAX, EVENT_TYPE_PATTERN, EVENTS_PER_APPEND_MAX,
  STREAM_ID_LENGTH_MAX, STREAM_ID_PATTERN, STREAMS_PER_APPEND_MAX,
} from '../kernel/limits.ts';
import type { AppendResult, ExpectedVersion, NewEvent, StreamWrite } from './eventStore.ts';
import type { StoredRow } from './storedRow.ts';

/** An event validated and serialized, ready for a backend. */
export interface PreparedEvent {
  eventId: string;
  /** Ids the caller chose may already exist (a retry); generated ones cannot. */
  callerSuppliedId: boolean;
  type: string;
  schemaVersion: number;
  dataJson: string;
  metadataJson: string;
}

export interface PreparedWrite {
  streamId: string;
  expected: ExpectedVersion;
  events: PreparedEvent[];
}

/** One append call, validated: all of it is written or none. */
export interface PreparedAppend {
  writes: PreparedWrite[];
  eventCount: number;
  hasCallerIds: boolean;
}

/**
 * Validates an append call in the documented order (shape, stream ids,
 * expected versions, event types, ids, sizes) and serializes its events.
 * Nothing reaches a backend unless all of it passes.
 */
export function prepareAppend(input: StreamWrite | readonly StreamWrite[]): PreparedAppend {
  const writes = Array.isArray(input) ? (input as readonly StreamWrite[]) : [input as StreamWrite];
  if (writes.length === 0) throw new DaybookError('validation_failed', 'append needs at least one stream write', {}, 'writes');
  if (writes.length > STREAMS_PER_APPEND_MAX) {
    throw new DaybookError('limit_exceeded', `append writes ${writes.length} streams; at most ${STREAMS_PER_APPEND_MAX} are allowed`, { limit: STREAMS_PER_APPEND_MAX });
  }
  const streamIds = new Set<string>();
  const eventIds = new Set<string>();
  let eventCount = 0;
  let hasCallerIds = false;
  const prepared: PreparedWrite[] = [];
  for (const write of writes) {
    if (typeof write !== 'object' || write === null) throw new DaybookError('validation_failed', 'each stream write must be an object', {}, 'writes');
    const streamId = checkStreamId(write.streamId);
    if (streamIds.has(streamId)) throw new DaybookError('validation_failed', `stream ${streamId} appears twice in one append`, { streamId }, 'streamId');
    streamIds.add(streamId);
    const expected = checkExpectedVersion(write.expectedVersion);
    if (!Array.isArray(write.events) || write.events.length === 0) {
      throw new DaybookError('validation_failed', `stream write ${streamId} needs at least one event`, { streamId }, 'events');
    }
    eventCount += write.events.length;
    if (eventCount > EVENTS_PER_APPEND_MAX) {
      throw new DaybookError('limit_exceeded', `append carries more than ${EVENTS_PER_APPEND_MAX} events`, { limit: EVENTS_PER_APPEND_MAX });
    }
    const events = write.events.map((event: NewEvent) => prepareEvent(event, eventIds));
    if (events.some((event) => event.callerSuppliedId)) hasCallerIds = true;
    prepared.push({ streamId, expected, events });
  }
  return { writes: prepared, eventCount, hasCallerIds };
}

/** A stream id as appends and batch reads accept it; `field` names the argument in the error. */
export function checkStreamId(streamId: unknown, field = 'streamId'): string {
  if (typeof streamId !== 'string' || streamId.length === 0) throw new DaybookError('validation_failed', 'streamId must be a non-empty string', {}, field);
  if (streamId.length > STREAM_ID_LENGTH_MAX) {
    throw new DaybookError('limit_exceeded', `streamId is ${streamId.length} characters; at most ${STREAM_ID_LENGTH_MAX} are allowed`, { limit: STREAM_ID_LENGTH_MAX }, field);
  }
  if (!STREAM_ID_PATTERN.test(streamId)) {
    throw new DaybookError('validation_failed', `streamId ${JSON.stringify(streamId)} may hold only letters, digits and _ . : @ -, starting with a letter or digit`, {}, field);
  }
  return streamId;
}

function checkExpectedVersion(expected: unknown): ExpectedVersion {
  if (expected === undefined) return 'any';
  if (expected === 'any' || expected === 'no_stream' || expected === 'exists') return expected;
  if (typeof expected === 'bigint' && expected >= 0n) return expected;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return BigInt(expected);
  throw new DaybookError('validation_failed', `expectedVersion must be 'any', 'no_stream', 'exists' or a non-negative integer, got ${String(expected)}`, {}, 'expectedVersion');
}

function prepareEvent(event: NewEvent, seenIds: Set<string>): PreparedEvent {
  if (typeof event !== 'object' || event === null) throw new DaybookError('validation_failed', 'each event must be an object', {}, 'events');
  const type = event.type;
  if (typeof type !== 'string' || type.length === 0 || !EVENT_TYPE_PATTERN.test(type)) {
    throw new DaybookError('validation_failed', `event type ${JSON.stringify(type)} must start with a letter and hold only letters, digits, _ and .`, {}, 'type');
  }
  if (type.length > EVENT_TYPE_LENGTH_MAX) throw new DaybookError('limit_exceeded', `event type is longer than ${EVENT_TYPE_LENGTH_MAX} characters`, { limit: EVENT_TYPE_LENGTH_MAX }, 'type');
  const schemaVersion = event.schemaVersion ?? 1;
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > 65_535) {
    throw new DaybookError('validation_failed', 'schemaVersion must be an integer from 1 to 65535', {}, 'schemaVersion');
  }
  const callerSuppliedId = event.id !== undefined;
  if (callerSuppliedId && !isUuid(event.id)) throw new DaybookError('validation_failed', `event id ${JSON.stringify(event.id)} is not a UUID`, {}, 'id');
  const eventId = callerSuppliedId ? (event.id as string).toLowerCase() : newEventId();
  if (seenIds.has(eventId)) throw new DaybookError('validation_failed', `event id ${eventId} appears twice in one append`, { eventId }, 'id');
  seenIds.add(eventId);
  const dataJson = toJsonText(event.data === undefined ? null : event.data, 'data');
  const metadata = event.metadata ?? {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new DaybookError('validation_failed', 'metadata must be an object', {}, 'metadata');
  const metadataJson = toJsonText(metadata, 'metadata');
  checkSize(dataJson, metadataJson);
  return { eventId, callerSuppliedId, type, schemaVersion, dataJson, metadataJson };
}

function checkSize(dataJson: string, metadataJson: string): void {
  const chars = dataJson.length + metadataJson.length;
  // A UTF-16 unit is at most 3 UTF-8 bytes, so short texts skip the exact count.
  if (chars * 3 <= EVENT_BYTES_MAX) return;
  const bytes = Buffer.byteLength(dataJson) + Buffer.byteLength(metadataJson);
  if (bytes > EVENT_BYTES_MAX) {
    throw new DaybookError('limit_exceeded', `event is ${bytes} bytes; at most ${EVENT_BYTES_MAX} are allowed`, { limit: EVENT_BYTES_MAX, bytes }, 'data');
  }
}

/** The first result of an append whose events already exist, rebuilt from the stored rows (in append order). */
export function duplicateOutcome(append: PreparedAppend, stored: ReadonlyMap<string, StoredRow>): AppendResult | DaybookError {
  const events: AppendResult['events'] = [];
  const streams: AppendResult['streams'] = [];
  let position = 0n;
  for (const write of append.writes) {
    let version = 0n;
    for (const event of write.events) {
      const row = stored.get(event.eventId);
      if (!row) {
        return new DaybookError('event_id_conflict', `append mixes existing event ids with new ones (event ${event.eventId} is new); retry with exactly the first call's events`, { eventId: event.eventId });
      }
      if (!sameContent(row, write.streamId, event)) {
        return new DaybookError('event_id_conflict', `event id ${event.eventId} already exists with different content (stream ${row.streamId}, type ${row.type})`, { eventId: event.eventId, streamId: row.streamId });
      }
      events.push({ eventId: row.eventId, streamId: row.streamId, version: row.version, position: row.position });
      if (row.version > version) version = row.version;
      if (row.position > position) position = row.position;
    }
    streams.push({ streamId: write.streamId, version });
  }
  return { position, streams, events, duplicate: true };
}

/** Same content: same stream, type, schema version and data (key order aside). Metadata may differ between retries. */
export function sameContent(row: StoredRow, streamId: string, event: PreparedEvent): boolean {
  if (row.streamId !== streamId || row.type !== event.type || row.schemaVersion !== event.schemaVersion) return false;
  if (row.dataJson === event.dataJson) return true;
  return canonicalJson(JSON.parse(row.dataJson)) === canonicalJson(JSON.parse(event.dataJson));
}

/** The typed conflict for a failed expectation. */
export function versionConflict(streamId: string, expected: ExpectedVersion, actual: bigint): DaybookError {
  return new DaybookError(
    'stream_version_conflict',
    `stream ${streamId}: expected version ${String(expected)}, actual ${actual}`,
    { streamId, expected: String(expected), actual: actual.toString() },
  );
}

/** True when a stream at `actual` (0n = absent) meets the expectation. */
export function meetsExpectation(expected: ExpectedVersion, actual: bigint): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === 0n;
  if (expected === 'exists') return actual > 0n;
  return expected === actual;
}
