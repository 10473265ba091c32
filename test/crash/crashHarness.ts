import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { openEventStore } from '../../src/eventstore/open.ts';

const APPENDER = fileURLToPath(new URL('./appender.ts', import.meta.url));

export interface Ack {
  eventId: string;
  streamId: string;
  version: bigint;
  position: bigint;
}

export interface AppenderRun {
  child: ChildProcess;
  acks: Ack[];
  /** Resolves once `count` appends were acknowledged. */
  waitForAcks(count: number): Promise<void>;
  /** SIGKILL, then resolves when the process is gone. */
  kill(): Promise<void>;
}

/** Starts the appender child on `url` and collects its acknowledgements. */
export async function startAppender(url: string, tag: string): Promise<AppenderRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', APPENDER, url, tag], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acks: Ack[] = [];
  let stderr = '';
  let buffered = '';
  let ready!: () => void;
  const readyPromise = new Promise<void>((resolve) => { ready = resolve; });
  const waiters: Array<{ count: number; resolve(): void }> = [];
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line === 'ready') ready();
      if (!line.startsWith('ack ')) continue;
      const [, eventId, streamId, version, position] = line.split(' ');
      acks.push({ eventId: eventId!, streamId: streamId!, version: BigInt(version!), position: BigInt(position!) });
    }
    for (const waiter of waiters.filter((w) => acks.length >= w.count)) waiter.resolve();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([readyPromise, exited.then(() => { throw new Error(`appender exited before ready: ${stderr}`); })]);
  return {
    child,
    acks,
    waitForAcks: (count) => new Promise<void>((resolve, reject) => {
      if (acks.length >= count) { resolve(); return; }
      waiters.push({ count, resolve });
      void exited.then(() => reject(new Error(`appender exited early: ${stderr}`)));
    }),
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Reopens the store and checks the promises a crash must keep: every
 * acknowledged event is there exactly once, at the stream version and position
 * it was acknowledged with; positions run 1..head without a hole; verify passes.
 */
export async function assertSurvived(url: string, acks: readonly Ack[]): Promise<{ head: bigint; acknowledged: number }> {
  const store = await openEventStore(url);
  try {
    const byId = new Map<string, { streamId: string; version: bigint; position: bigint }>();
    let expectedPosition = 1n;
    for await (const event of store.streamAll()) {
      expect(event.position).toBe(expectedPosition);
      expectedPosition += 1n;
      expect(byId.has(event.eventId)).toBe(false);
      byId.set(event.eventId, { streamId: event.streamId, version: event.version, position: event.position });
    }
    for (const ack of acks) {
      const stored = byId.get(ack.eventId);
      expect(stored, `acknowledged event ${ack.eventId} is missing`).toBeDefined();
      expect(stored).toEqual({ streamId: ack.streamId, version: ack.version, position: ack.position });
    }
    const report = await store.verify();
    expect(report.firstBreak).toBeNull();
    // The store keeps taking appends after the crash.
    await store.append({ streamId: 'after-crash-1', events: [{ type: 'Recovered', data: {} }] });
    return { head: expectedPosition - 1n, acknowledged: acks.length };
  } finally {
    await store.close();
  }
}

/** A kill point: somewhere between `min` and `max` acknowledged appends. */
export function randomKillPoint(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min));
}
