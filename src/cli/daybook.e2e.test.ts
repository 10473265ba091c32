/**
 * The real `bin/daybook.js`, run as a child process from a folder outside the
 * project (it must work from any cwd): help, usage errors as one line with a
 * non-zero exit, migrate then verify on a fresh SQLite store, and verify
 * finding a row edited behind the store's back (exit 65, naming the stream);
 * migrate and verify on PostgreSQL too, never printing the password.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfPostgres, type TestDatabase } from '../../test/support/postgres.ts';
import { openEventStore } from '../eventstore/open.ts';

const BIN = fileURLToPath(new URL('../../bin/daybook.js', import.meta.url));
let dir: string;

function daybook(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, DAYBOOK_DATABASE_URL: '', DAYBOOK_DATA_DIR: join(dir, 'default-data'), ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-cli-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('help and usage errors', () => {
  it('prints help and exits 0', () => {
    const result = daybook(['--help']);
    expect(result.status).toBe(0);
    for (const command of ['serve', 'migrate', 'verify', 'bench', 'keys']) expect(result.stdout).toContain(command);
  });

  it.each(['serve', 'migrate', 'verify', 'bench', 'keys'])('has --help on %s', (command) => {
    const result = daybook([command, '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Usage: daybook ${command}`);
  });

  it('refuses an unknown command with one line and exit 64', () => {
    const result = daybook(['frobnicate']);
    expect(result.status).toBe(64);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining("unknown command 'frobnicate'")]);
  });

  it('refuses an unknown option with one line and exit 64', () => {
    const result = daybook(['verify', '--frobnicate']);
    expect(result.status).toBe(64);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining("unknown option '--frobnicate'")]);
  });

  it('refuses a bad --database-url with one line and exit 64', () => {
    const result = daybook(['migrate', '--database-url', 'mysql://localhost/x']);
    expect(result.status).toBe(64);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('--database-url');
  });

  it('refuses a bad environment variable with one line naming it and exit 78', () => {
    const result = daybook(['verify'], { DAYBOOK_DATABASE_URL: 'http://not-a-database' });
    expect(result.status).toBe(78);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining('DAYBOOK_DATABASE_URL')]);
  });
});

describe('migrate and verify on SQLite', () => {
  it('migrates a fresh store, then verifies it', () => {
    const url = `sqlite:${join(dir, 'fresh', 'daybook.db')}`;
    const migrated = daybook(['migrate', '--database-url', url]);
    expect(migrated.status).toBe(0);
    expect(migrated.stdout).toContain('0001_events.sql');
    const again = daybook(['migrate', '--database-url', url]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('up to date');
    const verified = daybook(['verify', '--database-url', url]);
    expect(verified.stderr).toBe('');
    expect(verified.status).toBe(0);
    expect(verified.stdout.trim().split('\n')[0]).toBe('ok: 0 events in 0 streams');
    expect(verified.stdout).not.toContain('unsealed');
  });

  it('finds the store from DAYBOOK_DATA_DIR when no url is given', () => {
    const dataDir = join(dir, 'from-env');
    expect(daybook(['migrate'], { DAYBOOK_DATA_DIR: dataDir }).status).toBe(0);
    expect(daybook(['verify'], { DAYBOOK_DATA_DIR: dataDir }).status).toBe(0);
  });

  it('says there is no store, with exit 69, instead of creating one', () => {
    const result = daybook(['verify', '--database-url', `sqlite:${join(dir, 'missing', 'daybook.db')}`]);
    expect(result.status).toBe(69);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining('no store at')]);
  });

  it('finds a tampered row: exit 65, naming the stream', async () => {
    const path = join(dir, 'tampered', 'daybook.db');
    const store = await openEventStore(`sqlite:${path}`);
    await store.append({ streamId: 'account-7', events: [{ type: 'AccountOpened', data: { x: 1 } }] });
    await store.append({ streamId: 'account-8', events: [{ type: 'AccountOpened', data: { x: 1 } }] });
    await store.close();
    const intact = daybook(['verify', '--database-url', `sqlite:${path}`]);
    expect(intact.status).toBe(0);
    expect(intact.stdout.trim().split('\n')[0]).toBe('ok: 2 events in 2 streams');
    expect(intact.stdout).toContain('unsealed tail: 2 events');

    const db = new Database(path);
    db.prepare(`UPDATE events SET data = '{"x":2}' WHERE position = 1`).run();
    db.close();

    const broken = daybook(['verify', '--database-url', `sqlite:${path}`]);
    expect(broken.status).toBe(65);
    expect(broken.stdout).toContain('stream account-7 at version 1');
    expect(broken.stdout).toContain('hash_mismatch');
    const json = daybook(['verify', '--database-url', `sqlite:${path}`, '--json']);
    expect(json.status).toBe(65);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, firstBreak: { streamId: 'account-7', version: '1', reason: 'hash_mismatch' } });
  });
});

describeIfPostgres('migrate and verify on PostgreSQL', () => {
  let db: TestDatabase;
  // A role of its own with a password, so that the url given to the CLI carries one (the harness's has none).
  const role = `daybook_cli_${randomBytes(6).toString('hex')}`;
  const password = `pw${randomBytes(12).toString('hex')}`;
  let url: URL;
  beforeAll(async () => {
    db = await createTestDatabase();
    url = new URL(db.url);
    await asAdmin(db.url, `CREATE ROLE ${role} LOGIN PASSWORD '${password}'; GRANT CREATE, CONNECT ON DATABASE ${url.pathname.slice(1)} TO ${role}`);
    url.username = role;
    url.password = password;
  });
  afterAll(async () => {
    // Its schema and grants first (only in this database), then the role, then the database.
    await asAdmin(db.url, `DROP OWNED BY ${role}; DROP ROLE ${role}`);
    await db.drop();
  });

  it('migrates, verifies, and prints the url without its password', () => {
    const migrated = daybook(['migrate', '--database-url', url.toString()]);
    expect(migrated.stderr).toBe('');
    expect(migrated.status).toBe(0);
    expect(migrated.stdout).toContain('0001_events.sql');
    expect(migrated.stdout).not.toContain(password);
    expect(migrated.stdout).toContain(`${role}@${url.host}`);
    const verified = daybook(['verify'], { DAYBOOK_DATABASE_URL: url.toString() });
    expect(verified.status).toBe(0);
    expect(verified.stdout.trim().split('\n')[0]).toBe('ok: 0 events in 0 streams');
    expect(verified.stdout).not.toContain('unsealed');
    expect(verified.stderr).not.toContain(password);
  });
});

async function asAdmin(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
