import type { Currency } from '../kernel/money.ts';
import type { AccountId, AccountRecord, EntryId, EntryRecord, LedgerId, TransferId, TransferRecord } from './ledger.types.ts';

/**
 * The in-memory state of a ledger partition. Deciding reads a `LedgerView`;
 * evolving writes through a `LedgerWriter`. `LedgerMaps` is the owned root
 * (one per partition, millions of accounts); `LedgerOverlay` stages changes
 * over any view without touching it, so a batch, or a linked chain inside it,
 * can be decided and then committed or dropped whole.
 */
export interface LedgerView {
  account(accountId: AccountId): AccountRecord | undefined;
  transfer(transferId: TransferId): TransferRecord | undefined;
  entry(entryId: EntryId): EntryRecord | undefined;
  /** The currency of a ledger, fixed by its first account. */
  ledgerCurrency(ledger: LedgerId): Currency | undefined;
  /** True when transfers and entries may be missing here yet recorded in the log (a bounded cache underneath). */
  readonly bounded: boolean;
}

export interface LedgerWriter {
  setAccount(record: AccountRecord): void;
  setTransfer(record: TransferRecord): void;
  setEntry(record: EntryRecord): void;
  setLedgerCurrency(ledger: LedgerId, currency: Currency): void;
}

export type LedgerState = LedgerView & LedgerWriter;

/** How much of the history a `LedgerMaps` keeps; absent bounds keep everything (pure uses, tests). */
export type LedgerCacheBounds = {
  /** Transfers kept besides the open pending ones, the most recently written first to go last. */
  transferCacheMax?: number;
  /** Journal entries kept, likewise. */
  entryCacheMax?: number;
};

/**
 * The root state: plain maps, updated in place. Accounts and open pending
 * transfers are always held (they are what deciding needs and are bounded by
 * the number of accounts and of open holds); other transfers and journal
 * entries are a cache of the most recently written ones, `transferCacheMax`
 * and `entryCacheMax` at most, the oldest dropped first. With bounds, a
 * record missing here may still be in the log: the engine looks it up there
 * (ledger.lookup.ts) before deciding. Without them nothing is dropped.
 */
export class LedgerMaps implements LedgerState {
  readonly accounts = new Map<AccountId, AccountRecord>();
  /** Transfers that are not open pending ones, oldest write first. */
  readonly transfers = new Map<TransferId, TransferRecord>();
  /** Pending transfers still open (neither posted, voided nor expired): never dropped. */
  readonly pendings = new Map<TransferId, TransferRecord>();
  readonly entries = new Map<EntryId, EntryRecord>();
  readonly ledgers = new Map<LedgerId, Currency>();
  /** Pending transfers that can expire, with their expiry time. */
  private readonly expiring = new Map<TransferId, number>();
  private transferCacheMax: number;
  private entryCacheMax: number;

  constructor(bounds: LedgerCacheBounds = {}) {
    this.transferCacheMax = bounds.transferCacheMax ?? Number.POSITIVE_INFINITY;
    this.entryCacheMax = bounds.entryCacheMax ?? Number.POSITIVE_INFINITY;
  }

  /** True when records may have been dropped from memory (they are then in the log). */
  get bounded(): boolean {
    return Number.isFinite(this.transferCacheMax) || Number.isFinite(this.entryCacheMax);
  }

  /** Set once `keepEverything` was called: the partition's log predates looked-up ids. */
  wholeHistory = false;

  /** Keeps everything from now on (a partition whose log predates looked-up ids: nothing may be dropped). */
  keepEverything(): void {
    this.wholeHistory = true;
    this.transferCacheMax = Number.POSITIVE_INFINITY;
    this.entryCacheMax = Number.POSITIVE_INFINITY;
  }

  account(accountId: AccountId): AccountRecord | undefined { return this.accounts.get(accountId); }
  transfer(transferId: TransferId): TransferRecord | undefined { return this.pendings.get(transferId) ?? this.transfers.get(transferId); }
  entry(entryId: EntryId): EntryRecord | undefined { return this.entries.get(entryId); }
  ledgerCurrency(ledger: LedgerId): Currency | undefined { return this.ledgers.get(ledger); }

  setAccount(record: AccountRecord): void { this.accounts.set(record.accountId, record); }
  setLedgerCurrency(ledger: LedgerId, currency: Currency): void { this.ledgers.set(ledger, currency); }

  setEntry(record: EntryRecord): void {
    this.entries.delete(record.entryId);
    this.entries.set(record.entryId, record);
    evictOldest(this.entries, this.entryCacheMax);
  }

  setTransfer(record: TransferRecord): void {
    const id = record.transferId;
    if (record.status === 'applied' && record.pendingState === 'pending') {
      this.transfers.delete(id);
      this.pendings.set(id, record);
      if (record.expiresAtMs !== null) this.expiring.set(id, record.expiresAtMs);
      return;
    }
    this.pendings.delete(id);
    this.expiring.delete(id);
    this.transfers.delete(id);
    this.transfers.set(id, record);
    evictOldest(this.transfers, this.transferCacheMax);
  }

  /** Transfers held, open pending ones first. */
  *allTransfers(): IterableIterator<TransferRecord> {
    yield* this.pendings.values();
    yield* this.transfers.values();
  }

  /**
   * Pending transfers due to expire at `atMs`, earliest first, at most
   * `limit`: what the engine turns into `ExpirePendingTransfer` commands
   * before a batch. A linear scan of the transfers that can expire.
   */
  dueExpiries(atMs: number, limit: number): TransferId[] {
    const due: Array<[TransferId, number]> = [];
    for (const [transferId, expiresAtMs] of this.expiring) if (expiresAtMs <= atMs) due.push([transferId, expiresAtMs]);
    due.sort(([idA, a], [idB, b]) => (a !== b ? a - b : idA < idB ? -1 : idA > idB ? 1 : 0));
    return due.slice(0, limit).map(([transferId]) => transferId);
  }
}

/**
 * Drops the oldest entries of an insertion-ordered map past `max`, down to
 * `max` less a sixteenth: a Map iterates over the holes its deletions left
 * until it is rehashed, so evicting one entry per insert would walk them
 * all each time; a slice at once walks them once per slice.
 */
function evictOldest<K, V>(map: Map<K, V>, max: number): void {
  if (map.size <= max) return;
  let excess = map.size - (max - Math.floor(max / 16));
  for (const key of map.keys()) {
    map.delete(key);
    excess -= 1;
    if (excess <= 0) return;
  }
}

/**
 * A view that falls back to records looked up for one batch: what the engine
 * read from the log for the commands it is about to decide, kept apart from
 * the root so that dropping a cached record meanwhile cannot hide it.
 */
export class FallbackView implements LedgerView {
  constructor(
    private readonly base: LedgerView,
    private readonly transfers: ReadonlyMap<TransferId, TransferRecord>,
    private readonly entries: ReadonlyMap<EntryId, EntryRecord>,
  ) {}

  account(accountId: AccountId): AccountRecord | undefined { return this.base.account(accountId); }
  transfer(transferId: TransferId): TransferRecord | undefined { return this.base.transfer(transferId) ?? this.transfers.get(transferId); }
  entry(entryId: EntryId): EntryRecord | undefined { return this.base.entry(entryId) ?? this.entries.get(entryId); }
  ledgerCurrency(ledger: LedgerId): Currency | undefined { return this.base.ledgerCurrency(ledger); }
  get bounded(): boolean { return this.base.bounded; }
  /** The same fallback over another base (the root, once the flight below is durable). */
  over(base: LedgerView): FallbackView { return new FallbackView(base, this.transfers, this.entries); }
}

export function createLedgerState(bounds?: LedgerCacheBounds): LedgerMaps {
  return new LedgerMaps(bounds);
}

/**
 * Changes staged over a parent view. Reads fall through to the parent;
 * writes stay here until `commitTo` copies them, in order, into a writer
 * (the parent, or the root once the batch is durable).
 */
export class LedgerOverlay implements LedgerState {
  private readonly accounts = new Map<AccountId, AccountRecord>();
  private readonly transfers = new Map<TransferId, TransferRecord>();
  private readonly entries = new Map<EntryId, EntryRecord>();
  private readonly ledgers = new Map<LedgerId, Currency>();

  constructor(private parentView: LedgerView) {}

  get parent(): LedgerView {
    return this.parentView;
  }

  /**
   * Reads through `view` from now on: once the parent's changes were committed
   * into `view` (the root), this keeps chains of overlays from growing.
   */
  rebase(view: LedgerView): void {
    this.parentView = view;
  }

  account(accountId: AccountId): AccountRecord | undefined { return this.accounts.get(accountId) ?? this.parentView.account(accountId); }
  transfer(transferId: TransferId): TransferRecord | undefined { return this.transfers.get(transferId) ?? this.parentView.transfer(transferId); }
  entry(entryId: EntryId): EntryRecord | undefined { return this.entries.get(entryId) ?? this.parentView.entry(entryId); }
  ledgerCurrency(ledger: LedgerId): Currency | undefined { return this.ledgers.get(ledger) ?? this.parentView.ledgerCurrency(ledger); }
  get bounded(): boolean { return this.parentView.bounded; }

  setAccount(record: AccountRecord): void { this.accounts.set(record.accountId, record); }
  setTransfer(record: TransferRecord): void { this.transfers.set(record.transferId, record); }
  setEntry(record: EntryRecord): void { this.entries.set(record.entryId, record); }
  setLedgerCurrency(ledger: LedgerId, currency: Currency): void { this.ledgers.set(ledger, currency); }

  /** The accounts this overlay changed, newest version of each. */
  changedAccounts(): IterableIterator<AccountRecord> { return this.accounts.values(); }

  /** Copies every staged record into `target`. Commit overlays in the order they were decided. */
  commitTo(target: LedgerWriter): void {
    for (const [ledger, currency] of this.ledgers) target.setLedgerCurrency(ledger, currency);
    for (const record of this.accounts.values()) target.setAccount(record);
    for (const record of this.transfers.values()) target.setTransfer(record);
    for (const record of this.entries.values()) target.setEntry(record);
  }
}
