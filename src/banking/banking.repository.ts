import { type Decider, type Loaded, StreamStates } from '../decider/index.ts';
import type { AppendResult, EventMetadata, EventStore, RecordedEvent, StreamWrite } from '../eventstore/index.ts';
import { assert } from '../kernel/assert.ts';
import { STREAM_CACHE_ENTRIES_MAX } from './banking.limits.ts';

/** A banking event as the deciders make it: JSON-safe data and its schema version. */
export type BankingDomainEvent = { type: string; schemaVersion: number; data: unknown };

export type { Loaded } from '../decider/index.ts';

/**
 * Loads one aggregate type's streams (`<prefix>-<id>`) for the service:
 * folds a stream's events into the decider's state, keeps the newest states
 * in memory (bounded, least recently used dropped) and catches a kept state
 * up from its version on every load, so a state read here is never behind
 * the store. Writes carry the exact expected version they were decided on.
 */
export class StreamRepository<Command, Event extends BankingDomainEvent, State> {
  private readonly states: StreamStates<Event, State>;

  constructor(
    private readonly store: EventStore,
    readonly decider: Decider<Command, Event, State>,
    readonly prefix: string,
    private readonly eventTypes: readonly string[],
  ) {
    this.states = new StreamStates(store, () => decider.initialState(), (state, event) => decider.evolve(state, event), (recorded) => this.decode(recorded), STREAM_CACHE_ENTRIES_MAX);
  }

  streamId(id: string): string {
    return `${this.prefix}-${id}`;
  }

  load(id: string): Promise<Loaded<State>> {
    return this.states.load(this.streamId(id));
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
    return this.states.applied(this.streamId(id), loaded, events);
  }

  append(writes: StreamWrite | readonly StreamWrite[]): Promise<AppendResult> {
    return this.store.append(writes);
  }

  /** Drops a kept state (after a conflict: the next load reads the stream afresh). */
  forget(id: string): void {
    this.states.forget(this.streamId(id));
  }

  private decode(recorded: RecordedEvent): Event {
    assert(this.eventTypes.includes(recorded.type), `stream ${recorded.streamId} holds an event of unknown type ${recorded.type}`);
    return { type: recorded.type, schemaVersion: recorded.schemaVersion, data: recorded.data } as Event;
  }
}
