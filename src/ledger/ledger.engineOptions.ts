import type { Clock } from '../kernel/clock.ts';
import type { LedgerCommand } from './ledger.commands.ts';
import type { PartitionLease } from './ledger.leases.ts';

/** A command as callers hand it in: the engine stamps the time when it decides. */
export type LedgerRequest = LedgerCommand extends infer C
  ? C extends { type: infer T; data: infer D } ? { type: T; data: Omit<D, 'atMs'> & { atMs?: number } } : never
  : never;

export interface LedgerEngineOptions {
  /** Partition name: the engine owns the stream `ledger-<partition>` (default `main`). */
  partition?: string;
  clock?: Clock;
  /** Most commands decided into one append (bounded by the store's events-per-append limit). */
  batchCommandsMax?: number;
  /** Attempts at a batch when another process appended to the partition meanwhile. */
  conflictRetriesMax?: number;
  /**
   * Follow the partition stream: events other processes append are applied
   * as soon as the store announces them (default: on PostgreSQL, where
   * several processes may share a store; SQLite has one writer process).
   */
  follow?: boolean;
  /**
   * The partition's lease (several processes on one PostgreSQL; see
   * ledger.leases.ts). The engine writes only while it holds it: commands
   * given to an engine that does not are refused with
   * `ledger_partition_not_owned`, naming the holder. Without a lease (SQLite,
   * one process) the engine always writes.
   */
  lease?: PartitionLease;
  /**
   * With a lease held by another process: open anyway, serve reads (following
   * the stream) and take the partition over at the first heartbeat after the
   * holder's lease lapsed. Without it, such an open fails with
   * `ledger_partition_not_owned`.
   */
  standby?: boolean;
  /**
   * Save a snapshot of the state every this many partition events (default
   * 50 000; 0 saves none). Opening loads the latest snapshot and replays
   * only the events after it.
   */
  snapshotEveryEvents?: number;
  /**
   * A graceful `close()` saves a snapshot when at least this many events were
   * applied since the last one (default 1 000; 0 never), so that a restart
   * after a clean stop replays nothing. Off when `snapshotEveryEvents` is 0.
   */
  snapshotOnCloseMinEvents?: number;
  /** Load the latest snapshot on open (default true); false replays the whole stream. */
  useSnapshots?: boolean;
  /**
   * Transfers held in memory besides the open pending ones (default
   * 50 000, at least 2 batches): the most recently written. Older ones are
   * read from the log when a command or a query names them
   * (ledger.lookup.ts), so memory does not grow with history. About 0.7 KB each.
   */
  transferCacheMax?: number;
  /** Journal entries held in memory (default 10 000, at least 2 batches); older ones are read from the log. */
  entryCacheMax?: number;
}

export { LEDGER_ENTRY_CACHE_MAX, LEDGER_TRANSFER_CACHE_MAX } from '../kernel/limits.ts';

/**
 * Default of `snapshotEveryEvents`: a crash replays at most this many events
 * (about 1 s on SQLite). A snapshot is bounded (accounts, open pending
 * transfers, the cache), so taking one this often costs little.
 */
export const LEDGER_SNAPSHOT_EVERY_EVENTS = 50_000;

/** Default of `snapshotOnCloseMinEvents`. */
export const LEDGER_SNAPSHOT_ON_CLOSE_MIN_EVENTS = 1_000;
