/**
 * What a projection is: a name, a version, the events it handles, the tables
 * of its read model and a handler that writes them. One definition runs on both
 * backends: handlers write plain SQL with `$1`-style parameters through a
 * {@link ProjectionTx}, and name their tables through `tx.table(base)`, which
 * adds the generation suffix (`stream_stats` → `stream_stats_v2`) so that a
 * blue-green rebuild can build generation N+1 beside generation N.
 *
 * @example
 * export const streamStats = defineProjection({
 *   name: 'stream_stats', version: 1, tables: ['stream_stats'],
 *   handles: { categories: ['acct'] },
 *   async migrate(tx) {
 *     await tx.execute(`CREATE TABLE ${tx.table('stream_stats')} (stream_id text PRIMARY KEY, events bigint NOT NULL)`);
 *   },
 *   async handle(events, tx) {
 *     for (const event of events) {
 *       await tx.execute(`INSERT INTO ${tx.table('stream_stats')} (stream_id, events) VALUES ($1, 1)
 *         ON CONFLICT (stream_id) DO UPDATE SET events = ${tx.table('stream_stats')}.events + 1`, [event.streamId]);
 *     }
 *   },
 * });
 */
import type { RecordedEvent } from '../eventstore/index.ts';
import { categoryOf } from '../eventstore/index.ts';
import { DaybookError } from '../kernel/index.ts';
import type { SqlDialect, SqlExecutor } from './readModelStore.ts';

/** What a handler or a migration writes through: one transaction of the read-model store. */
export interface ProjectionTx extends SqlExecutor {
  /** The projection's name. */
  readonly projection: string;
  /** The generation being written: the suffix of every table name. */
  readonly version: number;
  /** The physical name of a table of this read model: `table('balances')` is `balances_v2` in generation 2. */
  table(base: string): string;
}

/** Which part of the log a projection reads; absent or empty lists mean "all". */
export interface ProjectionFilter {
  /** Stream categories (the stream id's prefix before the first `-`). */
  categories?: readonly string[];
  types?: readonly string[];
}

/** What happens to an event whose handler still fails after the bounded retries. */
export type PoisonPolicy = 'park' | 'stop';

export interface ProjectionDefinition {
  /** Lowercase letters, digits and `_`, starting with a letter; at most 40 characters. */
  readonly name: string;
  /** Version of this definition (handler and tables). Bumping it makes the runner build the new version blue-green. */
  readonly version: number;
  /** Base names of the read model's tables (without the `_vN` suffix): rebuilds drop them, replays and dumps read them. */
  readonly tables: readonly string[];
  readonly handles: ProjectionFilter;
  /** `park` (default): park the event in the dead-letter table and go on. `stop`: stop the projection and alert. */
  readonly onPoison?: PoisonPolicy;
  /**
   * Partitions by stream (default 1, at most PARTITIONS_MAX). With more than
   * one, each partition has its own checkpoint and runner, and several worker
   * processes share them (see `ProjectionWorkerGroup`). A handler then sees
   * the events of one partition in global order, not all events: only for
   * read models whose rows each depend on one stream. Changing it needs a rebuild.
   */
  readonly partitions?: number;
  /** Creates the read model's tables (through `tx.table(base)`), in the transaction that registers the generation. */
  migrate(tx: ProjectionTx): Promise<void>;
  /**
   * Applies a batch of events, in global order, inside the transaction that
   * also moves the checkpoint: either all of it and the checkpoint commit, or
   * nothing does. Must be deterministic (no clock, no randomness): a rebuild
   * or a replay must give the same read model.
   */
  handle(events: readonly RecordedEvent[], tx: ProjectionTx): Promise<void>;
  /**
   * Optional, for effects outside the database (relays): runs before each
   * batch transaction, outside it, so no write lock is held while it waits
   * on another system; `read` gives a short read-only look at the read model.
   * A throw counts against the batch like a handler's; the transaction (and
   * so the checkpoint) follows only a successful return, so an effect made
   * here happens at least once, never zero times.
   */
  beforeBatch?(events: readonly RecordedEvent[], read: <T>(fn: (tx: ProjectionTx) => Promise<T>) => Promise<T>, context: { projection: string; version: number }): Promise<void>;
}

const NAME_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;
const TABLE_PATTERN = /^[a-z][a-z0-9_]{0,47}$/;
/** Generations stay under this so `<table>_v<generation>` fits PostgreSQL's 63-byte identifiers. */
export const GENERATION_MAX = 999_999;

/** Checks a definition once, where it is declared: a bad name or table list is a programmer's mistake worth a clear error. */
export function defineProjection<T extends ProjectionDefinition>(definition: T): T {
  const invalid = (message: string): never => {
    throw new DaybookError('validation_failed', `projection ${JSON.stringify(definition?.name)}: ${message}`, {}, 'projection');
  };
  if (typeof definition !== 'object' || definition === null) invalid('a definition must be an object');
  if (typeof definition.name !== 'string' || !NAME_PATTERN.test(definition.name)) invalid('name must match /^[a-z][a-z0-9_]{0,39}$/');
  if (!Number.isInteger(definition.version) || definition.version < 1 || definition.version > GENERATION_MAX) invalid(`version must be an integer from 1 to ${GENERATION_MAX}`);
  if (!Array.isArray(definition.tables) || definition.tables.length === 0) invalid('tables must list at least one base table name');
  for (const table of definition.tables) if (typeof table !== 'string' || !TABLE_PATTERN.test(table)) invalid(`table ${JSON.stringify(table)} must match /^[a-z][a-z0-9_]{0,47}$/`);
  if (new Set(definition.tables).size !== definition.tables.length) invalid('tables must not repeat');
  if (definition.onPoison !== undefined && definition.onPoison !== 'park' && definition.onPoison !== 'stop') invalid("onPoison must be 'park' or 'stop'");
  if (definition.partitions !== undefined && (!Number.isInteger(definition.partitions) || definition.partitions < 1 || definition.partitions > PARTITIONS_MAX)) {
    invalid(`partitions must be an integer from 1 to ${PARTITIONS_MAX}`);
  }
  if (typeof definition.migrate !== 'function' || typeof definition.handle !== 'function') invalid('migrate and handle must be functions');
  const handles = definition.handles ?? {};
  for (const list of [handles.categories, handles.types]) {
    if (list !== undefined && (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || item.length === 0))) invalid('handles.categories and handles.types must be lists of non-empty strings');
  }
  return definition;
}

/** Most partitions a projection may have. */
export const PARTITIONS_MAX = 256;

/** How many partitions a projection has. */
export function partitionCount(definition: Pick<ProjectionDefinition, 'partitions'>): number {
  return definition.partitions ?? 1;
}

/** Every partition of a projection: 0 … partitions-1. */
export function allPartitions(definition: Pick<ProjectionDefinition, 'partitions'>): number[] {
  return Array.from({ length: partitionCount(definition) }, (_, index) => index);
}

/** The partition of a stream: FNV-1a (32 bits) of its id, modulo the count. Stable across processes and versions. */
export function partitionOf(streamId: string, partitions: number): number {
  if (partitions <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let index = 0; index < streamId.length; index += 1) {
    hash ^= streamId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

/** The physical table name of `base` in generation `version`. */
export function versionedTable(base: string, version: number): string {
  return `${base}_v${version}`;
}

/** True when the projection handles this event. */
export function matchesFilter(filter: ProjectionFilter, event: Pick<RecordedEvent, 'streamId' | 'type'>): boolean {
  const { categories, types } = filter;
  if (categories && categories.length > 0 && !categories.includes(categoryOf(event.streamId))) return false;
  if (types && types.length > 0 && !types.includes(event.type)) return false;
  return true;
}

/** The part of the filter the store can apply itself (one category, a type list); the rest is applied in memory. */
export function storeFilter(filter: ProjectionFilter): { category?: string; types?: readonly string[] } {
  const result: { category?: string; types?: readonly string[] } = {};
  if (filter.categories && filter.categories.length === 1) result.category = filter.categories[0]!;
  if (filter.types && filter.types.length > 0) result.types = filter.types;
  return result;
}

/** Wraps a store transaction for one projection generation. */
export function projectionTx(executor: SqlExecutor, projection: string, version: number): ProjectionTx {
  return {
    dialect: executor.dialect as SqlDialect,
    projection,
    version,
    table: (base) => {
      if (!TABLE_PATTERN.test(base)) throw new DaybookError('validation_failed', `table ${JSON.stringify(base)} must match /^[a-z][a-z0-9_]{0,47}$/`, {}, 'table');
      return versionedTable(base, version);
    },
    query: (sql, params) => executor.query(sql, params),
    execute: (sql, params) => executor.execute(sql, params),
  };
}

/** Definitions by name; unknown names get `projection_not_found`. */
export class ProjectionRegistry {
  private readonly byName = new Map<string, ProjectionDefinition>();

  constructor(definitions: Iterable<ProjectionDefinition> = []) {
    for (const definition of definitions) this.add(definition);
  }

  add(definition: ProjectionDefinition): void {
    defineProjection(definition);
    if (this.byName.has(definition.name)) throw new DaybookError('validation_failed', `projection ${definition.name} is registered twice`, { projection: definition.name }, 'projection');
    for (const other of this.byName.values()) {
      const shared = definition.tables.filter((table) => other.tables.includes(table));
      if (shared.length > 0) {
        throw new DaybookError('validation_failed', `projections ${other.name} and ${definition.name} both name table(s) ${shared.join(', ')}`, { projection: definition.name, other: other.name }, 'projection');
      }
    }
    this.byName.set(definition.name, definition);
  }

  get(name: string): ProjectionDefinition {
    const found = this.byName.get(name);
    if (!found) {
      throw new DaybookError('projection_not_found', `no projection named ${JSON.stringify(name)}; known: ${[...this.byName.keys()].join(', ') || 'none'}`, { projection: name, known: [...this.byName.keys()] });
    }
    return found;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): ProjectionDefinition[] {
    return [...this.byName.values()];
  }
}
