import type { EventMetadata, RawEvent, RecordedEvent } from './eventStore.ts';
import type { Upcasters } from './upcasters.ts';

/** An event as a backend stores it: JSON kept as text, exactly as hashed (the port's RawEvent, which readRawLog hands out as it is). */
export type StoredRow = RawEvent;

/** Parses a stored row into the public envelope, upcasting its data when a newer schema is registered. */
export function toRecordedEvent(row: StoredRow, upcasters: Upcasters): RecordedEvent {
  const raw = JSON.parse(row.dataJson) as unknown;
  // Most events carry no metadata: skip the parse for the empty object.
  const metadata = (row.metadataJson === '{}' ? {} : JSON.parse(row.metadataJson)) as EventMetadata;
  const { data, schemaVersion } = upcasters.apply(row.type, row.schemaVersion, raw, metadata);
  return {
    eventId: row.eventId,
    streamId: row.streamId,
    version: row.version,
    position: row.position,
    type: row.type,
    schemaVersion,
    data,
    metadata,
    recordedAt: new Date(row.recordedAtMs),
    hash: row.hash,
    previousHash: row.previousHash,
  };
}
