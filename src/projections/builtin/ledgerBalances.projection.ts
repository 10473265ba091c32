/**
 * `ledger_balances`: per ledger account (of every ledger partition), its
 * four balance totals and status, from the `ledger-*` streams. Each ledger
 * movement carries the balances of its accounts right after it, so the
 * handler writes those as they are: no arithmetic to get wrong, and an event
 * for an account the read model does not know is a divergence, refused (the
 * batch rolls back and the event is parked) rather than skipped.
 *
 * @example
 * const rows = await engine.query('ledger_balances', (q) =>
 *   q.query(`SELECT * FROM ${q.table('ledger_account_balances')} WHERE partition = $1`, ['live']));
 */
import { assert } from '../../kernel/index.ts';
import { type AccountBalance, decodeLedgerEvent, LEDGER_EVENT_TYPES, type LedgerEvent } from '../../ledger/index.ts';
import { defineProjection, type ProjectionTx } from '../projection.ts';

export const LEDGER_BALANCES_PROJECTION_NAME = 'ledger_balances';
export const LEDGER_BALANCES_TABLE = 'ledger_account_balances';
/** The ledger engine's streams: `ledger-<partition>`. */
const LEDGER_CATEGORY = 'ledger';

export const ledgerBalancesProjection = defineProjection({
  name: LEDGER_BALANCES_PROJECTION_NAME,
  version: 1,
  tables: [LEDGER_BALANCES_TABLE],
  handles: { categories: [LEDGER_CATEGORY], types: LEDGER_EVENT_TYPES },
  onPoison: 'park',
  async migrate(tx) {
    await tx.execute(`CREATE TABLE ${tx.table(LEDGER_BALANCES_TABLE)} (
      partition text NOT NULL, account_id text NOT NULL, ledger text NOT NULL, currency text NOT NULL, code bigint NOT NULL, status text NOT NULL,
      debits_pending bigint NOT NULL, debits_posted bigint NOT NULL, credits_pending bigint NOT NULL, credits_posted bigint NOT NULL,
      last_position bigint NOT NULL, PRIMARY KEY (partition, account_id))`);
  },
  async handle(events, tx) {
    for (const event of events) await applyLedgerEvent(tx, partitionOfStream(event.streamId), decodeLedgerEvent(event), event.position);
  },
});

function partitionOfStream(streamId: string): string {
  return streamId.slice(LEDGER_CATEGORY.length + 1);
}

async function applyLedgerEvent(tx: ProjectionTx, partition: string, event: LedgerEvent, position: bigint): Promise<void> {
  const table = tx.table(LEDGER_BALANCES_TABLE);
  switch (event.type) {
    case 'AccountOpened': {
      const { accountId, ledger, currency, code } = event.data;
      await tx.execute(`INSERT INTO ${table} (partition, account_id, ledger, currency, code, status, debits_pending, debits_posted, credits_pending, credits_posted, last_position)
        VALUES ($1, $2, $3, $4, $5, 'open', 0, 0, 0, 0, $6)`, [partition, accountId, ledger, currency, code, position]);
      return;
    }
    case 'AccountClosed':
    case 'AccountReopened': {
      const changed = await tx.execute(`UPDATE ${table} SET status = $1, last_position = $2 WHERE partition = $3 AND account_id = $4`,
        [event.type === 'AccountClosed' ? 'closed' : 'open', position, partition, event.data.accountId]);
      assert(changed === 1, `ledger_balances: ${event.type} of unknown account ${partition}/${event.data.accountId} at position ${position}`);
      return;
    }
    case 'TransferPosted':
    case 'PendingTransferCreated':
    case 'PendingTransferPosted':
    case 'PendingTransferVoided':
    case 'PendingTransferExpired':
      await setBalances(tx, partition, [
        { accountId: event.data.debitAccountId, balances: event.data.debitBalances },
        { accountId: event.data.creditAccountId, balances: event.data.creditBalances },
      ], position);
      return;
    case 'JournalEntryRecorded':
    case 'JournalEntryReversed':
      await setBalances(tx, partition, event.data.balances, position);
      return;
    case 'TransferFailed':
    case 'JournalEntryFailed':
      return; // refused: no money moved
  }
}

async function setBalances(tx: ProjectionTx, partition: string, balances: readonly AccountBalance[], position: bigint): Promise<void> {
  const table = tx.table(LEDGER_BALANCES_TABLE);
  for (const { accountId, balances: b } of balances) {
    const changed = await tx.execute(
      `UPDATE ${table} SET debits_pending = $1, debits_posted = $2, credits_pending = $3, credits_posted = $4, last_position = $5 WHERE partition = $6 AND account_id = $7`,
      [b.debitsPending, b.debitsPosted, b.creditsPending, b.creditsPosted, position, partition, accountId]);
    assert(changed === 1, `ledger_balances: balances of unknown account ${partition}/${accountId} at position ${position}`);
  }
}
