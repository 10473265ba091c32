/**
 * The active list on disk (a real temp folder): stored and read back whole,
 * the same files giving the same version; a missing list is
 * sanctions_list_not_loaded; a file Daybook did not write is refused.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { FIXTURE_ALT_URL, FIXTURE_SDN_URL, fixtureSanctionsList } from './fixtures/fixtureList.ts';
import { readActiveSanctionsList, readSanctionsFiles, replaceActiveSanctionsList, SANCTIONS_LIST_FILE } from './sanctionsStore.ts';

let dataDir: string;
beforeEach(() => { dataDir = join(mkdtempSync(join(tmpdir(), 'daybook-sanctions-store-')), 'data'); });
afterEach(() => rmSync(join(dataDir, '..'), { recursive: true, force: true }));

const upload = () => readSanctionsFiles(fileURLToPath(FIXTURE_SDN_URL), fileURLToPath(FIXTURE_ALT_URL));

it('stores a list and reads it back whole, versioned by its files', () => {
  const stored = replaceActiveSanctionsList(dataDir, upload(), 1234);
  expect(stored.listVersion).toBe(upload().listVersion);
  expect(stored.listVersion).not.toBe(readSanctionsFiles(fileURLToPath(FIXTURE_SDN_URL)).listVersion);
  const read = readActiveSanctionsList(dataDir);
  expect(read).toMatchObject({ listVersion: stored.listVersion, loadedAtMs: 1234, sources: { sdn: 'sdn.csv', aliases: 'alt.csv' } });
  expect(read.entries).toEqual(fixtureSanctionsList().entries);
});

it('says when no list was loaded, and refuses a file it did not write', () => {
  expect(() => readActiveSanctionsList(dataDir)).toThrow(expect.objectContaining({ code: 'sanctions_list_not_loaded' }));
  replaceActiveSanctionsList(dataDir, upload(), 1);
  writeFileSync(join(dataDir, SANCTIONS_LIST_FILE), '{"entries": 3}');
  expect(() => readActiveSanctionsList(dataDir)).toThrow(expect.objectContaining({ code: 'sanctions_list_invalid' }));
});
