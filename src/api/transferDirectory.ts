import { LIST_SCAN_MAX } from '../kernel/index.ts';
import { type LedgerEngine, LedgerMaps, type TransferRecord } from '../ledger/index.ts';
import { positionsBeyond, scanPage } from './listScan.ts';
import { type PageCursor, positionsAround } from './wire.ts';

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
  /** Set when the scan budget ended the page: the id to continue after (before, backwards). */
  resumeAfter: string | null;
}

/**
 * Transfers of one ledger partition in the order they were first recorded,
 * for cursor pagination. The engine's transfer map keeps insertion order and
 * never drops a transfer (a pending one that is posted later keeps its
 * place), so a page is stable whatever is recorded after it. The directory
 * follows the map with one live iterator, taking each new transfer once and
 * indexing it under both its accounts, so that an `account_id` filter walks
 * only that account's transfers. Records are read from the engine's state
 * at page time: a listed pending transfer shows its current status. A page
 * examines at most the scan budget (LIST_SCAN_MAX) of candidates: a filter
 * that matches rarely ends the page early, with `hasMore` and `resumeAfter`.
 *
 * @example
 * const directory = new TransferDirectory(engine);
 * const { transfers, hasMore } = directory.page({ accountId: 'acct_1' }, { param: null }, 10);
 */
export class TransferDirectory {
  private readonly ids: string[] = [];
  private readonly positions = new Map<string, number>();
  private readonly byAccount = new Map<string, number[]>();
  private iterator: Iterator<TransferRecord> | undefined;
  /** Transfers examined by pages, in all: what the scan budget bounds per request. */
  examined = 0;

  constructor(private readonly engine: LedgerEngine, private readonly scanMax: number = LIST_SCAN_MAX) {}

  /** Up to `limit` transfers after (or before) the cursor, a transfer of this partition whatever the filter, in the order recorded. */
  page(filter: TransferFilter, cursor: PageCursor, limit: number): TransferPage {
    this.sync();
    const id = cursor.after ?? cursor.before;
    const cursorPosition = id === undefined ? null : this.positions.get(id);
    if (cursorPosition === undefined) return { transfers: [], hasMore: false, known: false, resumeAfter: null };
    const backwards = cursor.before !== undefined;
    const state = this.engine.state;
    const { positions, hasMore, resumeAfter, examined } = scanPage(
      this.candidates(filter.accountId, cursorPosition, backwards), limit, (position) => matches(state.transfer(this.ids[position]!)!, filter), backwards, this.scanMax,
    );
    this.examined += examined;
    return {
      transfers: positions.map((position) => state.transfer(this.ids[position]!)!), hasMore, known: true,
      resumeAfter: resumeAfter === null ? null : this.ids[resumeAfter]!,
    };
  }

  /** Positions away from the cursor (ascending after it, descending before it): every transfer's, or one account's. */
  private *candidates(accountId: string | undefined, cursorPosition: number | null, backwards: boolean): Generator<number> {
    if (accountId === undefined) {
      yield* positionsAround(this.ids.length, cursorPosition, backwards);
      return;
    }
    yield* positionsBeyond(this.byAccount.get(accountId) ?? [], cursorPosition, backwards);
  }

  private sync(): void {
    const state = this.engine.state;
    if (!(state instanceof LedgerMaps)) return;
    // Transfers are never removed, so while the map holds more than we took, the live iterator has a next entry.
    this.iterator ??= state.transfers.values();
    while (this.ids.length < state.transfers.size) {
      const next = this.iterator.next();
      if (next.done === true) return;
      this.take(next.value);
    }
  }

  private take(transfer: TransferRecord): void {
    const position = this.ids.length;
    this.ids.push(transfer.transferId);
    this.positions.set(transfer.transferId, position);
    const [debit, credit] = accountsOf(transfer);
    for (const accountId of debit === credit ? [debit] : [debit, credit]) {
      if (accountId === null) continue;
      let list = this.byAccount.get(accountId);
      if (list === undefined) {
        list = [];
        this.byAccount.set(accountId, list);
      }
      list.push(position);
    }
  }
}

/** The accounts a transfer names: a failed post or void never reached its pending transfer's accounts. */
function accountsOf(transfer: TransferRecord): [string | null, string | null] {
  if (transfer.status === 'applied') return [transfer.debitAccountId, transfer.creditAccountId];
  const { request } = transfer;
  return request.kind === 'create' ? [request.debitAccountId, request.creditAccountId] : [null, null];
}

function matches(transfer: TransferRecord, filter: TransferFilter): boolean {
  if (filter.createdFromMs !== undefined && transfer.atMs < filter.createdFromMs) return false;
  if (filter.createdToMs !== undefined && transfer.atMs > filter.createdToMs) return false;
  if (filter.metadata !== undefined) {
    const metadata = transfer.request.metadata;
    for (const [key, value] of filter.metadata) if (!Object.hasOwn(metadata, key) || metadata[key] !== value) return false;
  }
  return true;
}
