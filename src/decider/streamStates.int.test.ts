/**
 * StreamStates keeps no state decided on a load that an invalidation
 * followed (the store wrote other data than was decided, or a subject was
 * erased meanwhile): the next load reads the stream as stored. On a real
 * SQLite store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEventStore } from '../eventstore/open.ts';
import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import { StreamStates } from './streamStates.ts';

type Event = { type: string; data: { text: string } };

describe('StreamStates and invalidations', () => {
  let dir: string;
  let store: EventStore;
  let reader: EventStore;
  let listeners: Array<(streamId: string) => void>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'daybook-states-'));
    store = await openEventStore(`sqlite:${join(dir, 'events.db')}`);
    listeners = [];
    // The two methods StreamStates uses: the store's reads, and invalidations this test sends (as ShreddingEventStore does).
    reader = {
      readStream: (streamId: string, options?: Parameters<EventStore['readStream']>[1]) => store.readStream(streamId, options),
      onStreamInvalidated: (listener: (streamId: string) => void) => { listeners.push(listener); return () => undefined; },
    } as unknown as EventStore;
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const states = () => new StreamStates<Event, string[]>(reader, () => [], (state, event) => [...state, event.data.text], (recorded: RecordedEvent) => recorded as unknown as Event, 10);

  it('reads the stream as stored after an invalidation that came between a load and the append decided on it', async () => {
    const kept = states();
    const loaded = await kept.load('doc-1');
    await store.append({ streamId: 'doc-1', expectedVersion: 'no_stream', events: [{ type: 'Written', data: { text: '[erased]' } }] });
    for (const listener of listeners) listener('doc-1');
    expect(kept.applied('doc-1', loaded, [{ type: 'Written', data: { text: 'secret' } }]).state).toEqual(['secret']);
    expect((await kept.load('doc-1')).state).toEqual(['[erased]']);
  });

  it('keeps the state decided when no invalidation came', async () => {
    const kept = states();
    const loaded = await kept.load('doc-2');
    // Not appended: a kept state is what the next load starts from.
    expect(kept.applied('doc-2', loaded, [{ type: 'Written', data: { text: 'kept' } }]).state).toEqual(['kept']);
    expect((await kept.load('doc-2')).state).toEqual(['kept']);
  });
});
