/**
 * The projections' own tables (checkpoints, active generations, attempt
 * counters, rebuild claims), read and written through a transaction. The same
 * SQL runs on both backends: `$n` parameters, plain table names (schema
 * `daybook` is first on PostgreSQL's search path), integers as bigint.
 */
import type { SqlExecutor } from './readModelStore.ts';

export interface ActiveGeneration {
  /** The generation queries read: the suffix of its tables. */
  version: number;
  /** The definition version that built it. */
  definitionVersion: number;
}

export interface AttemptMarker {
  /** The checkpoint the attempt started from. */
  after: bigint;
  /** The last position of the range tried: until it is passed, events go one at a time. */
  until: bigint;
  attempts: number;
  lastError: string | null;
  /** When it was written (as read back; absent on a marker about to be written). */
  updatedAtMs?: number;
}

const toNumber = (value: unknown): number => Number(value);

export async function readActive(tx: SqlExecutor, name: string): Promise<ActiveGeneration | null> {
  const rows = await tx.query<{ version: bigint; definition_version: bigint }>('SELECT version, definition_version FROM projection_active WHERE name = $1', [name]);
  const row = rows[0];
  return row ? { version: toNumber(row.version), definitionVersion: toNumber(row.definition_version) } : null;
}

/**
 * The active generation, read by a batch before it writes. On PostgreSQL the
 * row is locked FOR SHARE: a switch (an UPDATE of that row) waits for the
 * batches in flight, and a batch that waited for a switch reads the new
 * generation and rolls back. SQLite serializes write transactions anyway.
 */
export async function readActiveForBatch(tx: SqlExecutor, name: string): Promise<number | null> {
  const sql = tx.dialect === 'postgres'
    ? 'SELECT version FROM projection_active WHERE name = $1 FOR SHARE'
    : 'SELECT version FROM projection_active WHERE name = $1';
  const rows = await tx.query<{ version: bigint }>(sql, [name]);
  return rows[0] ? toNumber(rows[0].version) : null;
}

export async function setActive(tx: SqlExecutor, name: string, generation: ActiveGeneration, nowMs: number): Promise<void> {
  await tx.execute(
    `INSERT INTO projection_active (name, version, definition_version, switched_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (name) DO UPDATE SET version = excluded.version, definition_version = excluded.definition_version, switched_at = excluded.switched_at`,
    [name, generation.version, generation.definitionVersion, nowMs],
  );
}

export async function readCheckpoint(tx: SqlExecutor, name: string, version: number, partition = 0): Promise<bigint | null> {
  const rows = await tx.query<{ position: bigint }>('SELECT position FROM projection_checkpoints WHERE name = $1 AND version = $2 AND partition = $3', [name, version, partition]);
  return rows[0] ? BigInt(rows[0].position) : null;
}

/** All partitions' checkpoints of a generation; the smallest is how far the whole read model has come. */
export async function readCheckpoints(tx: SqlExecutor, name: string, version: number): Promise<Array<{ partition: number; position: bigint; updatedAt: number }>> {
  const rows = await tx.query<{ partition: bigint; position: bigint; updated_at: bigint }>(
    'SELECT partition, position, updated_at FROM projection_checkpoints WHERE name = $1 AND version = $2 ORDER BY partition', [name, version],
  );
  return rows.map((row) => ({ partition: toNumber(row.partition), position: BigInt(row.position), updatedAt: toNumber(row.updated_at) }));
}

export async function insertCheckpoint(tx: SqlExecutor, name: string, version: number, position: bigint, nowMs: number, partition = 0): Promise<void> {
  await tx.execute(
    'INSERT INTO projection_checkpoints (name, version, partition, position, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name, version, partition) DO NOTHING',
    [name, version, partition, position, nowMs],
  );
}

/**
 * Moves the checkpoint from `from` to `to`, only if it is still at `from`:
 * the fence that keeps an effect from being applied twice when two workers
 * ever process the same range (the loser's transaction rolls back).
 */
export async function advanceCheckpoint(tx: SqlExecutor, name: string, version: number, partition: number, from: bigint, to: bigint, nowMs: number): Promise<boolean> {
  const changed = await tx.execute(
    'UPDATE projection_checkpoints SET position = $1, updated_at = $2 WHERE name = $3 AND version = $4 AND partition = $5 AND position = $6',
    [to, nowMs, name, version, partition, from],
  );
  return changed === 1;
}

export async function readAttemptMarker(tx: SqlExecutor, name: string, version: number, partition = 0): Promise<AttemptMarker | null> {
  const rows = await tx.query<{ after_position: bigint; until_position: bigint; attempts: bigint; last_error: string | null; updated_at: bigint }>(
    'SELECT after_position, until_position, attempts, last_error, updated_at FROM projection_attempts WHERE name = $1 AND version = $2 AND partition = $3', [name, version, partition],
  );
  const row = rows[0];
  return row ? {
    after: BigInt(row.after_position), until: BigInt(row.until_position), attempts: toNumber(row.attempts), lastError: row.last_error, updatedAtMs: toNumber(row.updated_at),
  } : null;
}

export const WRITE_ATTEMPT_MARKER_SQL = `INSERT INTO projection_attempts (name, version, partition, after_position, until_position, attempts, last_error, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (name, version, partition) DO UPDATE SET after_position = excluded.after_position, until_position = excluded.until_position,
    attempts = excluded.attempts, last_error = excluded.last_error, updated_at = excluded.updated_at`;

export function attemptMarkerParams(name: string, version: number, partition: number, marker: AttemptMarker, nowMs: number): unknown[] {
  return [name, version, partition, marker.after, marker.until, marker.attempts, marker.lastError, nowMs];
}

/** Removes everything the catalog holds for one generation (after a rebuild dropped it, or before rebuilding it from scratch). */
export async function forgetGeneration(tx: SqlExecutor, name: string, version: number, nowMs: number): Promise<void> {
  await tx.execute('DELETE FROM projection_checkpoints WHERE name = $1 AND version = $2', [name, version]);
  await tx.execute('DELETE FROM projection_attempts WHERE name = $1 AND version = $2', [name, version]);
  await tx.execute(
    "UPDATE projection_dead_letters SET status = 'superseded', resolved_at = $3 WHERE projection = $1 AND version = $2 AND status IN ('parked', 'blocking')",
    [name, version, nowMs],
  );
}

/** Drops a generation's tables (those that exist). */
export async function dropTables(tx: SqlExecutor, tables: readonly string[]): Promise<void> {
  for (const table of tables) await tx.execute(`DROP TABLE IF EXISTS ${table}`);
}

/** Drops a generation's tables and forgets that it owned them. */
export async function dropOwnedTables(tx: SqlExecutor, projection: string, tables: readonly string[]): Promise<void> {
  await dropTables(tx, tables);
  for (const table of tables) await tx.execute('DELETE FROM projection_tables WHERE table_name = $1 AND projection = $2', [table, projection]);
}
