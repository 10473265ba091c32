/**
 * Covers the given/when/then helper on a tiny account decider: matching events,
 * matching rejections (thrown or recorded as events), and the mismatches that
 * must fail a test, with a diff.
 */
import { describe, expect, it } from 'vitest';
import { DaybookError, assertNever } from '../kernel/index.ts';
import { deciderSpec, deepEqual, foldEvents, type Decider } from './index.ts';

type Command = { type: 'Open'; data: { limit: bigint } } | { type: 'Close' } | { type: 'Spend'; data: { amount: bigint } };
type Event =
  | { type: 'Opened'; data: { limit: bigint } }
  | { type: 'Closed' }
  | { type: 'Spent'; data: { amount: bigint } }
  | { type: 'SpendFailed'; data: { code: 'exceeds_credits' } };
type State = { status: 'none' | 'open' | 'closed'; left: bigint };

const decider: Decider<Command, Event, State> = {
  initialState: () => ({ status: 'none', left: 0n }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'Opened': return { status: 'open', left: event.data.limit };
      case 'Closed': return { ...state, status: 'closed' };
      case 'Spent': return { ...state, left: state.left - event.data.amount };
      case 'SpendFailed': return state;
      default: return assertNever(event);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'Open':
        if (state.status !== 'none') throw new DaybookError('account_exists_with_different_fields', 'exists');
        return [{ type: 'Opened', data: command.data }];
      case 'Close':
        if (state.status === 'none') throw new DaybookError('account_not_found', 'no account');
        return [{ type: 'Closed' }];
      case 'Spend':
        if (command.data.amount > state.left) return [{ type: 'SpendFailed', data: { code: 'exceeds_credits' } }];
        return [{ type: 'Spent', data: command.data }];
      default: return assertNever(command);
    }
  },
};

const spec = deciderSpec(decider, {
  rejectionOf: (events) => (events.length === 1 && events[0]?.type === 'SpendFailed' ? events[0].data.code : undefined),
});

describe('given no events', () => {
  const given = spec.given([]);
  it('decides events', () => given.when({ type: 'Open', data: { limit: 5n } }).then([{ type: 'Opened', data: { limit: 5n } }]));
  it('matches a thrown rejection and returns the error', () => {
    const error = given.when({ type: 'Close' }).thenRejects('account_not_found');
    expect(error).toMatchObject({ code: 'account_not_found' });
  });
});

describe('given an open account', () => {
  const given = spec.given([{ type: 'Opened', data: { limit: 5n } }]);
  it('matches a rejection recorded as events', () => {
    given.when({ type: 'Spend', data: { amount: 6n } }).thenRejects('exceeds_credits');
  });
  it('exposes the events and the state after them', () => {
    const when = given.when({ type: 'Spend', data: { amount: 2n } });
    expect(when.events()).toEqual([{ type: 'Spent', data: { amount: 2n } }]);
    expect(when.state()).toEqual({ status: 'open', left: 3n });
    expect(given.state()).toEqual({ status: 'open', left: 5n });
  });
  it('fails, with a diff, when the events differ', () => {
    const run = () => given.when({ type: 'Spend', data: { amount: 2n } }).then([{ type: 'Spent', data: { amount: 3n } }]);
    expect(run).toThrow(expect.objectContaining({ name: 'AssertionError', showDiff: true }));
  });
  it('fails when events were expected but the command was rejected', () => {
    expect(() => given.when({ type: 'Open', data: { limit: 1n } }).then([])).toThrow(/rejected with account_exists_with_different_fields/);
  });
  it('fails when the rejection code differs', () => {
    expect(() => given.when({ type: 'Open', data: { limit: 1n } }).thenRejects('account_not_found')).toThrow(/expected rejection account_not_found/);
  });
  it('fails when a rejection was expected but events were decided', () => {
    expect(() => given.when({ type: 'Close' }).thenRejects('account_not_found')).toThrow(/decided events/);
  });
});

describe('deepEqual', () => {
  it('compares bigints by value and ignores undefined keys', () => {
    expect(deepEqual({ a: 1n, b: undefined }, { a: 1n })).toBe(true);
    expect(deepEqual({ a: 1n }, { a: 1 })).toBe(false);
    expect(deepEqual([1n, [2n]], [1n, [2n]])).toBe(true);
    expect(deepEqual([1n], [1n, 2n])).toBe(false);
    expect(deepEqual(new Map([['a', 1n]]), new Map([['a', 1n]]))).toBe(true);
    expect(deepEqual(new Map([['a', 1n]]), { a: 1n })).toBe(false);
    expect(deepEqual(null, {})).toBe(false);
  });
  it('folds events with foldEvents', () => {
    expect(foldEvents(decider, [{ type: 'Opened', data: { limit: 2n } }, { type: 'Closed' }])).toEqual({ status: 'closed', left: 2n });
  });
});
