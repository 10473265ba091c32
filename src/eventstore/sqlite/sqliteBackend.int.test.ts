/**
 * SQLite-only promises, beside the backend (STYLE.md §3): WAL with
 * synchronous=FULL, one writer process per data folder, read-only opens
 * beside a writer, and reopening where the log left off.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newEventId } from '../../kernel/ids.ts';
import { event, events, everything, failure, within } from '../conformance/harness.ts';
import type { EventStore } from '../eventStore.ts';
import { openEventStore } from '../open.ts';

const OPEN_MODULE = pathToFileURL(fileURLToPath(new URL('../open.ts', import.meta.url))).href;
const CHILD_BOUND_MS = 20_000;

/** A script a child process runs: opens the store for writing, appends `count` events, reports, then holds the store until killed. */
const CHILD_SCRIPT = `
import { openEventStore } from ${JSON.stringify(OPEN_MODULE)};
const [url, count] = process.argv.slice(2);
try {
  const store = await openEventStore(url);
  if (Number(count) > 0) await store.append({ streamId: 'child-1', events: Array.from({ length: Number(count) }, (_, n) => ({ type: 'ChildWrote', data: { n } })) });
  console.log(JSON.stringify({ opened: true, head: String(await store.headPosition()) }));
  setInterval(() => {}, 1 << 30);
} catch (error) {
  console.log(JSON.stringify({ opened: false, code: error.code ?? null, message: error.message }));
  process.exit(0);
}
`;

let folder: string;
let path: string;
let url: string;
const opened: EventStore[] = [];
const children: ChildProcess[] = [];

async function open(options: { readOnly?: boolean } = {}): Promise<EventStore> {
  const store = await openEventStore(url, options);
  opened.push(store);
  return store;
}

/** Starts a child process on the store and resolves with the first line it prints. */
async function runChild(count: number): Promise<{ child: ChildProcess; report: { opened: boolean; code?: string; head?: string } }> {
  const script = join(folder, 'child.mts');
  writeFileSync(script, CHILD_SCRIPT);
  const child = spawn(process.execPath, ['--import', 'tsx', script, url, String(count)], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const line = new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline !== -1) resolve(stdout.slice(0, newline));
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before reporting: ${stderr}`)));
  });
  return { child, report: JSON.parse(await within(line, CHILD_BOUND_MS, 'child process reporting')) };
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await within(exited, CHILD_BOUND_MS, 'child process exiting');
}

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'daybook-sqlite-backend-'));
  path = join(folder, 'events.db');
  url = `sqlite:${path}`;
});

afterEach(async () => {
  for (const child of children.splice(0)) await killChild(child);
  for (const store of opened.splice(0)) await store.close();
  rmSync(folder, { recursive: true, force: true });
});

describe('sqlite backend: durability settings', () => {
  it('keeps the file in WAL mode (read with a separate connection)', async () => {
    const store = await open();
    await store.append({ streamId: 'acct-1', events: events(1) });
    const other = new Database(path, { readonly: true });
    try {
      expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      other.close();
    }
  });

  it('commits on a writer connection set to synchronous=FULL', () => {
    // `synchronous` is per connection and the writer's lives in its thread: check what that thread sets.
    const writer = readFileSync(fileURLToPath(new URL('./sqliteWriter.worker.mjs', import.meta.url)), 'utf8');
    expect(writer).toMatch(/pragma\(\s*'synchronous\s*=\s*FULL'\s*\)/);
    expect(writer).not.toMatch(/synchronous\s*=\s*(OFF|NORMAL|0|1)\b/i);
  });
});

describe('sqlite backend: one writer per data folder', () => {
  it('refuses a second writer in the same process with store_locked; the first keeps working', async () => {
    const first = await open();
    await first.append({ streamId: 'acct-1', events: events(1) });
    await failure(openEventStore(url), 'store_locked');
    await first.append({ streamId: 'acct-1', expectedVersion: 1n, events: events(1) });
    expect(await first.headPosition()).toBe(2n);
    expect((await first.verify()).ok).toBe(true);
  });

  it('refuses a writer in another process with store_locked while this one holds the store', async () => {
    const store = await open();
    await store.append({ streamId: 'acct-1', events: events(2) });
    const { report } = await runChild(1);
    expect(report).toMatchObject({ opened: false, code: 'store_locked' });
    expect(await store.headPosition()).toBe(2n);
    await store.append({ streamId: 'acct-1', events: events(1) });
    expect((await everything(store)).map((e) => e.position)).toEqual([1n, 2n, 3n]);
  });

  it('refuses this process while another process writes, and frees the store when that process is killed', async () => {
    const { child, report } = await runChild(3);
    expect(report).toEqual({ opened: true, head: '3' });
    await failure(openEventStore(url), 'store_locked');
    await killChild(child);
    const store = await open();
    expect((await store.readStream('child-1')).map((e) => e.version)).toEqual([1n, 2n, 3n]);
    const result = await store.append({ streamId: 'child-1', expectedVersion: 3n, events: events(1) });
    expect(result.events[0]).toMatchObject({ version: 4n, position: 4n });
    expect((await store.verify()).ok).toBe(true);
  });

  it('opens read-only beside a writer: reads what it commits, refuses appends', async () => {
    const writer = await open();
    await writer.append({ streamId: 'acct-1', events: events(2) });
    const reader = await open({ readOnly: true });
    expect((await reader.readStream('acct-1')).map((e) => e.version)).toEqual([1n, 2n]);
    await writer.append({ streamId: 'acct-1', events: events(1) });
    expect(await reader.headPosition()).toBe(3n);
    expect((await everything(reader)).map((e) => e.position)).toEqual([1n, 2n, 3n]);
    expect((await reader.verify()).ok).toBe(true);
    await expect(reader.append({ streamId: 'acct-1', events: events(1) })).rejects.toMatchObject({ name: 'DaybookError' });
    expect(await writer.headPosition()).toBe(3n);
  });

  it('opens read-only beside a writer in another process', async () => {
    const { report } = await runChild(4);
    expect(report).toMatchObject({ opened: true });
    const reader = await open({ readOnly: true });
    expect((await reader.readStream('child-1')).map((e) => e.version)).toEqual([1n, 2n, 3n, 4n]);
  });

  it('refuses a read-only open of a store that does not exist with store_unavailable', async () => {
    await failure(openEventStore(`sqlite:${join(folder, 'missing.db')}`, { readOnly: true }), 'store_unavailable');
  });

  it('refuses a file that is not a SQLite database with integrity_violation, and frees the store for the next try', async () => {
    writeFileSync(path, Buffer.from('this is not a database, it only has a name like one'.repeat(100)));
    const error = await failure(openEventStore(url), 'integrity_violation');
    expect(error.message).toContain('restore it from a backup');
    await failure(openEventStore(url), 'integrity_violation');
  });

  it('refuses a store whose file header was overwritten with integrity_violation', async () => {
    const first = await open();
    await first.append({ streamId: 'damaged-1', events: events(20) });
    await first.close();
    const bytes = readFileSync(path);
    bytes.write('garbage!garbage!', 100);
    writeFileSync(path, bytes);
    await failure(openEventStore(url), 'integrity_violation');
  });
});

describe('sqlite backend: reopening', () => {
  it('keeps everything after close and continues at the next position and version, on the same chain', async () => {
    const first = await open();
    await first.append([{ streamId: 'acct-1', events: events(3) }, { streamId: 'acct-2', events: events(1) }]);
    const before = await everything(first);
    await first.close();

    const second = await open();
    expect(await everything(second)).toEqual(before);
    expect(await second.headPosition()).toBe(4n);
    expect(await second.streamVersion('acct-1')).toBe(3n);
    const next = await second.append({ streamId: 'acct-1', expectedVersion: 3n, events: events(2) });
    expect(next.events.map((e) => [e.version, e.position])).toEqual([[4n, 5n], [5n, 6n]]);
    const stream = await second.readStream('acct-1');
    expect(stream[3]!.previousHash).toBe(stream[2]!.hash);
    await failure(second.append({ streamId: 'acct-2', expectedVersion: 'no_stream', events: events(1) }), 'stream_version_conflict');
    expect((await second.readAll({ after: 6n }))).toEqual([]);
    expect((await second.verify()).ok).toBe(true);
  });

  it('keeps idempotency across a reopen: the same ids return the first result', async () => {
    const first = await open();
    const write = { streamId: 'acct-1', events: [event('Paid', { amount: 5 }, { id: newEventId() }), event('Paid', { amount: 6 }, { id: newEventId() })] };
    const original = await first.append(write);
    await first.close();
    const second = await open();
    expect(await second.append(write)).toEqual({ ...original, duplicate: true });
    expect(await second.headPosition()).toBe(2n);
  });

  it('reopens many times, each time where it left off', async () => {
    for (let round = 1; round <= 5; round += 1) {
      const store = await open();
      const result = await store.append({ streamId: 'acct-1', expectedVersion: BigInt(round - 1), events: events(1) });
      expect(result.events[0]).toMatchObject({ version: BigInt(round), position: BigInt(round) });
      await store.close();
    }
    const store = await open({ readOnly: true });
    expect(await store.verify()).toMatchObject({ ok: true, eventsChecked: 5 });
  });
});
