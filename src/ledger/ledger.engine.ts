import { assert } from '../kernel/index.ts';
import { decideLedgerBatch } from './ledger.batch.ts';
import type { LedgerCommand } from './ledger.commands.ts';
import type { LedgerEvent } from './ledger.events.ts';
import { applyLedgerEvent } from './ledger.evolve.ts';
import type { LedgerOutcome } from './ledger.results.ts';
import { createLedgerState, type LedgerMaps, type LedgerOverlay, type LedgerView } from './ledger.state.ts';

/**
 * One command, functionally: `state` is left as it was; the returned `state`
 * is a view with the command's effects (an overlay: cheap, but each call
 * adds a layer, so a long-lived engine should use `decideLedgerBatch` and
 * commit into its root instead).
 *
 * @example
 * const { outcome, events, state: next } = applyLedgerCommand(state, { type: 'CreateTransfer', data });
 * if (outcome.ok) console.log(outcome.result);
 */
export function applyLedgerCommand(
  state: LedgerView,
  command: LedgerCommand,
): { outcome: LedgerOutcome; events: LedgerEvent[]; state: LedgerOverlay } {
  const { outcomes, events, staged } = decideLedgerBatch(state, [command]);
  const [outcome] = outcomes;
  assert(outcome !== undefined, 'a batch of one command has one outcome');
  return { outcome, events, state: staged };
}

/** Rebuilds a partition's state from its events (after `decodeLedgerEvent`). */
export function replayLedgerEvents(events: Iterable<LedgerEvent>, into: LedgerMaps = createLedgerState()): LedgerMaps {
  for (const event of events) applyLedgerEvent(into, event);
  return into;
}
