/**
 * The banking read model as a projection of the engine: the same facts as
 * `InMemoryBankingReadModel` (balances posted / pending / available,
 * transaction history, balance changes at business time for as-of queries),
 * in SQL tables written in the transaction that moves the checkpoint, on
 * SQLite and PostgreSQL alike. `SqlBankingReadModel` answers queries from them.
 *
 * Tables (base names; the engine adds the generation suffix `_vN`):
 * - `bank_accounts`: one row per account, current totals and status;
 * - `bank_open_transactions`: a transaction's pending effect until it settles;
 * - `bank_history`: one row per account side of a transaction, keyed by
 *   (account, global position of its initiation): the cursor;
 * - `bank_balance_changes`: every change of an account's totals or status at
 *   its business time; an as-of balance sums them.
 *
 * @example
 * const engine = createProjectionEngine({ store, readModels, projections: [bankingProjection] });
 * await engine.start();
 * const model = new SqlBankingReadModel(readModels);
 * await engine.waitForPosition(BANKING_PROJECTION_NAME, result.position, 5_000);
 * const balance = await model.balance('acc-1');
 */
import { categoryOf, type RecordedEvent } from '../eventstore/index.ts';
import { defineProjection, type ProjectionTx } from '../projections/index.ts';
import { movementEffect } from './banking.ledgerPlan.ts';
import { BANKING_READ_MODEL_EVENT_TYPES } from './banking.readModel.memory.ts';
import { BANKING_STREAM_PREFIXES } from './banking.runtime.ts';
import type { BankAccountEvent } from './bankAccount.events.ts';
import type { TransactionEvent, TransactionInitiated } from './transaction.events.ts';

/** The projection's name, for `daybook rebuild`, `/metrics` and `waitForPosition`. */
export const BANKING_PROJECTION_NAME = 'banking_read_model';

/** Base table names (the engine adds `_vN`). */
export const BANKING_TABLES = {
  accounts: 'bank_accounts',
  openTransactions: 'bank_open_transactions',
  history: 'bank_history',
  changes: 'bank_balance_changes',
} as const;

/** Which side of an event a balance change row stands for: the payer, the payee, or the account's own status. */
const SIDE = { from: 0, to: 1, status: 2 } as const;

type Status = 'open' | 'frozen' | 'closed';
type Side = (typeof SIDE)[keyof typeof SIDE];

/**
 * The banking read model on the projection engine. One partition: a
 * transaction's events change two accounts, so rows depend on several streams.
 * A pending total that would go negative breaks a CHECK constraint: the batch
 * rolls back and the event is parked, rather than a wrong balance being served.
 */
export const bankingProjection = defineProjection({
  name: BANKING_PROJECTION_NAME,
  version: 1,
  tables: Object.values(BANKING_TABLES),
  handles: { categories: [BANKING_STREAM_PREFIXES.account, BANKING_STREAM_PREFIXES.transaction], types: BANKING_READ_MODEL_EVENT_TYPES },
  onPoison: 'park',
  async migrate(tx) {
    const t = tables(tx);
    await tx.execute(`CREATE TABLE ${t.accounts} (
      account_id text PRIMARY KEY, customer_id text NOT NULL, currency text NOT NULL, status text NOT NULL, opened_at_ms bigint NOT NULL,
      posted_minor bigint NOT NULL, pending_in_minor bigint NOT NULL CHECK (pending_in_minor >= 0), pending_out_minor bigint NOT NULL CHECK (pending_out_minor >= 0))`);
    await tx.execute(`CREATE TABLE ${t.openTransactions} (
      transaction_id text PRIMARY KEY, from_account_id text, to_account_id text, pending_out_minor bigint NOT NULL, pending_in_minor bigint NOT NULL)`);
    await tx.execute(`CREATE TABLE ${t.history} (
      account_id text NOT NULL, position bigint NOT NULL, transaction_id text NOT NULL, type text NOT NULL, status text NOT NULL, direction text NOT NULL,
      amount_minor bigint NOT NULL, currency text NOT NULL, fee_minor bigint NOT NULL, counterparty_account_id text, beneficiary text, exchange_rate text,
      reference text NOT NULL, initiated_at text NOT NULL, initiated_at_ms bigint NOT NULL, settled_at text, failure_reason text,
      PRIMARY KEY (account_id, position))`);
    // Settling finds an account's row by transaction id.
    await tx.execute(`CREATE UNIQUE INDEX ${t.history}_by_transaction ON ${t.history} (account_id, transaction_id)`);
    await tx.execute(`CREATE TABLE ${t.changes} (
      account_id text NOT NULL, position bigint NOT NULL, side smallint NOT NULL, at_ms bigint NOT NULL,
      posted_minor bigint NOT NULL, pending_in_minor bigint NOT NULL, pending_out_minor bigint NOT NULL, status text,
      PRIMARY KEY (account_id, position, side))`);
    // As-of sums read one account's changes up to a time.
    await tx.execute(`CREATE INDEX ${t.changes}_by_time ON ${t.changes} (account_id, at_ms)`);
  },
  async handle(events, tx) {
    for (const event of events) await applyBankingEvent(event, tx);
  },
});

/** The physical table names of the generation a transaction writes or reads. */
export function tables(tx: ProjectionTx): Record<keyof typeof BANKING_TABLES, string> {
  return {
    accounts: tx.table(BANKING_TABLES.accounts),
    openTransactions: tx.table(BANKING_TABLES.openTransactions),
    history: tx.table(BANKING_TABLES.history),
    changes: tx.table(BANKING_TABLES.changes),
  };
}

async function applyBankingEvent(event: RecordedEvent, tx: ProjectionTx): Promise<void> {
  const category = categoryOf(event.streamId);
  if (category === BANKING_STREAM_PREFIXES.account) await applyAccountEvent({ type: event.type, data: event.data } as BankAccountEvent, event.position, tx);
  if (category === BANKING_STREAM_PREFIXES.transaction) await applyTransactionEvent({ type: event.type, data: event.data } as TransactionEvent, event.position, tx);
}

async function applyAccountEvent(event: BankAccountEvent, position: bigint, tx: ProjectionTx): Promise<void> {
  const t = tables(tx);
  if (event.type === 'AccountOpened') {
    const { accountId, customerId, currency, openedAt } = event.data;
    const openedAtMs = Date.parse(openedAt);
    await tx.execute(`INSERT INTO ${t.accounts} (account_id, customer_id, currency, status, opened_at_ms, posted_minor, pending_in_minor, pending_out_minor)
      VALUES ($1, $2, $3, 'open', $4, 0, 0, 0)`, [accountId, customerId, currency, openedAtMs]);
    await insertChange(tx, { accountId, position, side: SIDE.status, atMs: openedAtMs, status: 'open' });
    return;
  }
  const status = async (next: Status, at: string): Promise<void> => {
    const changed = await tx.execute(`UPDATE ${t.accounts} SET status = $1 WHERE account_id = $2`, [next, event.data.accountId]);
    if (changed === 1) await insertChange(tx, { accountId: event.data.accountId, position, side: SIDE.status, atMs: Date.parse(at), status: next });
  };
  switch (event.type) {
    case 'AccountFrozen': return status('frozen', event.data.frozenAt);
    case 'AccountUnfrozen': return status('open', event.data.unfrozenAt);
    case 'AccountClosed': return status('closed', event.data.closedAt);
    default: return; // DebitAuthorized / DebitReleased: limit bookkeeping, no money
  }
}

async function applyTransactionEvent(event: TransactionEvent, position: bigint, tx: ProjectionTx): Promise<void> {
  if (event.type === 'TransactionInitiated') return initiate(event.data, position, tx);
  const t = tables(tx);
  const [open] = await tx.query<{ from_account_id: string | null; to_account_id: string | null; pending_out_minor: bigint; pending_in_minor: bigint }>(
    `SELECT from_account_id, to_account_id, pending_out_minor, pending_in_minor FROM ${t.openTransactions} WHERE transaction_id = $1`, [event.data.transactionId]);
  if (open === undefined) return;
  await tx.execute(`DELETE FROM ${t.openTransactions} WHERE transaction_id = $1`, [event.data.transactionId]);
  const { transactionId } = event.data;
  const pendingOutMinor = BigInt(open.pending_out_minor);
  const pendingInMinor = BigInt(open.pending_in_minor);
  if (event.type === 'TransactionCompleted') {
    const atMs = Date.parse(event.data.completedAt);
    const debitedMinor = BigInt(event.data.debitedAmount);
    const creditedMinor = BigInt(event.data.finalAmount);
    const settled = { status: 'completed', settledAt: event.data.completedAt, failureReason: null };
    if (open.from_account_id !== null && await moveTotals(tx, { accountId: open.from_account_id, position, side: SIDE.from, atMs, postedMinor: -debitedMinor, pendingOutMinor: -pendingOutMinor })) {
      await settleHistory(tx, open.from_account_id, transactionId, { ...settled, amountMinor: debitedMinor });
    }
    if (open.to_account_id !== null && await moveTotals(tx, { accountId: open.to_account_id, position, side: SIDE.to, atMs, postedMinor: creditedMinor, pendingInMinor: -pendingInMinor })) {
      await settleHistory(tx, open.to_account_id, transactionId, { ...settled, amountMinor: creditedMinor });
    }
    return;
  }
  const atMs = Date.parse(event.data.failedAt);
  const failed = { status: 'failed', settledAt: event.data.failedAt, failureReason: event.data.reason, amountMinor: null };
  if (open.from_account_id !== null && await moveTotals(tx, { accountId: open.from_account_id, position, side: SIDE.from, atMs, pendingOutMinor: -pendingOutMinor })) {
    await settleHistory(tx, open.from_account_id, transactionId, failed);
  }
  if (open.to_account_id !== null && await moveTotals(tx, { accountId: open.to_account_id, position, side: SIDE.to, atMs, pendingInMinor: -pendingInMinor })) {
    await settleHistory(tx, open.to_account_id, transactionId, failed);
  }
}

async function initiate(initiated: TransactionInitiated['data'], position: bigint, tx: ProjectionTx): Promise<void> {
  const t = tables(tx);
  const effect = movementEffect(initiated);
  const pendingOutMinor = effect.debitedMinor;
  const pendingInMinor = initiated.toAccountId === null ? 0n : effect.creditedMinor;
  await tx.execute(`INSERT INTO ${t.openTransactions} (transaction_id, from_account_id, to_account_id, pending_out_minor, pending_in_minor) VALUES ($1, $2, $3, $4, $5)`,
    [initiated.transactionId, initiated.fromAccountId, initiated.toAccountId, pendingOutMinor, pendingInMinor]);
  const atMs = Date.parse(initiated.initiatedAt);
  const common = {
    transactionId: initiated.transactionId, type: initiated.type, beneficiary: initiated.beneficiary, exchangeRate: initiated.exchangeRate,
    reference: initiated.reference, initiatedAt: initiated.initiatedAt, initiatedAtMs: atMs, position,
  };
  if (initiated.fromAccountId !== null && await moveTotals(tx, { accountId: initiated.fromAccountId, position, side: SIDE.from, atMs, pendingOutMinor })) {
    await insertHistory(tx, {
      ...common, accountId: initiated.fromAccountId, direction: 'debit', amountMinor: pendingOutMinor, currency: initiated.currency,
      feeMinor: BigInt(initiated.fee), counterpartyAccountId: initiated.toAccountId,
    });
  }
  if (initiated.toAccountId !== null && await moveTotals(tx, { accountId: initiated.toAccountId, position, side: SIDE.to, atMs, pendingInMinor })) {
    await insertHistory(tx, {
      ...common, accountId: initiated.toAccountId, direction: 'credit', amountMinor: pendingInMinor, currency: initiated.toCurrency,
      feeMinor: 0n, counterpartyAccountId: initiated.fromAccountId,
    });
  }
}

type Delta = { accountId: string; position: bigint; side: Side; atMs: number; postedMinor?: bigint; pendingInMinor?: bigint; pendingOutMinor?: bigint };

/** Adds a delta to an account's totals and records it as a change; false (nothing written) for an account the model does not know. */
async function moveTotals(tx: ProjectionTx, delta: Delta): Promise<boolean> {
  const t = tables(tx);
  const posted = delta.postedMinor ?? 0n;
  const pendingIn = delta.pendingInMinor ?? 0n;
  const pendingOut = delta.pendingOutMinor ?? 0n;
  const changed = await tx.execute(
    `UPDATE ${t.accounts} SET posted_minor = posted_minor + $1, pending_in_minor = pending_in_minor + $2, pending_out_minor = pending_out_minor + $3 WHERE account_id = $4`,
    [posted, pendingIn, pendingOut, delta.accountId]);
  if (changed === 0) return false;
  await insertChange(tx, { ...delta, status: null });
  return true;
}

async function insertChange(tx: ProjectionTx, change: Delta & { status: Status | null }): Promise<void> {
  await tx.execute(`INSERT INTO ${tables(tx).changes} (account_id, position, side, at_ms, posted_minor, pending_in_minor, pending_out_minor, status)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  [change.accountId, change.position, change.side, change.atMs, change.postedMinor ?? 0n, change.pendingInMinor ?? 0n, change.pendingOutMinor ?? 0n, change.status]);
}

type HistoryRow = {
  accountId: string; position: bigint; transactionId: string; type: string; direction: 'debit' | 'credit'; amountMinor: bigint; currency: string;
  feeMinor: bigint; counterpartyAccountId: string | null; beneficiary: string | null; exchangeRate: string | null; reference: string;
  initiatedAt: string; initiatedAtMs: number;
};

async function insertHistory(tx: ProjectionTx, row: HistoryRow): Promise<void> {
  await tx.execute(`INSERT INTO ${tables(tx).history} (account_id, position, transaction_id, type, status, direction, amount_minor, currency, fee_minor,
      counterparty_account_id, beneficiary, exchange_rate, reference, initiated_at, initiated_at_ms, settled_at, failure_reason)
    VALUES ($1, $2, $3, $4, 'initiated', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL, NULL)`,
  [row.accountId, row.position, row.transactionId, row.type, row.direction, row.amountMinor, row.currency, row.feeMinor, row.counterpartyAccountId,
    row.beneficiary, row.exchangeRate, row.reference, row.initiatedAt, row.initiatedAtMs]);
}

async function settleHistory(
  tx: ProjectionTx, accountId: string, transactionId: string,
  update: { status: string; settledAt: string; failureReason: string | null; amountMinor: bigint | null },
): Promise<void> {
  // A failed transaction keeps the amount it asked for: COALESCE leaves it when no new amount is given.
  await tx.execute(`UPDATE ${tables(tx).history} SET status = $1, settled_at = $2, failure_reason = $3, amount_minor = COALESCE(CAST($4 AS bigint), amount_minor)
    WHERE account_id = $5 AND transaction_id = $6`,
  [update.status, update.settledAt, update.failureReason, update.amountMinor, accountId, transactionId]);
}
