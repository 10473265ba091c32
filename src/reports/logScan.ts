import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import { DaybookError } from '../kernel/index.ts';
import { decodeReportCursor, encodeReportCursor, type ReportResume } from './reportCursor.ts';
import type { ReportName, ReportParams } from './report.types.ts';

/** Progress is reported at most once per this many events (and at the end). */
const PROGRESS_EVERY_EVENTS = 1_000;

/**
 * How far a record's business time (a capture's, an alert's transaction's)
 * may run ahead of the time the store recorded it (clocks of several
 * processes): a period's scan starts this much before `from`, by recording
 * time, so that no record of the period is missed.
 */
export const BUSINESS_TIME_SKEW_MS = 15 * 60_000;

export type LogScan = {
  readonly head: bigint;
  /** The run resumed a cursor's scan. */
  readonly resumed: ReportResume | null;
  events(): AsyncIterable<RecordedEvent>;
  /** Events read so far. */
  readonly scanned: number;
  /** Set once the budget ended the scan: the last position read, to resume after. */
  readonly resumeAfter: bigint | null;
};

export type LogFilter = {
  category?: string;
  types?: readonly string[];
  /** Stop at this recording time (the log as it was then). */
  until?: Date;
  /** Start at the first event recorded at or after this time (found by a bounded lookup, not by reading what came before). */
  since?: Date;
};

export type ScanOptions = {
  onProgress?: (position: bigint, head: bigint) => void;
  /** Read at most this many events; absent: no bound. */
  budget?: number;
  resume?: ReportResume;
};

/**
 * The (filtered) log as it is now: the head is read once (or taken from the
 * cursor resumed), and every read of this scan stops there, so a report
 * sees one moment even while appends go on, across its pages too.
 */
export async function scanLog(store: EventStore, filter: LogFilter, options: ScanOptions = {}): Promise<LogScan> {
  const { onProgress, budget, resume } = options;
  if (budget !== undefined && (!Number.isInteger(budget) || budget < 1)) throw new Error(`scan budget must be a positive integer, got ${budget}`);
  const current = await store.headPosition();
  if (resume !== undefined && resume.head > current) throw new DaybookError('validation_failed', 'cursor is from another store (its position is past the log\'s head)', {}, 'cursor');
  const head = resume?.head ?? current;
  let scanned = 0;
  let resumeAfter: bigint | null = null;
  return {
    head,
    resumed: resume ?? null,
    get scanned() { return scanned; },
    get resumeAfter() { return resumeAfter; },
    async *events() {
      let last = resume?.after ?? 0n;
      const read = store.streamAll({
        category: filter.category, types: filter.types, after: last, sinceTime: filter.since, asOfPosition: head, asOfTime: filter.until,
      });
      for await (const event of read) {
        if (scanned === budget) {
          resumeAfter = last;
          break;
        }
        scanned += 1;
        last = event.position;
        if (onProgress !== undefined && scanned % PROGRESS_EVERY_EVENTS === 0) onProgress(last, head);
        yield event;
      }
      onProgress?.(resumeAfter ?? head, head);
    },
  };
}

/** The scan of a report run: resumed from the params' cursor when there is one, bounded by its scan budget. */
export async function reportScan(store: EventStore, name: ReportName, params: ReportParams, filter: LogFilter): Promise<LogScan> {
  const resume = params.cursor === undefined ? undefined : decodeReportCursor(params.cursor, name, params);
  return scanLog(store, filter, { onProgress: params.onProgress, budget: params.scanBudget, resume });
}

/** What a report says about its scan: events read, and the cursor to continue when the budget ended it (carrying `state`). */
export function scanOutcome(scan: LogScan, name: ReportName, params: ReportParams, state: Record<string, string> = {}) {
  const nextCursor = scan.resumeAfter === null ? null : encodeReportCursor(name, params, { head: scan.head, after: scan.resumeAfter, state });
  return { eventsScanned: scan.scanned, nextCursor };
}

/** `from`, less the skew a business time may have over its recording time. */
export function businessSince(params: ReportParams): Date | undefined {
  return params.from === undefined ? undefined : new Date(params.from.getTime() - BUSINESS_TIME_SKEW_MS);
}
