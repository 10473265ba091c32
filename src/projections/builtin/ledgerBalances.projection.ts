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
    // Each movement carries its accounts' balances right after it, so only an account's last ones in the batch need writing: they are
    // gathered and written in one statement (it was one per account per event, a round trip each on PostgreSQL). Account events
    // are applied in their place, after what came before them.
    const moved = new Map<string, LatestBalances>();
    for (const event of events) {
      const partition = partitionOfStream(event.streamId);
      const decoded = decodeLedgerEvent(event);
      const balances = balancesMoved(decoded);
      if (balances === undefined) {
        await writeBalances(tx, moved);
        await applyAccountEvent(tx, partition, decoded, event.position);
        continue;
      }
      for (const { accountId, balances: latest } of balances) {
        moved.set(`${partition}\u0000${accountId}`, { partition, accountId, balances: latest, position: event.position });
      }
    }
    await writeBalances(tx, moved);
  },
});

interface LatestBalances { partition: string; accountId: string; balances: AccountBalance['balances']; position: bigint }

function partitionOfStream(streamId: string): string {
  return streamId.slice(LEDGER_CATEGORY.length + 1);
}

/** The balances an event sets (a movement's accounts, possibly none for a refusal); undefined for an account's own events. */
function balancesMoved(event: LedgerEvent): readonly AccountBalance[] | undefined {
  switch (event.type) {
    case 'TransferPosted':
    case 'PendingTransferCreated':
    case 'PendingTransferPosted':
    case 'PendingTransferVoided':
    case 'PendingTransferExpired':
      return [
        { accountId: event.data.debitAccountId, balances: event.data.debitBalances },
        { accountId: event.data.creditAccountId, balances: event.data.creditBalances },
      ];
    case 'JournalEntryRecorded':
    case 'JournalEntryReversed':
      return event.data.balances;
    case 'TransferFailed':
    case 'JournalEntryFailed':
      return []; // refused: no money moved
    default:
      return undefined;
  }
}

async function applyAccountEvent(tx: ProjectionTx, partition: string, event: LedgerEvent, position: bigint): Promise<void> {
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
    default:
  }
}

/** Rows per statement on SQLite (seven parameters each, well under its limit of 32,766). */
const SQLITE_ROWS_PER_STATEMENT = 500;

/**
 * Writes the gathered balances (and empties `moved`): one `UPDATE … FROM` per
 * batch on PostgreSQL (arrays, one parameter per column), per 500 accounts on
 * SQLite. Every account must exist: one the read model does not know is a
 * divergence, refused (the batch rolls back and the event is parked).
 */
async function writeBalances(tx: ProjectionTx, moved: Map<string, LatestBalances>): Promise<void> {
  if (moved.size === 0) return;
  const rows = [...moved.values()];
  moved.clear();
  const table = tx.table(LEDGER_BALANCES_TABLE);
  const set = 'debits_pending = v.dp, debits_posted = v.dpo, credits_pending = v.cp, credits_posted = v.cpo, last_position = v.pos';
  let changed = 0;
  if (tx.dialect === 'postgres') {
    const column = (pick: (row: LatestBalances) => bigint | string) => rows.map((row) => String(pick(row)));
    changed = await tx.execute(
      `UPDATE ${table} AS t SET ${set}
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) AS v(partition, account_id, dp, dpo, cp, cpo, pos)
        WHERE t.partition = v.partition AND t.account_id = v.account_id`,
      [column((row) => row.partition), column((row) => row.accountId), column((row) => row.balances.debitsPending), column((row) => row.balances.debitsPosted),
        column((row) => row.balances.creditsPending), column((row) => row.balances.creditsPosted), column((row) => row.position)],
    );
  } else {
    for (let start = 0; start < rows.length; start += SQLITE_ROWS_PER_STATEMENT) {
      const chunk = rows.slice(start, start + SQLITE_ROWS_PER_STATEMENT);
      const values = chunk.map((_, i) => `(${Array.from({ length: 7 }, (__, j) => `$${i * 7 + j + 1}`).join(', ')})`).join(', ');
      const params = chunk.flatMap(({ partition, accountId, balances: b, position }) => [partition, accountId, b.debitsPending, b.debitsPosted, b.creditsPending, b.creditsPosted, position]);
      changed += await tx.execute(
        `WITH v(partition, account_id, dp, dpo, cp, cpo, pos) AS (VALUES ${values})
         UPDATE ${table} AS t SET ${set} FROM v WHERE t.partition = v.partition AND t.account_id = v.account_id`,
        params,
      );
    }
  }
  if (changed !== rows.length) await refuseUnknown(tx, rows);
}

/** Names an account the batch moved that the read model does not hold (the batch is refused). */
async function refuseUnknown(tx: ProjectionTx, rows: readonly LatestBalances[]): Promise<never> {
  const table = tx.table(LEDGER_BALANCES_TABLE);
  for (const { partition, accountId, position } of rows) {
    const [known] = await tx.query(`SELECT 1 AS known FROM ${table} WHERE partition = $1 AND account_id = $2`, [partition, accountId]);
    assert(known !== undefined, `ledger_balances: balances of unknown account ${partition}/${accountId} at position ${position}`);
  }
  assert(false, `ledger_balances: a batch's balances changed fewer rows than accounts it moved`);
}
