import type pg from 'pg';
import type { LogQuery, StreamQuery } from '../storageEngine.ts';
import type { StoredRow } from '../storedRow.ts';

// Hashes come back as hex text: cheaper than node-pg's bytea parsing into a Buffer and back to hex.
const COLUMNS = "position, event_id, stream_id, version, type, schema_version, data, metadata, recorded_at, encode(hash, 'hex') AS hash, encode(previous_hash, 'hex') AS previous_hash";

interface RawRow {
  position: bigint;
  event_id: string;
  stream_id: string;
  version: bigint;
  type: string;
  schema_version: number;
  data: string;
  metadata: string;
  recorded_at: bigint;
  hash: string;
  previous_hash: string;
}

function toStoredRow(raw: RawRow): StoredRow {
  return {
    eventId: raw.event_id,
    streamId: raw.stream_id,
    version: raw.version,
    position: raw.position,
    type: raw.type,
    schemaVersion: raw.schema_version,
    dataJson: raw.data,
    metadataJson: raw.metadata,
    recordedAtMs: Number(raw.recorded_at),
    hash: raw.hash,
    previousHash: raw.previous_hash,
  };
}

/** Every read of the PostgreSQL store, on the read pool. */
export class PostgresReader {
  constructor(private readonly pool: pg.Pool) {}

  private async rows(sql: string, params: unknown[]): Promise<StoredRow[]> {
    const result = await this.pool.query<RawRow>(sql, params);
    return result.rows.map(toStoredRow);
  }

  readStreamRows(streamId: string, query: StreamQuery): Promise<StoredRow[]> {
    const forwards = query.direction === 'forwards';
    const clauses = ['stream_id = $1'];
    const params: unknown[] = [streamId];
    if (query.fromVersion !== null) {
      params.push(query.fromVersion.toString());
      clauses.push(`version ${forwards ? '>=' : '<='} $${params.length}`);
    }
    if (query.maxPosition !== null) {
      params.push(query.maxPosition.toString());
      clauses.push(`position <= $${params.length}`);
    }
    params.push(query.limit);
    return this.rows(`SELECT ${COLUMNS} FROM daybook.events WHERE ${clauses.join(' AND ')} ORDER BY version ${forwards ? 'ASC' : 'DESC'} LIMIT $${params.length}`, params);
  }

  readAllRows(query: LogQuery): Promise<StoredRow[]> {
    const params: unknown[] = [query.after.toString()];
    const clauses = ['position > $1'];
    if (query.maxPosition !== null) {
      params.push(query.maxPosition.toString());
      clauses.push(`position <= $${params.length}`);
    }
    if (query.category !== null) {
      params.push(query.category);
      clauses.push(`category = $${params.length}`);
    }
    if (query.types !== null) {
      params.push([...query.types]);
      clauses.push(`type = ANY ($${params.length}::text[])`);
    }
    params.push(query.limit);
    return this.rows(`SELECT ${COLUMNS} FROM daybook.events WHERE ${clauses.join(' AND ')} ORDER BY position LIMIT $${params.length}`, params);
  }

  readRowsByEventIds(eventIds: readonly string[]): Promise<StoredRow[]> {
    return this.rows(`SELECT ${COLUMNS} FROM daybook.events WHERE event_id = ANY ($1::uuid[]) ORDER BY position`, [[...eventIds]]);
  }

  /** One statement for all the streams: a probe of the (stream_id, version) index per id. */
  readFirstRows(streamIds: readonly string[]): Promise<StoredRow[]> {
    return this.rows(`SELECT ${COLUMNS} FROM daybook.events WHERE stream_id = ANY ($1::text[]) AND version = 1`, [[...streamIds]]);
  }

  readChainRows(after: { streamId: string; version: bigint } | null, limit: number): Promise<StoredRow[]> {
    if (after === null) return this.rows(`SELECT ${COLUMNS} FROM daybook.events ORDER BY stream_id, version LIMIT $1`, [limit]);
    return this.rows(
      `SELECT ${COLUMNS} FROM daybook.events WHERE (stream_id, version) > ($1, $2) ORDER BY stream_id, version LIMIT $3`,
      [after.streamId, after.version.toString(), limit],
    );
  }

  async findPositionGap(): Promise<{ missing: bigint } | null> {
    const totals = await this.pool.query<{ count: bigint; max: bigint | null; min: bigint | null }>('SELECT count(*) AS count, max(position) AS max, min(position) AS min FROM daybook.events');
    const { count, max, min } = totals.rows[0]!;
    if ((max ?? 0n) === count) return null;
    if (min !== 1n) return { missing: 1n };
    const gap = await this.pool.query<{ missing: bigint }>(
      'SELECT e.position + 1 AS missing FROM daybook.events e WHERE e.position < $1 AND NOT EXISTS (SELECT 1 FROM daybook.events f WHERE f.position = e.position + 1) ORDER BY e.position LIMIT 1',
      [max!.toString()],
    );
    return gap.rows[0] ? { missing: gap.rows[0].missing } : null;
  }

  async heads(): Promise<{ maxStored: bigint; recorded: bigint }> {
    const result = await this.pool.query<{ max: bigint | null; recorded: bigint }>(
      'SELECT (SELECT max(position) FROM daybook.events) AS max, (SELECT position FROM daybook.head WHERE id = 1) AS recorded',
    );
    const row = result.rows[0]!;
    return { maxStored: row.max ?? 0n, recorded: row.recorded };
  }

  async headPosition(): Promise<bigint> {
    const result = await this.pool.query<{ position: bigint }>('SELECT position FROM daybook.head WHERE id = 1');
    return result.rows[0]!.position;
  }

  async recordedAtOf(position: bigint): Promise<number | null> {
    const result = await this.pool.query<{ recorded_at: bigint }>('SELECT recorded_at FROM daybook.events WHERE position = $1', [position.toString()]);
    return result.rows[0] ? Number(result.rows[0].recorded_at) : null;
  }

  /** Version 1 of every stream in the (stream_id, version) index; "C" collation: the category's ids sort between `<category>-` and `<category>.`. */
  async listStreams(category: string, after: string | null, limit: number): Promise<string[]> {
    const inclusive = after === null || after < category;
    const result = await this.pool.query<{ stream_id: string }>(
      `SELECT stream_id FROM daybook.events WHERE stream_id ${inclusive ? '>=' : '>'} $1 AND stream_id < $2 AND version = 1
         AND (stream_id = $3 OR left(stream_id, $4) = $5) ORDER BY stream_id LIMIT $6`,
      [inclusive ? category : after, `${category}.`, category, category.length + 1, `${category}-`, limit],
    );
    return result.rows.map((row) => row.stream_id);
  }

  async streamVersion(streamId: string): Promise<bigint> {
    const result = await this.pool.query<{ version: bigint }>('SELECT version FROM daybook.events WHERE stream_id = $1 ORDER BY version DESC LIMIT 1', [streamId]);
    return result.rows[0]?.version ?? 0n;
  }

  async saveSnapshot(snapshot: { streamId: string; version: bigint; schemaVersion: number; stateJson: string }): Promise<void> {
    await this.pool.query(
      `INSERT INTO daybook.snapshots (stream_id, schema_version, version, state, saved_at) VALUES ($1, $2, $3, $4, (extract(epoch FROM now()) * 1000)::bigint)
       ON CONFLICT (stream_id, schema_version) DO UPDATE SET version = excluded.version, state = excluded.state, saved_at = excluded.saved_at
       WHERE excluded.version >= daybook.snapshots.version`,
      [snapshot.streamId, snapshot.schemaVersion, snapshot.version.toString(), snapshot.stateJson],
    );
  }

  async loadSnapshot(streamId: string, schemaVersion: number): Promise<{ version: bigint; stateJson: string } | null> {
    const result = await this.pool.query<{ version: bigint; state: string }>('SELECT version, state FROM daybook.snapshots WHERE stream_id = $1 AND schema_version = $2', [streamId, schemaVersion]);
    const row = result.rows[0];
    return row ? { version: row.version, stateJson: row.state } : null;
  }
}
