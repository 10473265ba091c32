/**
 * Builders for ledger tests: commands with sensible defaults, histories built
 * by deciding commands (so given events are always ones the decider makes),
 * and the given/when/then spec bound to the ledger decider.
 */
import { deciderSpec } from '../decider/index.ts';
import type { Currency } from '../kernel/money.ts';
import type {
  CreateTransferData, LedgerCommand, OpenAccountData, PostPendingTransferData, RecordJournalEntryData, VoidPendingTransferData,
} from './ledger.commands.ts';
import { decideLedgerBatch } from './ledger.batch.ts';
import { ledgerDecider, ledgerRejectionOf } from './ledger.decider.ts';
import type { LedgerEvent } from './ledger.events.ts';
import { applyLedgerEvent } from './ledger.evolve.ts';
import { createLedgerState, type LedgerMaps } from './ledger.state.ts';
import type { Balances, Posting } from './ledger.types.ts';

export const T0 = 1_700_000_000_000;
export const MINUTE = 60_000;

export const ledgerSpec = deciderSpec(ledgerDecider, { rejectionOf: ledgerRejectionOf });

const LEDGER_OF: Partial<Record<Currency, string>> = { USD: 'usd', EUR: 'eur', JPY: 'jpy', BHD: 'bhd' };

export function ledgerOf(currency: Currency): string {
  return LEDGER_OF[currency] ?? currency.toLowerCase();
}

export function open(accountId: string, options: Partial<OpenAccountData> = {}): LedgerCommand {
  const currency = options.currency ?? 'USD';
  return { type: 'OpenAccount', data: { accountId, ledger: ledgerOf(currency), currency, atMs: T0, ...options } };
}

/** An account whose debits may not pass its credits (a customer's money). */
export function openCustomer(accountId: string, options: Partial<OpenAccountData> = {}): LedgerCommand {
  return open(accountId, { flags: { debitsMustNotExceedCredits: true }, ...options });
}

export function transfer(transferId: string, debitAccountId: string, creditAccountId: string, amountMinor: bigint, options: Partial<CreateTransferData> = {}): LedgerCommand {
  return { type: 'CreateTransfer', data: { transferId, debitAccountId, creditAccountId, amountMinor, ledger: 'usd', atMs: T0, ...options } };
}

export function pendingTransfer(transferId: string, debitAccountId: string, creditAccountId: string, amountMinor: bigint, options: Partial<CreateTransferData> = {}): LedgerCommand {
  return transfer(transferId, debitAccountId, creditAccountId, amountMinor, { flags: { pending: true }, ...options });
}

export function post(transferId: string, pendingId: string, options: Partial<PostPendingTransferData> = {}): LedgerCommand {
  return { type: 'PostPendingTransfer', data: { transferId, pendingId, atMs: T0, ...options } };
}

export function voidPending(transferId: string, pendingId: string, options: Partial<VoidPendingTransferData> = {}): LedgerCommand {
  return { type: 'VoidPendingTransfer', data: { transferId, pendingId, atMs: T0, ...options } };
}

export function expire(pendingId: string, atMs: number): LedgerCommand {
  return { type: 'ExpirePendingTransfer', data: { pendingId, atMs } };
}

export function close(accountId: string, atMs = T0): LedgerCommand {
  return { type: 'CloseAccount', data: { accountId, atMs } };
}

export function reopen(accountId: string, atMs = T0): LedgerCommand {
  return { type: 'ReopenAccount', data: { accountId, atMs } };
}

export function entry(entryId: string, postings: Posting[], options: Partial<RecordJournalEntryData> = {}): LedgerCommand {
  return { type: 'RecordJournalEntry', data: { entryId, postings, atMs: T0, ...options } };
}

export function reverse(reversalId: string, entryId: string, atMs = T0): LedgerCommand {
  return { type: 'ReverseJournalEntry', data: { reversalId, entryId, atMs } };
}

export function debitLeg(accountId: string, amountMinor: bigint, currency: Currency = 'USD'): Posting {
  return { accountId, side: 'debit', amountMinor, currency };
}

export function creditLeg(accountId: string, amountMinor: bigint, currency: Currency = 'USD'): Posting {
  return { accountId, side: 'credit', amountMinor, currency };
}

export function balances(debitsPending: bigint, debitsPosted: bigint, creditsPending: bigint, creditsPosted: bigint): Balances {
  return { debitsPending, debitsPosted, creditsPending, creditsPosted };
}

/** The events of `commands`, decided one after another from an empty ledger; every command must succeed. */
export function historyOf(...commands: LedgerCommand[]): LedgerEvent[] {
  const state = createLedgerState();
  const events: LedgerEvent[] = [];
  for (const command of commands) {
    const decision = decideLedgerBatch(state, [command]);
    const [outcome] = decision.outcomes;
    if (outcome === undefined || !outcome.ok) {
      throw new Error(`history command ${command.type} failed: ${outcome && !outcome.ok ? outcome.rejection.message : 'no outcome'}`);
    }
    decision.staged.commitTo(state);
    events.push(...decision.events);
  }
  return events;
}

export function stateOf(events: readonly LedgerEvent[]): LedgerMaps {
  const state = createLedgerState();
  for (const event of events) applyLedgerEvent(state, event);
  return state;
}

/** Like `historyOf`, but keeps whatever the commands decide, failures included. */
export function eventsOf(...commands: LedgerCommand[]): LedgerEvent[] {
  const state = createLedgerState();
  const events: LedgerEvent[] = [];
  for (const command of commands) {
    const decision = decideLedgerBatch(state, [command]);
    decision.staged.commitTo(state);
    events.push(...decision.events);
  }
  return events;
}

/** Waits for a condition, checking every 20 ms, for at most `timeoutMs` (generous: the machine may be shared). */
export async function waitUntil(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The engine tests' transfer: `amountMinor` from `bank` to `alice` on ledger `usd` (a request: the engine stamps the time). */
export const bankToAlice = (transferId: string, amountMinor: bigint) => ({
  type: 'CreateTransfer' as const,
  data: { transferId, debitAccountId: 'bank', creditAccountId: 'alice', amountMinor, ledger: 'usd' },
});
