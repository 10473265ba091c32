/**
 * Poison events: an event whose handler still fails after the bounded retries
 * is parked here (policy `park`: the projection goes on) or recorded as
 * `blocking` (policy `stop`: the projection waits on it). An operator lists
 * them, retries one (its handler runs again, now) or skips it.
 *
 * Statuses: `parked`, `blocking`, then `retried` or `skipped` once resolved;
 * `superseded` when a rebuild dropped the generation it belonged to.
 *
 * @example
 * for (const letter of await listDeadLetters(readModels, { status: 'parked' })) console.log(letter.id, letter.error);
 * await retryDeadLetter({ store, readModels, registry }, 7n);
 * await skipDeadLetter(readModels, 8n);
 */
import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import { type Clock, DaybookError, systemClock } from '../kernel/index.ts';
import { advanceCheckpoint, readCheckpoint } from './catalog.ts';
import { projectionTx, type ProjectionRegistry } from './projection.ts';
import type { ReadModelStore, SqlExecutor } from './readModelStore.ts';

export type DeadLetterStatus = 'parked' | 'blocking' | 'retried' | 'skipped' | 'superseded';
const STATUSES: readonly DeadLetterStatus[] = ['parked', 'blocking', 'retried', 'skipped', 'superseded'];

export interface DeadLetter {
  id: bigint;
  projection: string;
  /** The generation whose handler failed. */
  version: number;
  position: bigint;
  eventId: string;
  streamId: string;
  eventType: string;
  error: string;
  attempts: number;
  /** The partition of its stream (0 unless the projection is partitioned). */
  partition: number;
  parkedAt: Date;
  status: DeadLetterStatus;
  resolvedAt: Date | null;
}

interface DeadLetterRow {
  id: bigint; projection: string; version: bigint; position: bigint; event_id: string; stream_id: string; event_type: string;
  error: string; attempts: bigint; parked_at: bigint; status: DeadLetterStatus; resolved_at: bigint | null; partition: bigint;
}

const COLUMNS = 'id, projection, version, position, event_id, stream_id, event_type, error, attempts, parked_at, status, resolved_at, partition';

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: BigInt(row.id), projection: row.projection, version: Number(row.version), position: BigInt(row.position), eventId: row.event_id,
    streamId: row.stream_id, eventType: row.event_type, error: row.error, attempts: Number(row.attempts), partition: Number(row.partition), parkedAt: new Date(Number(row.parked_at)),
    status: row.status, resolvedAt: row.resolved_at === null ? null : new Date(Number(row.resolved_at)),
  };
}

export interface ListDeadLettersOptions {
  projection?: string;
  /** Default: the unresolved ones (`parked` and `blocking`). */
  status?: DeadLetterStatus | readonly DeadLetterStatus[] | 'all';
  /** At most this many, oldest first (default 100, at most 1000). */
  limit?: number;
}

export async function listDeadLetters(readModels: ReadModelStore, options: ListDeadLettersOptions = {}): Promise<DeadLetter[]> {
  const statuses: readonly DeadLetterStatus[] = options.status === 'all' ? STATUSES : options.status === undefined ? (['parked', 'blocking'] as const) : typeof options.status === 'string' ? [options.status] : options.status;
  for (const status of statuses) {
    if (!STATUSES.includes(status)) throw new DaybookError('validation_failed', `unknown dead-letter status ${JSON.stringify(status)}; one of ${STATUSES.join(', ')}`, {}, 'status');
  }
  const limit = options.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new DaybookError('validation_failed', 'limit must be an integer from 1 to 1000', {}, 'limit');
  const params: unknown[] = [...statuses];
  const placeholders = statuses.map((_, index) => `$${index + 1}`).join(', ');
  let sql = `SELECT ${COLUMNS} FROM projection_dead_letters WHERE status IN (${placeholders})`;
  if (options.projection !== undefined) {
    params.push(options.projection);
    sql += ` AND projection = $${params.length}`;
  }
  params.push(limit);
  sql += ` ORDER BY id LIMIT $${params.length}`;
  return readModels.read(async (tx) => (await tx.query<DeadLetterRow>(sql, params)).map(toDeadLetter));
}

/** Unresolved dead letters per projection: for metrics and readiness details. */
export async function countDeadLetters(readModels: ReadModelStore): Promise<Map<string, { parked: number; blocking: number }>> {
  const rows = await readModels.read((tx) => tx.query<{ projection: string; status: DeadLetterStatus; count: bigint }>(
    "SELECT projection, status, count(*) AS count FROM projection_dead_letters WHERE status IN ('parked', 'blocking') GROUP BY projection, status",
  ));
  const counts = new Map<string, { parked: number; blocking: number }>();
  for (const row of rows) {
    const entry = counts.get(row.projection) ?? { parked: 0, blocking: 0 };
    if (row.status === 'parked') entry.parked = Number(row.count);
    else entry.blocking = Number(row.count);
    counts.set(row.projection, entry);
  }
  return counts;
}

export async function getDeadLetter(tx: SqlExecutor, id: bigint): Promise<DeadLetter> {
  const rows = await tx.query<DeadLetterRow>(`SELECT ${COLUMNS} FROM projection_dead_letters WHERE id = $1`, [id]);
  if (!rows[0]) throw new DaybookError('not_found', `no dead letter ${id}`, { id: id.toString() }, 'id');
  return toDeadLetter(rows[0]);
}

/** Parses an id as the CLI or an API gives it. */
export function deadLetterId(id: bigint | number | string): bigint {
  try {
    const parsed = BigInt(id);
    if (parsed >= 1n) return parsed;
  } catch { /* refused below */ }
  throw new DaybookError('validation_failed', `dead-letter id must be a positive integer, got ${JSON.stringify(String(id))}`, {}, 'id');
}

export interface DeadLetterContext {
  store: EventStore;
  readModels: ReadModelStore;
  registry: ProjectionRegistry;
  clock?: Clock;
}

/**
 * Runs the event's handler again, now, in one transaction with the status
 * change. A parked event is applied out of order (the projection went on
 * without it); a blocking one moves the checkpoint past it, so the stopped
 * projection resumes. If the handler throws again, the letter stays as it
 * was, with one more attempt and the new error, and the error is thrown.
 */
export async function retryDeadLetter(context: DeadLetterContext, id: bigint | number | string): Promise<DeadLetter> {
  const clock = context.clock ?? systemClock;
  const letterId = deadLetterId(id);
  const letter = await context.readModels.read((tx) => getDeadLetter(tx, letterId));
  assertUnresolved(letter);
  const definition = context.registry.get(letter.projection);
  const event = await loadEvent(context.store, letter);
  try {
    await context.readModels.transaction(async (tx) => {
      await tx.lockProjection(letter.projection, 'shared');
      await claimResolution(tx, letter, 'retried', clock.nowMs());
      if (letter.status === 'blocking') await passCheckpoint(tx, letter, clock.nowMs());
      await definition.handle([event], projectionTx(tx, letter.projection, letter.version));
    });
  } catch (error) {
    if (error instanceof DaybookError && (error.code === 'validation_failed' || error.code === 'not_found')) throw error;
    await context.readModels.executeLight(
      'UPDATE projection_dead_letters SET attempts = attempts + 1, error = $1 WHERE id = $2',
      [errorText(error), letterId],
    );
    throw error;
  }
  return context.readModels.read((tx) => getDeadLetter(tx, letterId));
}

/** Gives up on the event for good: a blocking one moves the checkpoint past it, so the stopped projection resumes. */
export async function skipDeadLetter(readModels: ReadModelStore, id: bigint | number | string, clock: Clock = systemClock): Promise<DeadLetter> {
  const letterId = deadLetterId(id);
  await readModels.transaction(async (tx) => {
    const letter = await getDeadLetter(tx, letterId);
    assertUnresolved(letter);
    await tx.lockProjection(letter.projection, 'shared');
    await claimResolution(tx, letter, 'skipped', clock.nowMs());
    if (letter.status === 'blocking') await passCheckpoint(tx, letter, clock.nowMs());
  });
  return readModels.read((tx) => getDeadLetter(tx, letterId));
}

function assertUnresolved(letter: DeadLetter): void {
  if (letter.status !== 'parked' && letter.status !== 'blocking') {
    throw new DaybookError('validation_failed', `dead letter ${letter.id} is ${letter.status}; only parked or blocking ones can be retried or skipped`, { id: letter.id.toString(), status: letter.status }, 'id');
  }
}

/** Moves the status on only if nobody else resolved the letter meanwhile. */
async function claimResolution(tx: SqlExecutor, letter: DeadLetter, status: 'retried' | 'skipped', nowMs: number): Promise<void> {
  const changed = await tx.execute('UPDATE projection_dead_letters SET status = $1, resolved_at = $2 WHERE id = $3 AND status = $4', [status, nowMs, letter.id, letter.status]);
  if (changed !== 1) throw new DaybookError('validation_failed', `dead letter ${letter.id} was resolved by someone else meanwhile`, { id: letter.id.toString() }, 'id');
}

/** A blocking event sits right after the stopped projection's checkpoint: resolving it moves the checkpoint onto it. */
async function passCheckpoint(tx: SqlExecutor, letter: DeadLetter, nowMs: number): Promise<void> {
  const checkpoint = await readCheckpoint(tx, letter.projection, letter.version, letter.partition);
  if (checkpoint === null) throw new DaybookError('validation_failed', `generation ${letter.version} of ${letter.projection} no longer exists`, { id: letter.id.toString() }, 'id');
  if (checkpoint >= letter.position) return;
  await advanceCheckpoint(tx, letter.projection, letter.version, letter.partition, checkpoint, letter.position, nowMs);
}

async function loadEvent(store: EventStore, letter: DeadLetter): Promise<RecordedEvent> {
  const [event] = await store.readAll({ after: letter.position - 1n, limit: 1 });
  if (!event || event.position !== letter.position || event.eventId !== letter.eventId) {
    throw new DaybookError('integrity_violation', `dead letter ${letter.id}: event ${letter.eventId} is not at position ${letter.position} of the log`, { id: letter.id.toString() });
  }
  return event;
}

export function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}
