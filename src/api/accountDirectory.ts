import { type LedgerEngine, LedgerMaps } from '../ledger/index.ts';
import { type PageCursor, pageOfPositions, positionsAround } from './wire.ts';

/**
 * Accounts of one ledger partition in the order they were opened, for
 * cursor pagination: the engine's account map keeps insertion order and
 * never drops an account, so the directory only appends what is new, and a
 * page costs its own length whatever the cursor.
 */
export class AccountDirectory {
  private readonly ids: string[] = [];
  private readonly positions = new Map<string, number>();

  constructor(private readonly engine: LedgerEngine) {}

  /**
   * Up to `limit` ids after (or before) the cursor, an account of this
   * directory whatever the filter, in the order opened. With `matches`, only
   * the accounts it accepts: the page scans away from the cursor, and
   * `hasMore` says whether another match lies beyond the page that way.
   */
  page(cursor: PageCursor, limit: number, matches?: (accountId: string) => boolean): { ids: string[]; hasMore: boolean; known: boolean } {
    this.sync();
    const id = cursor.after ?? cursor.before;
    const cursorPosition = id === undefined ? null : this.positions.get(id);
    if (cursorPosition === undefined) return { ids: [], hasMore: false, known: false };
    const backwards = cursor.before !== undefined;
    if (matches === undefined && !backwards) {
      const start = cursorPosition === null ? 0 : cursorPosition + 1;
      return { ids: this.ids.slice(start, start + limit), hasMore: start + limit < this.ids.length, known: true };
    }
    const accept = matches === undefined ? () => true : (position: number) => matches(this.ids[position]!);
    const { positions, hasMore } = pageOfPositions(positionsAround(this.ids.length, cursorPosition, backwards), limit, accept, backwards);
    return { ids: positions.map((position) => this.ids[position]!), hasMore, known: true };
  }

  private sync(): void {
    const state = this.engine.state;
    if (!(state instanceof LedgerMaps) || state.accounts.size === this.ids.length) return;
    let seen = 0;
    for (const accountId of state.accounts.keys()) {
      if (seen++ < this.ids.length) continue;
      this.positions.set(accountId, this.ids.length);
      this.ids.push(accountId);
    }
  }
}
