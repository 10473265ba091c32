import { isDaybookError, type DaybookError, type ErrorCode } from '../kernel/index.ts';
import { foldEvents, type Decider } from './decider.ts';
import { deepEqual } from './deepEqual.ts';

/**
 * Given/when/then for deciders, independent of the test runner: a mismatch
 * throws a `DeciderSpecMismatch` carrying `actual`, `expected` and
 * `showDiff`, which vitest (and mocha, jest) print as a diff.
 *
 * @example
 * const given = deciderSpec(accountDecider).given([accountOpened(ACC, 'USD', T0)]);
 * it('closes it', () => given.when(closeAccount(T1)).then([accountClosed(T1)]));
 * it('refuses to open it again', () => given.when(openAccount(ACC, 'USD', T1)).thenRejects('account_exists'));
 */
export class DeciderSpecMismatch extends Error {
  readonly actual: unknown;
  readonly expected: unknown;
  readonly showDiff = true;

  constructor(message: string, actual: unknown, expected: unknown) {
    super(message);
    this.name = 'AssertionError';
    this.actual = actual;
    this.expected = expected;
  }
}

export interface DeciderSpecOptions<Event> {
  /**
   * For deciders that record some rejections as events (so that a retry stays
   * rejected): the error code such events stand for, or undefined. Lets
   * `thenRejects` accept them.
   */
  rejectionOf?: (events: readonly Event[]) => ErrorCode | undefined;
}

export interface WhenSpec<Event, State> {
  /** Asserts the decided events equal `expected` (deep, bigint-aware). */
  then(expected: readonly Event[]): void;
  /** Asserts the command is rejected with `code`; returns the error, or the events that record the rejection. */
  thenRejects(code: ErrorCode): DaybookError | readonly Event[];
  /** The decided events, for assertions of your own (throws if the command is rejected). */
  events(): readonly Event[];
  /** The state after folding the given and the decided events. */
  state(): State;
}

export interface GivenSpec<Command, Event, State> {
  when(command: Command): WhenSpec<Event, State>;
  /** The state after folding the given events. */
  state(): State;
}

type Decision<Event> = { events: readonly Event[] } | { error: DaybookError };

export function deciderSpec<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  options: DeciderSpecOptions<Event> = {},
): { given(events: readonly Event[]): GivenSpec<Command, Event, State> } {
  return {
    given(givenEvents) {
      // Folded afresh for each `when`: evolve may update its state in place.
      const stateNow = () => foldEvents(decider, givenEvents);
      return {
        state: stateNow,
        when: (command) => whenSpec(decider, options, stateNow, givenEvents, command),
      };
    },
  };
}

function whenSpec<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  options: DeciderSpecOptions<Event>,
  stateNow: () => State,
  givenEvents: readonly Event[],
  command: Command,
): WhenSpec<Event, State> {
  const run = (): Decision<Event> => {
    try {
      return { events: decider.decide(command, stateNow()) };
    } catch (error) {
      if (isDaybookError(error)) return { error };
      throw error;
    }
  };
  const eventsOrFail = (): readonly Event[] => {
    const decision = run();
    if ('events' in decision) return decision.events;
    const { code, message } = decision.error;
    throw new DeciderSpecMismatch(`expected events, but the command was rejected with ${code}: ${message}`, { rejected: code }, 'events');
  };
  return {
    then(expected) {
      const actual = eventsOrFail();
      if (!deepEqual(actual, expected)) throw new DeciderSpecMismatch('decided events differ from the expected events', actual, expected);
    },
    thenRejects(code) {
      const decision = run();
      if ('error' in decision) {
        if (decision.error.code === code) return decision.error;
        throw new DeciderSpecMismatch(`expected rejection ${code}, got ${decision.error.code}: ${decision.error.message}`, decision.error.code, code);
      }
      const recorded = options.rejectionOf?.(decision.events);
      if (recorded === code) return decision.events;
      throw new DeciderSpecMismatch(`expected rejection ${code}, but the command decided events`, decision.events, { rejected: code });
    },
    events: eventsOrFail,
    state() {
      return foldEvents(decider, [...givenEvents, ...eventsOrFail()]);
    },
  };
}
