/**
 * The sample projection of the conformance suite: per stream, how many
 * events and the last type seen (table `<name>`); per type, how many events
 * (table `<name>_types`). Its handler can
 * be told which events are poison (it throws on them) and records every
 * batch it is handed, so tests can see what handlers saw.
 */
import type { RecordedEvent } from '../../eventstore/index.ts';
import { defineProjection, type PoisonPolicy, type ProjectionDefinition, type ProjectionFilter } from '../projection.ts';

export interface StreamStatsOptions {
  name?: string;
  version?: number;
  handles?: ProjectionFilter;
  onPoison?: PoisonPolicy;
  /** Base name of its tables (default: the projection's name). */
  tableName?: string;
  partitions?: number;
}

export interface StreamStatsProjection extends ProjectionDefinition {
  /** Events for which the handler throws (set it to change the handler's mind, e.g. after a "fix"). */
  poison: (event: RecordedEvent) => boolean;
  /** Every batch handed to the handler, by position, including batches that later rolled back. */
  readonly calls: bigint[][];
  /** How many times the handler was handed an event at this position. */
  callsAt(position: bigint): number;
}

export function streamStatsProjection(options: StreamStatsOptions = {}): StreamStatsProjection {
  const calls: bigint[][] = [];
  // Tables are named after the projection: two projections may not share a table.
  const statsTable = options.tableName ?? options.name ?? 'stream_stats';
  const typesTable = `${statsTable}_types`;
  const projection: StreamStatsProjection = {
    ...defineProjection<ProjectionDefinition>({
      name: options.name ?? 'stream_stats',
      version: options.version ?? 1,
      tables: [statsTable, typesTable],
      handles: options.handles ?? {},
      onPoison: options.onPoison,
      partitions: options.partitions,
      async migrate(tx) {
        await tx.execute(`CREATE TABLE ${tx.table(statsTable)} (stream_id text PRIMARY KEY, events bigint NOT NULL, last_type text NOT NULL, last_position bigint NOT NULL)`);
        await tx.execute(`CREATE TABLE ${tx.table(typesTable)} (type text PRIMARY KEY, events bigint NOT NULL)`);
      },
      async handle(events, tx) {
        calls.push(events.map((event) => event.position));
        const stats = tx.table(statsTable);
        const types = tx.table(typesTable);
        // Aggregated per batch, then written in key order: fewer statements, and concurrent
        // partitions lock the rows they share (type counts) in one order, so they cannot deadlock.
        const byStream = new Map<string, { events: bigint; lastType: string; lastPosition: bigint }>();
        const byType = new Map<string, bigint>();
        for (const event of events) {
          if (projection.poison(event)) throw new Error(`poison event at position ${event.position}`);
          const entry = byStream.get(event.streamId);
          byStream.set(event.streamId, { events: (entry?.events ?? 0n) + 1n, lastType: event.type, lastPosition: event.position });
          byType.set(event.type, (byType.get(event.type) ?? 0n) + 1n);
        }
        for (const [streamId, entry] of [...byStream].sort(([a], [b]) => (a < b ? -1 : 1))) {
          await tx.execute(
            `INSERT INTO ${stats} (stream_id, events, last_type, last_position) VALUES ($1, $2, $3, $4)
             ON CONFLICT (stream_id) DO UPDATE SET events = ${stats}.events + excluded.events, last_type = excluded.last_type, last_position = excluded.last_position`,
            [streamId, entry.events, entry.lastType, entry.lastPosition],
          );
        }
        for (const [type, count] of [...byType].sort(([a], [b]) => (a < b ? -1 : 1))) {
          await tx.execute(`INSERT INTO ${types} (type, events) VALUES ($1, $2) ON CONFLICT (type) DO UPDATE SET events = ${types}.events + excluded.events`, [type, count]);
        }
      },
    }),
    poison: (event) => (event.data as { poison?: boolean } | null)?.poison === true,
    calls,
    callsAt: (position) => calls.filter((batch) => batch.includes(position)).length,
  };
  return projection;
}

/** What the sample projection should hold after `events` (the ones it handles), as its dump would list it. */
export function expectedStats(events: readonly RecordedEvent[]): Map<string, { events: bigint; lastType: string; lastPosition: bigint }> {
  const stats = new Map<string, { events: bigint; lastType: string; lastPosition: bigint }>();
  for (const event of events) {
    const entry = stats.get(event.streamId) ?? { events: 0n, lastType: '', lastPosition: 0n };
    stats.set(event.streamId, { events: entry.events + 1n, lastType: event.type, lastPosition: event.position });
  }
  return stats;
}

/** The sample projection with no poison events: the reference a replay from zero builds. */
export function referenceProjection(options: StreamStatsOptions = {}): StreamStatsProjection {
  const projection = streamStatsProjection(options);
  projection.poison = () => false;
  return projection;
}

/** The partitioned sample projection the worker-group tests share between their processes. */
export const GROUP_PARTITIONS = 6;
export function groupStatsProjection(): StreamStatsProjection {
  return referenceProjection({ name: 'group_stats', partitions: GROUP_PARTITIONS });
}
