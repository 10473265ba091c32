/**
 * Subject keys shipped beside the log segments (crypto-shredding, see
 * src/privacy): a backup's key copy holds the keys of its time only, so the
 * personal data of a subject created after it, replayed from the segments,
 * would be unreadable without its key. The shipper appends the key store's
 * new rows to `subject-keys.jsonl` in the shipping folder (a wrapped key, as
 * the key store holds it: the master key never leaves the key folder), and a
 * tombstone line for each erasure, fsynced before the segment whose events
 * need them. A key is written to the key store before any event sealed under
 * it is appended, and the key rows are read after the events they ship
 * with, so every shipped event has its key shipped first.
 *
 * Each line carries the SHA-256 of its fields and of the line before it (a
 * chain): a changed, dropped or reordered line is `backup_invalid` on
 * restore. A torn last line (a crash in the middle of a write) is cut off
 * when the shipper resumes and ignored on restore (its segment was never
 * written). Erased keys shipped before their erasure stay in the file, as in
 * a backup's key copy: the restore applies the tombstones shipped since and
 * the key folder's erasure journal, so an erased subject stays erased.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { DaybookError } from '../kernel/index.ts';
import { openSqliteSubjectKeyStore, SUBJECT_KEYS_FILE, SUBJECT_KEYS_TABLE } from '../privacy/index.ts';

export const SHIPPED_KEYS_FILE = 'subject-keys.jsonl';

/** One shipped row: a key (`wrappedKey` base64) or a tombstone (`wrappedKey` null, `erasedAtMs` set). */
export interface ShippedKeyLine {
  seq: number;
  rowid: number;
  subject: string;
  wrappedKey: string | null;
  createdAtMs: number;
  erasedAtMs: number | null;
  previousHash: string;
  hash: string;
}

const GENESIS = '0'.repeat(64);

function lineHash(line: Omit<ShippedKeyLine, 'hash'>): string {
  const fields = [line.seq, line.rowid, line.subject, line.wrappedKey, line.createdAtMs, line.erasedAtMs, line.previousHash];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

/** The complete lines of a shipped key file, each checked against its hash and the one before; the torn tail (if any) apart. */
function readKeyLines(file: string): { lines: ShippedKeyLine[]; completeBytes: number } {
  const text = readFileSync(file, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  const lines: ShippedKeyLine[] = [];
  let previous = GENESIS;
  for (const [index, raw] of text.slice(0, end).split('\n').slice(0, -1).entries()) {
    let line: ShippedKeyLine;
    try {
      line = JSON.parse(raw) as ShippedKeyLine;
    } catch {
      throw new DaybookError('backup_invalid', `${file}: line ${index + 1} is not JSON: the shipped keys are damaged`, { file });
    }
    const { hash, ...fields } = line;
    if (line.previousHash !== previous || line.seq !== index + 1 || lineHash(fields) !== hash) {
      throw new DaybookError('backup_invalid', `${file}: line ${index + 1} does not match its hash (changed, dropped or reordered): do not restore from it`, { file, line: index + 1 });
    }
    lines.push(line);
    previous = hash;
  }
  return { lines, completeBytes: Buffer.byteLength(text.slice(0, end)) };
}

interface KeyRow { rowid: number; subject: string; wrapped_key: Buffer | null; created_at_ms: number; erased_at_ms: number | null }

/** Follows the key store beside `storePath`, appending its new rows and erasures to the shipping folder. */
export class KeyShipper {
  private db: Database.Database | null = null;

  private constructor(
    private readonly keyStorePath: string, private readonly file: string,
    private lastRowid: number, private seq: number, private lastHash: string, private readonly tombstoned: Set<string>,
  ) {}

  /** Resumes from the folder's key file: its torn last line is cut off, its chain checked. */
  static open(storePath: string, dir: string): KeyShipper {
    const file = join(dir, SHIPPED_KEYS_FILE);
    let lines: ShippedKeyLine[] = [];
    if (existsSync(file)) {
      const read = readKeyLines(file);
      truncateSync(file, read.completeBytes);
      lines = read.lines;
    }
    const last = lines[lines.length - 1];
    const tombstoned = new Set(lines.filter((line) => line.erasedAtMs !== null).map((line) => line.subject));
    return new KeyShipper(join(dirname(storePath), SUBJECT_KEYS_FILE), file, Math.max(0, ...lines.map((line) => line.rowid)), last?.seq ?? 0, last?.hash ?? GENESIS, tombstoned);
  }

  /** Ships what the key store gained since the last call (new keys, then new erasures), fsynced; resolves with the lines written. */
  ship(): number {
    const db = this.connection();
    if (db === null) return 0;
    const rows = db.prepare<[number], KeyRow>(`SELECT rowid, subject, wrapped_key, created_at_ms, erased_at_ms FROM ${SUBJECT_KEYS_TABLE} WHERE rowid > ? ORDER BY rowid`).all(this.lastRowid);
    const erased = (db.prepare(`SELECT count(*) AS n FROM ${SUBJECT_KEYS_TABLE} WHERE erased_at_ms IS NOT NULL AND rowid <= ?`).get(this.lastRowid) as { n: number }).n;
    if (erased > this.tombstoned.size) {
      const tombstones = db.prepare<[number], KeyRow>(`SELECT rowid, subject, wrapped_key, created_at_ms, erased_at_ms FROM ${SUBJECT_KEYS_TABLE} WHERE erased_at_ms IS NOT NULL AND rowid <= ? ORDER BY rowid`).all(this.lastRowid);
      rows.push(...tombstones.filter((row) => !this.tombstoned.has(row.subject)));
    }
    if (rows.length === 0) return 0;
    const text = rows.map((row) => `${JSON.stringify(this.lineOf(row))}\n`).join('');
    const fd = openSync(this.file, 'a', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return rows.length;
  }

  close(): void {
    this.db?.close();
    this.db = null;
  }

  private lineOf(row: KeyRow): ShippedKeyLine {
    this.seq += 1;
    const fields = {
      seq: this.seq, rowid: row.rowid, subject: row.subject, wrappedKey: row.wrapped_key === null ? null : row.wrapped_key.toString('base64'),
      createdAtMs: row.created_at_ms, erasedAtMs: row.erased_at_ms, previousHash: this.lastHash,
    };
    const line = { ...fields, hash: lineHash(fields) };
    this.lastHash = line.hash;
    this.lastRowid = Math.max(this.lastRowid, row.rowid);
    if (row.erased_at_ms !== null) this.tombstoned.add(row.subject);
    return line;
  }

  /** The key store, read-only, once it exists and has its table (a store without personal data has none). */
  private connection(): Database.Database | null {
    if (this.db !== null) return this.db;
    if (!existsSync(this.keyStorePath)) return null;
    const db = new Database(this.keyStorePath, { readonly: true, fileMustExist: true, timeout: 5000 });
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(SUBJECT_KEYS_TABLE) === undefined) {
      db.close();
      return null;
    }
    this.db = db;
    return db;
  }
}

/**
 * Adds the keys and tombstones shipped in `dir` to a restored key store (a
 * key the backup's copy holds already is kept; a tombstone wins over a key).
 * Resolves with how many of each; none when the folder ships no keys.
 */
export async function applyShippedKeys(keyStorePath: string, dir: string): Promise<{ keys: number; tombstones: number }> {
  const file = join(dir, SHIPPED_KEYS_FILE);
  if (!existsSync(file)) return { keys: 0, tombstones: 0 };
  const { lines } = readKeyLines(file);
  if (lines.length === 0) return { keys: 0, tombstones: 0 };
  const keyStore = openSqliteSubjectKeyStore(keyStorePath);
  try {
    let keys = 0;
    let tombstones = 0;
    for (const line of lines) {
      if (line.wrappedKey !== null) {
        await keyStore.insertKey(line.subject, Buffer.from(line.wrappedKey, 'base64'), line.createdAtMs);
        keys += 1;
      }
      if (line.erasedAtMs !== null) {
        await keyStore.putTombstone({ subject: line.subject, erasedAtMs: line.erasedAtMs });
        tombstones += 1;
      }
    }
    return { keys, tombstones };
  } finally {
    await keyStore.close();
  }
}

/**
 * Subjects whose personal data sits sealed in the events after `afterPosition`
 * of a restored store but who have no row (key or tombstone) in its key
 * store: restoring would leave their data unreadable for good. Reads the
 * raw rows; only events holding a cipher envelope are parsed.
 */
export function subjectsWithoutKeys(storePath: string, keyStorePath: string, afterPosition: bigint): string[] {
  const sealed = new Set<string>();
  const db = new Database(storePath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare<[bigint], { data: string }>(`SELECT data FROM events WHERE position > ? AND instr(data, '"$enc"') > 0 ORDER BY position`);
    for (const row of rows.iterate(afterPosition)) collectSealedSubjects(JSON.parse(row.data) as unknown, sealed);
  } finally {
    db.close();
  }
  if (sealed.size === 0) return [];
  if (!existsSync(keyStorePath)) return [...sealed];
  const keys = new Database(keyStorePath, { readonly: true, fileMustExist: true });
  try {
    const known = keys.prepare<[string], { subject: string }>(`SELECT subject FROM ${SUBJECT_KEYS_TABLE} WHERE subject = ?`);
    return [...sealed].filter((subject) => known.get(subject) === undefined);
  } finally {
    keys.close();
  }
}

/** The subjects named by the cipher envelopes (`{ "$enc", "s": subject, … }`) anywhere in a value. */
function collectSealedSubjects(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectSealedSubjects(item, into);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  if (record.$enc !== undefined && typeof record.s === 'string') {
    into.add(record.s);
    return;
  }
  for (const item of Object.values(record)) collectSealedSubjects(item, into);
}
