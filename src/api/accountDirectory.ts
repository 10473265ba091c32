import { type LedgerEngine, LedgerMaps } from '../ledger/index.ts';
import { LIST_SCAN_MAX } from '../kernel/index.ts';
import { positionsBeyond, scanPage } from './listScan.ts';
import { type PageCursor, positionsAround } from './wire.ts';

/** What an account list may be narrowed to; every given filter must hold. */
export interface AccountFilter {
  ledger?: string | undefined;
  /** Each key must be present with exactly this value. */
  metadata?: ReadonlyArray<readonly [string, string]> | undefined;
}

export interface AccountPage {
  ids: string[];
  hasMore: boolean;
  /** False when the cursor names no account of the partition. */
  known: boolean;
  /** Set when the scan budget ended the page: the id to continue after (before, backwards). */
  resumeAfter: string | null;
}

/**
 * Accounts of one ledger partition in the order they were opened, for
 * cursor pagination. The engine's account map keeps insertion order and
 * never drops an account, so the directory follows it with one live
 * iterator, taking each new account once (O(1) an account), and indexes it
 * under its ledger and each metadata `key=value` (an account's ledger and
 * metadata never change once opened). A filtered page walks the shortest of
 * its filters' lists, and examines at most the scan budget (LIST_SCAN_MAX)
 * of them: past it the page ends early with `hasMore` and `resumeAfter`.
 *
 * @example
 * const { ids, hasMore } = directory.page({ param: null }, 10, { metadata: [['region', 'eu']] });
 */
export class AccountDirectory {
  private readonly ids: string[] = [];
  private readonly positions = new Map<string, number>();
  private readonly byLedger = new Map<string, number[]>();
  private readonly byMetadata = new Map<string, number[]>();
  private source: LedgerMaps | undefined;
  private iterator: Iterator<string> | undefined;
  /** Accounts examined by filtered pages, in all: what the scan budget bounds per request. */
  examined = 0;

  constructor(private readonly engine: LedgerEngine, private readonly scanMax: number = LIST_SCAN_MAX) {}

  /** Up to `limit` ids after (or before) the cursor, an account of this directory whatever the filter, in the order opened. */
  page(cursor: PageCursor, limit: number, filter: AccountFilter = {}): AccountPage {
    this.sync();
    const id = cursor.after ?? cursor.before;
    const cursorPosition = id === undefined ? null : this.positions.get(id);
    if (cursorPosition === undefined) return { ids: [], hasMore: false, known: false, resumeAfter: null };
    const backwards = cursor.before !== undefined;
    const filtered = filter.ledger !== undefined || (filter.metadata?.length ?? 0) > 0;
    if (!filtered && !backwards) {
      const start = cursorPosition === null ? 0 : cursorPosition + 1;
      return { ids: this.ids.slice(start, start + limit), hasMore: start + limit < this.ids.length, known: true, resumeAfter: null };
    }
    const list = filtered ? this.shortestList(filter) : null;
    const candidates = list === null ? positionsAround(this.ids.length, cursorPosition, backwards) : positionsBeyond(list, cursorPosition, backwards);
    const state = this.engine.state;
    const accept = (position: number): boolean => {
      const account = state.account(this.ids[position]!)!;
      return (filter.ledger === undefined || account.ledger === filter.ledger)
        && (filter.metadata ?? []).every(([key, value]) => Object.hasOwn(account.metadata, key) && account.metadata[key] === value);
    };
    const scanned = scanPage(candidates, limit, accept, backwards, this.scanMax);
    this.examined += scanned.examined;
    return {
      ids: scanned.positions.map((position) => this.ids[position]!), hasMore: scanned.hasMore, known: true,
      resumeAfter: scanned.resumeAfter === null ? null : this.ids[scanned.resumeAfter]!,
    };
  }

  /** The shortest index list among the filter's (none for a filter nothing matches). */
  private shortestList(filter: AccountFilter): readonly number[] {
    const lists = [
      ...(filter.ledger === undefined ? [] : [this.byLedger.get(filter.ledger)]),
      ...(filter.metadata ?? []).map(([key, value]) => this.byMetadata.get(metadataKey(key, value))),
    ];
    let shortest: readonly number[] | undefined;
    for (const list of lists) {
      if (list === undefined) return [];
      if (shortest === undefined || list.length < shortest.length) shortest = list;
    }
    return shortest ?? [];
  }

  private sync(): void {
    const state = this.engine.state;
    if (!(state instanceof LedgerMaps) || state.accounts.size === this.ids.length) return;
    if (this.source !== state) {
      // The engine's maps are made once, when it opens; a directory made before that would start over here.
      this.source = state;
      this.iterator = state.accounts.keys();
      this.ids.length = 0;
      this.positions.clear();
      this.byLedger.clear();
      this.byMetadata.clear();
    }
    // Accounts are never removed, so while the map holds more than we took, the live iterator has a next key.
    while (this.ids.length < state.accounts.size) {
      const next = this.iterator!.next();
      if (next.done === true) return;
      this.take(state, next.value);
    }
  }

  private take(state: LedgerMaps, accountId: string): void {
    const position = this.ids.length;
    this.ids.push(accountId);
    this.positions.set(accountId, position);
    const account = state.account(accountId)!;
    append(this.byLedger, account.ledger, position);
    for (const [key, value] of Object.entries(account.metadata)) append(this.byMetadata, metadataKey(key, value), position);
  }
}

function metadataKey(key: string, value: string): string {
  return JSON.stringify([key, value]);
}

function append(index: Map<string, number[]>, key: string, position: number): void {
  let list = index.get(key);
  if (list === undefined) {
    list = [];
    index.set(key, list);
  }
  list.push(position);
}
