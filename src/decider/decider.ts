/**
 * A decider: the pure core of one aggregate or partition. `decide` turns a
 * command and the current state into new events (or throws a `DaybookError`
 * naming why not); `evolve` folds one event into the state. Time and new ids
 * arrive inside the command; nothing here reads a clock or a random source.
 *
 * @example
 * const state = foldEvents(accountDecider, history);
 * const events = accountDecider.decide({ type: 'CloseAccount', data: { at } }, state);
 */
export interface Decider<Command, Event, State> {
  /** A fresh state; called once per fold, so it may return a new mutable object. */
  initialState: () => State;
  evolve: (state: State, event: Event) => State;
  decide: (command: Command, state: State) => readonly Event[];
}

/** Folds `events` into the decider's initial state. */
export function foldEvents<Command, Event, State>(decider: Decider<Command, Event, State>, events: Iterable<Event>): State {
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
}
