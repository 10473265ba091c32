import { type LedgerEngine, LedgerMaps } from '../ledger/index.ts';

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
   * Up to `limit` ids after `startingAfter` (an account of this directory,
   * whatever the filter). With `matches`, only the accounts it accepts: the
   * page scans forward from the cursor, and `hasMore` says whether another
   * match follows.
   */
  page(startingAfter: string | undefined, limit: number, matches?: (accountId: string) => boolean): { ids: string[]; hasMore: boolean; known: boolean } {
    this.sync();
    let start = 0;
    if (startingAfter !== undefined) {
      const position = this.positions.get(startingAfter);
      if (position === undefined) return { ids: [], hasMore: false, known: false };
      start = position + 1;
    }
    if (matches === undefined) return { ids: this.ids.slice(start, start + limit), hasMore: start + limit < this.ids.length, known: true };
    const ids: string[] = [];
    let index = start;
    for (; index < this.ids.length && ids.length < limit; index += 1) if (matches(this.ids[index]!)) ids.push(this.ids[index]!);
    let hasMore = false;
    for (; index < this.ids.length && !hasMore; index += 1) hasMore = matches(this.ids[index]!);
    return { ids, hasMore, known: true };
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
