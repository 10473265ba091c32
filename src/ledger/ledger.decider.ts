import type { Decider } from '../decider/index.ts';
import type { ErrorCode } from '../kernel/index.ts';
import { decideLedgerBatch } from './ledger.batch.ts';
import type { LedgerCommand } from './ledger.commands.ts';
import { toDaybookError } from './ledger.errors.ts';
import type { LedgerEvent } from './ledger.events.ts';
import { applyLedgerEvent } from './ledger.evolve.ts';
import { createLedgerState, type LedgerMaps } from './ledger.state.ts';

/** The error code that recorded-failure events stand for (for `deciderSpec(…, { rejectionOf })`). */
export function ledgerRejectionOf(events: readonly LedgerEvent[]): ErrorCode | undefined {
  const [only] = events;
  if (events.length !== 1 || only === undefined) return undefined;
  return only.type === 'TransferFailed' || only.type === 'JournalEntryFailed' ? only.data.code : undefined;
}

/**
 * The ledger partition as a `Decider`, for given/when/then tests and for a
 * stream-per-partition application. Its state is a `LedgerMaps` that
 * `evolve` updates in place and returns (a partition holds millions of
 * accounts; copying them per event is not an option), so treat the state
 * passed to `evolve` as consumed. `decide` is pure: it decides the command
 * as a batch of one and throws a `DaybookError` for a rejection that writes
 * nothing; a rejection recorded as an event is returned as that event.
 *
 * Rejects, in this order: as documented per command on `decideLedgerCommand`.
 */
export const ledgerDecider: Decider<LedgerCommand, LedgerEvent, LedgerMaps> = {
  initialState: createLedgerState,
  evolve: (state, event) => {
    applyLedgerEvent(state, event);
    return state;
  },
  decide: (command, state) => {
    const { outcomes, events } = decideLedgerBatch(state, [command]);
    const [outcome] = outcomes;
    if (outcome !== undefined && !outcome.ok && events.length === 0) throw toDaybookError(outcome.rejection);
    return events;
  },
};
