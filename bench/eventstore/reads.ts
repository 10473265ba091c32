/**
 * Reads, each against a plain keyset SELECT of the same rows on the same
 * database: one 1000-event stream read whole, and the whole log paged
 * through `store.streamAll()` (peak RSS reported: it must stay flat).
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import type { EventStore } from '../../src/index.ts';
import { READ_PAGE_SIZE } from '../../src/kernel/limits.ts';
import type { Backend, BenchContext } from '../support/bench.ts';
import { Breather, measure, round, runConcurrently } from '../support/measure.ts';
import { collectGarbage } from '../support/rss.ts';
import { formatCount, newEvents } from './payload.ts';
import type { Sizes } from './sizes.ts';
import { freshStore, type FreshStore } from './stores.ts';

export const READ_STREAM = 'read stream 1000 events';
export const RAW_READ_STREAM = 'raw keyset read stream';
export const RAW_READ_ALL = 'raw keyset read all';
export const readAllName = (events: number) => `read all ${formatCount(events)} events`;

const STREAM_EVENTS = 1000;
const COLUMNS = 'position, event_id, stream_id, version, category, type, schema_version, data, metadata, recorded_at, hash, previous_hash';
const WARMUP_READS = 3;

/** Plain driver reads of Daybook's own events table. */
interface RawReader {
  readStream(streamId: string): Promise<number>;
  /** Rows after `after` (a position), by position, at most `limit`: returns the count and the last position. */
  readPage(after: string, limit: number): Promise<{ count: number; last: string }>;
  close(): Promise<void>;
}

async function openRawReader(fresh: FreshStore): Promise<RawReader> {
  if (fresh.sqlitePath !== null) {
    const db = new Database(fresh.sqlitePath, { readonly: true });
    const stream = db.prepare(`SELECT ${COLUMNS} FROM events WHERE stream_id = ? ORDER BY version`);
    const page = db.prepare(`SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`);
    return {
      readStream: async (streamId) => stream.all(streamId).length,
      readPage: async (after, limit) => {
        const rows = page.all(Number(after), limit) as Array<{ position: number }>;
        return { count: rows.length, last: String(rows.at(-1)?.position ?? after) };
      },
      close: async () => { db.close(); },
    };
  }
  const client = new pg.Client({ connectionString: fresh.url });
  client.on('error', () => {});
  await client.connect();
  return {
    readStream: async (streamId) => (await client.query({
      name: 'raw_read_stream', text: `SELECT ${COLUMNS} FROM daybook.events WHERE stream_id = $1 ORDER BY version`, values: [streamId],
    })).rowCount ?? 0,
    readPage: async (after, limit) => {
      const result = await client.query<{ position: string }>({
        name: 'raw_read_page', text: `SELECT ${COLUMNS} FROM daybook.events WHERE position > $1 ORDER BY position LIMIT $2`, values: [after, limit],
      });
      return { count: result.rows.length, last: result.rows.at(-1)?.position ?? after };
    },
    close: () => client.end(),
  };
}

export async function readStreamWorkloads(ctx: BenchContext, backend: Backend, sizes: Sizes): Promise<void> {
  const fresh = await freshStore(ctx, backend, 'read-stream');
  try {
    const streamId = 'acct-read1000';
    await fresh.store.append({ streamId, expectedVersion: 'no_stream', events: newEvents(STREAM_EVENTS) });
    // Neighbours, so the stream is not the whole table.
    for (let i = 0; i < 9; i++) await fresh.store.append({ streamId: `acct-other${i}`, expectedVersion: 'no_stream', events: newEvents(STREAM_EVENTS) });
    const raw = await openRawReader(fresh);
    try {
      const repeat = async (read: () => Promise<number>, record: (ms: number) => void, reads: number) => {
        const deadline = performance.now() + sizes.streamReadMs;
        let count = 0;
        for (let i = 0; i < reads && performance.now() < deadline; i++) {
          const started = performance.now();
          const got = await read();
          record(performance.now() - started);
          if (got !== STREAM_EVENTS) throw new Error(`read ${got} events of the ${STREAM_EVENTS}-event stream`);
          count += got;
        }
        return count;
      };
      const rawRead = () => raw.readStream(streamId);
      const daybookRead = async () => (await fresh.store.readStream(streamId, { limit: STREAM_EVENTS })).length;
      if (ctx.wants(RAW_READ_STREAM)) {
        await repeat(rawRead, () => {}, WARMUP_READS);
        ctx.record(await measure({ workload: RAW_READ_STREAM, backend, baseline: null }, async ({ latency }) => ({
          count: await repeat(rawRead, (ms) => latency.record(ms), sizes.streamReads),
          extra: { latency_unit: 'read of the whole stream' },
        })));
      }
      if (ctx.wants(READ_STREAM)) {
        await repeat(daybookRead, () => {}, WARMUP_READS);
        ctx.record(await measure({ workload: READ_STREAM, backend, baseline: RAW_READ_STREAM }, async ({ latency }) => ({
          count: await repeat(daybookRead, (ms) => latency.record(ms), sizes.streamReads),
          extra: { latency_unit: 'readStream call (1000 events)' },
        })));
      }
    } finally {
      await raw.close();
    }
  } finally {
    await fresh.dispose();
  }
}

/** Fills the log with 1000-event appends (100 new streams of 10 events each), 8 in flight. */
async function fillLog(store: EventStore, events: number): Promise<{ events_per_s: number }> {
  const perAppend = 1000;
  const streamsPerAppend = 100;
  const appends = Math.ceil(events / perAppend);
  let next = 0;
  const started = performance.now();
  await runConcurrently(8, async () => {
    for (let n = next++; n < appends; n = next++) {
      const writes = Array.from({ length: streamsPerAppend }, (_, s) => ({
        streamId: `fill-${n}x${s}`, expectedVersion: 'no_stream' as const, events: newEvents(perAppend / streamsPerAppend),
      }));
      await store.append(writes);
    }
  });
  return { events_per_s: Math.round((appends * perAppend) / ((performance.now() - started) / 1000)) };
}

/**
 * The whole-log read and its raw keyset baseline, on one filled store; then
 * `afterwards(url)` (the recovery test) runs on the same store, closed.
 */
export async function readAllWorkloads(ctx: BenchContext, backend: Backend, sizes: Sizes, afterwards: (url: string) => Promise<void>): Promise<void> {
  const fresh = await freshStore(ctx, backend, 'read-all');
  try {
    ctx.log(`  ${backend}: filling ${formatCount(sizes.logEvents)} events`);
    const fill = await fillLog(fresh.store, sizes.logEvents);
    ctx.log(`  ${backend}: filled at ${fill.events_per_s} ev/s`);
    const head = await fresh.store.headPosition();
    const raw = await openRawReader(fresh);
    try {
      if (ctx.wants(RAW_READ_ALL)) {
        collectGarbage();
        ctx.record(await measure({ workload: RAW_READ_ALL, backend, baseline: null }, async ({ latency, rss }) => {
          const breather = new Breather();
          let after = '0';
          let count = 0;
          for (;;) {
            const started = performance.now();
            const page = await raw.readPage(after, READ_PAGE_SIZE);
            latency.record(performance.now() - started);
            count += page.count;
            after = page.last;
            rss.sample();
            await breather.maybe();
            if (page.count < READ_PAGE_SIZE) break;
          }
          if (BigInt(count) !== head) throw new Error(`raw read ${count} events of ${head}`);
          return { count, extra: { page_size: READ_PAGE_SIZE, latency_unit: `page of ${READ_PAGE_SIZE}` } };
        }).then(withGrowth));
      }
      if (ctx.wants('read all')) {
        collectGarbage();
        ctx.record(await measure({ workload: readAllName(sizes.logEvents), backend, baseline: RAW_READ_ALL }, async ({ latency, rss }) => {
          let count = 0;
          let expected = 1n;
          let pageStarted = performance.now();
          for await (const event of fresh.store.streamAll()) {
            if (event.position !== expected) throw new Error(`streamAll gave position ${event.position}, expected ${expected}`);
            expected += 1n;
            count += 1;
            if (count % READ_PAGE_SIZE === 0) {
              latency.record(performance.now() - pageStarted);
              rss.sample();
              pageStarted = performance.now();
            }
          }
          if (BigInt(count) !== head) throw new Error(`streamAll read ${count} events of ${head}`);
          return { count, extra: { fill_events_per_s: fill.events_per_s, latency_unit: `${READ_PAGE_SIZE} events` } };
        }).then(withGrowth));
      }
    } finally {
      await raw.close();
    }
    await fresh.store.close();
    await afterwards(fresh.url);
  } finally {
    await fresh.dispose();
  }
}

function withGrowth<Row extends { peak_rss_mb: number | null; [key: string]: unknown }>(row: Row): Row {
  const start = row.rss_start_mb as number;
  return { ...row, rss_growth_mb: row.peak_rss_mb === null ? null : round(row.peak_rss_mb - start, 1) };
}
