/**
 * `daybook sanctions load` and `screen` through the real bin/daybook.js:
 * screening before any list says so (exit 69); loading the fixture list
 * stores it in the data folder and screening finds its names; a malformed
 * file is refused with its line (exit 65) and leaves the old list byte for
 * byte, no temporary file behind; a good new list replaces the old one; a
 * missing file is a usage error.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDaybookSync } from '../../../test/support/daybookProcess.ts';
import { FIXTURE_ALT_URL, FIXTURE_SDN_URL } from '../../compliance/sanctions/fixtures/fixtureList.ts';

let dir: string;
let dataDir: string;

function daybook(args: string[]) {
  return runDaybookSync(args, { cwd: dir, env: { DAYBOOK_DATABASE_URL: '', DAYBOOK_DATA_DIR: dataDir } });
}

const listFile = () => join(dataDir, 'sanctions-list.json');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-sanctions-'));
  dataDir = join(dir, 'data');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('daybook sanctions', () => {
  it('says no list is loaded before the first load', () => {
    const result = daybook(['sanctions', 'screen', 'Boris Fakename']);
    expect(result.status).toBe(69);
    expect(result.stderr).toContain('no sanctions list');
  });

  it('loads the fixture list and screens names against it', () => {
    const loaded = daybook(['sanctions', 'load', fileURLToPath(FIXTURE_SDN_URL), '--aliases', fileURLToPath(FIXTURE_ALT_URL), '--json']);
    expect(loaded.stderr).toBe('');
    expect(loaded.status).toBe(0);
    expect(JSON.parse(loaded.stdout)).toMatchObject({ entries: 30, aliases: 13, sources: { sdn: 'sdn.csv', aliases: 'alt.csv' } });
    expect(statSync(listFile()).mode & 0o777).toBe(0o600);

    const screened = daybook(['sanctions', 'screen', 'Дмитрий Ксилофонов', '--json']);
    expect(screened.status).toBe(0);
    expect(JSON.parse(screened.stdout).hits[0]).toMatchObject({ entNum: 9011, matchedOn: 'alias' });
    expect(daybook(['sanctions', 'screen', 'John Smith']).stdout).toMatch(/^no hits/);
  });

  it('refuses a malformed file with its line and keeps the old list', () => {
    const before = readFileSync(listFile());
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, `${readFileSync(FIXTURE_SDN_URL, 'utf8').split('\n').slice(0, 4).join('\n')}\n9999,"BROKEN, Row",individual\n`);
    const result = daybook(['sanctions', 'load', bad]);
    expect(result.status).toBe(65);
    expect(result.stderr.trim()).toBe('daybook: bad.csv, line 5: expected 12 fields, got 3 (sanctions_list_invalid)');
    expect(readFileSync(listFile()).equals(before)).toBe(true);
    expect(readdirSync(dataDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(JSON.parse(daybook(['sanctions', 'screen', 'Boris Fakename', '--json']).stdout).hits[0]).toMatchObject({ entNum: 9001 });
  });

  it('replaces the list with a good new one', () => {
    const next = join(dir, 'next.csv');
    writeFileSync(next, '1,"NEWLYLISTED, Quentin",individual,"DEMO",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n');
    expect(daybook(['sanctions', 'load', next]).stdout).toMatch(/^loaded sanctions list [0-9a-f]{16}: 1 entries, 0 aliases/);
    expect(JSON.parse(daybook(['sanctions', 'screen', 'Quentin Newlylisted', '--json']).stdout).hits).toMatchObject([{ entNum: 1 }]);
    expect(JSON.parse(daybook(['sanctions', 'screen', 'Boris Fakename', '--json']).stdout).hits).toEqual([]);
  });

  it('refuses a missing file and a bad threshold as usage errors', () => {
    expect(daybook(['sanctions', 'load', join(dir, 'nope.csv')])).toMatchObject({ status: 64, stderr: expect.stringContaining('no such file') });
    expect(daybook(['sanctions', 'screen', 'x', '--threshold', '2']).status).toBe(64);
  });
});
