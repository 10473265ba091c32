import { hash } from 'node:crypto';

/** The fields of a stored event that its hash covers. */
export interface HashedFields {
  eventId: string;
  streamId: string;
  version: bigint | number;
  position: bigint | number;
  type: string;
  schemaVersion: number;
  recordedAtMs: number;
  dataJson: string;
  metadataJson: string;
  previousHash: string;
}

/**
 * The canonical envelope: one line per field, in a fixed order, as UTF-8.
 * No field can hold a raw newline (ids and types are restricted, JSON escapes
 * its newlines), so the encoding is unambiguous. The PostgreSQL backend
 * computes the same text in SQL (`daybook_canonical` in its migration); the
 * conformance suite's verify tests keep the two in step.
 */
export function canonicalEnvelope(fields: HashedFields): string {
  return `daybook.v1\n${fields.eventId}\n${fields.streamId}\n${fields.version}\n${fields.position}\n${fields.type}\n${fields.schemaVersion}\n${fields.recordedAtMs}\n${fields.dataJson}\n${fields.metadataJson}\n${fields.previousHash}`;
}

/** Hex SHA-256 of the canonical envelope. */
export function eventHash(fields: HashedFields): string {
  return hash('sha256', canonicalEnvelope(fields), 'hex');
}

/** Raw SHA-256 bytes of the canonical envelope. */
export function eventHashBytes(fields: HashedFields): Buffer {
  // One-shot `hash` (no Hash object per event): every appended event is hashed on the main thread.
  return hash('sha256', canonicalEnvelope(fields), 'buffer');
}
