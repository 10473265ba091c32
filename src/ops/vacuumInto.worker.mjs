// Runs `VACUUM INTO` off the caller's event loop: one read transaction on a
// connection of its own (a consistent snapshot; in WAL mode it never blocks
// the writer), writing a compact copy of the whole database to `target`.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { source, target } = workerData;
let db;
try {
  db = new Database(source, { readonly: true, fileMustExist: true, timeout: 5000 });
  db.prepare('VACUUM INTO ?').run(target);
  parentPort.postMessage({ ok: true });
} catch (error) {
  parentPort.postMessage({ ok: false, message: error.message, code: error.code ?? null });
} finally {
  db?.close();
}
