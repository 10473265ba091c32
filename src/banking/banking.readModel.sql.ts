/**
 * `BankingReadModel` answered from the tables of `bankingProjection`, on
 * SQLite or PostgreSQL: every query reads the projection's active generation
 * in one snapshot (a blue-green rebuild's switch never shows half a model).
 * It answers what the projection has committed: after a command, wait for the
 * position it returned (`waitFor`) to read your own write.
 *
 * @example
 * const model = new SqlBankingReadModel(readModels, engine);
 * await model.waitFor(result.position, 5_000);
 * const page = await model.history('acc-1', { limit: 20, minAmountMinor: 10_000n });
 */
import { type ProjectionTx, projectionPosition, queryProjection, type ReadModelStore, waitForPosition } from '../projections/index.ts';
import { BANKING_PROJECTION_NAME, tables } from './banking.readModel.projection.ts';
import {
  checkHistoryQuery, makeCursor,
  type AccountBalanceView, type BankingReadModel, type CheckedHistoryQuery, type HistoryItem, type HistoryPage, type HistoryQuery,
} from './banking.readModel.ts';
import type { BankingCurrency, TransactionType } from './banking.types.ts';

/** What waits for the projection to reach a position: the engine (or anything with its `waitForPosition`). */
export interface PositionWaiter {
  waitForPosition(name: string, position: bigint, timeoutMs: number): Promise<void>;
}

type AccountRow = {
  account_id: string; customer_id: string; currency: string; status: string; opened_at_ms: bigint;
  posted_minor: bigint; pending_in_minor: bigint; pending_out_minor: bigint;
};

type HistoryRow = {
  position: bigint; transaction_id: string; type: string; status: string; direction: string; amount_minor: bigint; currency: string; fee_minor: bigint;
  counterparty_account_id: string | null; beneficiary: string | null; exchange_rate: string | null; reference: string; initiated_at: string;
  settled_at: string | null; failure_reason: string | null;
};

/**
 * The banking read model of the projection's tables. `waiter` (the engine)
 * answers `waitFor` without polling where the projection runs in this process;
 * without it, `waitFor` polls the checkpoint.
 */
export class SqlBankingReadModel implements BankingReadModel {
  constructor(private readonly readModels: ReadModelStore, private readonly waiter?: PositionWaiter) {}

  /** Resolves once the model reflects every event up to `position`; `projection_wait_timeout` after `timeoutMs`. */
  async waitFor(position: bigint, timeoutMs: number): Promise<void> {
    if (this.waiter) return this.waiter.waitForPosition(BANKING_PROJECTION_NAME, position, timeoutMs);
    return waitForPosition(this.readModels, BANKING_PROJECTION_NAME, position, timeoutMs);
  }

  /** The projection's checkpoint: every banking event up to it is reflected. */
  async position(): Promise<bigint> {
    return this.readModels.read(async (tx) => (await projectionPosition(tx, BANKING_PROJECTION_NAME)).position);
  }

  async balance(accountId: string): Promise<AccountBalanceView | undefined> {
    return this.query(async (tx) => {
      const row = await accountRow(tx, accountId);
      return row === undefined ? undefined : view(row, { postedMinor: row.posted_minor, pendingInMinor: row.pending_in_minor, pendingOutMinor: row.pending_out_minor, status: row.status });
    });
  }

  async balanceAsOf(accountId: string, at: Date | number): Promise<AccountBalanceView | undefined> {
    const atMs = at instanceof Date ? at.getTime() : at;
    return this.query(async (tx) => {
      const row = await accountRow(tx, accountId);
      if (row === undefined || BigInt(row.opened_at_ms) > BigInt(atMs)) return undefined;
      const { changes } = tables(tx);
      const [sums] = await tx.query<{ posted: bigint; pending_in: bigint; pending_out: bigint }>(asOfSumsSql(changes), [accountId, atMs]);
      const [status] = await tx.query<{ status: string }>(asOfStatusSql(changes), [accountId, atMs]);
      return view(row, { postedMinor: sums!.posted, pendingInMinor: sums!.pending_in, pendingOutMinor: sums!.pending_out, status: status?.status ?? 'open' });
    });
  }

  async history(accountId: string, query: HistoryQuery = {}): Promise<HistoryPage> {
    const checked = checkHistoryQuery(accountId, query);
    const rows = await this.query((tx) => {
      const statement = historyStatement(tables(tx).history, accountId, checked);
      return tx.query<HistoryRow>(statement.sql, statement.params);
    });
    // One row past the page: there is a next page, and it starts before the last item shown.
    const page = rows.slice(0, checked.limit);
    const nextCursor = rows.length > checked.limit ? makeCursor(accountId, checked, BigInt(page[page.length - 1]!.position)) : null;
    return { items: page.map(historyItem), nextCursor };
  }

  private query<T>(fn: (tx: ProjectionTx) => Promise<T>): Promise<T> {
    return queryProjection(this.readModels, BANKING_PROJECTION_NAME, fn);
  }
}

/**
 * One page of an account's history, newest first, one row past the page:
 * a range of the (account_id, position) primary key read backwards, filters
 * applied on the way (the plan test asserts the key is used, with no sort).
 */
export function historyStatement(table: string, accountId: string, checked: CheckedHistoryQuery): { sql: string; params: unknown[] } {
  const conditions = ['account_id = $1'];
  const params: unknown[] = [accountId];
  const where = (condition: string, value: unknown): void => {
    params.push(value);
    conditions.push(`${condition} $${params.length}`);
  };
  if (checked.afterPosition !== null) where('position <', checked.afterPosition);
  if (checked.fromMs !== null) where('initiated_at_ms >=', checked.fromMs);
  if (checked.toMs !== null) where('initiated_at_ms <', checked.toMs);
  if (checked.minAmountMinor !== null) where('amount_minor >=', checked.minAmountMinor);
  if (checked.maxAmountMinor !== null) where('amount_minor <=', checked.maxAmountMinor);
  params.push(checked.limit + 1);
  return {
    sql: `SELECT position, transaction_id, type, status, direction, amount_minor, currency, fee_minor, counterparty_account_id, beneficiary, exchange_rate,
        reference, initiated_at, settled_at, failure_reason
      FROM ${table} WHERE ${conditions.join(' AND ')} ORDER BY position DESC LIMIT $${params.length}`,
    params,
  };
}

/** The sums of an account's balance changes up to a time: `$1` account, `$2` time in ms (through the (account_id, at_ms) index). */
export function asOfSumsSql(table: string): string {
  return `SELECT CAST(COALESCE(SUM(posted_minor), 0) AS bigint) AS posted, CAST(COALESCE(SUM(pending_in_minor), 0) AS bigint) AS pending_in,
      CAST(COALESCE(SUM(pending_out_minor), 0) AS bigint) AS pending_out
    FROM ${table} WHERE account_id = $1 AND at_ms <= $2`;
}

/** The last status change in log order among those at or before a time (as the changes were applied). */
export function asOfStatusSql(table: string): string {
  return `SELECT status FROM ${table} WHERE account_id = $1 AND at_ms <= $2 AND status IS NOT NULL ORDER BY position DESC, side DESC LIMIT 1`;
}

async function accountRow(tx: ProjectionTx, accountId: string): Promise<AccountRow | undefined> {
  const [row] = await tx.query<AccountRow>(
    `SELECT account_id, customer_id, currency, status, opened_at_ms, posted_minor, pending_in_minor, pending_out_minor FROM ${tables(tx).accounts} WHERE account_id = $1`,
    [accountId]);
  return row;
}

function view(row: AccountRow, totals: { postedMinor: bigint; pendingInMinor: bigint; pendingOutMinor: bigint; status: string }): AccountBalanceView {
  const postedMinor = BigInt(totals.postedMinor);
  const pendingInMinor = BigInt(totals.pendingInMinor);
  const pendingOutMinor = BigInt(totals.pendingOutMinor);
  return {
    accountId: row.account_id, customerId: row.customer_id, currency: row.currency as BankingCurrency, status: totals.status as AccountBalanceView['status'],
    postedMinor, pendingMinor: pendingInMinor - pendingOutMinor, availableMinor: postedMinor - pendingOutMinor,
  };
}

function historyItem(row: HistoryRow): HistoryItem {
  return {
    transactionId: row.transaction_id, type: row.type as TransactionType, status: row.status as HistoryItem['status'], direction: row.direction as HistoryItem['direction'],
    amountMinor: BigInt(row.amount_minor), currency: row.currency as BankingCurrency, feeMinor: BigInt(row.fee_minor),
    counterpartyAccountId: row.counterparty_account_id, beneficiary: row.beneficiary, exchangeRate: row.exchange_rate, reference: row.reference,
    initiatedAt: row.initiated_at, settledAt: row.settled_at, failureReason: row.failure_reason,
  };
}
