// The SQLite writer thread. It owns the one write connection and commits the
// batches the main thread prepared (positions, versions and hashes already
// assigned), so the fsync of batch N overlaps the preparation of batch N+1.
// Plain JavaScript: worker threads load it without a TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.path, { timeout: 5000 });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');

const insert = db.prepare(
  'INSERT INTO events (position, event_id, stream_id, version, category, type, schema_version, data, metadata, recorded_at, hash, previous_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
);
const updateHead = db.prepare('UPDATE head SET position = ?, recorded_at = ? WHERE id = 1 AND position = ?');

const EMPTY = Buffer.alloc(0);
const asBuffer = (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

// After a failed batch every later batch was prepared on top of it, so all are
// refused until the main thread has reset its view of the store.
let poisoned = false;

const commit = db.transaction((batch) => {
  const { count, firstPosition, streamIds, versions, categories, types, schemaVersions, data, metadata, recordedAt } = batch;
  // Structured cloning delivers Uint8Arrays; the driver binds Buffers.
  const eventIds = asBuffer(batch.eventIds);
  const hashes = asBuffer(batch.hashes);
  const previousHashes = asBuffer(batch.previousHashes);
  for (let i = 0; i < count; i += 1) {
    insert.run(
      firstPosition + i, eventIds.subarray(i * 16, i * 16 + 16), streamIds[i], versions[i], categories[i], types[i],
      schemaVersions[i], data[i], metadata[i], recordedAt[i], hashes.subarray(i * 32, i * 32 + 32),
      versions[i] === 1 ? EMPTY : previousHashes.subarray(i * 32, i * 32 + 32),
    );
  }
  const moved = updateHead.run(firstPosition + count - 1, recordedAt[count - 1], firstPosition - 1);
  if (moved.changes !== 1) throw new Error(`head is not at position ${firstPosition - 1}`);
});

parentPort.on('message', (message) => {
  if (message.kind === 'reset') { poisoned = false; return; }
  if (message.kind === 'close') { db.close(); parentPort.postMessage({ kind: 'closed' }); return; }
  if (poisoned) { parentPort.postMessage({ kind: 'failed', id: message.id, error: 'an earlier batch failed; batch refused' }); return; }
  const started = performance.now();
  try {
    commit(message.batch);
    parentPort.postMessage({ kind: 'committed', id: message.id, durationMs: performance.now() - started });
  } catch (error) {
    poisoned = true;
    parentPort.postMessage({ kind: 'failed', id: message.id, error: String(error && error.message || error) });
  }
});
parentPort.postMessage({ kind: 'ready' });
