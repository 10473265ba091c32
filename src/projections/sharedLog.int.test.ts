/**
 * The shared live log on a real SQLite store: readers at different positions
 * each get every event after their own position, in order, once; a reader
 * that joins behind the window reads the store directly until it is inside
 * it; one subscription serves them all (they get the same event objects);
 * an interrupt returns an empty list; a closed log starts afresh for the next reader.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { type LogReader, sharedLog } from './sharedLog.ts';

async function readUntil(reader: LogReader, position: bigint): Promise<RecordedEvent[]> {
  const got: RecordedEvent[] = [];
  while (got.length === 0 || got[got.length - 1]!.position < position) {
    const events = await reader.next(7);
    if (events === null) throw new Error('the log ended');
    got.push(...events);
  }
  return got;
}

describe('shared live log (sqlite)', () => {
  let dir: string;
  let store: EventStore;

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(): Promise<void> {
    dir = mkdtempSync(join(tmpdir(), 'daybook-sharedlog-'));
    store = await openEventStore(`sqlite:${join(dir, 'daybook.db')}`, { subscriptionPollMs: 20 });
  }

  const append = (stream: string, count: number) =>
    store.append({ streamId: stream, events: Array.from({ length: count }, (_, index) => ({ type: 'Counted', data: { index } })) });

  it('gives each reader every event after its position, in order, from one subscription; a late reader behind the window reads the store', async () => {
    await open();
    await append('acct-1', 5);
    const log = sharedLog(store);
    const ahead = log.reader(5n);
    expect(sharedLog(store)).toBe(log);
    const { position: head } = await append('acct-2', 30);
    const aheadEvents = await readUntil(ahead, head);
    // Joins at 0, below the window's floor (5): its first events come from the store.
    const behind = log.reader(0n);
    const behindEvents = await readUntil(behind, head);
    expect(aheadEvents.map((event) => event.position)).toEqual(Array.from({ length: 30 }, (_, index) => BigInt(index + 6)));
    expect(behindEvents.map((event) => event.position)).toEqual(Array.from({ length: 35 }, (_, index) => BigInt(index + 1)));
    // Inside the window, both readers were handed the very objects the one subscription read.
    expect(behindEvents[behindEvents.length - 1]).toBe(aheadEvents[aheadEvents.length - 1]);
    ahead.close();
    behind.close();
  });

  it('returns an empty list when interrupted, null once closed; a closed log starts afresh', async () => {
    await open();
    const log = sharedLog(store);
    const reader = log.reader(0n);
    const waiting = reader.next(10);
    reader.interrupt();
    await expect(waiting).resolves.toEqual([]);
    reader.close();
    await expect(reader.next(10)).resolves.toBeNull();
    expect(log.ended).toBe(true);
    const next = sharedLog(store);
    expect(next).not.toBe(log);
    const fresh = next.reader(0n);
    const { position } = await append('acct-3', 3);
    expect((await readUntil(fresh, position)).map((event) => event.position)).toEqual([1n, 2n, 3n]);
    fresh.close();
  });
});
