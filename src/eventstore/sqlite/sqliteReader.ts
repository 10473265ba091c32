import type Database from 'better-sqlite3';
import { uuidToBytes } from '../../kernel/ids.ts';
import type { LogQuery, StorageEngine, StreamQuery } from '../storageEngine.ts';
import type { StoredRow } from '../storedRow.ts';

// Ids and hashes come back as hex text: a Buffer per blob per row cost more than the rest of the row.
const COLUMNS = 'position, lower(hex(event_id)) AS event_id, stream_id, version, type, schema_version, data, metadata, recorded_at, '
  + 'lower(hex(hash)) AS hash, lower(hex(previous_hash)) AS previous_hash';
const ID_LOOKUP_CHUNK = 500;

/** A row of COLUMNS in raw mode (an array, in the order of COLUMNS): better-sqlite3 builds it much faster than an object with eleven keys. */
type RawTuple = [number, string, string, number, string, number, string, string, number, string, string];

function fromTuple(raw: RawTuple): StoredRow {
  return {
    eventId: uuidOfHex(raw[1]),
    streamId: raw[2],
    version: BigInt(raw[3]),
    position: BigInt(raw[0]),
    type: raw[4],
    schemaVersion: raw[5],
    dataJson: raw[6],
    metadataJson: raw[7],
    recordedAtMs: raw[8],
    hash: raw[9],
    previousHash: raw[10],
  };
}

interface RawRow {
  position: number;
  /** 32 lower-case hex digits. */
  event_id: string;
  stream_id: string;
  version: number;
  type: string;
  schema_version: number;
  data: string;
  metadata: string;
  recorded_at: number;
  hash: string;
  previous_hash: string;
}

/** 32 hex digits as a dashed UUID. */
function uuidOfHex(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function toStoredRow(raw: RawRow): StoredRow {
  return {
    eventId: uuidOfHex(raw.event_id),
    streamId: raw.stream_id,
    version: BigInt(raw.version),
    position: BigInt(raw.position),
    type: raw.type,
    schemaVersion: raw.schema_version,
    dataJson: raw.data,
    metadataJson: raw.metadata,
    recordedAtMs: raw.recorded_at,
    hash: raw.hash,
    previousHash: raw.previous_hash,
  };
}

type ReaderMethods = Pick<StorageEngine,
  'readStreamRows' | 'readAllRows' | 'readRowsByEventIds' | 'readFirstRows' | 'readChainRows' | 'findPositionGap' | 'heads' | 'recordedAtOf' | 'streamVersion' | 'listStreams' | 'loadSnapshot'>;

/** Every read of the SQLite store, on the main thread's connection (WAL: readers never wait for the writer). */
export class SqliteReader {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly rawStatements = new Map<string, Database.Statement>();
  private bound: ReaderMethods | null = null;

  constructor(private readonly db: Database.Database) {}

  private statement(sql: string): Database.Statement {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  /** A statement of COLUMNS whose rows come back as arrays (see RawTuple). */
  private tupleStatement(sql: string): Database.Statement {
    let prepared = this.rawStatements.get(sql);
    if (!prepared) {
      prepared = this.db.prepare(sql).raw(true);
      this.rawStatements.set(sql, prepared);
    }
    return prepared;
  }

  recordedHead(): { position: number; recordedAt: number } {
    const row = this.statement('SELECT position, recorded_at FROM head WHERE id = 1').get() as { position: number; recorded_at: number };
    const max = this.maxPositionNumber();
    // The head row commits with its events, so they agree unless the file was edited by hand.
    return { position: Math.max(row.position, max), recordedAt: row.recorded_at };
  }

  private maxPositionNumber(): number {
    const row = this.statement('SELECT max(position) AS max FROM events').get() as { max: number | null };
    return row.max ?? 0;
  }

  maxPosition(): bigint {
    return BigInt(this.maxPositionNumber());
  }

  streamHead(streamId: string): { version: number; hash: string; position: number } | null {
    const row = this.statement('SELECT version, hash, position FROM events WHERE stream_id = ? ORDER BY version DESC LIMIT 1').get(streamId) as
      { version: number; hash: Buffer; position: number } | undefined;
    return row ? { version: row.version, hash: row.hash.toString('hex'), position: row.position } : null;
  }

  rowsByEventIds(eventIds: string[]): Map<string, StoredRow> {
    const found = new Map<string, StoredRow>();
    for (const row of this.rowsWhereIn('event_id', eventIds.map(uuidToBytes))) found.set(row.eventId, row);
    return found;
  }

  /** The version-1 row of each stream: one probe of events_stream_version per id. */
  firstRows(streamIds: readonly string[]): StoredRow[] {
    return this.rowsWhereIn('stream_id', streamIds, ' AND version = 1');
  }

  /** Rows whose `column` is one of `values` (and `also`), in statements of at most ID_LOOKUP_CHUNK parameters. */
  private rowsWhereIn(column: 'event_id' | 'stream_id', values: readonly unknown[], also = ''): StoredRow[] {
    const found: StoredRow[] = [];
    for (let start = 0; start < values.length; start += ID_LOOKUP_CHUNK) {
      const chunk = values.slice(start, start + ID_LOOKUP_CHUNK);
      const sql = `SELECT ${COLUMNS} FROM events WHERE ${column} IN (${chunk.map(() => '?').join(',')})${also}`;
      for (const raw of this.tupleStatement(sql).all(...chunk) as RawTuple[]) found.push(fromTuple(raw));
    }
    return found;
  }

  methods(): ReaderMethods {
    this.bound ??= {
      readStreamRows: async (streamId, query) => this.readStream(streamId, query),
      readAllRows: async (query) => this.readAll(query),
      readRowsByEventIds: async (eventIds) => [...this.rowsByEventIds([...eventIds]).values()].sort((a, b) => (a.position < b.position ? -1 : 1)),
      readFirstRows: async (streamIds) => this.firstRows(streamIds),
      readChainRows: async (after, limit) => {
        const raws = after === null
          ? this.statement(`SELECT ${COLUMNS} FROM events ORDER BY stream_id, version LIMIT ?`).all(limit)
          : this.statement(`SELECT ${COLUMNS} FROM events WHERE (stream_id, version) > (?, ?) ORDER BY stream_id, version LIMIT ?`).all(after.streamId, Number(after.version), limit);
        return (raws as RawRow[]).map(toStoredRow);
      },
      findPositionGap: async () => this.findPositionGap(),
      heads: async () => {
        const recorded = this.statement('SELECT position FROM head WHERE id = 1').get() as { position: number };
        return { maxStored: this.maxPosition(), recorded: BigInt(recorded.position) };
      },
      recordedAtOf: async (position) => {
        const row = this.statement('SELECT recorded_at FROM events WHERE position = ?').get(Number(position)) as { recorded_at: number } | undefined;
        return row?.recorded_at ?? null;
      },
      streamVersion: async (streamId) => BigInt(this.streamHead(streamId)?.version ?? 0),
      listStreams: async (category, after, limit) => {
        // Version 1 of every stream in the (stream_id, version) index: the category's ids sort between `<category>-` and `<category>.` in byte order.
        const from = after === null || after < category ? category : after;
        const rows = this.statement(
          `SELECT stream_id FROM events WHERE stream_id ${after === null || after < category ? '>=' : '>'} ? AND stream_id < ? AND version = 1
             AND (stream_id = ? OR substr(stream_id, 1, ?) = ?) ORDER BY stream_id LIMIT ?`,
        ).raw().all(from, `${category}.`, category, category.length + 1, `${category}-`, limit) as Array<[string]>;
        return rows.map((row) => row[0]);
      },
      loadSnapshot: async (streamId, schemaVersion) => {
        const row = this.statement('SELECT version, state FROM snapshots WHERE stream_id = ? AND schema_version = ?').get(streamId, schemaVersion) as
          { version: number; state: string } | undefined;
        return row ? { version: BigInt(row.version), stateJson: row.state } : null;
      },
    };
    return this.bound;
  }

  private readStream(streamId: string, query: StreamQuery): StoredRow[] {
    const forwards = query.direction === 'forwards';
    const clauses = ['stream_id = ?'];
    const params: unknown[] = [streamId];
    if (query.fromVersion !== null) {
      clauses.push(forwards ? 'version >= ?' : 'version <= ?');
      params.push(Number(query.fromVersion));
    }
    if (query.maxPosition !== null) {
      clauses.push('position <= ?');
      params.push(Number(query.maxPosition));
    }
    params.push(query.limit);
    const sql = `SELECT ${COLUMNS} FROM events WHERE ${clauses.join(' AND ')} ORDER BY version ${forwards ? 'ASC' : 'DESC'} LIMIT ?`;
    return (this.tupleStatement(sql).all(...params) as RawTuple[]).map(fromTuple);
  }

  private readAll(query: LogQuery): StoredRow[] {
    const clauses = ['position > ?'];
    const params: unknown[] = [Number(query.after)];
    if (query.maxPosition !== null) {
      clauses.push('position <= ?');
      params.push(Number(query.maxPosition));
    }
    if (query.category !== null) {
      clauses.push('category = ?');
      params.push(query.category);
    }
    if (query.types !== null) {
      clauses.push(`type IN (${query.types.map(() => '?').join(',')})`);
      params.push(...query.types);
    }
    params.push(query.limit);
    const sql = `SELECT ${COLUMNS} FROM events WHERE ${clauses.join(' AND ')} ORDER BY position LIMIT ?`;
    return (this.tupleStatement(sql).all(...params) as RawTuple[]).map(fromTuple);
  }

  private findPositionGap(): { missing: bigint } | null {
    const { count, max } = this.statement('SELECT count(*) AS count, max(position) AS max FROM events').get() as { count: number; max: number | null };
    if ((max ?? 0) === count) return null;
    const first = this.statement('SELECT min(position) AS min FROM events').get() as { min: number };
    if (first.min !== 1) return { missing: 1n };
    const row = this.statement(
      'SELECT e.position + 1 AS missing FROM events e WHERE e.position < ? AND NOT EXISTS (SELECT 1 FROM events f WHERE f.position = e.position + 1) ORDER BY e.position LIMIT 1',
    ).get(max) as { missing: number } | undefined;
    return row ? { missing: BigInt(row.missing) } : null;
  }
}
