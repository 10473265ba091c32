/**
 * Continuous log shipping for the embedded store: every committed event is
 * appended, in position order, to segment files in a folder (JSON lines with
 * every field the hash covers, data and metadata as the exact text hashed),
 * each batch fsynced before the next is read. With a base backup, the
 * segments let `daybook restore` reach any position up to the last shipped one.
 *
 * The shipper is a reader beside the server (no writer lock): it follows the
 * log by reacting to commits, with polling as the fallback. A commit of the
 * server (another process) changes the store's `-wal` file, which the
 * shipper watches (`watchStore`, on by default); a caller in the same
 * process as the store may also pass `onCommit` (the store's append
 * listener). Either wakes it at once; without either (a file system that
 * reports no changes, such as some network mounts) it reads the head every
 * `pollMs`. What it promises is what it can keep: an event is in a segment
 * about one read and one fsync after the server acknowledged it (at most
 * `pollMs` when no wake comes). Events acknowledged in that window are lost
 * if the server's disk is lost before they ship (RPO: small, not zero). Segments start at position 1 in an empty folder, so they cover
 * any base backup; older segments may be pruned up to the head of the oldest
 * backup kept. The subject key store's new keys and erasures are shipped
 * beside them (`subject-keys.jsonl`, see shippedKeys.ts), never pruned.
 *
 * @example
 * const controller = new AbortController();
 * await shipLog({ storePath: 'data/daybook.db', dir: '/ship', signal: controller.signal, onShipped: (p) => console.log(p) });
 */
import { closeSync, createReadStream, fsyncSync, openSync, watch, writeSync } from 'node:fs';
import { open, readdir, stat, truncate, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { eventHash } from '../eventstore/index.ts';
import { DaybookError } from '../kernel/index.ts';
import { ensurePrivateDir } from '../kernel/privateFiles.ts';
import { fsyncDir } from './files.ts';
import { KeyShipper } from './shippedKeys.ts';

/** One shipped event: every field the hash covers, as stored. */
export interface ShippedEvent {
  position: string;
  eventId: string;
  streamId: string;
  version: string;
  type: string;
  schemaVersion: number;
  data: string;
  metadata: string;
  recordedAt: number;
  hash: string;
  previousHash: string;
}

export interface ShipLogOptions {
  storePath: string;
  dir: string;
  signal: AbortSignal;
  /** How often the head is read when there is nothing new (default 200 ms). */
  pollMs?: number;
  /** Events per segment file before a new one starts (default 100 000). */
  segmentEvents?: number;
  /** Called after each fsynced batch with the last shipped position. */
  onShipped?: (position: bigint) => void;
  /** Wake on changes of the store's files (its `-wal`: every commit of any process). Default true. */
  watchStore?: boolean;
  /** An in-process commit signal: called with `wake`, returns how to stop listening (e.g. `(wake) => store.onAppended(() => wake())`). */
  onCommit?: (wake: () => void) => () => void;
}

const SEGMENT_PATTERN = /^segment-(\d{20})\.jsonl$/;
const SHIP_BATCH = 5000;
const TAIL_BYTES = 1 << 20;

const segmentName = (firstPosition: bigint): string => `segment-${firstPosition.toString().padStart(20, '0')}.jsonl`;

/** Segment files of a folder, oldest first. */
export async function listSegments(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => SEGMENT_PATTERN.test(name)).sort().map((name) => join(dir, name));
}

/** Ships until `signal` aborts; resolves with the last shipped position. */
export async function shipLog(options: ShipLogOptions): Promise<bigint> {
  ensurePrivateDir(options.dir);
  const db = new Database(options.storePath, { readonly: true, fileMustExist: true, timeout: 5000 });
  let keys: KeyShipper | undefined;
  let waker: Waker | undefined;
  try {
    const select = db.prepare(
      'SELECT position, lower(hex(event_id)) AS event_id, stream_id, version, type, schema_version, data, metadata, recorded_at, '
      + 'lower(hex(hash)) AS hash, lower(hex(previous_hash)) AS previous_hash FROM events WHERE position > ? ORDER BY position LIMIT ?',
    ).safeIntegers(true);
    let shipped = await resumePosition(options.dir);
    let writer = await SegmentWriter.resume(options.dir, options.segmentEvents ?? 100_000);
    keys = KeyShipper.open(options.storePath, options.dir);
    waker = new Waker(options);
    while (!options.signal.aborted) {
      // Taken before the read: a commit while this pass runs makes the next wait return at once.
      waker.clear();
      // No more than the newest segment has room for: segments hold exactly `segmentEvents` each.
      const rows = select.all(shipped, Math.min(SHIP_BATCH, writer.room())) as RawRow[];
      // The keys after the events were read, and written before them: every shipped event has its key shipped (shippedKeys.ts).
      keys.ship();
      if (rows.length === 0) {
        await waker.wait(options.pollMs ?? 200, options.signal);
        continue;
      }
      writer = await writer.append(rows.map(toShipped), shipped + 1n);
      shipped = rows[rows.length - 1]!.position;
      options.onShipped?.(shipped);
    }
    writer.close();
    return shipped;
  } finally {
    waker?.close();
    keys?.close();
    db.close();
  }
}

interface RawRow {
  position: bigint; event_id: string; stream_id: string; version: bigint; type: string; schema_version: bigint;
  data: string; metadata: string; recorded_at: bigint; hash: string; previous_hash: string;
}

function toShipped(row: RawRow): ShippedEvent {
  const hex = row.event_id;
  return {
    position: row.position.toString(),
    eventId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
    streamId: row.stream_id, version: row.version.toString(), type: row.type, schemaVersion: Number(row.schema_version),
    data: row.data, metadata: row.metadata, recordedAt: Number(row.recorded_at), hash: row.hash, previousHash: row.previous_hash,
  };
}

/** Appends to the newest segment until it holds `segmentEvents`, then starts the next; every batch is fsynced. */
class SegmentWriter {
  private constructor(private readonly dir: string, private readonly segmentEvents: number, private fd: number | null, private lines: number) {}

  static async resume(dir: string, segmentEvents: number): Promise<SegmentWriter> {
    const segments = await listSegments(dir);
    const last = segments[segments.length - 1];
    if (last === undefined) return new SegmentWriter(dir, segmentEvents, null, 0);
    return new SegmentWriter(dir, segmentEvents, openSync(last, 'a', 0o600), await countLines(last));
  }

  async append(events: ShippedEvent[], firstPosition: bigint): Promise<SegmentWriter> {
    if (this.fd === null || this.lines >= this.segmentEvents) {
      this.close();
      this.fd = openSync(join(this.dir, segmentName(firstPosition)), 'a', 0o600);
      this.lines = 0;
      await fsyncDir(this.dir);
    }
    writeSync(this.fd, events.map((event) => `${JSON.stringify(event)}\n`).join(''));
    fsyncSync(this.fd);
    this.lines += events.length;
    return this;
  }

  /** Events the newest segment still takes (a full one: a whole new segment). */
  room(): number {
    return this.fd === null || this.lines >= this.segmentEvents ? this.segmentEvents : this.segmentEvents - this.lines;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * The last position shipped: the last complete line of the newest segment.
 * A torn last line (a crash in the middle of a write) is cut off; an
 * empty newest segment is removed.
 */
async function resumePosition(dir: string): Promise<bigint> {
  for (;;) {
    const segments = await listSegments(dir);
    const last = segments[segments.length - 1];
    if (last === undefined) return 0n;
    const size = (await stat(last)).size;
    const start = Math.max(0, size - TAIL_BYTES);
    const handle = await open(last, 'r');
    const buffer = Buffer.alloc(size - start);
    try {
      await handle.read(buffer, 0, buffer.length, start);
    } finally {
      await handle.close();
    }
    const text = buffer.toString('utf8');
    const end = text.lastIndexOf('\n');
    if (end === -1 && start === 0) {
      await unlink(last);
      continue;
    }
    if (end + 1 < text.length) await truncate(last, start + end + 1);
    const lineStart = text.lastIndexOf('\n', end - 1) + 1;
    return BigInt((JSON.parse(text.slice(lineStart, end)) as ShippedEvent).position);
  }
}

async function countLines(path: string): Promise<number> {
  let count = 0;
  for await (const chunk of createReadStream(path)) for (const byte of chunk as Buffer) if (byte === 10) count += 1;
  return count;
}

/**
 * The shipped events of a folder after `after`, up to `upTo` (inclusive;
 * null: all), in order. Each is checked against its own hash; a missing
 * position is `backup_invalid` naming it.
 */
export async function* readShipped(dir: string, after: bigint, upTo: bigint | null): AsyncGenerator<ShippedEvent> {
  let expected = after + 1n;
  for (const file of await listSegments(dir)) {
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.length === 0) continue;
      const event = parseShipped(line, file);
      const position = BigInt(event.position);
      if (position < expected) continue;
      if (upTo !== null && position > upTo) return;
      if (position !== expected) {
        throw new DaybookError('backup_invalid', `the shipped log in ${dir} has no event at position ${expected} (${file} goes on at ${position})`, { dir });
      }
      yield event;
      expected += 1n;
    }
  }
}

function parseShipped(line: string, file: string): ShippedEvent {
  let event: ShippedEvent;
  try {
    event = JSON.parse(line) as ShippedEvent;
  } catch {
    throw new DaybookError('backup_invalid', `${file} holds a line that is not JSON: the segment is damaged`, { file });
  }
  const recomputed = eventHash({
    eventId: event.eventId, streamId: event.streamId, version: BigInt(event.version), position: BigInt(event.position), type: event.type,
    schemaVersion: event.schemaVersion, recordedAtMs: event.recordedAt, dataJson: event.data, metadataJson: event.metadata, previousHash: event.previousHash,
  });
  if (recomputed !== event.hash) throw new DaybookError('backup_invalid', `${file}: the event at position ${event.position} does not match its hash`, { file });
  return event;
}

/**
 * Wakes the shipper when something was committed: the store's folder
 * watched for changes of its `-wal` files (the events' and the key store's),
 * and the caller's in-process hook. A wake that comes while the shipper
 * works is kept, so the next wait returns at once; nothing is lost between
 * a read and a wait.
 */
class Waker {
  private woken = false;
  private resume: (() => void) | null = null;
  private readonly stops: Array<() => void> = [];

  constructor(options: ShipLogOptions) {
    const wake = (): void => this.wake();
    if (options.onCommit !== undefined) this.stops.push(options.onCommit(wake));
    if (options.watchStore !== false) this.watchFolder(options.storePath, wake);
  }

  clear(): void {
    this.woken = false;
  }

  /** Until a wake, `ms`, or the abort, whichever comes first. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.woken || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        self.resume = null;
        resolve();
      }
      this.resume = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  close(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  private wake(): void {
    this.woken = true;
    this.resume?.();
  }

  /** A file system that cannot watch (or a folder gone) leaves polling alone at work. */
  private watchFolder(storePath: string, wake: () => void): void {
    const storeFile = basename(storePath);
    try {
      const watcher = watch(dirname(storePath), { persistent: false }, (_event, name) => {
        if (name === null || name === storeFile || String(name).endsWith('-wal')) wake();
      });
      watcher.on('error', () => watcher.close());
      this.stops.push(() => watcher.close());
    } catch {
      // Polling remains.
    }
  }
}
