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
}

export interface LedgerWriter {
  setAccount(record: AccountRecord): void;
  setTransfer(record: TransferRecord): void;
  setEntry(record: EntryRecord): void;
  setLedgerCurrency(ledger: LedgerId, currency: Currency): void;
}

export type LedgerState = LedgerView & LedgerWriter;

/** The root state: plain maps, updated in place. */
export class LedgerMaps implements LedgerState {
  readonly accounts = new Map<AccountId, AccountRecord>();
  readonly transfers = new Map<TransferId, TransferRecord>();
  readonly entries = new Map<EntryId, EntryRecord>();
  readonly ledgers = new Map<LedgerId, Currency>();
  /** Pending transfers that can expire, with their expiry time. */
  private readonly expiring = new Map<TransferId, number>();

  account(accountId: AccountId): AccountRecord | undefined { return this.accounts.get(accountId); }
  transfer(transferId: TransferId): TransferRecord | undefined { return this.transfers.get(transferId); }
  entry(entryId: EntryId): EntryRecord | undefined { return this.entries.get(entryId); }
  ledgerCurrency(ledger: LedgerId): Currency | undefined { return this.ledgers.get(ledger); }

  setAccount(record: AccountRecord): void { this.accounts.set(record.accountId, record); }
  setEntry(record: EntryRecord): void { this.entries.set(record.entryId, record); }
  setLedgerCurrency(ledger: LedgerId, currency: Currency): void { this.ledgers.set(ledger, currency); }

  setTransfer(record: TransferRecord): void {
    this.transfers.set(record.transferId, record);
    if (record.status === 'applied' && record.pendingState === 'pending' && record.expiresAtMs !== null) {
      this.expiring.set(record.transferId, record.expiresAtMs);
    } else {
      this.expiring.delete(record.transferId);
    }
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

export function createLedgerState(): LedgerMaps {
  return new LedgerMaps();
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
