/**
 * Replays shipped events (see logShipping.ts) onto a restored copy of the
 * embedded store, after its own head: rows are written exactly as shipped
 * (positions, versions, hashes), so the copy's chains continue the backup's,
 * which the restore's final verify proves.
 */
import Database from 'better-sqlite3';
import { categoryOf } from '../eventstore/index.ts';
import { uuidToBytes } from '../kernel/index.ts';
import { readShipped, type ShippedEvent } from './logShipping.ts';

const INSERT_CHUNK = 5000;

/** Appends the shipped events after the copy's head, up to `upTo` (null: all); resolves with how many and the new head. */
export async function applyShipped(storePath: string, dir: string, upTo: bigint | null): Promise<{ applied: number; head: bigint }> {
  const db = new Database(storePath, { fileMustExist: true });
  try {
    const head = BigInt((db.prepare('SELECT coalesce(max(position), 0) AS head FROM events').get() as { head: number }).head);
    const insert = db.prepare(
      'INSERT INTO events (position, event_id, stream_id, version, category, type, schema_version, data, metadata, recorded_at, hash, previous_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const setHead = db.prepare('UPDATE head SET position = ?, recorded_at = ? WHERE id = 1');
    const write = db.transaction((events: ShippedEvent[]) => {
      for (const event of events) {
        insert.run(BigInt(event.position), uuidToBytes(event.eventId), event.streamId, BigInt(event.version), categoryOf(event.streamId), event.type,
          event.schemaVersion, event.data, event.metadata, event.recordedAt, Buffer.from(event.hash, 'hex'), Buffer.from(event.previousHash, 'hex'));
      }
      const last = events[events.length - 1]!;
      setHead.run(BigInt(last.position), last.recordedAt);
    });
    let applied = 0;
    let last = head;
    let chunk: ShippedEvent[] = [];
    for await (const event of readShipped(dir, head, upTo)) {
      chunk.push(event);
      if (chunk.length === INSERT_CHUNK) {
        write(chunk);
        chunk = [];
      }
      applied += 1;
      last = BigInt(event.position);
    }
    if (chunk.length > 0) write(chunk);
    return { applied, head: last };
  } finally {
    db.close();
  }
}
