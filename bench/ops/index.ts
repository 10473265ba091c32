/**
 * `npm run bench -- ops [--events N]`: backup and point-in-time restore of the
 * embedded store (SQLite only: PostgreSQL is backed up with its own tools).
 * Workloads, on a store of N events (default 1M; `--quick` 20K):
 * - `append c16`: 16 callers appending 10 events each, for a fixed time,
 *   with nothing else running: the baseline.
 * - `append c16 during backup`: the same callers while `daybook backup` runs
 *   in a child process, as an operator would run it beside the server; the
 *   ratio to the baseline is the cost of a backup to the writer.
 * - `backup N`: that backup (copy, integrity check, every hash chain):
 *   events/s, seconds, MB/s and the file's size.
 * - `restore N to 90%`: `daybook restore --to-position` of that backup at
 *   90% of its head (copy, cut, verify, rebuild of the built-in projections).
 * - `archive write` / `archive verify`: `archiveStore` of that store (one
 *   month file: its clock is set past the month's end) and `verifyArchive`
 *   of each file written (gunzip, every hash, chains, signature): events/s.
 * - `failover` (PostgreSQL; needs its binaries): the failover drill of
 *   test/support/failoverDrill.ts (primary + synchronous standby, a server
 *   under 8 writing clients, kill -9 of the primary, `pg_ctl promote`, a new
 *   server on the standby): seconds from the kill to the first write
 *   accepted, with every acknowledged write checked present.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLocalKeyProvider } from '../../src/audit/index.ts';
import { openEventStore, type EventStore } from '../../src/index.ts';
import { archiveStore, verifyArchive } from '../../src/ops/index.ts';
import type { BenchArea, BenchContext, BenchRow, TargetCheck } from '../support/bench.ts';
import { measure, round } from '../support/measure.ts';
import { findRow } from '../support/results.ts';
import { newEvents } from '../eventstore/payload.ts';

const BIN = fileURLToPath(new URL('../../bin/daybook.js', import.meta.url));
const APPEND = 'append c16';
const DURING = 'append c16 during backup';
const ARCHIVE_WRITE = 'archive write';
const ARCHIVE_VERIFY = 'archive verify';
const CALLERS = 16;
const PER_APPEND = 10;
const STREAMS = 1000;

function eventsWanted(ctx: BenchContext): number {
  const flag = process.argv.indexOf('--events');
  if (flag !== -1) {
    const value = Number(process.argv[flag + 1]);
    if (!Number.isInteger(value) || value < 1000) throw new Error('--events must be an integer of at least 1000');
    return value;
  }
  return ctx.quick ? 20_000 : 1_000_000;
}

function daybook(args: string[]): Promise<{ stdout: string; stderr: string; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { maxBuffer: 1 << 24, timeout: 3_600_000, env: { ...process.env, DAYBOOK_DATABASE_URL: '' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`daybook ${args[0]} failed: ${stderr.trim() || error.message}`));
      else resolve({ stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}

async function fill(store: EventStore, count: number, log: (line: string) => void): Promise<void> {
  const started = performance.now();
  let written = 0;
  let stream = 0;
  const writer = async () => {
    while (written < count) {
      const n = Math.min(100, count - written);
      written += n;
      stream = (stream + 1) % STREAMS;
      await store.append({ streamId: `acct-${stream}`, events: newEvents(n) });
    }
  };
  await Promise.all(Array.from({ length: 8 }, writer));
  log(`filled ${count} events in ${round((performance.now() - started) / 1000, 1)} s`);
}

/** 16 callers append until `stop` says so; resolves with the events appended. */
async function appendUntil(store: EventStore, stop: () => boolean, record: (ms: number) => void): Promise<number> {
  let appended = 0;
  let stream = 0;
  const caller = async () => {
    while (!stop()) {
      stream = (stream + 1) % STREAMS;
      const started = performance.now();
      await store.append({ streamId: `acct-${stream}`, events: newEvents(PER_APPEND) });
      record(performance.now() - started);
      appended += PER_APPEND;
    }
  };
  await Promise.all(Array.from({ length: CALLERS }, caller));
  return appended;
}

const FAILOVER = 'failover';

/** The drill once; the row's `seconds` is kill -9 of the primary → first accepted write. */
async function failoverRow(ctx: BenchContext): Promise<BenchRow> {
  const { runFailoverDrill } = await import('../../test/support/failoverDrill.ts');
  const drill = await runFailoverDrill({ clients: 8, acksBeforeKill: ctx.quick ? 200 : 2000 });
  try {
    let missing = 0;
    for (const n of drill.acknowledged) if ((await fetch(`${drill.serverUrl}/v1/transfers/t-${n}`, { headers: drill.headers })).status !== 200) missing++;
    if (missing > 0) throw new Error(`${missing} acknowledged transfers missing after the failover`);
    ctx.log(`failover: ${drill.acknowledged.size} acknowledged writes kept; kill → first accepted write ${round(drill.killToFirstWriteMs / 1000, 2)} s`);
    return {
      workload: FAILOVER, backend: 'postgres', events_per_s: null, p50_ms: null, p99_ms: null, p999_ms: null, peak_rss_mb: null, baseline: null, ratio: null,
      seconds: round(drill.killToFirstWriteMs / 1000, 3), promote_seconds: round(drill.promoteMs / 1000, 3), acknowledged: drill.acknowledged.size, lost: 0,
    };
  } finally {
    await drill.stop();
  }
}

const ops: BenchArea = {
  async run(ctx) {
    if (ctx.backends.includes('postgres') && ctx.wants(FAILOVER)) {
      await ctx.step(FAILOVER, async () => ctx.record(await failoverRow(ctx)));
    }
    if (!ctx.backends.includes('sqlite')) {
      ctx.log('ops: backup and restore are SQLite only (PostgreSQL is backed up with pg_basebackup and WAL archiving)');
      return;
    }
    const events = eventsWanted(ctx);
    const dir = await ctx.tempDir('ops');
    const storePath = path.join(dir.path, 'live', 'daybook.db');
    const store = await openEventStore(`sqlite:${storePath}`);
    const backupFile = path.join(dir.path, 'backup.db');
    try {
      await ctx.step(`fill ${events}`, () => fill(store, events, ctx.log));
      const baselineSeconds = ctx.quick ? 2 : 10;
      if (ctx.wants(APPEND)) {
        await ctx.step(APPEND, async () => {
          ctx.record(await measure({ workload: APPEND, backend: 'sqlite', baseline: null }, async ({ latency }) => {
            const until = performance.now() + baselineSeconds * 1000;
            return { count: await appendUntil(store, () => performance.now() > until, (ms) => latency.record(ms)) };
          }));
        });
      }
      await ctx.step(`backup ${events}`, async () => {
        const head = await store.headPosition();
        let backupDone = false;
        let backup: { stdout: string; seconds: number } | null = null;
        const during = await measure({ workload: DURING, backend: 'sqlite', baseline: APPEND }, async ({ latency }) => {
          const running = daybook(['backup', backupFile, '--json', '--database-url', `sqlite:${storePath}`]).finally(() => { backupDone = true; });
          const [appended, result] = await Promise.all([appendUntil(store, () => backupDone, (ms) => latency.record(ms)), running]);
          backup = result;
          return { count: appended, extra: { head_at_start: Number(head) } };
        });
        ctx.record(during);
        const report = JSON.parse(backup!.stdout) as { bytes: number; eventCount: number; headPosition: string; seconds: number; mbPerSecond: number };
        ctx.record(backupRow(events, report, backup!.seconds));
      });
      if (ctx.wants(ARCHIVE_WRITE) || ctx.wants(ARCHIVE_VERIFY)) await ctx.step('archive', () => archiveRows(ctx, store, dir.path));
      await store.close();
      await ctx.step(`restore ${events}`, async () => {
        const manifest = JSON.parse(await readFile(`${backupFile}.manifest.json`, 'utf8')) as { headPosition: string };
        const toPosition = (BigInt(manifest.headPosition) * 9n) / 10n;
        const result = await daybook(['restore', backupFile, '--data', path.join(dir.path, 'restored'), '--to-position', toPosition.toString(), '--json']);
        const report = JSON.parse(result.stdout) as { eventsKept: number; eventsCut: number; seconds: number };
        ctx.record({
          workload: `restore ${label(events)} to 90%`, backend: 'sqlite', events_per_s: Math.round(report.eventsKept / report.seconds),
          p50_ms: null, p99_ms: null, p999_ms: null, peak_rss_mb: null, baseline: null, ratio: null,
          count: report.eventsKept, seconds: round(report.seconds, 3), events_cut: report.eventsCut, process_seconds: round(result.seconds, 3),
        });
      });
    } finally {
      await store.close().catch(() => {});
      await dir.remove();
    }
  },
  targets(rows) {
    const checks: TargetCheck[] = [];
    const during = findRow(rows, 'sqlite', DURING);
    if (during) checks.push({ label: 'append rate during a backup, to without', pass: null, info: true, actual: `${during.ratio ?? '-'}x (the backup runs as a child process on the same cores)` });
    const failover = findRow(rows, 'postgres', FAILOVER);
    if (failover) checks.push({ label: 'failover: kill -9 of the primary to the first accepted write', pass: null, info: true, actual: `${failover.seconds} s (promote ${failover.promote_seconds} s), ${failover.acknowledged} acknowledged writes, none lost` });
    const backup = rows.find((row) => row.workload.startsWith('backup '));
    if (backup) checks.push({ label: 'backup throughput', pass: null, info: true, actual: `${backup.mb_per_s} MB/s, ${backup.seconds} s` });
    return checks;
  },
};

/** Archives the whole store (the clock moved two months on, so its months are closed), then verifies each file. */
async function archiveRows(ctx: BenchContext, store: EventStore, dir: string): Promise<void> {
  const later = Date.now() + 62 * 86_400_000;
  const keys = openLocalKeyProvider({ dir: path.join(dir, 'keys') });
  const outDir = path.join(dir, 'archive');
  let started = performance.now();
  const report = await archiveStore(store, { beforeMs: later, outDir, keys, clock: { nowMs: () => later } });
  const writeSeconds = (performance.now() - started) / 1000;
  const row = (workload: string, count: number, seconds: number): BenchRow => ({
    workload, backend: 'sqlite', events_per_s: Math.round(count / seconds), p50_ms: null, p99_ms: null, p999_ms: null, peak_rss_mb: null, baseline: null, ratio: null,
    count, seconds: round(seconds, 3), files: report.periods.length,
  });
  ctx.record(row(ARCHIVE_WRITE, report.eventsWritten, writeSeconds));
  started = performance.now();
  let checked = 0;
  for (const period of report.periods) {
    const verified = await verifyArchive(period.file, { keys: keys.trustedKeys() });
    if (!verified.ok) throw new Error(`archive verify: ${verified.problem}`);
    checked += verified.eventsChecked;
  }
  ctx.record(row(ARCHIVE_VERIFY, checked, (performance.now() - started) / 1000));
  ctx.log(`archive: ${report.eventsWritten} events in ${report.periods.length} file(s), written in ${round(writeSeconds, 2)} s`);
}

function label(events: number): string {
  return events >= 1_000_000 && events % 1_000_000 === 0 ? `${events / 1_000_000}M` : events >= 1000 && events % 1000 === 0 ? `${events / 1000}K` : String(events);
}

function backupRow(events: number, report: { bytes: number; eventCount: number; seconds: number; mbPerSecond: number }, processSeconds: number): BenchRow {
  return {
    workload: `backup ${label(events)}`, backend: 'sqlite', events_per_s: Math.round(report.eventCount / report.seconds),
    p50_ms: null, p99_ms: null, p999_ms: null, peak_rss_mb: null, baseline: null, ratio: null,
    count: report.eventCount, seconds: round(report.seconds, 3), mb_per_s: round(report.mbPerSecond, 1), bytes: report.bytes, process_seconds: round(processSeconds, 3),
  };
}

export default ops;
