/**
 * Tampering with a sealed SQLite store behind its back, through a raw
 * better-sqlite3 connection on the data file, and what `verifyStoreAudit`
 * (the core of `daybook verify`) reports: a flipped byte in an event's data,
 * a deleted row, two rows' positions swapped, two streams' contents swapped,
 * and a rewrite that recomputes every hash it touches (the chains then hold;
 * only the seal finds it). One fresh store per case.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventHash, type EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { fixedClock } from '../kernel/index.ts';
import { type AuditReport, loadLocalTrustedKeys, openLocalKeyProvider, Sealer, verifyStoreAudit } from './index.ts';

let dir: string;
let path: string;

/** 4 streams (acct-0..acct-3), 24 events round-robin: position p is stream acct-((p-1) % 4), version ceil(p/4). Then one seal over 1..24. */
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-tamper-'));
  path = join(dir, 'daybook.db');
  const store = await openEventStore(`sqlite:${path}`);
  for (let index = 0; index < 24; index += 1) await store.append({ streamId: `acct-${index % 4}`, events: [{ type: 'Touched', data: { index } }] });
  const sealed = await new Sealer({ store, keys: openLocalKeyProvider({ dir: join(dir, 'keys') }), clock: fixedClock(1_700_000_000_000) }).sealNow();
  expect(sealed).toMatchObject({ sealed: true, position: 25n, seal: { fromPosition: 1n, toPosition: 24n } });
  await store.close();
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function audit(): Promise<AuditReport> {
  const store: EventStore = await openEventStore(`sqlite:${path}`, { readOnly: true, migrate: false });
  try {
    return await verifyStoreAudit(store, loadLocalTrustedKeys(join(dir, 'keys')));
  } finally {
    await store.close();
  }
}

function tamper(sql: (db: Database.Database) => void): void {
  const db = new Database(path);
  try {
    db.transaction(() => sql(db))();
  } finally {
    db.close();
  }
}

describe('an untouched sealed store', () => {
  it('verifies: chains and seal intact, the seal itself the unsealed tail', async () => {
    const report = await audit();
    expect(report).toMatchObject({ ok: true, eventsChecked: 25, firstBreak: null, seals: { sealsChecked: 1, sealedThrough: 24n, unsealedTail: 1n, firstBreak: null } });
  });
});

describe('tampering found by verify', () => {
  it('a flipped byte in an event\'s data: hash_mismatch at that event', async () => {
    tamper((db) => {
      const { data } = db.prepare('SELECT data FROM events WHERE position = 6').get() as { data: string };
      const flipped = data.replace('"index":5', '"index":7');
      expect(flipped).not.toBe(data);
      db.prepare('UPDATE events SET data = ? WHERE position = 6').run(flipped);
    });
    const report = await audit();
    expect(report.ok).toBe(false);
    expect(report.firstBreak).toMatchObject({ streamId: 'acct-1', version: 2n, position: 6n, reason: 'hash_mismatch' });
  });

  it('a deleted row: the stream\'s next version is missing, and the seal misses its position', async () => {
    tamper((db) => db.prepare('DELETE FROM events WHERE position = 10').run());
    const report = await audit();
    expect(report.ok).toBe(false);
    // Position 10 was acct-1 version 3: version 4 (position 14) now follows version 2.
    expect(report.firstBreak).toMatchObject({ streamId: 'acct-1', version: 4n, position: 14n, reason: 'version_gap', expected: '3', actual: '4' });
    expect(report.seals.firstBreak).toMatchObject({ sequence: 1, reason: 'seal_event_missing', position: 10n });
  });

  it('two rows\' positions swapped (versions 1 and 2 of one stream): hash_mismatch at version 1, now at position 5; the seal\'s digest differs', async () => {
    tamper((db) => {
      db.prepare('UPDATE events SET position = -1 WHERE position = 1').run();
      db.prepare('UPDATE events SET position = 1 WHERE position = 5').run();
      db.prepare('UPDATE events SET position = 5 WHERE position = -1').run();
    });
    const report = await audit();
    expect(report.ok).toBe(false);
    // The hash covers the position: the first row in (stream, version) order already fails.
    expect(report.firstBreak).toMatchObject({ streamId: 'acct-0', version: 1n, position: 5n, reason: 'hash_mismatch' });
    expect(report.seals.firstBreak).toMatchObject({ sequence: 1, reason: 'seal_digest_mismatch' });
  });

  it('two streams\' whole contents swapped: hash_mismatch at the first event of the first stream', async () => {
    tamper((db) => {
      db.prepare(`UPDATE events SET stream_id = 'swap', version = version + 1000 WHERE stream_id = 'acct-2'`).run();
      db.prepare(`UPDATE events SET stream_id = 'acct-2' WHERE stream_id = 'acct-3'`).run();
      db.prepare(`UPDATE events SET stream_id = 'acct-3', version = version - 1000 WHERE stream_id = 'swap'`).run();
    });
    const report = await audit();
    expect(report.ok).toBe(false);
    expect(report.firstBreak).toMatchObject({ streamId: 'acct-2', version: 1n, position: 4n, reason: 'hash_mismatch' });
  });

  it('a rewrite that recomputes every hash it touches: the chains hold, the seal does not', async () => {
    const store = await openEventStore(`sqlite:${path}`, { readOnly: true, migrate: false });
    const rows = (await store.readRawLog({ limit: 100 })).filter((row) => row.streamId === 'acct-1');
    await store.close();
    tamper((db) => {
      let previousHash = '';
      for (const row of rows) {
        const dataJson = row.version === 2n ? '{"index":500}' : row.dataJson;
        const hash = eventHash({ ...row, dataJson, previousHash });
        db.prepare('UPDATE events SET data = ?, hash = ?, previous_hash = ? WHERE position = ?').run(dataJson, Buffer.from(hash, 'hex'), Buffer.from(previousHash, 'hex'), Number(row.position));
        previousHash = hash;
      }
    });
    const report = await audit();
    expect(report.firstBreak).toBeNull();
    expect(report.ok).toBe(false);
    expect(report.seals.firstBreak).toMatchObject({ sequence: 1, sealPosition: 25n, reason: 'seal_digest_mismatch' });
    expect(report.seals.firstBreak!.actual).toContain('positions 1..24');
  });

  it('an edited seal (its range shortened, hash recomputed): the signature no longer verifies', async () => {
    const store = await openEventStore(`sqlite:${path}`, { readOnly: true, migrate: false });
    const [seal] = await store.readRawLog({ after: 24n, limit: 1 });
    await store.close();
    tamper((db) => {
      const dataJson = seal!.dataJson.replace('"toPosition":"24"', '"toPosition":"23"').replace('"eventCount":"24"', '"eventCount":"23"');
      const hash = eventHash({ ...seal!, dataJson });
      db.prepare('UPDATE events SET data = ?, hash = ? WHERE position = 25').run(dataJson, Buffer.from(hash, 'hex'));
    });
    const report = await audit();
    expect(report.firstBreak).toBeNull();
    expect(report.seals.firstBreak).toMatchObject({ sequence: 1, reason: 'seal_signature_invalid' });
  });
});
