import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import { READ_BATCH_MAX } from '../kernel/limits.ts';

/** A stream's state and the version it reflects. */
export type Loaded<State> = { readonly state: State; readonly version: bigint };

/**
 * The states of one aggregate type's streams, for a service that decides on
 * them: folds a stream's events into the decider's state, keeps the most
 * recently used states in memory (at most `cacheMax`, so memory does not
 * grow with history) and catches a kept state up from its version on every
 * load, so a state read here is never behind the store, whichever process
 * wrote. The banking and payments repositories build their writes on it.
 *
 * @example
 * const states = new StreamStates(store, decider.initialState, decider.evolve, decode, 10_000);
 * const { state, version } = await states.load('bankaccount-acc_1');
 */
export class StreamStates<Event, State> {
  private readonly cache = new Map<string, Loaded<State>>();
  /** Streams invalidated since their last load: a state decided on that load is not kept (the store wrote other data than decided, or erased it). */
  private readonly invalidated = new Set<string>();

  constructor(
    private readonly store: EventStore,
    private readonly initialState: () => State,
    private readonly evolve: (state: State, event: Event) => State,
    private readonly decode: (recorded: RecordedEvent) => Event,
    private readonly cacheMax: number,
  ) {
    // A state folded from reads the store has since invalidated (an erased subject's personal data) is read afresh.
    store.onStreamInvalidated?.((streamId) => {
      this.forget(streamId);
      this.invalidated.add(streamId);
    });
  }

  async load(streamId: string): Promise<Loaded<State>> {
    this.invalidated.delete(streamId);
    let { state, version } = this.cache.get(streamId) ?? { state: this.initialState(), version: 0n };
    for (;;) {
      const page = await this.store.readStream(streamId, { fromVersion: version + 1n, limit: READ_BATCH_MAX });
      for (const recorded of page) {
        state = this.evolve(state, this.decode(recorded));
        version = recorded.version;
      }
      if (page.length < READ_BATCH_MAX) break;
    }
    const loaded = { state, version };
    this.remember(streamId, loaded);
    return loaded;
  }

  /** The state after `events`, decided on `state`. */
  fold(state: State, events: readonly Event[]): State {
    let folded = state;
    for (const event of events) folded = this.evolve(folded, event);
    return folded;
  }

  /** Keeps the state after `events` were durably appended on top of `loaded`, for the next load; returns it. */
  applied(streamId: string, loaded: Loaded<State>, events: readonly Event[]): Loaded<State> {
    const next = { state: this.fold(loaded.state, events), version: loaded.version + BigInt(events.length) };
    if (this.invalidated.delete(streamId)) return next;
    this.remember(streamId, next);
    return next;
  }

  /** Drops a kept state (after a failed or conflicting append: the next load reads the stream afresh). */
  forget(streamId: string): void {
    this.cache.delete(streamId);
  }

  private remember(streamId: string, loaded: Loaded<State>): void {
    this.cache.delete(streamId);
    this.cache.set(streamId, loaded);
    // Maps iterate in insertion order: the first key is the least recently used.
    while (this.cache.size > this.cacheMax) this.cache.delete(this.cache.keys().next().value!);
  }
}
