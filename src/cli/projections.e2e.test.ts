/**
 * The projection commands of the real `bin/daybook.js` (`dlq`, `rebuild`,
 * `state-at`, `replay`), run as child processes against a temp SQLite store:
 * help, usage errors as one line with exit 64, an unknown projection named
 * clearly, state-at printing a stream's events as JSON, and dlq list on a
 * store without dead letters printing nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventStore } from '../eventstore/open.ts';

const BIN = fileURLToPath(new URL('../../bin/daybook.js', import.meta.url));
let dir: string;
let url: string;

function daybook(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    // The default store (sqlite:$DAYBOOK_DATA_DIR/daybook.db) is the test's: DAYBOOK_DATABASE_URL takes PostgreSQL only.
    env: { ...process.env, DAYBOOK_DATABASE_URL: '', DAYBOOK_DATA_DIR: dir },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const oneLine = (text: string): string[] => text.trim().split('\n');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-cli-projections-'));
  url = `sqlite:${join(dir, 'daybook.db')}`;
  const store = await openEventStore(url);
  try {
    await store.append({ streamId: 'acct-1', events: [{ type: 'Opened', data: { owner: 'ada' } }, { type: 'Deposited', data: { amount: 500 } }] });
    await store.append({ streamId: 'acct-2', events: [{ type: 'Opened', data: { owner: 'bob' } }] });
    await store.append({ streamId: 'acct-1', events: [{ type: 'Withdrawn', data: { amount: 200 } }] });
  } finally {
    await store.close();
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('help', () => {
  it('lists the projection commands', () => {
    const result = daybook(['--help']);
    expect(result.status).toBe(0);
    for (const command of ['dlq', 'rebuild', 'state-at', 'replay']) expect(result.stdout).toContain(command);
  });

  it.each([['dlq'], ['dlq', 'list'], ['dlq', 'retry'], ['dlq', 'skip'], ['rebuild'], ['state-at'], ['replay']])('has --help on %s', (...command) => {
    const result = daybook([...command, '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Usage: daybook ${command.join(' ')}`);
  });
});

describe('unknown projection', () => {
  it('rebuild names it in one line and exits 64', () => {
    const result = daybook(['rebuild', 'no_such_projection']);
    expect(result.status).toBe(64);
    expect(oneLine(result.stderr)).toEqual([expect.stringMatching(/no projection named "no_such_projection".*projection_not_found/)]);
  });

  it('replay names it in one line and exits 64', () => {
    const result = daybook(['replay', '--projection', 'no_such_projection', '--to', '2']);
    expect(result.status).toBe(64);
    expect(oneLine(result.stderr)).toEqual([expect.stringContaining('no projection named "no_such_projection"')]);
  });
});

describe('state-at', () => {
  it('prints the stream up to a position as JSON', () => {
    const result = daybook(['state-at', 'acct-1', '--position', '3']);
    expect(result.status).toBe(0);
    const state = JSON.parse(result.stdout) as { streamId: string; version: string; position: string; state: Array<{ type: string; data: unknown; position: string }> };
    expect(state).toMatchObject({ streamId: 'acct-1', version: '2', position: '2' });
    expect(state.state.map((event) => [event.type, event.data])).toEqual([['Opened', { owner: 'ada' }], ['Deposited', { amount: 500 }]]);
  });

  it('prints the whole stream as of now, and nothing before the first event', () => {
    const now = daybook(['state-at', 'acct-1', '--time', new Date(Date.now() + 60_000).toISOString()]);
    expect(now.status).toBe(0);
    expect((JSON.parse(now.stdout) as { state: Array<{ type: string }> }).state.map((event) => event.type)).toEqual(['Opened', 'Deposited', 'Withdrawn']);
    const before = daybook(['state-at', 'acct-1', '--time', '2000-01-01T00:00:00Z']);
    expect(before.status).toBe(0);
    expect(JSON.parse(before.stdout)).toEqual({ streamId: 'acct-1', version: '0', position: '0', state: [] });
  });

  it.each([
    [['state-at', 'acct-1'], 'exactly one of --position'],
    [['state-at', 'acct-1', '--position', '1', '--time', '2025-01-01T00:00:00Z'], 'exactly one of --position'],
    [['state-at', 'acct-1', '--position', '-4'], 'non-negative integer'],
    [['state-at', 'acct-1', '--time', 'yesterday'], 'ISO 8601'],
  ])('refuses %j with one line and exit 64', (args, message) => {
    const result = daybook(args);
    expect(result.status).toBe(64);
    expect(oneLine(result.stderr)).toEqual([expect.stringContaining(message)]);
  });

  it('refuses a store that does not exist (exit 69)', () => {
    const result = daybook(['state-at', 'acct-1', '--position', '1', '--database-url', `sqlite:${join(dir, 'missing.db')}`]);
    expect(result.status).toBe(69);
    expect(oneLine(result.stderr)).toEqual([expect.stringContaining('no store at')]);
  });
});

describe('dlq', () => {
  it('list prints nothing and exits 0 when there are no dead letters', () => {
    const result = daybook(['dlq', 'list']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
  });

  it('retry and skip of an unknown id say so in one line (exit 65)', () => {
    for (const action of ['retry', 'skip']) {
      const result = daybook(['dlq', action, '42']);
      expect(result.status).toBe(65);
      expect(oneLine(result.stderr)).toEqual([expect.stringContaining('no dead letter 42')]);
    }
  });

  it('refuses a malformed id as a usage error (exit 64)', () => {
    const result = daybook(['dlq', 'skip', 'abc']);
    expect(result.status).toBe(64);
    expect(oneLine(result.stderr)).toEqual([expect.stringContaining('positive integer')]);
  });

  it('refuses an unknown status (exit 64)', () => {
    const result = daybook(['dlq', 'list', '--status', 'lost']);
    expect(result.status).toBe(64);
    expect(oneLine(result.stderr)).toHaveLength(1);
  });
});
