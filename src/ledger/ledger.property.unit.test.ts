/**
 * Model-based property tests of the ledger. Random sequences of commands
 * (transfers single, pending and balancing; posts, voids, expiries; linked
 * chains; journal entries and reversals; closing and reopening; late
 * retries) run through the batch engine and a tiny reference model. After
 * every step: each answer matches the model's; every ledger's debits equal
 * its credits (posted and pending), so its balances sum to zero; no account
 * breaks its flags or limits; the engine's balances equal the model's;
 * replaying the events, through JSON, reproduces them exactly; retrying the
 * step with the same ids writes nothing and answers the same.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deepEqual } from '../decider/index.ts';
import { flagViolation } from './balances.ts';
import { decideLedgerBatch } from './ledger.batch.ts';
import { decodeLedgerEvent, encodeLedgerEvent } from './ledger.codec.ts';
import { isLinked, type LedgerCommand } from './ledger.commands.ts';
import { applyLedgerEvent } from './ledger.evolve.ts';
import { RECORDED_FAILURE_CODES } from './ledger.errors.ts';
import type { LedgerOutcome } from './ledger.results.ts';
import { LedgerModel, type Prediction } from './ledger.referenceModel.ts';
import { createLedgerState, type LedgerMaps } from './ledger.state.ts';
import { ACCOUNTS, aStep, setupCommands, type Step } from './ledger.arbitraries.ts';
import { historyOf, T0 } from './ledger.testkit.ts';

function modelOf(): LedgerModel {
  const model = new LedgerModel();
  for (const a of ACCOUNTS) model.accounts.set(a.id, { currency: a.currency, debitLimit: a.debitLimit, creditLimit: a.creditLimit, closed: false, dp: 0n, dP: 0n, cp: 0n, cP: 0n });
  for (const command of setupCommands.slice(ACCOUNTS.length)) model.predict(command);
  return model;
}

/** The model's answer to a batch: split into chains by the linked flag, each all or nothing, as in the engine. */
function predictBatch(model: LedgerModel, commands: LedgerCommand[]): { model: LedgerModel; predictions: Prediction[] } {
  const predictions: Prediction[] = [];
  let current = model;
  let start = 0;
  while (start < commands.length) {
    let end = start;
    while (end < commands.length - 1 && isLinked(commands[end]!)) end += 1;
    const chain = commands.slice(start, end + 1);
    if (chain.length === 1) predictions.push(current.predict(chain[0]!));
    else {
      const decided = predictChain(current, chain);
      current = decided.model;
      predictions.push(...decided.predictions);
    }
    start = end + 1;
  }
  return { model: current, predictions };
}

function predictChain(model: LedgerModel, commands: LedgerCommand[]): { model: LedgerModel; predictions: Prediction[] } {
  const scratch = model.clone();
  const predictions: Prediction[] = [];
  for (const command of commands) {
    const prediction = scratch.predict(command);
    predictions.push(prediction);
    if (prediction.code !== 'ok') break;
  }
  const failed = predictions.length - 1;
  if (predictions[failed]?.code === 'ok') return { model: scratch, predictions };
  // Only the failing member's recorded failure (decided with the chain's earlier effects) survives.
  const failedCommand = commands[failed]!;
  if (predictions[failed]!.events === 1 && failedCommand.type === 'CreateTransfer') {
    model.transfers.set(failedCommand.data.transferId, scratch.transfers.get(failedCommand.data.transferId)!);
  }
  const linkedFailed: Prediction = { code: 'linked_event_failed', replay: false, events: 0 };
  return { model, predictions: commands.map((_, i) => (i === failed ? predictions[failed]! : linkedFailed)) };
}

function adopt(model: LedgerModel, from: LedgerModel): void {
  model.accounts = from.accounts;
  model.transfers = from.transfers;
  model.entries = from.entries;
}

const codeOf = (outcome: LedgerOutcome) => (outcome.ok ? 'ok' : outcome.rejection.code);
/** Every answer seen, so the last test can check the generators reach the interesting cases. */
const seen = new Set<string>();

function checkInvariants(root: LedgerMaps, replica: LedgerMaps, model: LedgerModel): void {
  const sums = new Map<string, bigint[]>();
  for (const account of root.accounts.values()) {
    const b = account.balances;
    const sum = sums.get(account.ledger) ?? [0n, 0n];
    sums.set(account.ledger, [sum[0]! + b.creditsPosted - b.debitsPosted, sum[1]! + b.creditsPending - b.debitsPending]);
    expect(flagViolation(account, b), `${account.accountId} breaks its flags`).toBeUndefined();
    expect([b.debitsPending, b.debitsPosted, b.creditsPending, b.creditsPosted].every((v) => v >= 0n)).toBe(true);
    const m = model.accounts.get(account.accountId)!;
    expect(b, `${account.accountId} against the model`).toEqual({ debitsPending: m.dp, debitsPosted: m.dP, creditsPending: m.cp, creditsPosted: m.cP });
    expect(m.closed).toBe(account.closed);
    expect(replica.account(account.accountId)).toEqual(account);
  }
  for (const [ledger, [posted, pending]] of sums) expect([ledger, posted, pending]).toEqual([ledger, 0n, 0n]);
}

function runSteps(steps: Step[]): void {
  const root = createLedgerState();
  const replica = createLedgerState();
  for (const event of historyOf(...setupCommands)) {
    applyLedgerEvent(root, event);
    applyLedgerEvent(replica, event);
  }
  const model = modelOf();
  const history: LedgerCommand[][] = [];
  let now = T0;
  for (const step of steps) {
    now += step.dtMs;
    const commands = step.build(now, history);
    if (commands.length === 0) continue;
    history.push(commands);
    try {
      runStep(root, replica, model, commands);
    } catch (error) {
      const shown = history.slice(-12).map((batch) => batch.map((c) => JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))).join(' + '));
      throw new Error(`${(error as Error).message}\nlast commands:\n${shown.join('\n')}`, { cause: error });
    }
  }
}

function runStep(root: LedgerMaps, replica: LedgerMaps, model: LedgerModel, commands: LedgerCommand[]): void {
  const predicted = predictBatch(model, commands);
  if (predicted.model !== model) adopt(model, predicted.model);
  const decision = decideLedgerBatch(root, commands);
  decision.outcomes.forEach((outcome, i) => {
    const expected = predicted.predictions[i]!;
    const code = codeOf(outcome);
    seen.add(outcome.replayed ? `${code} (replayed)` : code);
    if (expected.code === 'conflict') expect(code).toMatch(/^transfer_exists_with_different_/);
    else expect({ i, code, replayed: outcome.replayed }).toEqual({ i, code: expected.code, replayed: expected.replay });
  });
  expect(decision.events.length).toBe(predicted.predictions.reduce((sum, p) => sum + p.events, 0));
  decision.staged.commitTo(root);
  for (const event of decision.events) applyLedgerEvent(replica, decodeLedgerEvent(JSON.parse(JSON.stringify(encodeLedgerEvent(event)))));
  checkInvariants(root, replica, model);
  checkRetry(root, commands, decision.outcomes);
}

/**
 * Retrying the step with the same ids writes nothing. A success answers its
 * first result again, a recorded failure its code again; a failure that is
 * not recorded stays a failure, though its code may follow the state (a post
 * too large for its pending transfer meets it posted by the time of the retry).
 */
function checkRetry(root: LedgerMaps, commands: LedgerCommand[], first: LedgerOutcome[]): void {
  const retry = decideLedgerBatch(root, commands);
  expect(retry.events).toEqual([]);
  retry.outcomes.forEach((outcome, i) => {
    const type = commands[i]!.type;
    if (type === 'CloseAccount' || type === 'ReopenAccount') return; // no id: a second close is refused, and changes nothing
    const firstOutcome = first[i]!;
    if (firstOutcome.ok || RECORDED_FAILURE_CODES.has(firstOutcome.rejection.code)) expect(codeOf(outcome)).toBe(codeOf(firstOutcome));
    else expect(outcome.ok).toBe(false);
    const result = first[i]!.ok ? (first[i] as Extract<LedgerOutcome, { ok: true }>).result : undefined;
    if (result && (result.kind === 'transfer' || result.kind === 'entry')) expect(deepEqual(outcome.ok && outcome.result, result)).toBe(true);
  });
}

// endOnFailure: a failing run prints its last commands (see runSteps); shrinking runs this long takes too long to help.
// A fixed seed (DAYBOOK_FC_SEED to explore others) keeps the run, and so the coverage check below, the same on every machine:
// with a random one, a rare case could go unreached in one run in many and fail CI for nothing.
const SEED = Number(process.env.DAYBOOK_FC_SEED ?? 20_261_125);

describe('given random sequences of ledger commands', () => {
  it('keeps every invariant and agrees with the reference model at every step', () => {
    fc.assert(fc.property(fc.array(aStep, { minLength: 1, maxLength: 40 }), runSteps), { numRuns: 200, endOnFailure: true, seed: SEED });
  });
  it('keeps them on long sequences too', () => {
    fc.assert(fc.property(fc.array(aStep, { minLength: 100, maxLength: 200 }), runSteps), { numRuns: 15, endOnFailure: true, seed: SEED });
  });
  it('reached the interesting cases', () => {
    const wanted = [
      'ok', 'ok (replayed)', 'exceeds_credits', 'exceeds_debits', 'exceeds_credits (replayed)', 'linked_event_failed', 'pending_transfer_expired',
      'pending_transfer_already_posted', 'pending_transfer_already_voided', 'pending_transfer_not_found', 'exceeds_pending_transfer_amount',
      'accounts_must_have_the_same_ledger', 'debit_account_not_found', 'debit_account_closed', 'account_closed', 'entry_not_found',
      'posting_currency_mismatch', 'transfer_exists_with_different_flags', 'entry_exists_with_different_fields', 'pending_transfer_not_expired',
    ];
    expect(wanted.filter((code) => !seen.has(code))).toEqual([]);
  });
});
