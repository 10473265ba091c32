import { type Decider, type Loaded, StreamStates } from '../../decider/index.ts';
import type { AppendResult, EventMetadata, EventStore, RecordedEvent, StreamWrite } from '../../eventstore/index.ts';
import { assert } from '../../kernel/assert.ts';
import { PAYMENT_STATE_CACHE_MAX } from '../../kernel/limits.ts';

export type PaymentsDomainEvent = { type: string; data: unknown };
export type { Loaded } from '../../decider/index.ts';
/** `position`: the append's, when known (null when nothing was appended, or the append was the ledger engine's). */
export type Decided<State, Event> = { readonly state: State; readonly events: readonly Event[]; readonly position: bigint | null };

/** One stream's decided events on their way to a multi-stream append (AggregateRepository.staged). */
export interface StagedWrite<State, Event> {
  readonly streamId: string;
  /** The state once they are committed. */
  readonly state: State;
  write(expected: 'exact' | 'any'): StreamWrite;
  committed(position: bigint | null): Decided<State, Event>;
  /** The append failed: the kept state is dropped (the next load reads the stream). */
  failed(): void;
}

/**
 * One aggregate type's streams (`<category>-<mode>.<id>`): folds a stream into
 * its decider's state, keeps the most recently used states in memory
 * (bounded by PAYMENT_STATE_CACHE_MAX, so memory does not grow with history)
 * and catches a kept state up from its version on every load, so a state
 * read here is never behind the store, whichever process wrote.
 */
export class AggregateRepository<Command, Event extends PaymentsDomainEvent, State> {
  private readonly states: StreamStates<Event, State>;

  constructor(
    private readonly store: EventStore,
    readonly decider: Decider<Command, Event, State>,
    readonly category: string,
    private readonly eventTypes: readonly string[],
    cacheMax = PAYMENT_STATE_CACHE_MAX,
  ) {
    this.states = new StreamStates(store, () => decider.initialState(), (state, event) => decider.evolve(state, event), (recorded) => this.decode(recorded), cacheMax);
  }

  streamId(mode: string, id: string): string {
    return `${this.category}-${mode}.${id}`;
  }

  load(streamId: string): Promise<Loaded<State>> {
    return this.states.load(streamId);
  }

  /** Appends events decided on `loaded` with its exact version as the expected one; keeps the state after them. */
  async append(streamId: string, loaded: Loaded<State>, events: readonly Event[], metadata: EventMetadata): Promise<Decided<State, Event>> {
    if (events.length === 0) return { state: loaded.state, events, position: null };
    let result: AppendResult;
    try {
      result = await this.store.append(this.staged(streamId, loaded, events, metadata).write('exact'));
    } catch (error) {
      this.states.forget(streamId);
      throw error;
    }
    return this.committed(streamId, loaded, events, result.position);
  }

  /**
   * Events decided on `loaded`, ready to commit in an append of several
   * streams (see PaymentsService): `write('exact')` expects `loaded`'s
   * version, `write('any')` none (a write attached to a ledger batch);
   * `committed` keeps the state after them once the append is durable.
   */
  staged(streamId: string, loaded: Loaded<State>, events: readonly Event[], metadata: EventMetadata): StagedWrite<State, Event> {
    return {
      streamId,
      state: this.fold(loaded.state, events),
      write: (expected) => ({
        streamId, expectedVersion: expected === 'any' ? 'any' : loaded.version === 0n ? 'no_stream' : loaded.version,
        events: events.map((event) => ({ type: event.type, data: event.data, metadata })),
      }),
      committed: (position) => this.committed(streamId, loaded, events, position),
      failed: () => { this.states.forget(streamId); },
    };
  }

  /** The state after `events`, decided on `state`. */
  fold(state: State, events: readonly Event[]): State {
    return this.states.fold(state, events);
  }

  private committed(streamId: string, loaded: Loaded<State>, events: readonly Event[], position: bigint | null): Decided<State, Event> {
    return { state: this.states.applied(streamId, loaded, events).state, events, position };
  }

  private decode(recorded: RecordedEvent): Event {
    assert(this.eventTypes.includes(recorded.type), `stream ${recorded.streamId} holds an event of unknown type ${recorded.type}`);
    return { type: recorded.type, data: recorded.data } as Event;
  }
}
