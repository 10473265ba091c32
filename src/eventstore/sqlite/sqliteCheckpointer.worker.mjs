// The SQLite checkpointer thread. The writer thread runs with automatic
// checkpoints off, so that copying WAL pages into the database file (and its
// fsync) never stalls a commit; this thread does it instead, PASSIVE (it never
// blocks the writer or readers), whenever the WAL has grown. It also writes
// snapshots (a cache beside the log, possibly tens of megabytes), so that
// their write never holds up the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.path, { timeout: 5000 });
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
const intervalMs = workerData.intervalMs ?? 100;
// Frames in the WAL past which a checkpoint also restarts it. The writer starts
// the WAL from the top only if, when it begins a transaction, every frame is
// already copied; under a steady load that moment never comes (its last commit
// is always newer than the last checkpoint), and the WAL grew by 1 GB a minute
// (measured at 32K appends/s). RESTART makes the next commit start from the
// top; it waits for the writer's current commit, a few milliseconds.
const restartFrames = workerData.restartFrames ?? 16384;

let stopped = false;
const timer = setInterval(() => {
  if (stopped) return;
  try {
    const [state] = db.pragma('wal_checkpoint(PASSIVE)');
    if (state && state.busy === 0 && state.log >= restartFrames) db.pragma('wal_checkpoint(RESTART)');
  } catch {
    // A busy database is retried on the next tick.
  }
}, intervalMs);

const saveSnapshot = db.prepare(
  `INSERT INTO snapshots (stream_id, schema_version, version, state, saved_at) VALUES (?, ?, ?, ?, ?)
   ON CONFLICT (stream_id, schema_version) DO UPDATE SET version = excluded.version, state = excluded.state, saved_at = excluded.saved_at
   WHERE excluded.version >= snapshots.version`,
);

parentPort.on('message', (message) => {
  if (message.kind === 'snapshot') {
    try {
      saveSnapshot.run(message.streamId, message.schemaVersion, message.version, message.state, message.savedAt);
      parentPort.postMessage({ kind: 'snapshot-saved', id: message.id });
    } catch (error) {
      parentPort.postMessage({ kind: 'snapshot-failed', id: message.id, error: String((error && error.message) || error) });
    }
    return;
  }
  if (message.kind !== 'close') return;
  stopped = true;
  clearInterval(timer);
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* best effort */ }
  db.close();
  parentPort.postMessage({ kind: 'closed' });
});
parentPort.postMessage({ kind: 'ready' });
