import { DaybookError } from '../kernel/index.ts';
import { isLinked, type LedgerCommand } from './ledger.commands.ts';
import { rejection } from './ledger.errors.ts';
import type { LedgerEvent } from './ledger.events.ts';
import { applyLedgerEvent } from './ledger.evolve.ts';
import { LEDGER_BATCH_COMMANDS_MAX } from './ledger.limits.ts';
import { refused, type LedgerDecision, type LedgerOutcome } from './ledger.results.ts';
import { LedgerOverlay, type LedgerView } from './ledger.state.ts';
import { decideLedgerCommand } from './ledger.decide.ts';

/**
 * The engine's inner loop, TigerBeetle style: decide a batch of commands one
 * after another against in-memory state, each seeing the effects of those
 * before it, and return one outcome per command plus every event to append,
 * in order, in one group-committed write.
 *
 * Pure with respect to `base`: the effects are staged in `staged`. After the
 * events are durable, `staged.commitTo(root)` makes them the new state; if
 * the write fails, drop `staged` (and any batch decided on top of it).
 * Replaying the same events with `applyLedgerEvent` gives the same state.
 *
 * Linked chains: a command with the `linked` flag succeeds or fails with the
 * next one; a chain ends at the first command without it. If any member
 * fails, none of the chain's effects stay: the failing member answers its
 * own code (and records it, when it is a recorded failure), the others
 * `linked_event_failed`. A chain still open at the end of the batch fails
 * with `linked_event_chain_open` on its last member.
 *
 * @example
 * const decision = decideLedgerBatch(root, commands);
 * await store.append([{ streamId: 'ledger-usd', events: decision.events.map(encodeLedgerEvent) }]);
 * decision.staged.commitTo(root);
 */
export type LedgerBatchDecision = {
  outcomes: LedgerOutcome[];
  events: LedgerEvent[];
  staged: LedgerOverlay;
};

export function decideLedgerBatch(base: LedgerView, commands: readonly LedgerCommand[]): LedgerBatchDecision {
  if (commands.length > LEDGER_BATCH_COMMANDS_MAX) {
    throw new DaybookError('limit_exceeded', `a batch holds at most ${LEDGER_BATCH_COMMANDS_MAX} commands, got ${commands.length}`, {
      limit: LEDGER_BATCH_COMMANDS_MAX,
    }, 'commands');
  }
  const staged = new LedgerOverlay(base);
  const outcomes: LedgerOutcome[] = [];
  const events: LedgerEvent[] = [];
  let start = 0;
  while (start < commands.length) {
    let end = start;
    while (end < commands.length && isLinked(commands[end] as LedgerCommand)) end += 1;
    // A lone command (the common case) is decided without copying it into a chain of one.
    if (end === commands.length) {
      outcomes.push(...openChain(end - start));
    } else if (end === start) {
      const decision = decideLedgerCommand(staged, commands[start] as LedgerCommand);
      for (const event of decision.events) {
        applyLedgerEvent(staged, event);
        events.push(event);
      }
      outcomes.push(decision.outcome);
    } else {
      outcomes.push(...decideChain(staged, commands.slice(start, end + 1), events));
    }
    start = end + 1;
  }
  return { outcomes, events, staged };
}

/** Decides a linked chain over its own overlay; keeps its effects only if every member succeeds. */
function decideChain(staged: LedgerOverlay, chain: readonly LedgerCommand[], events: LedgerEvent[]): LedgerOutcome[] {
  const scratch = new LedgerOverlay(staged);
  const decisions: LedgerDecision[] = [];
  for (const command of chain) {
    const decision = decideLedgerCommand(scratch, command);
    decisions.push(decision);
    if (!decision.outcome.ok) break;
    for (const event of decision.events) applyLedgerEvent(scratch, event);
  }
  const failed = decisions.at(-1);
  if (failed !== undefined && !failed.outcome.ok) {
    // Only the failure record survives: it is independent of the members rolled back.
    for (const event of failed.events) applyLedgerEvent(staged, event);
    events.push(...failed.events);
    const failedIndex = decisions.length - 1;
    return chain.map((_, index) => (index === failedIndex ? failed.outcome : linkedFailed(index, failedIndex)));
  }
  scratch.commitTo(staged);
  for (const decision of decisions) events.push(...decision.events);
  return decisions.map((decision) => decision.outcome);
}

function linkedFailed(index: number, failedIndex: number): LedgerOutcome {
  return refused(rejection('linked_event_failed', `linked chain failed at member ${failedIndex}`, { failedIndex, index })).outcome;
}

function openChain(length: number): LedgerOutcome[] {
  return Array.from({ length }, (_, index) =>
    index === length - 1
      ? refused(rejection('linked_event_chain_open', 'the last command of the batch has the linked flag: its chain never ends')).outcome
      : linkedFailed(index, length - 1));
}
