/**
 * Real crashes on SQLite: a runner process SIGKILLed in the middle of its
 * catch-up leaves a read model that a restart completes to exactly a replay
 * from zero (the read-model writes and the checkpoint share each commit); and
 * an event whose handler kills the process every time is parked after the
 * bounded attempts, counted durably across the deaths, instead of
 * crash-looping forever.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../../eventstore/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { readCheckpoint } from '../catalog.ts';
import { replayedDump } from '../conformance/harness.ts';
import { referenceProjection } from '../conformance/streamStats.projection.ts';
import { listDeadLetters } from '../deadLetters.ts';
import { dumpReadModel } from '../queries.ts';
import { openReadModelStore } from '../readModelStore.ts';

const CHILD = fileURLToPath(new URL('./runnerCrash.child.ts', import.meta.url));

interface Run {
  /** How the process ended: 'caught-up' (then exited cleanly) or 'killed'. */
  outcome: Promise<'caught-up' | 'killed'>;
  positions: bigint[];
  kill(): void;
}

function runChild(path: string, batchSize: number, maxAttempts: number, onPosition?: (position: bigint, run: Run) => void): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, String(batchSize), String(maxAttempts)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let caughtUp = false;
  let buffered = '';
  const run: Run = {
    positions: [],
    kill: () => { child.kill('SIGKILL'); },
    outcome: new Promise((resolve, reject) => {
      child.once('exit', (code, signal) => {
        if (caughtUp && code === 0) resolve('caught-up');
        else if (signal === 'SIGKILL') resolve('killed');
        else reject(new Error(`runner process ended with ${code ?? signal}: ${stderr}`));
      });
    }),
  };
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line === 'caught-up') caughtUp = true;
      if (!line.startsWith('position ')) continue;
      const position = BigInt(line.slice('position '.length));
      run.positions.push(position);
      onPosition?.(position, run);
    }
  });
  return run;
}

describe('runner crashes on SQLite (real processes)', () => {
  let folder: string;
  let path: string;

  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'daybook-runner-crash-'));
    path = join(folder, 'daybook.db');
  });
  afterEach(() => { rmSync(folder, { recursive: true, force: true }); });

  async function withStore<T>(use: (store: EventStore) => Promise<T>): Promise<T> {
    const store = await openEventStore(`sqlite:${path}`);
    try {
      return await use(store);
    } finally {
      await store.close();
    }
  }

  async function checkpoint(): Promise<bigint> {
    const readModels = await openReadModelStore(`sqlite:${path}`);
    try {
      return (await readModels.read((tx) => readCheckpoint(tx, 'stream_stats', 1)))!;
    } finally {
      await readModels.close();
    }
  }

  async function liveDump(): Promise<string> {
    const readModels = await openReadModelStore(`sqlite:${path}`);
    try {
      return await dumpReadModel(readModels, referenceProjection());
    } finally {
      await readModels.close();
    }
  }

  it('a runner SIGKILLed mid-catch-up resumes to exactly the replay from zero', async () => {
    const head = await withStore(async (store) => {
      for (let call = 0; call < 60; call += 1) {
        await store.append({ streamId: `acct-${call % 7}`, events: Array.from({ length: 50 }, (_, n) => ({ type: n % 2 ? 'Deposited' : 'Withdrawn', data: { n } })) });
      }
      return store.headPosition();
    });
    const first = runChild(path, 20, 5, (position, run) => { if (position >= 1000n) run.kill(); });
    expect(await first.outcome).toBe('killed');
    // It may have committed a batch or two after the line that triggered the kill: the database says where it stopped.
    const stoppedAt = await checkpoint();
    expect(stoppedAt).toBeGreaterThanOrEqual(first.positions.at(-1)!);
    expect(stoppedAt).toBeLessThan(head);
    // What the killed process committed is a consistent prefix: the replay up to its checkpoint.
    const prefix = await withStore((store) => replayedDump(store, referenceProjection(), stoppedAt));
    expect(await liveDump()).toBe(prefix);

    const second = runChild(path, 20, 5);
    expect(await second.outcome).toBe('caught-up');
    expect(second.positions[0]! > stoppedAt).toBe(true);
    const live = await liveDump();
    expect(live).toBe(await withStore((store) => replayedDump(store, referenceProjection(), head)));
  });

  it('an event that kills the process every time is parked after the bounded attempts, counted across the deaths', async () => {
    const crashAt = await withStore(async (store) => {
      await store.append({ streamId: 'acct-1', events: Array.from({ length: 30 }, (_, n) => ({ type: 'Deposited', data: { n } })) });
      const { position } = await store.append({ streamId: 'acct-2', events: [{ type: 'Deposited', data: { crash: true } }] });
      await store.append({ streamId: 'acct-1', events: Array.from({ length: 10 }, (_, n) => ({ type: 'Deposited', data: { n } })) });
      return position;
    });
    const maxAttempts = 3;
    const outcomes: string[] = [];
    for (let start = 0; start < 10 && outcomes.at(-1) !== 'caught-up'; start += 1) outcomes.push(await runChild(path, 100, maxAttempts).outcome);
    // The many-event batch it was in (which counts against no single event), then the event alone maxAttempts times.
    expect(outcomes).toEqual([...Array<string>(1 + maxAttempts).fill('killed'), 'caught-up']);
    const readModels = await openReadModelStore(`sqlite:${path}`);
    try {
      const letters = await listDeadLetters(readModels);
      expect(letters).toMatchObject([{ projection: 'stream_stats', position: crashAt, status: 'parked', attempts: maxAttempts }]);
      expect(letters[0]!.error).toMatch(/process ended/);
    } finally {
      await readModels.close();
    }
  });
});
