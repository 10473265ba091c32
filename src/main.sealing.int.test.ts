/**
 * The server seals the log by itself: with DAYBOOK_SEAL_EVERY_EVENTS=3, three
 * appended events get a seal (waited for, with a bound), signed by the key
 * made in the data folder, and the store then verifies, seal included; the
 * sealer stops with the server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadLocalTrustedKeys, SEAL_STREAM, verifyStoreAudit } from './audit/index.ts';
import { createLogger, loadConfig } from './edge/index.ts';
import { openEventStore } from './eventstore/open.ts';
import { type RunningServer, startServer } from './main.ts';

const WAIT_MS = 20_000;
let dataDir: string;
let server: RunningServer;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'daybook-sealing-'));
  const config = loadConfig({ DAYBOOK_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', DAYBOOK_SEAL_EVERY_EVENTS: '3', DAYBOOK_SEAL_EVERY_MS: '0' });
  server = await startServer(config, { logger: createLogger({ level: 'silent' }) });
});

afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('seals once enough events are unsealed, and the store verifies with the seal', async () => {
  expect(server.sealer).not.toBeNull();
  const sealedBefore = (await server.store.readStream(SEAL_STREAM)).length;
  for (let index = 0; index < 3; index += 1) await server.store.append({ streamId: 'sealing-1', events: [{ type: 'Touched', data: { index } }] });
  const deadline = Date.now() + WAIT_MS;
  while ((await server.store.readStream(SEAL_STREAM)).length === sealedBefore) {
    if (Date.now() > deadline) throw new Error(`no seal within ${WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await server.close();
  const store = await openEventStore(`sqlite:${join(dataDir, 'daybook.db')}`, { readOnly: true, migrate: false });
  try {
    const report = await verifyStoreAudit(store, loadLocalTrustedKeys(join(dataDir, 'keys')));
    expect(report).toMatchObject({ ok: true, firstBreak: null, seals: { firstBreak: null } });
    expect(report.seals.sealsChecked).toBeGreaterThan(sealedBefore);
  } finally {
    await store.close();
  }
});
