import type { Decider } from '../decider/index.ts';
import type { AppendResult, EventMetadata, EventStore, RecordedEvent, StreamWrite } from '../eventstore/index.ts';
import { assert } from '../kernel/assert.ts';
import { READ_BATCH_MAX } from '../kernel/limits.ts';
import { STREAM_CACHE_ENTRIES_MAX } from './banking.limits.ts';

/** A banking event as the deciders make it: JSON-safe data and its schema version. */
export type BankingDomainEvent = { type: string; schemaVersion: number; data: unknown };

export type Loaded<State> = { readonly state: State; readonly version: bigint };

/**
 * Loads one aggregate type's streams (`<prefix>-<id>`) for the service:
 * folds a stream's events into the decider's state, keeps the newest states
 * in memory (bounded, least recently used dropped) and catches a kept state
 * up from its version on every load, so a state read here is never behind
 * the store. Writes carry the exact expected version they were decided on.
 */
export class StreamRepository<Command, Event extends BankingDomainEvent, State> {
  private readonly cache = new Map<string, Loaded<State>>();

  constructor(
    private readonly store: EventStore,
    readonly decider: Decider<Command, Event, State>,
    readonly prefix: string,
    private readonly eventTypes: readonly string[],
  ) {}

  streamId(id: string): string {
    return `${this.prefix}-${id}`;
  }

  async load(id: string): Promise<Loaded<State>> {
    const streamId = this.streamId(id);
    let { state, version } = this.cache.get(streamId) ?? { state: this.decider.initialState(), version: 0n };
    for (;;) {
      const page = await this.store.readStream(streamId, { fromVersion: version + 1n, limit: READ_BATCH_MAX });
      for (const recorded of page) {
        state = this.decider.evolve(state, this.decode(recorded));
        version = recorded.version;
      }
      if (page.length < READ_BATCH_MAX) break;
    }
    const loaded = { state, version };
    this.remember(streamId, loaded);
    return loaded;
  }

  /** The write of `events`, decided on `loaded`, with its exact expected version. */
  write(id: string, loaded: Loaded<State>, events: readonly Event[], metadata: EventMetadata): StreamWrite {
    return {
      streamId: this.streamId(id),
      expectedVersion: loaded.version === 0n ? 'no_stream' : loaded.version,
      events: events.map((event) => ({ type: event.type, schemaVersion: event.schemaVersion, data: event.data, metadata })),
    };
  }

  /** The state after `events` were durably appended on top of `loaded`; kept for the next load. */
  applied(id: string, loaded: Loaded<State>, events: readonly Event[]): Loaded<State> {
    let state = loaded.state;
    for (const event of events) state = this.decider.evolve(state, event);
    const next = { state, version: loaded.version + BigInt(events.length) };
    this.remember(this.streamId(id), next);
    return next;
  }

  append(writes: StreamWrite | readonly StreamWrite[]): Promise<AppendResult> {
    return this.store.append(writes);
  }

  /** Drops a kept state (after a conflict: the next load reads the stream afresh). */
  forget(id: string): void {
    this.cache.delete(this.streamId(id));
  }

  private decode(recorded: RecordedEvent): Event {
    assert(this.eventTypes.includes(recorded.type), `stream ${recorded.streamId} holds an event of unknown type ${recorded.type}`);
    return { type: recorded.type, schemaVersion: recorded.schemaVersion, data: recorded.data } as Event;
  }

  private remember(streamId: string, loaded: Loaded<State>): void {
    this.cache.delete(streamId);
    this.cache.set(streamId, loaded);
    if (this.cache.size > STREAM_CACHE_ENTRIES_MAX) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }
}
