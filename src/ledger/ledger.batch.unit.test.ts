/**
 * Covers the batch engine core: sequential decisions over staged state,
 * commit after a durable write, linked chains (all or nothing, open chains),
 * the batch bound, expiry scheduling, and balance history.
 */
import { describe, expect, it } from 'vitest';
import { isDaybookError } from '../kernel/index.ts';
import { balancesAsOf } from './balances.ts';
import { decideLedgerBatch } from './ledger.batch.ts';
import type { LedgerCommand } from './ledger.commands.ts';
import { applyLedgerCommand, replayLedgerEvents } from './ledger.engine.ts';
import { LEDGER_BATCH_COMMANDS_MAX } from './ledger.limits.ts';
import { createLedgerState } from './ledger.state.ts';
import {
  balances, historyOf, ledgerSpec, MINUTE, open, openCustomer, pendingTransfer, post, stateOf, T0, transfer,
} from './ledger.testkit.ts';

const setup: LedgerCommand[] = [open('bank'), openCustomer('cust'), open('merch'), transfer('fund', 'bank', 'cust', 10_000n)];
const linked = (command: LedgerCommand): LedgerCommand =>
  ({ ...command, data: { ...command.data, flags: { ...('flags' in command.data ? command.data.flags : {}), linked: true } } }) as LedgerCommand;
const codes = (outcomes: ReturnType<typeof decideLedgerBatch>['outcomes']) => outcomes.map((o) => (o.ok ? 'ok' : o.rejection.code));

describe('given an empty ledger', () => {
  it('decides a batch in order, each command seeing the ones before', () => {
    const root = createLedgerState();
    const decision = decideLedgerBatch(root, [...setup, transfer('t1', 'cust', 'merch', 4_000n), transfer('t2', 'cust', 'merch', 7_000n)]);
    expect(codes(decision.outcomes)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'exceeds_credits']);
    expect(decision.events.map((e) => e.type)).toEqual([
      'AccountOpened', 'AccountOpened', 'AccountOpened', 'TransferPosted', 'TransferPosted', 'TransferFailed',
    ]);
  });
  it('leaves the base untouched until the staged state is committed', () => {
    const root = createLedgerState();
    const decision = decideLedgerBatch(root, setup);
    expect(root.accounts.size).toBe(0);
    decision.staged.commitTo(root);
    expect(root.account('cust')?.balances).toEqual(balances(0n, 0n, 0n, 10_000n));
  });
  it('commits to the same state that replaying its events builds', () => {
    const root = createLedgerState();
    const decision = decideLedgerBatch(root, [...setup, pendingTransfer('p1', 'cust', 'merch', 100n), post('p1-post', 'p1')]);
    decision.staged.commitTo(root);
    const replayed = replayLedgerEvents(decision.events);
    expect([...replayed.accounts]).toEqual([...root.accounts]);
    expect([...replayed.transfers]).toEqual([...root.transfers]);
  });
  it('answers a repeated id inside one batch as a replay', () => {
    const decision = decideLedgerBatch(createLedgerState(), [...setup, transfer('t1', 'cust', 'merch', 1n), transfer('t1', 'cust', 'merch', 1n)]);
    expect(decision.outcomes.at(-1)).toMatchObject({ ok: true, replayed: true });
    expect(decision.events).toHaveLength(5);
  });
  it('accepts a batch at its bound and refuses one past it', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => open(`a${i}`));
    expect(decideLedgerBatch(createLedgerState(), many(LEDGER_BATCH_COMMANDS_MAX)).events).toHaveLength(LEDGER_BATCH_COMMANDS_MAX);
    let error: unknown;
    try {
      decideLedgerBatch(createLedgerState(), many(LEDGER_BATCH_COMMANDS_MAX + 1));
    } catch (caught) {
      error = caught;
    }
    expect(isDaybookError(error, 'limit_exceeded')).toBe(true);
  });
});

describe('given a funded customer', () => {
  const events = historyOf(...setup);

  it('applies a linked chain whole when every member succeeds', () => {
    const decision = decideLedgerBatch(stateOf(events), [linked(transfer('t1', 'cust', 'merch', 1_000n)), transfer('t2', 'merch', 'bank', 1_000n)]);
    expect(codes(decision.outcomes)).toEqual(['ok', 'ok']);
    expect(decision.events).toHaveLength(2);
  });
  it('undoes a linked chain whole when one member fails, keeping only the recorded failure', () => {
    const root = stateOf(events);
    const decision = decideLedgerBatch(root, [
      transfer('before', 'bank', 'merch', 1n),
      linked(transfer('t1', 'cust', 'merch', 6_000n)), linked(transfer('t2', 'cust', 'merch', 6_000n)), transfer('t3', 'merch', 'bank', 1n),
      transfer('after', 'bank', 'merch', 1n),
    ]);
    expect(codes(decision.outcomes)).toEqual(['ok', 'linked_event_failed', 'exceeds_credits', 'linked_event_failed', 'ok']);
    expect(decision.events.map((e) => e.type)).toEqual(['TransferPosted', 'TransferFailed', 'TransferPosted']);
    decision.staged.commitTo(root);
    expect(root.transfer('t1')).toBeUndefined();
    expect(root.account('cust')?.balances).toEqual(balances(0n, 0n, 0n, 10_000n));
  });
  it('fails every member of a chain left open at the end of the batch', () => {
    const decision = decideLedgerBatch(stateOf(events), [transfer('t0', 'bank', 'merch', 1n), linked(transfer('t1', 'bank', 'merch', 1n)), linked(transfer('t2', 'bank', 'merch', 1n))]);
    expect(codes(decision.outcomes)).toEqual(['ok', 'linked_event_failed', 'linked_event_chain_open']);
    expect(decision.events).toHaveLength(1);
  });
  it('refuses a single linked command through the decider', () =>
    ledgerSpec.given(events).when(linked(transfer('t1', 'bank', 'merch', 1n))).thenRejects('linked_event_chain_open'));
  it('keeps the state it was given when applying one command', () => {
    const state = stateOf(events);
    const { outcome, state: next } = applyLedgerCommand(state, transfer('t1', 'cust', 'merch', 1_000n));
    expect(outcome.ok).toBe(true);
    expect(state.account('cust')?.balances.debitsPosted).toBe(0n);
    expect(next.account('cust')?.balances.debitsPosted).toBe(1_000n);
  });
  it('lists the pending transfers due to expire, earliest first', () => {
    const root = stateOf(events);
    const decision = decideLedgerBatch(root, [
      pendingTransfer('p-late', 'cust', 'merch', 1n, { timeoutMs: 2 * MINUTE }), pendingTransfer('p-soon', 'cust', 'merch', 1n, { timeoutMs: MINUTE }),
      pendingTransfer('p-never', 'cust', 'merch', 1n),
    ]);
    decision.staged.commitTo(root);
    expect(root.dueExpiries(T0 + MINUTE - 1, 10)).toEqual([]);
    expect(root.dueExpiries(T0 + 5 * MINUTE, 10)).toEqual(['p-soon', 'p-late']);
    expect(root.dueExpiries(T0 + 5 * MINUTE, 1)).toEqual(['p-soon']);
  });
});

describe('given an account that keeps history', () => {
  const state = stateOf(historyOf(
    open('bank'), openCustomer('hist', { flags: { debitsMustNotExceedCredits: true, history: true } }),
    transfer('t1', 'bank', 'hist', 500n, { atMs: T0 + 10 }), transfer('t2', 'hist', 'bank', 200n, { atMs: T0 + 20 }),
  ));
  it('answers its balances as of any time', () => {
    const account = state.account('hist');
    expect(account && balancesAsOf(account, T0 + 5)).toEqual(balances(0n, 0n, 0n, 0n));
    expect(account && balancesAsOf(account, T0 + 10)).toEqual(balances(0n, 0n, 0n, 500n));
    expect(account && balancesAsOf(account, T0 + 25)).toEqual(balances(0n, 200n, 0n, 500n));
  });
  it('answers nothing for an account without history', () => {
    const bank = state.account('bank');
    expect(bank && balancesAsOf(bank, T0 + 25)).toBeUndefined();
  });
});
