/**
 * A relay process SIGKILLed in the middle of the log, on SQLite and on
 * PostgreSQL, then started again: the receiver has every event at least once
 * (no loss, no gap), in order within each run; what it got twice is exactly
 * what the killed process had sent past its last committed checkpoint (the
 * request it died on, never acknowledged, and the rest of its open batch);
 * folding the requests by Idempotency-Key gives every event once, in global order.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfConcurrentPostgres } from '../../test/support/postgres.ts';
import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { readCheckpoint } from './catalog.ts';
import { everything } from './conformance/harness.ts';
import { openReadModelStore } from './readModelStore.ts';
import { verifyDaybookSignature } from './relayHttp.ts';
import { type ReceivedRequest, startRelayReceiver } from './relayTestReceiver.ts';

const CHILD = fileURLToPath(new URL('./relayCrash.child.ts', import.meta.url));
const SECRET = 'crash-relay-secret-0123456789';
const BATCH_SIZE = 10;
/** The request (0-based) during which the first process is killed: in the middle of its third batch. */
const KILL_AT = 24;

interface Run {
  outcome: Promise<'caught-up' | 'killed'>;
  kill(): void;
}

function runChild(url: string, receiverUrl: string): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, receiverUrl, String(BATCH_SIZE)], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DAYBOOK_RELAY_SECRET: SECRET },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  return {
    kill: () => { child.kill('SIGKILL'); },
    outcome: new Promise((resolve, reject) => {
      child.once('exit', (code, signal) => {
        if (code === 0 && stdout.includes('caught-up')) resolve('caught-up');
        else if (signal === 'SIGKILL') resolve('killed');
        else reject(new Error(`relay process ended with ${code ?? signal}: ${stderr}`));
      });
    }),
  };
}

async function withStore<T>(url: string, use: (store: EventStore) => Promise<T>): Promise<T> {
  const store = await openEventStore(url);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

async function relayCheckpoint(url: string): Promise<bigint> {
  const readModels = await openReadModelStore(url);
  try {
    return (await readModels.read((tx) => readCheckpoint(tx, 'crash_relay', 1))) ?? 0n;
  } finally {
    await readModels.close();
  }
}

const ids = (list: ReadonlyArray<{ eventId: string }>) => list.map((item) => item.eventId);

async function killAndRestart(url: string): Promise<void> {
  // The store is closed before a relay process opens it (on SQLite one process at a time may write).
  const events: RecordedEvent[] = await withStore(url, async (store) => {
    for (let index = 0; index < 60; index += 1) await store.append({ streamId: `acct-${index % 5}`, events: [{ type: 'Deposited', data: { n: index } }] });
    return everything(store);
  });
  let current: Run | null = null;
  let killAt: number | null = KILL_AT;
  // The request it dies on is never answered: the receiver got it, the relay never saw it acknowledged.
  const receiver = await startRelayReceiver(({ index }) => {
    if (index !== killAt) return 200;
    killAt = null;
    current!.kill();
    return 'hang';
  });
  try {
    current = runChild(url, receiver.url);
    expect(await current.outcome).toBe('killed');
    const firstRun: ReceivedRequest[] = receiver.requests.slice();
    const stoppedAt = await relayCheckpoint(url);

    current = runChild(url, receiver.url);
    expect(await current.outcome).toBe('caught-up');
    const secondRun = receiver.requests.slice(firstRun.length);

    // The first run sent events in order, each once, and died on the 25th, which its checkpoint never passed.
    expect(ids(firstRun)).toEqual(ids(events.slice(0, KILL_AT + 1)));
    expect(firstRun.at(-1)!.answer).toBe('hung');
    expect(stoppedAt).toBeLessThan(events[KILL_AT]!.position);
    // The second run went on right after the committed checkpoint: in order, each once, up to the head.
    expect(ids(secondRun)).toEqual(ids(events.filter((event) => event.position > stoppedAt)));
    expect(await relayCheckpoint(url)).toBe(events.at(-1)!.position);
    // Duplicates: exactly what the first run had sent past its checkpoint, never anything it had committed.
    const resent = new Set(ids(secondRun));
    const duplicates = firstRun.filter((request) => resent.has(request.eventId));
    expect(ids(duplicates)).toEqual(ids(firstRun.filter((request) => request.position > stoppedAt)));
    expect(duplicates.length).toBeGreaterThanOrEqual(1);
    expect(duplicates.length).toBeLessThanOrEqual(BATCH_SIZE);
    // What a receiver deduplicating by Idempotency-Key keeps: every event once, in global order.
    const seen = new Set<string>();
    const kept = receiver.requests.filter((request) => !seen.has(request.idempotencyKey) && seen.add(request.idempotencyKey));
    expect(ids(kept)).toEqual(ids(events));
    for (const request of receiver.requests) expect(verifyDaybookSignature(request.signature, request.body, SECRET)).toBe(true);
  } finally {
    await receiver.close();
  }
}

describe('relay crash on SQLite (real processes)', () => {
  it('a relay SIGKILLed mid-stream and restarted loses nothing and repeats only what it had not committed', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'daybook-relay-crash-'));
    try {
      await killAndRestart(`sqlite:${join(folder, 'daybook.db')}`);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 180_000);
});

describeIfConcurrentPostgres('relay crash on PostgreSQL (real processes)', () => {
  it('a relay SIGKILLed mid-stream and restarted loses nothing and repeats only what it had not committed', async () => {
    const database = await createTestDatabase();
    try {
      await killAndRestart(database.url);
    } finally {
      await database.drop();
    }
  }, 180_000);
});
