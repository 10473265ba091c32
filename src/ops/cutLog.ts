/**
 * Cutting a store's log after a global position, and everything that must be
 * cut with it, in one transaction, on either backend (through the read-model
 * store's executor: `$n` parameters, tables in the store's schema).
 *
 * What a cut touches, table by table:
 * - `events`: whole events after the position. Positions are global, so every
 *   stream keeps a prefix of itself and its hash chain stays valid; the
 *   idempotency records, API keys and ledger index markers are events too.
 * - `head`: the store's recorded head moves back to the position.
 * - `snapshots`: a snapshot of a stream version that no longer exists is of
 *   a future that did not happen: dropped (they are never the source of truth).
 * - projections: checkpoints past the position come back to it (a checkpoint
 *   left ahead would skip the new events that will take the cut positions);
 *   attempt counters, running rebuilds, leases and workers are forgotten, and
 *   dead letters of cut events dropped. The read models themselves still hold
 *   the effects of cut events: the caller rebuilds them (blue-green, so
 *   relays and webhook deliveries of kept events are carried over, not sent again).
 */
import { DaybookError } from '../kernel/index.ts';
import type { ReadModelStore, WriteTx } from '../projections/index.ts';

export interface CutResult {
  position: bigint;
  eventsCut: number;
  snapshotsDropped: number;
  checkpointsMovedBack: number;
  deadLettersDropped: number;
}

const int = (value: unknown): bigint => BigInt(String(value ?? 0));

/** The store's head as its rows say (the highest position stored). */
export async function storedHead(tx: WriteTx): Promise<bigint> {
  const [row] = await tx.query<{ head: unknown }>('SELECT coalesce(max(position), 0) AS head FROM events');
  return int(row?.head);
}

/** The last position recorded at or before `timeMs` (0 when the log starts later). */
export async function positionAtOrBefore(tx: WriteTx, timeMs: number): Promise<bigint> {
  const [row] = await tx.query<{ position: unknown }>('SELECT coalesce(max(position), 0) AS position FROM events WHERE recorded_at <= $1', [timeMs]);
  return int(row?.position);
}

/** Cuts the log after `position` (see the module's comment). `position` must not be past the head. */
export async function cutLogAfter(readModels: ReadModelStore, position: bigint): Promise<CutResult> {
  return readModels.transaction(async (tx) => {
    // PostgreSQL: the head row is every append's fence; holding it keeps appends out while the log is cut.
    if (tx.dialect === 'postgres') await tx.query('SELECT position FROM head WHERE id = 1 FOR UPDATE');
    const head = await storedHead(tx);
    if (position > head) throw new DaybookError('validation_failed', `position ${position} is past the store's head ${head}`, { position: position.toString(), head: head.toString() }, 'to_position');
    const eventsCut = await tx.execute('DELETE FROM events WHERE position > $1', [position]);
    await tx.execute('UPDATE head SET position = $1, recorded_at = coalesce((SELECT recorded_at FROM events WHERE position = $1), 0) WHERE id = 1', [position]);
    const snapshotsDropped = await tx.execute(
      'DELETE FROM snapshots WHERE version > coalesce((SELECT max(e.version) FROM events e WHERE e.stream_id = snapshots.stream_id), 0)',
    );
    const checkpointsMovedBack = await tx.execute('UPDATE projection_checkpoints SET position = $1 WHERE position > $1', [position]);
    await tx.execute('DELETE FROM projection_attempts');
    await tx.execute('DELETE FROM projection_rebuilds');
    await tx.execute('DELETE FROM projection_leases');
    await tx.execute('DELETE FROM projection_workers');
    const deadLettersDropped = await tx.execute('DELETE FROM projection_dead_letters WHERE position > $1', [position]);
    return { position, eventsCut, snapshotsDropped, checkpointsMovedBack, deadLettersDropped };
  });
}
