import { AMOUNT_MINOR_MAX } from '../kernel/money.ts';
import type { AccountRecord, AccountSpec, Balances, BalanceHistoryNode } from './ledger.types.ts';

/** Balance arithmetic and the account flag rules, shared by decide and evolve. */
export const ZERO_BALANCES: Balances = { debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n };

export type Side = 'debit' | 'credit';
export type Phase = 'pending' | 'posted';

/** Adds `amountMinor` (negative to release) to one of the four totals. */
export function moveBalance(balances: Balances, side: Side, phase: Phase, amountMinor: bigint): Balances {
  // Built as literals of one shape (no spread): this runs several times per transfer.
  const { debitsPending, debitsPosted, creditsPending, creditsPosted } = balances;
  if (side === 'debit') {
    return phase === 'pending'
      ? { debitsPending: debitsPending + amountMinor, debitsPosted, creditsPending, creditsPosted }
      : { debitsPending, debitsPosted: debitsPosted + amountMinor, creditsPending, creditsPosted };
  }
  return phase === 'pending'
    ? { debitsPending, debitsPosted, creditsPending: creditsPending + amountMinor, creditsPosted }
    : { debitsPending, debitsPosted, creditsPending, creditsPosted: creditsPosted + amountMinor };
}

/** Turns a reservation of `pendingMinor` into a posting of `postedMinor` (≤ pending): the rest is released. */
export function settlePending(balances: Balances, side: Side, pendingMinor: bigint, postedMinor: bigint): Balances {
  return moveBalance(moveBalance(balances, side, 'pending', -pendingMinor), side, 'posted', postedMinor);
}

/** True when a total, or pending plus posted on one side, passes `AMOUNT_MINOR_MAX`. */
export function overflows(balances: Balances): boolean {
  return (
    balances.debitsPending + balances.debitsPosted > AMOUNT_MINOR_MAX ||
    balances.creditsPending + balances.creditsPosted > AMOUNT_MINOR_MAX
  );
}

/**
 * How much more the account may be debited under its flag and overdraft
 * limit (never negative), or null when no flag limits debits.
 */
export function availableToDebit(account: AccountSpec, balances: Balances): bigint | null {
  if (!account.flags.debitsMustNotExceedCredits) return null;
  const room = balances.creditsPosted + account.overdraftLimitMinor - balances.debitsPosted - balances.debitsPending;
  return room > 0n ? room : 0n;
}

/** How much more the account may be credited under its flag and credit limit, or null when unlimited. */
export function availableToCredit(account: AccountSpec, balances: Balances): bigint | null {
  if (!account.flags.creditsMustNotExceedDebits) return null;
  const room = balances.debitsPosted + account.creditLimitMinor - balances.creditsPosted - balances.creditsPending;
  return room > 0n ? room : 0n;
}

/**
 * The flag an account's balances break, if any. Pending debits count against
 * posted credits only: money on its way in cannot be spent yet.
 */
export function flagViolation(account: AccountSpec, balances: Balances): 'exceeds_credits' | 'exceeds_debits' | undefined {
  if (
    account.flags.debitsMustNotExceedCredits &&
    balances.debitsPending + balances.debitsPosted > balances.creditsPosted + account.overdraftLimitMinor
  ) {
    return 'exceeds_credits';
  }
  if (
    account.flags.creditsMustNotExceedDebits &&
    balances.creditsPending + balances.creditsPosted > balances.debitsPosted + account.creditLimitMinor
  ) {
    return 'exceeds_debits';
  }
  return undefined;
}

export function sameBalances(a: Balances, b: Balances): boolean {
  return (
    a.debitsPending === b.debitsPending &&
    a.debitsPosted === b.debitsPosted &&
    a.creditsPending === b.creditsPending &&
    a.creditsPosted === b.creditsPosted
  );
}

/** The account with new balances, and a history node when it keeps history. */
export function withBalances(account: AccountRecord, balances: Balances, atMs: number, sourceId: string): AccountRecord {
  const history: BalanceHistoryNode | null = account.flags.history
    ? { atMs, sourceId, balances, previous: account.history }
    : account.history;
  // Every field written out rather than spread: one shape for all records, and much cheaper per transfer.
  return {
    accountId: account.accountId, ledger: account.ledger, currency: account.currency, code: account.code, flags: account.flags,
    overdraftLimitMinor: account.overdraftLimitMinor, creditLimitMinor: account.creditLimitMinor, userData: account.userData,
    metadata: account.metadata, closed: account.closed, openedAtMs: account.openedAtMs, balances, history,
  };
}

/**
 * The balances of an account with history as they stood at `atMs` (after
 * every movement at or before it); undefined without the history flag.
 */
export function balancesAsOf(account: AccountRecord, atMs: number): Balances | undefined {
  if (!account.flags.history) return undefined;
  for (let node = account.history; node !== null; node = node.previous) {
    if (node.atMs <= atMs) return node.balances;
  }
  return ZERO_BALANCES;
}
