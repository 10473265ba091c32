/**
 * What the server leaves on disk on first start: the data folder is the
 * owner's alone (0700), and so is every file in it (0600): the event store
 * and its -wal and -shm files, its writer lock, and the API key pepper; the
 * key folder the sealer makes (0700) and its keys (0600).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger, loadConfig } from './edge/index.ts';
import { type RunningServer, startServer } from './main.ts';

let parent: string;
let dataDir: string;
let server: RunningServer;

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

beforeAll(async () => {
  parent = mkdtempSync(join(tmpdir(), 'daybook-files-'));
  dataDir = join(parent, 'data', 'daybook');
  const config = loadConfig({ DAYBOOK_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent' });
  server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
  // A write, so the WAL surely holds something.
  await server.store.append({ streamId: 'files-1', events: [{ type: 'Touched', data: {} }] });
});

afterAll(async () => {
  await server?.close();
  rmSync(parent, { recursive: true, force: true });
});

it('makes the data folder, and the folders above it it had to make, 0700', () => {
  expect(modeOf(dataDir)).toBe('700');
  expect(modeOf(join(parent, 'data'))).toBe('700');
});

it('makes every file in the data folder 0600: the store, its -wal and -shm, its lock, the pepper', () => {
  const names = readdirSync(dataDir).sort();
  expect(names).toEqual(expect.arrayContaining(['api-key-pepper', 'daybook.db', 'daybook.db-shm', 'daybook.db-wal', 'daybook.db.lock']));
  for (const name of names.filter((file) => file !== 'keys')) expect({ name, mode: modeOf(join(dataDir, name)) }).toEqual({ name, mode: '600' });
});

it('makes the seal key folder 0700 and its keys 0600', () => {
  const keysDir = join(dataDir, 'keys');
  expect(modeOf(keysDir)).toBe('700');
  const names = readdirSync(keysDir).sort();
  expect(names).toEqual(expect.arrayContaining(['current-seal-key', 'master.key']));
  for (const name of names) expect({ name, mode: modeOf(join(keysDir, name)) }).toEqual({ name, mode: '600' });
});
