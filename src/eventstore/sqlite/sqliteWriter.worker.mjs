// The SQLite writer thread. It owns the one write connection and commits the
// batches the main thread prepared (positions, versions and hashes already
// assigned), so the main thread prepares batch N+1 while batch N is fsynced.
// Plain JavaScript: worker threads load it without a TypeScript loader.
// The batch layout is documented in batchEncoding.ts.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.path, { timeout: 5000 });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma(`cache_size = ${-(workerData.pageCacheMb ?? 64) * 1024}`);
// Checkpoints run on their own thread (sqliteCheckpointer.worker.mjs), never inside a commit.
db.pragma('wal_autocheckpoint = 0');
// When the WAL starts again from the top, its file is cut back to this size (it stays at its largest otherwise).
db.pragma('journal_size_limit = 67108864');

const insert = db.prepare(
  'INSERT INTO events (position, event_id, stream_id, version, category, type, schema_version, data, metadata, recorded_at, hash, previous_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
);
const updateHead = db.prepare('UPDATE head SET position = ?, recorded_at = ? WHERE id = 1 AND position = ?');
const EMPTY = Buffer.alloc(0);

// After a failed batch, every batch prepared on top of it is refused until
// the main thread has reset its view of the store.
let poisoned = false;

const commit = db.transaction((buffer) => {
  const count = buffer.readUInt32LE(0);
  const firstPosition = buffer.readDoubleLE(4);
  let offset = 12;
  const readString = () => {
    const length = buffer.readUInt32LE(offset);
    const value = buffer.toString('utf8', offset + 4, offset + 4 + length);
    offset += 4 + length;
    return value;
  };
  let recordedAt = 0;
  for (let i = 0; i < count; i += 1) {
    const eventId = buffer.subarray(offset, offset + 16);
    const hash = buffer.subarray(offset + 16, offset + 48);
    const version = buffer.readDoubleLE(offset + 80);
    const previousHash = version === 1 ? EMPTY : buffer.subarray(offset + 48, offset + 80);
    recordedAt = buffer.readDoubleLE(offset + 88);
    const schemaVersion = buffer.readUInt16LE(offset + 96);
    offset += 98;
    const streamId = readString();
    const category = readString();
    const type = readString();
    const data = readString();
    const metadata = readString();
    insert.run(firstPosition + i, eventId, streamId, version, category, type, schemaVersion, data, metadata, recordedAt, hash, previousHash);
  }
  const moved = updateHead.run(firstPosition + count - 1, recordedAt, firstPosition - 1);
  if (moved.changes !== 1) throw new Error(`head is not at position ${firstPosition - 1}`);
});

parentPort.on('message', (message) => {
  if (message.kind === 'reset') { poisoned = false; return; }
  if (message.kind === 'close') { db.close(); parentPort.postMessage({ kind: 'closed' }); return; }
  if (poisoned) { parentPort.postMessage({ kind: 'failed', id: message.id, error: 'an earlier batch failed; batch refused' }); return; }
  const started = performance.now();
  try {
    commit(Buffer.from(message.batch));
    parentPort.postMessage({ kind: 'committed', id: message.id, durationMs: performance.now() - started });
  } catch (error) {
    poisoned = true;
    parentPort.postMessage({ kind: 'failed', id: message.id, error: String((error && error.message) || error) });
  }
});
parentPort.postMessage({ kind: 'ready' });
