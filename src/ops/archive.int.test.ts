/**
 * `archiveStore` and `verifyArchive` on a real SQLite store whose events span
 * January, February and an open March (2025, UTC): two files with signed
 * manifests; a second run checks and skips them; the open month and periods
 * ending after `--before` are left out; every event stays readable in the
 * store. A flipped byte, a truncated file, an edited manifest, an edited
 * event (even re-zipped and re-signed by another key) and an unpinned key
 * each fail verification with a clear problem; an archive run over a damaged
 * file refuses with `archive_invalid` and leaves it as it is.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalManifestText, type ArchiveManifest } from './archiveFormat.ts';
import { openLocalKeyProvider, type KeyProvider, trustedKeysFromFiles } from '../audit/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { fixedClock, isDaybookError } from '../kernel/index.ts';
import { archiveStore, verifyArchive } from './index.ts';

const JAN = Date.UTC(2025, 0, 10);
const FEB = Date.UTC(2025, 1, 3);
const MAR = Date.UTC(2025, 2, 5);
const DAY = 86_400_000;
let dir: string;
let store: EventStore;
let keys: KeyProvider;
const clock = fixedClock(JAN);
let out: string;
const janFile = () => join(out, 'daybook-archive-2025-01.jsonl.gz');
const febFile = () => join(out, 'daybook-archive-2025-02.jsonl.gz');

async function appendRound(streams: string[], n: number): Promise<void> {
  for (const streamId of streams) await store.append({ streamId, events: Array.from({ length: n }, (_, i) => ({ type: 'Counted', data: { i, text: 'é\n"' } })) });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-archive-'));
  out = join(dir, 'archive');
  store = await openEventStore(`sqlite:${join(dir, 'daybook.db')}`, { clock });
  keys = openLocalKeyProvider({ dir: join(dir, 'keys') });
  await appendRound(['acct-a', 'acct-b', 'acct-c'], 4); // positions 1..12, January
  clock.advance(5 * DAY);
  await appendRound(['acct-a', 'acct-d'], 3); // 13..18, January
  clock.advance(FEB - clock.nowMs());
  await appendRound(['acct-a', 'acct-b', 'acct-e'], 5); // 19..33, February
  clock.advance(MAR - clock.nowMs());
  await appendRound(['acct-a'], 2); // 34..35, March: open
  clock.advance(10 * DAY);
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const archive = (beforeMs: number) => archiveStore(store, { beforeMs, outDir: out, keys, clock });

describe('archive', () => {
  it('writes nothing for a period that ends after --before', async () => {
    const report = await archive(Date.UTC(2025, 0, 31));
    expect(report.periods).toEqual([]);
  });

  it('writes each closed month before the date to its own file; the open month waits', async () => {
    const report = await archive(Date.UTC(2026, 0, 1));
    expect(report.periods.map((p) => [p.period, p.outcome, p.fromPosition, p.toPosition, p.count])).toEqual([
      ['2025-01', 'written', 1n, 18n, 18],
      ['2025-02', 'written', 19n, 33n, 15],
    ]);
    expect(report.eventsWritten).toBe(33);
    expect(readdirSync(out).sort()).toEqual([
      'daybook-archive-2025-01.jsonl.gz', 'daybook-archive-2025-01.jsonl.gz.manifest.json', 'daybook-archive-2025-02.jsonl.gz', 'daybook-archive-2025-02.jsonl.gz.manifest.json',
    ]);
    const lines = gunzipSync(readFileSync(janFile())).toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ format: 'daybook.archive.v1', period: '2025-01', fromPosition: '1', toPosition: '18', count: 18 });
    expect(lines).toHaveLength(19);
    expect(Object.keys(lines[1]!).sort()).toEqual(['data', 'eventId', 'hash', 'metadata', 'position', 'previousHash', 'recordedAt', 'schemaVersion', 'streamId', 'type', 'version']);
    // The log is immutable: archived events are still read from the store.
    expect((await store.readAll({ limit: 1000 })).length).toBe(35);
  });

  it('skips the periods already archived, leaving their files as they are', async () => {
    const before = statSync(janFile()).mtimeMs;
    const report = await archive(Date.UTC(2026, 0, 1));
    expect(report.periods.map((p) => p.outcome)).toEqual(['skipped', 'skipped']);
    expect(report.eventsWritten).toBe(0);
    expect(statSync(janFile()).mtimeMs).toBe(before);
  });

  it('archives by day when asked, in a folder of its own', async () => {
    const report = await archiveStore(store, { beforeMs: Date.UTC(2025, 0, 16), outDir: join(dir, 'daily'), period: 'day', keys, clock });
    expect(report.periods.map((p) => [p.period, p.count])).toEqual([['2025-01-10', 12], ['2025-01-15', 6]]);
  });
});

describe('verify an archive', () => {
  let n = 0;
  const copy = (): string => {
    n += 1;
    const target = join(dir, `copy${n}`, 'daybook-archive-2025-01.jsonl.gz');
    execFileSync('mkdir', ['-p', join(dir, `copy${n}`)]);
    copyFileSync(janFile(), target);
    copyFileSync(`${janFile()}.manifest.json`, `${target}.manifest.json`);
    return target;
  };
  const pem = (): string => {
    const file = join(dir, 'seal.pub.pem');
    writeFileSync(file, keys.publicKey());
    return file;
  };

  it('passes an intact file, pinned to the key folder\'s public key', async () => {
    const report = await verifyArchive(febFile(), { keys: trustedKeysFromFiles([pem()]) });
    expect(report).toMatchObject({ ok: true, problem: null, period: '2025-02', eventsChecked: 15, fromPosition: '19', toPosition: '33' });
    expect(report.chainLinksChecked).toBe(12);
  });

  it('fails a flipped byte', async () => {
    const file = copy();
    const bytes = readFileSync(file);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0x40;
    writeFileSync(file, bytes);
    const report = await verifyArchive(file);
    expect(report.ok).toBe(false);
    expect(report.problem).toMatch(/gzip|SHA-256|hash|JSON/);
  });

  it('fails a truncated file', async () => {
    const file = copy();
    truncateSync(file, statSync(file).size - 20);
    const report = await verifyArchive(file);
    expect(report.ok).toBe(false);
    expect(report.problem).toMatch(/truncated|cut off/);
  });

  it('fails an edited manifest (its signature no longer verifies)', async () => {
    const file = copy();
    const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as ArchiveManifest;
    writeFileSync(`${file}.manifest.json`, JSON.stringify({ ...manifest, toPosition: '17' }));
    const report = await verifyArchive(file);
    expect(report.problem).toMatch(/signature does not verify/);
  });

  it('fails a missing or malformed manifest', async () => {
    const file = copy();
    writeFileSync(`${file}.manifest.json`, '{"format":');
    expect((await verifyArchive(file)).problem).toMatch(/not JSON/);
    rmSync(`${file}.manifest.json`);
    expect((await verifyArchive(file)).problem).toMatch(/cannot read the manifest/);
  });

  it('fails an edited event, re-zipped and re-signed with a stranger\'s key; and that key when pinned', async () => {
    const file = copy();
    const text = gunzipSync(readFileSync(file)).toString('utf8').replace('"{\\"i\\":2,', '"{\\"i\\":9,');
    writeFileSync(file, gzipSync(text));
    const stranger = openLocalKeyProvider({ dir: join(dir, 'stranger-keys') });
    const old = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as ArchiveManifest;
    const { createHash } = await import('node:crypto');
    const { signature: _ignored, ...rest } = old;
    const fields = { ...rest, bytes: statSync(file).size, sha256: createHash('sha256').update(readFileSync(file)).digest('hex'), keyId: stranger.keyId, publicKey: stranger.publicKey() };
    writeFileSync(`${file}.manifest.json`, JSON.stringify({ ...fields, signature: stranger.sign(Buffer.from(canonicalManifestText(fields))).toString('base64') }));
    expect((await verifyArchive(file)).problem).toMatch(/does not match its hash: it was edited/);
    expect((await verifyArchive(file, { keys: trustedKeysFromFiles([pem()]) })).problem).toMatch(/does not hold/);
  });

  it('refuses to archive over a damaged file, and leaves it', async () => {
    const bytes = readFileSync(janFile());
    truncateSync(janFile(), bytes.length - 5);
    try {
      await archive(Date.UTC(2026, 0, 1));
      expect.unreachable('archived over a damaged file');
    } catch (error) {
      expect(isDaybookError(error, 'archive_invalid')).toBe(true);
      expect((error as Error).message).toMatch(/daybook-archive-2025-01\.jsonl\.gz is already archived but does not verify/);
    }
    expect(statSync(janFile()).size).toBe(bytes.length - 5);
    writeFileSync(janFile(), bytes);
  });
});
