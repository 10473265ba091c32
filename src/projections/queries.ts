/**
 * The query side: reading a projection's active generation, waiting for it
 * to reach a position, and a canonical dump for comparing read models.
 *
 * @example
 * await waitForPosition(readModels, 'stream_stats', result.position, 2_000);
 * const rows = await queryProjection(readModels, 'stream_stats', (q) =>
 *   q.query(`SELECT * FROM ${q.table('stream_stats')} WHERE stream_id = $1`, ['acct-1']));
 */
import { DaybookError } from '../kernel/index.ts';
import { readCheckpoints } from './catalog.ts';
import { requireActive } from './generations.ts';
import { type ProjectionDefinition, type ProjectionTx, projectionTx, versionedTable } from './projection.ts';
import type { ReadModelStore, SqlExecutor } from './readModelStore.ts';

/**
 * Runs `fn` against the active generation in one read-only snapshot. The
 * shared projection lock (PostgreSQL) holds a switch and the drop of the old
 * tables until it is done, so a query started on generation N finishes on N,
 * and one started after the switch reads N+1, both complete.
 */
export async function queryProjection<T>(readModels: ReadModelStore, name: string, fn: (reader: ProjectionTx) => Promise<T>): Promise<T> {
  return readModels.read(async (tx) => {
    await tx.lockProjection(name, 'shared');
    const active = await requireActive(tx, name);
    return fn(projectionTx(tx, name, active.version));
  });
}

/**
 * Writes to the active generation's tables outside the projection's handler,
 * for read models that hold state of their own beside what the log derives
 * (a webhook delivery's attempts): same shared lock as a query, so a switch
 * waits for it. What it writes is lost when a rebuild replaces the generation.
 */
export async function mutateProjection<T>(readModels: ReadModelStore, name: string, fn: (writer: ProjectionTx) => Promise<T>): Promise<T> {
  return readModels.transaction(async (tx) => {
    await tx.lockProjection(name, 'shared');
    const active = await requireActive(tx, name);
    return fn(projectionTx(tx, name, active.version));
  });
}

/** The active generation's checkpoint: the smallest over its partitions. */
export async function projectionPosition(tx: SqlExecutor, name: string): Promise<{ version: number; position: bigint }> {
  const active = await requireActive(tx, name);
  const checkpoints = await readCheckpoints(tx, name, active.version);
  const position = checkpoints.reduce<bigint | null>((lowest, row) => (lowest === null || row.position < lowest ? row.position : lowest), null) ?? 0n;
  return { version: active.version, position };
}

export interface WaitOptions {
  /** First poll interval (default 2 ms), doubling up to `maxPollMs` (default 50 ms). */
  pollMs?: number;
  maxPollMs?: number;
}

/**
 * Read-your-writes across processes: resolves once the projection's active
 * read model has reached `position` (the position an append returned),
 * polling its checkpoint. Rejects with `projection_wait_timeout` after
 * `timeoutMs`. In the process that runs the projection,
 * `ProjectionRunner.waitForPosition` answers without polling.
 */
export async function waitForPosition(readModels: ReadModelStore, name: string, position: bigint, timeoutMs: number, options: WaitOptions = {}): Promise<void> {
  if (typeof position !== 'bigint' || position < 0n) throw new DaybookError('validation_failed', 'position must be a non-negative bigint', {}, 'position');
  if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new DaybookError('validation_failed', 'timeoutMs must be a non-negative number', {}, 'timeoutMs');
  const deadline = Date.now() + timeoutMs;
  let pollMs = options.pollMs ?? 2;
  for (;;) {
    const reached = await readModels.read((tx) => projectionPosition(tx, name));
    if (reached.position >= position) return;
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new DaybookError('projection_wait_timeout', `projection ${name} did not reach position ${position} within ${timeoutMs} ms (at ${reached.position})`,
        { projection: name, position: position.toString(), reached: reached.position.toString(), timeoutMs });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, left)));
    pollMs = Math.min(pollMs * 2, options.maxPollMs ?? 50);
  }
}

/**
 * A canonical text of a read model generation: every table's rows with keys
 * sorted, integers as decimal strings, bytes as hex, rows sorted. Two read
 * models with equal dumps hold the same data, whichever backend holds them.
 */
export async function dumpReadModel(readModels: ReadModelStore, definition: ProjectionDefinition, version?: number): Promise<string> {
  return readModels.read(async (tx) => {
    const generation = version ?? (await requireActive(tx, definition.name)).version;
    const parts: string[] = [];
    for (const base of definition.tables) {
      const table = versionedTable(base, generation);
      const rows = await tx.query<Record<string, unknown>>(`SELECT * FROM ${table}`);
      const lines = rows.map(canonicalRow).sort();
      parts.push(`# ${base}\n${lines.join('\n')}`);
    }
    return `${parts.join('\n')}\n`;
  });
}

function canonicalRow(row: Record<string, unknown>): string {
  const keys = Object.keys(row).sort();
  return JSON.stringify(keys.map((key) => [key, canonicalValue(row[key])]));
}

function canonicalValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value).toString() : String(value);
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
