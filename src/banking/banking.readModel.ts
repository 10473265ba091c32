import { DaybookError } from '../kernel/errors.ts';
import { PAGE_SIZE_MAX } from '../kernel/limits.ts';
import type { BankingCurrency, TransactionType } from './banking.types.ts';

/**
 * The banking read models behind one interface: balances (now and as of a
 * past time) and transaction history. Queries never touch the write path.
 * `InMemoryBankingReadModel` implements it from the event log; a later issue
 * moves it onto the projection engine without changing this interface,
 * hence the promises.
 *
 * @example
 * const model = await InMemoryBankingReadModel.rebuild(store);
 * const { postedMinor, availableMinor } = (await model.balance('acc-1'))!;
 * const page = await model.history('acc-1', { limit: 20, minAmountMinor: 10_000n });
 * const next = await model.history('acc-1', { limit: 20, minAmountMinor: 10_000n, cursor: page.nextCursor! });
 */
export interface BankingReadModel {
  /** Global position of the last banking event applied (0n before any). */
  position(): Promise<bigint>;
  /** The balance now, or undefined for an unknown account. */
  balance(accountId: string): Promise<AccountBalanceView | undefined>;
  /**
   * The balance as it stood at `at`: every event whose business time
   * (initiated, completed, failed, frozen, closed at) is at or before it.
   * Undefined when the account was not opened yet.
   */
  balanceAsOf(accountId: string, at: Date | number): Promise<AccountBalanceView | undefined>;
  /** The account's transactions, newest first, filtered, one page at a time (see `HistoryQuery`). */
  history(accountId: string, query?: HistoryQuery): Promise<HistoryPage>;
}

export type AccountBalanceView = {
  accountId: string;
  customerId: string;
  currency: BankingCurrency;
  status: 'open' | 'frozen' | 'closed';
  /** Booked: the sum of completed transactions (what the ledger holds). */
  postedMinor: bigint;
  /** Transactions initiated and not yet settled: expected incoming less outgoing. */
  pendingMinor: bigint;
  /** What the customer can spend: posted less outgoing pending (incoming pending does not count until booked). */
  availableMinor: bigint;
};

export type HistoryItem = {
  transactionId: string;
  type: TransactionType;
  status: 'initiated' | 'completed' | 'failed';
  /** `debit`: money left this account; `credit`: it came in. */
  direction: 'debit' | 'credit';
  /** What moved on this account (fees included on a debit), in its currency; expected while initiated, asked if failed. */
  amountMinor: bigint;
  currency: BankingCurrency;
  feeMinor: bigint;
  /** The other bank account, when there is one. */
  counterpartyAccountId: string | null;
  /** The external account of a payment. */
  beneficiary: string | null;
  exchangeRate: string | null;
  reference: string;
  initiatedAt: string;
  settledAt: string | null;
  failureReason: string | null;
};

/**
 * A page request. `from` (inclusive) and `to` (exclusive) filter on the
 * initiation time; `minAmountMinor` / `maxAmountMinor` (inclusive) on
 * `amountMinor`. `limit`: 1 to `PAGE_SIZE_MAX` (default 20). A cursor only
 * continues the query that made it (same account and filters).
 */
export type HistoryQuery = {
  limit?: number;
  cursor?: string;
  from?: Date | number;
  to?: Date | number;
  minAmountMinor?: bigint;
  maxAmountMinor?: bigint;
};

export type HistoryPage = {
  items: HistoryItem[];
  /** Opaque; null on the last page. */
  nextCursor: string | null;
};

export const HISTORY_PAGE_SIZE_DEFAULT = 20;

/** A history query, checked: times in milliseconds, bounds as bigints or null. */
export type CheckedHistoryQuery = {
  limit: number;
  afterPosition: bigint | null;
  fromMs: number | null;
  toMs: number | null;
  minAmountMinor: bigint | null;
  maxAmountMinor: bigint | null;
};

/** Validates a query (validation_failed, then limit_exceeded) and opens its cursor. */
export function checkHistoryQuery(accountId: string, query: HistoryQuery): CheckedHistoryQuery {
  const limit = query.limit ?? HISTORY_PAGE_SIZE_DEFAULT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new DaybookError('validation_failed', `limit must be a positive integer, got ${String(limit)}`, {}, 'limit');
  const fromMs = timeOf(query.from, 'from');
  const toMs = timeOf(query.to, 'to');
  const minAmountMinor = amountOf(query.minAmountMinor, 'minAmountMinor');
  const maxAmountMinor = amountOf(query.maxAmountMinor, 'maxAmountMinor');
  const filters = { fromMs, toMs, minAmountMinor, maxAmountMinor };
  const afterPosition = query.cursor === undefined ? null : openCursor(query.cursor, accountId, filterKey(filters));
  if (limit > PAGE_SIZE_MAX) throw new DaybookError('limit_exceeded', `limit ${limit} is more than ${PAGE_SIZE_MAX}`, { limit: PAGE_SIZE_MAX }, 'limit');
  return { limit, afterPosition, ...filters };
}

function timeOf(value: Date | number | undefined, param: string): number | null {
  if (value === undefined) return null;
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms)) throw new DaybookError('validation_failed', `${param} must be a Date or integer milliseconds`, {}, param);
  return ms;
}

function amountOf(value: bigint | undefined, param: string): bigint | null {
  if (value === undefined) return null;
  if (typeof value !== 'bigint' || value < 0n) throw new DaybookError('validation_failed', `${param} must be a non-negative bigint of minor units`, {}, param);
  return value;
}

function filterKey(filters: Omit<CheckedHistoryQuery, 'limit' | 'afterPosition'>): string {
  return [filters.fromMs, filters.toMs, filters.minAmountMinor, filters.maxAmountMinor].map((value) => (value === null ? '' : String(value))).join('|');
}

/** The cursor after an item: the account, the query's filters and the item's position, base64url JSON (opaque to callers). */
export function makeCursor(accountId: string, query: CheckedHistoryQuery, position: bigint): string {
  return Buffer.from(JSON.stringify({ v: 1, a: accountId, f: filterKey(query), p: position.toString() })).toString('base64url');
}

function openCursor(cursor: string, accountId: string, filters: string): bigint {
  const invalid = (why: string) => new DaybookError('validation_failed', `cursor ${why}`, {}, 'cursor');
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 1000) throw invalid('is not a cursor of this list');
  let parsed: { v?: unknown; a?: unknown; f?: unknown; p?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof parsed;
  } catch {
    throw invalid('is not a cursor of this list');
  }
  if (parsed?.v !== 1 || typeof parsed.p !== 'string' || !/^[0-9]+$/.test(parsed.p)) throw invalid('is not a cursor of this list');
  if (parsed.a !== accountId || parsed.f !== filters) throw invalid('belongs to another account or other filters');
  return BigInt(parsed.p);
}
