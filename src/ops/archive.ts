/**
 * Archive: every closed period (a UTC calendar month or day, by the events'
 * recorded time) entirely before a date goes to a gzip file of its own with a
 * signed manifest (see `archiveFormat.ts`), plain enough for any object store
 * or WORM bucket. Append-only: an existing period's file is never rewritten,
 * only checked to be intact and to match the store; each new file is written
 * to `.partial`, synced, then renamed. Nothing is deleted from the store: the
 * log is immutable, and archived events stay readable through it.
 *
 * Periods follow the log's order: an event recorded (by a skewed clock)
 * before the period of an earlier position stays in that earlier position's
 * period, so each file is one contiguous range of positions.
 *
 * @example
 * const report = await archiveStore(store, { beforeMs: Date.parse('2025-01-01'), outDir: '/archive', keys, clock: systemClock });
 */
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createGzip } from 'node:zlib';
import type { KeyProvider } from '../audit/index.ts';
import { eventHash, type EventStore, type RawEvent } from '../eventstore/index.ts';
import { assert, type Clock, DaybookError, READ_BATCH_MAX } from '../kernel/index.ts';
import { ensurePrivateDir } from '../kernel/privateFiles.ts';
import {
  ARCHIVE_FORMAT, ARCHIVE_MANIFEST_FORMAT, archiveFileName, archiveManifestPath, type ArchivePeriodUnit, canonicalManifestText, type ManifestFields, periodOf, toArchivedEvent,
} from './archiveFormat.ts';
import { verifyArchive } from './archiveVerify.ts';
import { durableRename, fileSize, fsyncFile, removeQuietly, sha256File } from './files.ts';

export interface ArchiveOptions {
  /** Periods that end after this instant are not archived. */
  beforeMs: number;
  outDir: string;
  /** Default month. */
  period?: ArchivePeriodUnit;
  /** Signs the manifests (the key folder's provider). */
  keys: KeyProvider;
  /** Decides which periods are closed (a period still running is never archived). */
  clock: Clock;
}

export interface PeriodRange {
  period: string;
  startMs: number;
  endMs: number;
  fromPosition: bigint;
  toPosition: bigint;
  count: number;
  firstHash: string;
  lastHash: string;
}

export interface ArchivedPeriod extends PeriodRange {
  file: string;
  outcome: 'written' | 'skipped';
}

export interface ArchiveReport {
  periods: ArchivedPeriod[];
  eventsWritten: number;
}

export async function archiveStore(store: EventStore, options: ArchiveOptions): Promise<ArchiveReport> {
  if (!Number.isFinite(options.beforeMs)) throw new DaybookError('validation_failed', 'the archive date is not a valid instant', {}, 'before');
  const unit = options.period ?? 'month';
  const cutoffMs = Math.min(options.beforeMs, options.clock.nowMs());
  ensurePrivateDir(options.outDir);
  const ranges = await closedPeriods(store, unit, cutoffMs);
  const periods: ArchivedPeriod[] = [];
  let eventsWritten = 0;
  for (const range of ranges) {
    const file = join(options.outDir, archiveFileName(range.period));
    if (existsSync(file)) {
      await checkExisting(file, range, options.keys);
      periods.push({ ...range, file, outcome: 'skipped' });
      continue;
    }
    await writePeriod(store, file, range, options);
    eventsWritten += range.count;
    periods.push({ ...range, file, outcome: 'written' });
  }
  return { periods, eventsWritten };
}

/** One scan of the log: the closed periods, each a contiguous range of positions. */
async function closedPeriods(store: EventStore, unit: ArchivePeriodUnit, cutoffMs: number): Promise<PeriodRange[]> {
  const ranges: PeriodRange[] = [];
  let current: PeriodRange | null = null;
  for (let after = 0n; ;) {
    const page = await store.readRawLog({ after, limit: READ_BATCH_MAX });
    for (const event of page) {
      if (current === null || event.recordedAtMs >= current.endMs) {
        const next = periodOf(event.recordedAtMs, unit);
        if (next.endMs > cutoffMs) return ranges;
        current = { ...next, fromPosition: event.position, toPosition: event.position, count: 0, firstHash: event.hash, lastHash: event.hash };
        ranges.push(current);
      }
      current.toPosition = event.position;
      current.count += 1;
      current.lastHash = event.hash;
    }
    if (page.length < READ_BATCH_MAX) return ranges;
    after = page[page.length - 1]!.position;
  }
}

/** An existing file must verify with the provider's keys and hold exactly the range the store has for its period. */
async function checkExisting(file: string, range: PeriodRange, keys: KeyProvider): Promise<void> {
  const report = await verifyArchive(file, { keys: keys.trustedKeys() });
  if (!report.ok) throw new DaybookError('archive_invalid', `${file} is already archived but does not verify: ${report.problem}; it is never overwritten: set it aside and run again`, { file });
  if (report.fromPosition !== range.fromPosition.toString() || report.toPosition !== range.toPosition.toString()) {
    throw new DaybookError('archive_invalid',
      `${file} holds positions ${report.fromPosition}..${report.toPosition}, the store has ${range.fromPosition}..${range.toPosition} for ${range.period}`, { file });
  }
}

async function writePeriod(store: EventStore, file: string, range: PeriodRange, options: ArchiveOptions): Promise<void> {
  const partial = `${file}.partial`;
  const manifestFile = archiveManifestPath(file);
  const manifestPartial = `${manifestFile}.partial`;
  // A manifest without its file, or partial files, are what an interrupted run leaves: garbage by definition.
  await removeQuietly(partial, manifestPartial, manifestFile);
  try {
    await writeBody(store, partial, range);
    await fsyncFile(partial);
    const fields: ManifestFields = {
      format: ARCHIVE_MANIFEST_FORMAT, file: basename(file), period: range.period,
      periodStart: new Date(range.startMs).toISOString(), periodEnd: new Date(range.endMs).toISOString(),
      fromPosition: range.fromPosition.toString(), toPosition: range.toPosition.toString(), count: range.count, firstHash: range.firstHash, lastHash: range.lastHash,
      bytes: await fileSize(partial), sha256: await sha256File(partial), createdAt: new Date(options.clock.nowMs()).toISOString(),
      keyId: options.keys.keyId, publicKey: options.keys.publicKey(),
    };
    const signature = options.keys.sign(Buffer.from(canonicalManifestText(fields))).toString('base64');
    await writeFile(manifestPartial, `${JSON.stringify({ ...fields, signature }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await fsyncFile(manifestPartial);
    // The manifest first: a manifest without its file is plainly incomplete (the next run writes the period again).
    await durableRename(manifestPartial, manifestFile);
    await durableRename(partial, file);
  } catch (error) {
    await removeQuietly(partial, manifestPartial);
    if (!existsSync(file)) await removeQuietly(manifestFile);
    throw error;
  }
}

async function writeBody(store: EventStore, partial: string, range: PeriodRange): Promise<void> {
  const gzip = createGzip();
  const out = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
  gzip.pipe(out);
  const failed = new Promise<never>((_, reject) => {
    gzip.once('error', reject);
    out.once('error', reject);
  });
  failed.catch(() => {});
  const write = async (line: string): Promise<void> => {
    if (!gzip.write(line)) await Promise.race([once(gzip, 'drain'), failed]);
  };
  const header = {
    format: ARCHIVE_FORMAT, period: range.period, fromPosition: range.fromPosition.toString(), toPosition: range.toPosition.toString(),
    count: range.count, firstHash: range.firstHash, lastHash: range.lastHash,
  };
  await write(`${JSON.stringify(header)}\n`);
  let expected = range.fromPosition;
  while (expected <= range.toPosition) {
    const page = await store.readRawLog({ after: expected - 1n, asOfPosition: range.toPosition, limit: READ_BATCH_MAX });
    assert(page.length > 0, `the log ends before position ${expected}, which the scan saw`);
    let text = '';
    for (const event of page) {
      checkEvent(event, expected);
      text += `${JSON.stringify(toArchivedEvent(event))}\n`;
      expected = event.position + 1n;
    }
    await write(text);
  }
  gzip.end();
  await Promise.race([once(out, 'close'), failed]);
}

/** The pair of the verifier's check: what goes into a file is whole and in order. */
function checkEvent(event: RawEvent, expected: bigint): void {
  assert(event.position === expected, `position ${event.position} read where ${expected} was due`);
  const recomputed = eventHash({
    eventId: event.eventId, streamId: event.streamId, version: event.version, position: event.position, type: event.type, schemaVersion: event.schemaVersion,
    recordedAtMs: event.recordedAtMs, dataJson: event.dataJson, metadataJson: event.metadataJson, previousHash: event.previousHash,
  });
  if (recomputed !== event.hash) {
    throw new DaybookError('integrity_violation', `the event at position ${event.position} does not match its hash: run daybook verify; nothing was archived for it`, { position: event.position.toString() });
  }
}
