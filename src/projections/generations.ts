/**
 * Generations of a read model: each one a set of tables suffixed `_v<N>`
 * with its own checkpoint. One is active (read by queries); a rebuild builds
 * the next beside it, then switches.
 */
import { type Clock, DaybookError } from '../kernel/index.ts';
import { type ActiveGeneration, dropTables, forgetGeneration, insertCheckpoint, readActive, setActive } from './catalog.ts';
import { partitionCount, type ProjectionDefinition, projectionTx, versionedTable } from './projection.ts';
import type { ReadModelStore, SqlExecutor, WriteTx } from './readModelStore.ts';

/** Drops whatever a crashed attempt left of this generation, then creates its tables and a checkpoint at 0, in one transaction. */
export async function createGeneration(tx: WriteTx, definition: ProjectionDefinition, version: number, clock: Clock): Promise<void> {
  await tx.lockProjection(definition.name, 'exclusive');
  const active = await readActive(tx, definition.name);
  if (active?.version === version) {
    throw new DaybookError('projection_rebuild_in_progress', `generation ${version} of ${definition.name} became active meanwhile (another runner or rebuild); start again`, { projection: definition.name, version });
  }
  const tables = definition.tables.map((base) => versionedTable(base, version));
  await claimTables(tx, definition.name, version, tables);
  await dropTables(tx, tables);
  await forgetGeneration(tx, definition.name, version, clock.nowMs());
  await definition.migrate(projectionTx(tx, definition.name, version));
  for (let partition = 0; partition < partitionCount(definition); partition += 1) await insertCheckpoint(tx, definition.name, version, 0n, clock.nowMs(), partition);
}

/**
 * Records the generation's tables as its own, refusing a name that another
 * projection owns, or a table that exists without an owner (not ours to drop).
 */
async function claimTables(tx: WriteTx, projection: string, version: number, tables: readonly string[]): Promise<void> {
  for (const table of tables) {
    const rows = await tx.query<{ projection: string }>('SELECT projection FROM projection_tables WHERE table_name = $1', [table]);
    const owner = rows[0]?.projection;
    if (owner !== undefined && owner !== projection) {
      throw new DaybookError('validation_failed', `table ${table} belongs to projection ${owner}; projection ${projection} must name its tables otherwise`, { projection, table, owner });
    }
    if (owner === undefined && (await tableExists(tx, table))) {
      throw new DaybookError('validation_failed', `table ${table} exists and no projection owns it; projection ${projection} will not drop it`, { projection, table });
    }
    await tx.execute(
      'INSERT INTO projection_tables (table_name, projection, version) VALUES ($1, $2, $3) ON CONFLICT (table_name) DO UPDATE SET version = excluded.version',
      [table, projection, version],
    );
  }
}

async function tableExists(tx: WriteTx, table: string): Promise<boolean> {
  const sql = tx.dialect === 'sqlite'
    ? "SELECT 1 AS present FROM sqlite_master WHERE type = 'table' AND name = $1"
    : "SELECT 1 AS present FROM information_schema.tables WHERE table_schema = 'daybook' AND table_name = $1";
  return (await tx.query(sql, [table])).length > 0;
}

/**
 * The active generation, creating the first one (at the definition's
 * version, empty, checkpoint 0) when the projection never ran; null while a
 * rebuild holds the claim to build it. Two processes
 * starting together create it once: the exclusive projection lock (PostgreSQL)
 * or the write lock (SQLite) orders them, and the second finds it made.
 */
export async function ensureFirstGeneration(readModels: ReadModelStore, definition: ProjectionDefinition, clock: Clock, staleAfterMs = 30_000): Promise<ActiveGeneration | null> {
  return readModels.transaction(async (tx) => {
    await tx.lockProjection(definition.name, 'exclusive');
    const active = await readActive(tx, definition.name);
    if (active) return active;
    // A rebuild is building the first generation: wait for its switch rather than build it twice.
    const claims = await tx.query('SELECT 1 AS claimed FROM projection_rebuilds WHERE name = $1 AND heartbeat_at >= $2', [definition.name, clock.nowMs() - staleAfterMs]);
    if (claims.length > 0) return null;
    const first = { version: definition.version, definitionVersion: definition.version };
    await createGeneration(tx, definition, first.version, clock);
    await setActive(tx, definition.name, first, clock.nowMs());
    return first;
  });
}

/** The generation queries read now, or `projection_not_found` when the projection was never built here. */
export async function requireActive(tx: SqlExecutor, name: string): Promise<ActiveGeneration> {
  const active = await readActive(tx, name);
  if (!active) throw new DaybookError('projection_not_found', `projection ${name} has no read model yet: start its runner or rebuild it`, { projection: name });
  return active;
}

export interface RebuildClaim {
  name: string;
  targetVersion: number;
  owner: string;
  startedAt: number;
  heartbeatAt: number;
}

/**
 * Takes the projection's rebuild claim, or fails with
 * `projection_rebuild_in_progress` when another rebuild holds it and its
 * heartbeat is fresh. A stale claim (its rebuild crashed) is taken over.
 */
export async function claimRebuild(readModels: ReadModelStore, claim: RebuildClaim, staleAfterMs: number): Promise<void> {
  const taken = await readModels.transaction(async (tx) => {
    const rows = await tx.query<{ name: string }>(
      `INSERT INTO projection_rebuilds (name, target_version, owner, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO UPDATE SET target_version = excluded.target_version, owner = excluded.owner, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at
       WHERE projection_rebuilds.heartbeat_at < $6
       RETURNING name`,
      [claim.name, claim.targetVersion, claim.owner, claim.startedAt, claim.heartbeatAt, claim.heartbeatAt - staleAfterMs],
    );
    return rows.length === 1;
  });
  if (!taken) {
    const holder = await readRebuild(readModels, claim.name);
    throw new DaybookError('projection_rebuild_in_progress',
      `a rebuild of ${claim.name} is already running${holder ? ` (building v${holder.targetVersion}, owner ${holder.owner}, started ${new Date(holder.startedAt).toISOString()})` : ''}`,
      { projection: claim.name, ...(holder ? { owner: holder.owner, targetVersion: holder.targetVersion } : {}) });
  }
}

export async function readRebuild(readModels: ReadModelStore, name: string): Promise<RebuildClaim | null> {
  const rows = await readModels.read((tx) => tx.query<{ target_version: bigint; owner: string; started_at: bigint; heartbeat_at: bigint }>(
    'SELECT target_version, owner, started_at, heartbeat_at FROM projection_rebuilds WHERE name = $1', [name],
  ));
  const row = rows[0];
  return row ? { name, targetVersion: Number(row.target_version), owner: row.owner, startedAt: Number(row.started_at), heartbeatAt: Number(row.heartbeat_at) } : null;
}

/** Inside a rebuild's batch transaction: the claim must still be ours (a stale claim may have been taken over). */
export async function holdsRebuild(tx: WriteTx, name: string, owner: string, nowMs: number): Promise<boolean> {
  return (await tx.execute('UPDATE projection_rebuilds SET heartbeat_at = $1 WHERE name = $2 AND owner = $3', [nowMs, name, owner])) === 1;
}

export async function releaseRebuild(readModels: ReadModelStore, name: string, owner: string): Promise<void> {
  await readModels.transaction((tx) => tx.execute('DELETE FROM projection_rebuilds WHERE name = $1 AND owner = $2', [name, owner]));
}
