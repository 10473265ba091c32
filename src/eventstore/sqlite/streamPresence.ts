import type Database from 'better-sqlite3';

/**
 * Which streams the SQLite store may hold, so that asking after a stream
 * that does not exist costs no read. Most appends on the API's write path
 * start a stream (an Idempotency-Key's record, a fraud verdict, a customer),
 * and each used to cost a read on the main thread's connection to learn that
 * it was new, and the idempotency layer read it once more. A read there is
 * dear: every commit by the writer thread empties that connection's page
 * cache, so the first read after a commit walks the indexes in again (about
 * 50 µs; a fifth of the main thread at 2,400 transfers/s).
 *
 * The writing process is the only writer (the lock file), so it can know
 * every stream: a Bloom filter of stream ids, filled by one background scan
 * of the existing ids at open and by every stream this process appends to
 * from the moment it opens. Until the scan is done every question goes to
 * the database. A filter never says no for a stream that exists; a "maybe"
 * (about 1% of new streams) costs the read it cost before.
 *
 * Memory: about 1.2 bytes per stream (10 bits), sized at open from the
 * number of events and doubled by adding a filter when full.
 */
export class StreamPresence {
  private readonly filters: BloomFilter[];
  private ready = false;
  private stopped = false;
  /** Questions answered "absent" without a read, for the metrics and the tests. */
  skippedReads = 0;

  constructor(expectedStreams: number) {
    this.filters = [new BloomFilter(Math.min(Math.max(expectedStreams, MIN_CAPACITY), MAX_INITIAL_CAPACITY))];
  }

  /** Records a stream this process is writing to (before its commit: a stream the filter knows but the store does not is only a read). */
  add(streamId: string): void {
    // Counted once per distinct stream (give or take a false "maybe"): a stream written again adds nothing, so memory follows streams, not appends.
    if (this.filters.some((known) => known.has(streamId))) return;
    let filter = this.filters[this.filters.length - 1]!;
    if (filter.full) {
      filter = new BloomFilter(filter.capacity * 2);
      this.filters.push(filter);
    }
    filter.add(streamId);
  }

  /** False only when the store certainly holds no event of the stream. */
  mayExist(streamId: string): boolean {
    if (!this.ready) return true;
    for (const filter of this.filters) if (filter.has(streamId)) return true;
    this.skippedReads += 1;
    return false;
  }

  /** True once the scan of the streams that were there at open is done. */
  get complete(): boolean {
    return this.ready;
  }

  /**
   * Scans the stream ids the store holds, in slices between turns of the
   * event loop, one index seek per stream (not per event: a ledger partition
   * of millions of events is skipped in one step). Each slice is one read
   * transaction, so the page cache stays warm within it.
   */
  async scan(db: Database.Database, sliceStreams = 2_000): Promise<void> {
    const next = db.prepare('SELECT stream_id FROM events WHERE stream_id > ? ORDER BY stream_id LIMIT 1').pluck();
    const slice = db.transaction((after: string, into: string[]) => {
      let at = after;
      for (let i = 0; i < sliceStreams; i += 1) {
        const id = next.get(at) as string | undefined;
        if (id === undefined) return null;
        into.push(id);
        at = id;
      }
      return at;
    });
    let after: string | null = '';
    while (after !== null) {
      if (this.stopped || !db.open) return;
      const found: string[] = [];
      after = slice(after, found);
      for (const id of found) this.add(id);
      if (after !== null) await new Promise((resolve) => setImmediate(resolve));
    }
    this.ready = true;
  }

  /** Stops a scan under way (the store is closing). */
  stop(): void {
    this.stopped = true;
  }
}

const MIN_CAPACITY = 1 << 16;
/** 16M streams (20 MB) at most before the first doubling: a store of more events than streams does not pay for its events. */
const MAX_INITIAL_CAPACITY = 1 << 24;
const BITS_PER_ENTRY = 10;
const HASHES = 7;

/** A Bloom filter of strings: 10 bits and 7 probes per entry, about 1% false "maybe" at capacity. */
class BloomFilter {
  private readonly bits: Uint32Array;
  private readonly mask: number;
  private count = 0;

  constructor(readonly capacity: number) {
    let size = 32;
    while (size < capacity * BITS_PER_ENTRY) size *= 2;
    this.bits = new Uint32Array(size / 32);
    this.mask = size - 1;
  }

  get full(): boolean {
    return this.count >= this.capacity;
  }

  add(value: string): void {
    const [h1, h2] = hashes(value);
    for (let i = 0; i < HASHES; i += 1) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    this.count += 1;
  }

  has(value: string): boolean {
    const [h1, h2] = hashes(value);
    for (let i = 0; i < HASHES; i += 1) {
      const bit = (h1 + Math.imul(i, h2)) & this.mask;
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

const PAIR: [number, number] = [0, 0];

/** Two independent 32-bit FNV-1a hashes of the UTF-16 code units (double hashing makes the probes); the second is odd. */
function hashes(value: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ value.length;
  for (let i = 0; i < value.length; i += 1) {
    const unit = value.charCodeAt(i);
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 13;
  a = Math.imul(a, 0x5bd1e995);
  a ^= a >>> 15;
  PAIR[0] = a >>> 0;
  PAIR[1] = (b | 1) >>> 0;
  return PAIR;
}
