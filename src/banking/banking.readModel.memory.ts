import { categoryOf, type EventStore, type RecordedEvent, type Subscription } from '../eventstore/index.ts';
import { assert } from '../kernel/assert.ts';
import { READ_PAGE_SIZE } from '../kernel/limits.ts';
import { movementEffect } from './banking.ledgerPlan.ts';
import {
  checkHistoryQuery, makeCursor,
  type AccountBalanceView, type BankingReadModel, type CheckedHistoryQuery, type HistoryItem, type HistoryPage, type HistoryQuery,
} from './banking.readModel.ts';
import { BANKING_STREAM_PREFIXES } from './banking.runtime.ts';
import { BANK_ACCOUNT_EVENT_TYPES, type AccountOpened, type BankAccountEvent } from './bankAccount.events.ts';
import { TRANSACTION_EVENT_TYPES, type TransactionEvent, type TransactionInitiated } from './transaction.events.ts';

/** The event types the read model reads (filtered further by stream category: the ledger has an `AccountOpened` too). */
export const BANKING_READ_MODEL_EVENT_TYPES: readonly string[] = [...BANK_ACCOUNT_EVENT_TYPES, ...TRANSACTION_EVENT_TYPES];

type Status = AccountBalanceView['status'];
/** One change of an account's balances or status, at its business time: as-of queries fold these. */
type Change = { atMs: number; postedMinor: bigint; pendingInMinor: bigint; pendingOutMinor: bigint; status: Status | null };

type AccountRow = {
  opened: AccountOpened['data'];
  openedAtMs: number;
  status: Status;
  postedMinor: bigint;
  pendingInMinor: bigint;
  pendingOutMinor: bigint;
  changes: Change[];
  /** In order of initiation (global position ascending). */
  history: Array<HistoryItem & { position: bigint }>;
  historyIndex: Map<string, HistoryItem & { position: bigint }>;
};

/** A transaction's expected effect on each side while it is pending, so settling can take it back exactly. */
type TransactionRow = { initiated: TransactionInitiated['data']; pendingOutMinor: bigint; pendingInMinor: bigint };

/**
 * The banking read model in memory, built from the event log alone (so it
 * can be rebuilt at any time): `rebuild(store)` reads it from the start,
 * `catchUp(store)` reads what was appended since, `follow(store)` subscribes
 * and applies events as they become durable. Applying an event at or below
 * the current position does nothing, so feeds may overlap.
 */
export class InMemoryBankingReadModel implements BankingReadModel {
  private lastPosition = 0n;
  private readonly accounts = new Map<string, AccountRow>();
  private readonly transactions = new Map<string, TransactionRow>();

  static async rebuild(store: EventStore): Promise<InMemoryBankingReadModel> {
    const model = new InMemoryBankingReadModel();
    await model.catchUp(store);
    return model;
  }

  /** Applies every banking event after the current position. */
  async catchUp(store: EventStore): Promise<void> {
    for (;;) {
      const page = await store.readAll({ after: this.lastPosition, types: BANKING_READ_MODEL_EVENT_TYPES, limit: READ_PAGE_SIZE });
      for (const event of page) this.apply(event);
      if (page.length < READ_PAGE_SIZE) return;
    }
  }

  /** Follows the log live from the current position; `stop()` ends the subscription (and throws what failed it, if anything did). */
  follow(store: EventStore): { stop(): Promise<void> } {
    const subscription: Subscription = store.subscribe({ after: this.lastPosition, types: BANKING_READ_MODEL_EVENT_TYPES });
    // A failed feed (say the store closed under it) is reported by `stop`, not left as an unhandled rejection.
    const ended = (async () => {
      for await (const event of subscription) this.apply(event);
    })().then(() => undefined, (error: unknown) => error);
    return {
      stop: async () => {
        subscription.close();
        const failure = await ended;
        if (failure !== undefined) throw failure;
      },
    };
  }

  apply(event: RecordedEvent): void {
    if (event.position <= this.lastPosition) return;
    const category = categoryOf(event.streamId);
    if (category === BANKING_STREAM_PREFIXES.account) this.applyAccountEvent({ type: event.type, data: event.data } as BankAccountEvent);
    if (category === BANKING_STREAM_PREFIXES.transaction) this.applyTransactionEvent({ type: event.type, data: event.data } as TransactionEvent, event.position);
    this.lastPosition = event.position;
  }

  async position(): Promise<bigint> {
    return this.lastPosition;
  }

  async balance(accountId: string): Promise<AccountBalanceView | undefined> {
    const row = this.accounts.get(accountId);
    return row === undefined ? undefined : view(row, row);
  }

  async balanceAsOf(accountId: string, at: Date | number): Promise<AccountBalanceView | undefined> {
    const atMs = at instanceof Date ? at.getTime() : at;
    const row = this.accounts.get(accountId);
    if (row === undefined || row.openedAtMs > atMs) return undefined;
    const totals = { postedMinor: 0n, pendingInMinor: 0n, pendingOutMinor: 0n, status: 'open' as Status };
    for (const change of row.changes) {
      if (change.atMs > atMs) continue;
      totals.postedMinor += change.postedMinor;
      totals.pendingInMinor += change.pendingInMinor;
      totals.pendingOutMinor += change.pendingOutMinor;
      if (change.status !== null) totals.status = change.status;
    }
    return view(row, totals);
  }

  async history(accountId: string, query: HistoryQuery = {}): Promise<HistoryPage> {
    const checked = checkHistoryQuery(accountId, query);
    const row = this.accounts.get(accountId);
    if (row === undefined) return { items: [], nextCursor: null };
    const items: HistoryPage['items'] = [];
    let lastPosition = 0n;
    for (let index = startIndex(row.history, checked.afterPosition); index >= 0; index -= 1) {
      const { position, ...item } = row.history[index]!;
      if (!matches(item, checked)) continue;
      // One match past the page: there is a next page, and it starts before the last item shown.
      if (items.length === checked.limit) return { items, nextCursor: makeCursor(accountId, checked, lastPosition) };
      items.push(item);
      lastPosition = position;
    }
    return { items, nextCursor: null };
  }

  /** Everything the model holds, as plain data: for comparing two models (live and rebuilt). */
  snapshot(): unknown {
    const accounts = [...this.accounts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([accountId, row]) => ({
      accountId, status: row.status, postedMinor: row.postedMinor, pendingInMinor: row.pendingInMinor, pendingOutMinor: row.pendingOutMinor,
      changes: row.changes, history: row.history,
    }));
    return { position: this.lastPosition, accounts };
  }

  private applyAccountEvent(event: BankAccountEvent): void {
    if (event.type === 'AccountOpened') {
      const openedAtMs = Date.parse(event.data.openedAt);
      this.accounts.set(event.data.accountId, {
        opened: event.data, openedAtMs, status: 'open', postedMinor: 0n, pendingInMinor: 0n, pendingOutMinor: 0n,
        changes: [{ atMs: openedAtMs, postedMinor: 0n, pendingInMinor: 0n, pendingOutMinor: 0n, status: 'open' }], history: [], historyIndex: new Map(),
      });
      return;
    }
    const row = this.accounts.get(event.data.accountId);
    if (row === undefined) return;
    const status = (status: Status, at: string) => {
      row.status = status;
      row.changes.push({ atMs: Date.parse(at), postedMinor: 0n, pendingInMinor: 0n, pendingOutMinor: 0n, status });
    };
    switch (event.type) {
      case 'AccountFrozen': return status('frozen', event.data.frozenAt);
      case 'AccountUnfrozen': return status('open', event.data.unfrozenAt);
      case 'AccountClosed': return status('closed', event.data.closedAt);
      default: return; // DebitAuthorized / DebitReleased: limit bookkeeping, no money
    }
  }

  private applyTransactionEvent(event: TransactionEvent, position: bigint): void {
    if (event.type === 'TransactionInitiated') return this.initiate(event.data, position);
    const row = this.transactions.get(event.data.transactionId);
    if (row === undefined) return;
    this.transactions.delete(event.data.transactionId);
    const { initiated } = row;
    const from = initiated.fromAccountId === null ? undefined : this.accounts.get(initiated.fromAccountId);
    const to = initiated.toAccountId === null ? undefined : this.accounts.get(initiated.toAccountId);
    if (event.type === 'TransactionCompleted') {
      const atMs = Date.parse(event.data.completedAt);
      const debitedMinor = BigInt(event.data.debitedAmount);
      const creditedMinor = BigInt(event.data.finalAmount);
      if (from !== undefined) change(from, atMs, { postedMinor: -debitedMinor, pendingOutMinor: -row.pendingOutMinor });
      if (to !== undefined) change(to, atMs, { postedMinor: creditedMinor, pendingInMinor: -row.pendingInMinor });
      settle(from, initiated.transactionId, { status: 'completed', settledAt: event.data.completedAt, amountMinor: debitedMinor });
      settle(to, initiated.transactionId, { status: 'completed', settledAt: event.data.completedAt, amountMinor: creditedMinor });
      return;
    }
    const atMs = Date.parse(event.data.failedAt);
    if (from !== undefined) change(from, atMs, { pendingOutMinor: -row.pendingOutMinor });
    if (to !== undefined) change(to, atMs, { pendingInMinor: -row.pendingInMinor });
    const failed = { status: 'failed' as const, settledAt: event.data.failedAt, failureReason: event.data.reason };
    settle(from, initiated.transactionId, failed);
    settle(to, initiated.transactionId, failed);
  }

  private initiate(initiated: TransactionInitiated['data'], position: bigint): void {
    const effect = movementEffect(initiated);
    const row: TransactionRow = { initiated, pendingOutMinor: effect.debitedMinor, pendingInMinor: initiated.toAccountId === null ? 0n : effect.creditedMinor };
    this.transactions.set(initiated.transactionId, row);
    const atMs = Date.parse(initiated.initiatedAt);
    const base = {
      transactionId: initiated.transactionId, type: initiated.type, status: 'initiated' as const, feeMinor: BigInt(initiated.fee),
      beneficiary: initiated.beneficiary, exchangeRate: initiated.exchangeRate, reference: initiated.reference,
      initiatedAt: initiated.initiatedAt, settledAt: null, failureReason: null, position,
    };
    const from = initiated.fromAccountId === null ? undefined : this.accounts.get(initiated.fromAccountId);
    const to = initiated.toAccountId === null ? undefined : this.accounts.get(initiated.toAccountId);
    if (from !== undefined) {
      change(from, atMs, { pendingOutMinor: row.pendingOutMinor });
      record(from, { ...base, direction: 'debit', amountMinor: row.pendingOutMinor, currency: initiated.currency, counterpartyAccountId: initiated.toAccountId });
    }
    if (to !== undefined) {
      change(to, atMs, { pendingInMinor: row.pendingInMinor });
      record(to, { ...base, direction: 'credit', amountMinor: row.pendingInMinor, currency: initiated.toCurrency, counterpartyAccountId: initiated.fromAccountId, feeMinor: 0n });
    }
  }
}

function change(row: AccountRow, atMs: number, delta: Partial<Omit<Change, 'atMs' | 'status'>>): void {
  const entry: Change = { atMs, postedMinor: delta.postedMinor ?? 0n, pendingInMinor: delta.pendingInMinor ?? 0n, pendingOutMinor: delta.pendingOutMinor ?? 0n, status: null };
  row.postedMinor += entry.postedMinor;
  row.pendingInMinor += entry.pendingInMinor;
  row.pendingOutMinor += entry.pendingOutMinor;
  assert(row.pendingInMinor >= 0n && row.pendingOutMinor >= 0n, `account ${row.opened.accountId}: pending totals went negative`);
  row.changes.push(entry);
}

function record(row: AccountRow, item: HistoryItem & { position: bigint }): void {
  row.history.push(item);
  row.historyIndex.set(item.transactionId, item);
}

function settle(row: AccountRow | undefined, transactionId: string, update: Partial<HistoryItem>): void {
  const item = row?.historyIndex.get(transactionId);
  if (item !== undefined) Object.assign(item, update);
}

function view(row: AccountRow, totals: { postedMinor: bigint; pendingInMinor: bigint; pendingOutMinor: bigint; status: Status }): AccountBalanceView {
  return {
    accountId: row.opened.accountId, customerId: row.opened.customerId, currency: row.opened.currency, status: totals.status,
    postedMinor: totals.postedMinor, pendingMinor: totals.pendingInMinor - totals.pendingOutMinor, availableMinor: totals.postedMinor - totals.pendingOutMinor,
  };
}

function matches(item: HistoryItem, query: CheckedHistoryQuery): boolean {
  const atMs = Date.parse(item.initiatedAt);
  if (query.fromMs !== null && atMs < query.fromMs) return false;
  if (query.toMs !== null && atMs >= query.toMs) return false;
  if (query.minAmountMinor !== null && item.amountMinor < query.minAmountMinor) return false;
  if (query.maxAmountMinor !== null && item.amountMinor > query.maxAmountMinor) return false;
  return true;
}

/** Index of the newest item strictly before `afterPosition` (binary search: positions ascend), or the last index. */
function startIndex(history: ReadonlyArray<{ position: bigint }>, afterPosition: bigint | null): number {
  if (afterPosition === null) return history.length - 1;
  let low = 0;
  let high = history.length; // first index with position >= afterPosition
  while (low < high) {
    const middle = (low + high) >> 1;
    if (history[middle]!.position < afterPosition) low = middle + 1;
    else high = middle;
  }
  return low - 1;
}
