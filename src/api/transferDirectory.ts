import { LIST_SCAN_MAX } from '../kernel/index.ts';
import type { LedgerEngine, TransferRecord } from '../ledger/index.ts';
import type { PageCursor } from './wire.ts';

/** What a transfer list may be narrowed to; every given filter must hold. */
export interface TransferFilter {
  /** The debit or the credit side. */
  accountId?: string;
  /** Each key must be present with exactly this value. */
  metadata?: ReadonlyArray<readonly [string, string]>;
  /** Inclusive bounds on the time the transfer was recorded, in ms. */
  createdFromMs?: number;
  createdToMs?: number;
}

export interface TransferPage {
  transfers: TransferRecord[];
  hasMore: boolean;
  /** False when `startingAfter` names no transfer of the partition. */
  known: boolean;
  /** Set when the scan budget ended the page: the cursor to continue after (before, backwards), `_v<version>`. */
  resumeAfter: string | null;
}

/** A `next_cursor`: the version of the last event a budget-ended page examined. Ids start with a letter or digit, so none looks like it. */
export const TRANSFER_LOG_CURSOR = /^_v(\d{1,19})$/;

/** Events read from the log per step of a page. */
const STEP_EVENTS = 1_000;

/**
 * Transfers of one ledger partition in the order they were first recorded,
 * for cursor pagination, read from the log (the engine holds only recent
 * transfers): the partition stream is the list, so a page is stable
 * whatever is recorded after it, and a pending transfer keeps its place
 * once posted. A cursor is any transfer of the partition whatever the
 * filter, found through the store's event-id index. Listed pending
 * transfers show where they stand now. A page examines at most the scan
 * budget (LIST_SCAN_MAX) of the partition's events, transfers or not (an
 * account opened costs a read like a transfer): a filter that matches
 * rarely ends the page early, with `hasMore` and `resumeAfter`, the place in
 * the log to go on from (`_v<version>`). Nothing here grows with history.
 *
 * @example
 * const directory = new TransferDirectory(engine);
 * const { transfers, hasMore } = await directory.page({ accountId: 'acct_1' }, { param: null }, 10);
 */
export class TransferDirectory {
  /** Events examined by pages, in all: what the scan budget bounds per request. */
  examined = 0;

  constructor(private readonly engine: LedgerEngine, private readonly scanMax: number = LIST_SCAN_MAX) {}

  /** Up to `limit` transfers after (or before) the cursor, in the order recorded. */
  async page(filter: TransferFilter, cursor: PageCursor, limit: number): Promise<TransferPage> {
    const id = cursor.after ?? cursor.before;
    const backwards = cursor.before !== undefined;
    let from: bigint | null = null;
    const logCursor = id === undefined ? null : TRANSFER_LOG_CURSOR.exec(id);
    if (logCursor !== null) from = BigInt(logCursor[1]!);
    else if (id !== undefined) {
      const version = await this.engine.transferVersion(id);
      if (version === undefined) return { transfers: [], hasMore: false, known: false, resumeAfter: null };
      from = version;
    }
    const rows: TransferRecord[] = [];
    let examined = 0;
    let hasMore = false;
    let resumeAfter: string | null = null;
    scan: for (;;) {
      if (examined >= this.scanMax) {
        // Events are left but the budget is spent: the next request continues after the last event examined.
        hasMore = true;
        resumeAfter = `_v${from}`;
        break;
      }
      const wanted = Math.min(this.scanMax - examined, STEP_EVENTS);
      const step = await this.engine.readTransfers(from, backwards, wanted);
      examined += step.examined;
      for (const { record } of step.transfers) {
        if (!matches(record, filter)) continue;
        if (rows.length === limit) { hasMore = true; break scan; }
        rows.push(record);
      }
      if (step.examined < wanted || step.lastVersion === null) break;
      from = step.lastVersion;
    }
    this.examined += examined;
    if (backwards) rows.reverse();
    return { transfers: await this.current(rows), hasMore, known: true, resumeAfter };
  }

  /** Pending transfers as they stand now; every other record is final when first recorded. */
  private async current(rows: TransferRecord[]): Promise<TransferRecord[]> {
    return Promise.all(rows.map(async (row) => (row.status === 'applied' && row.kind === 'pending' ? (await this.engine.lookupTransfer(row.transferId)) ?? row : row)));
  }
}

/** The accounts a transfer names: a failed post or void never reached its pending transfer's accounts. */
function accountsOf(transfer: TransferRecord): [string | null, string | null] {
  if (transfer.status === 'applied') return [transfer.debitAccountId, transfer.creditAccountId];
  const { request } = transfer;
  return request.kind === 'create' ? [request.debitAccountId, request.creditAccountId] : [null, null];
}

function matches(transfer: TransferRecord, filter: TransferFilter): boolean {
  if (filter.accountId !== undefined) {
    const [debit, credit] = accountsOf(transfer);
    if (debit !== filter.accountId && credit !== filter.accountId) return false;
  }
  if (filter.createdFromMs !== undefined && transfer.atMs < filter.createdFromMs) return false;
  if (filter.createdToMs !== undefined && transfer.atMs > filter.createdToMs) return false;
  if (filter.metadata !== undefined) {
    const metadata = transfer.request.metadata;
    for (const [key, value] of filter.metadata) if (!Object.hasOwn(metadata, key) || metadata[key] !== value) return false;
  }
  return true;
}
