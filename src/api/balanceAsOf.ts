import type { EventStore } from '../eventstore/index.ts';
import { DaybookError, READ_PAGE_SIZE } from '../kernel/index.ts';
import { type AccountRecord, type Balances, balancesAsOf, decodeLedgerEvent, type LedgerEvent, ZERO_BALANCES } from '../ledger/index.ts';

/** Most partition events an as-of balance may read back through; past it, open the account with the history flag. */
export const AS_OF_SCAN_EVENTS_MAX = 1_000_000;

/**
 * An account's balances as they stood at `atMs`. Accounts opened with the
 * `history` flag answer from memory. Others are answered from the log: every
 * movement event carries the balances of its accounts right after it, so the
 * newest such event at or before `atMs` is the answer, found by reading the
 * partition stream backwards from that time.
 */
export async function accountBalancesAsOf(store: EventStore, streamId: string, account: AccountRecord, atMs: number): Promise<Balances> {
  if (atMs < account.openedAtMs) return ZERO_BALANCES;
  const fromMemory = balancesAsOf(account, atMs);
  if (fromMemory !== undefined) return fromMemory;
  const asOfTime = new Date(atMs);
  let fromVersion: bigint | undefined;
  for (let scanned = 0; scanned < AS_OF_SCAN_EVENTS_MAX;) {
    const page = await store.readStream(streamId, { direction: 'backwards', fromVersion, limit: READ_PAGE_SIZE, asOfTime });
    for (const stored of page) {
      const found = balancesIn(decodeLedgerEvent(stored), account.accountId);
      if (found !== undefined) return found;
    }
    const last = page.at(-1);
    if (page.length < READ_PAGE_SIZE || last === undefined || last.version <= 1n) return ZERO_BALANCES;
    fromVersion = last.version - 1n;
    scanned += page.length;
  }
  throw new DaybookError('limit_exceeded', `as_of would read back through more than ${AS_OF_SCAN_EVENTS_MAX} events; open the account with the history flag for fast as-of balances`, {
    limit: AS_OF_SCAN_EVENTS_MAX,
  }, 'as_of');
}

function balancesIn(event: LedgerEvent, accountId: string): Balances | undefined {
  switch (event.type) {
    case 'AccountOpened':
      return event.data.accountId === accountId ? ZERO_BALANCES : undefined;
    case 'TransferPosted': case 'PendingTransferCreated': case 'PendingTransferPosted': case 'PendingTransferVoided': case 'PendingTransferExpired':
      if (event.data.debitAccountId === accountId) return event.data.debitBalances;
      return event.data.creditAccountId === accountId ? event.data.creditBalances : undefined;
    case 'JournalEntryRecorded': case 'JournalEntryReversed':
      return event.data.balances.find((item) => item.accountId === accountId)?.balances;
    default:
      return undefined;
  }
}
