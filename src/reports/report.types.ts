import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import { DaybookError } from '../kernel/index.ts';

/**
 * What every report is: a table (named columns, rows of plain values; money
 * as integer strings of minor units, times ISO-8601 UTC) and a summary,
 * read from the log as it was at one position (`asOfPosition`, the head
 * when the report began), so a report never mixes two moments.
 */
export const REPORT_NAMES = ['settlement', 'ctr-candidates', 'sar-candidates', 'account-statement', 'trial-balance', 'audit-trail'] as const;
export type ReportName = (typeof REPORT_NAMES)[number];

export type ReportValue = string | number | boolean | null;
export type ReportRow = Record<string, ReportValue>;

export type Report = {
  readonly name: ReportName;
  readonly asOfPosition: bigint;
  readonly params: { from: string | null; to: string | null; mode: string | null; accountId: string | null };
  readonly columns: readonly string[];
  readonly rows: readonly ReportRow[];
  readonly summary: Readonly<Record<string, ReportValue>>;
  /** Events of the log this run read (after a cursor, this page's). */
  readonly eventsScanned: number;
  /** Set when the scan budget ended the run early: give it back as `cursor` (same report and parameters) for the rest. */
  readonly nextCursor: string | null;
};

export type ReportParams = {
  /** Inclusive start of the period (by each record's business time; the audit trail by recording time). */
  readonly from?: Date;
  /** Exclusive end of the period. */
  readonly to?: Date;
  /** `test` or `live`: only that mode's data (the HTTP API passes the key's mode); all modes when absent. */
  readonly mode?: 'test' | 'live';
  /** The bank account of a statement (its internal id, mode prefix included). */
  readonly accountId?: string;
  /** At most this many rows, or `limit_exceeded` (the HTTP API bounds its answers; the CLI does not). */
  readonly rowsMax?: number;
  /** Which events the audit trail may show (the HTTP API's visibility rules); all when absent. */
  readonly mayShow?: (event: RecordedEvent) => Promise<boolean>;
  /**
   * Events one run reads at most (the HTTP API bounds its work per request;
   * the CLI does not). When it runs out, the report holds what was read and
   * a `nextCursor`; the trial balance, which cannot be cut, is refused.
   */
  readonly scanBudget?: number;
  /** The `nextCursor` of the previous run of this report with these parameters: this run resumes there. */
  readonly cursor?: string;
  /** Told how far the scan of the log is, as positions out of the report's head. */
  readonly onProgress?: (position: bigint, head: bigint) => void;
};

export type ReportContext = { readonly store: EventStore };

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses a period bound: `YYYY-MM-DD` (midnight UTC) or an ISO-8601 time with its offset. */
export function parseReportTime(text: string, field: 'from' | 'to'): Date {
  const iso = DATE_ONLY.test(text) ? `${text}T00:00:00Z` : text;
  const ms = DATE_TIME.test(iso) ? Date.parse(iso) : Number.NaN;
  if (Number.isNaN(ms)) throw new DaybookError('validation_failed', `${field} must be an ISO-8601 date or time (2024-05-01 or 2024-05-01T00:00:00Z), got ${JSON.stringify(text)}`, {}, field);
  return new Date(ms);
}

export function checkPeriod(from: Date | undefined, to: Date | undefined): void {
  if (from !== undefined && to !== undefined && from.getTime() >= to.getTime()) {
    throw new DaybookError('validation_failed', `from (${from.toISOString()}) must be before to (${to.toISOString()})`, {}, 'to');
  }
}

export function isReportName(name: string): name is ReportName {
  return (REPORT_NAMES as readonly string[]).includes(name);
}

/** True when `atMs` falls in the period [from, to). */
export function inPeriod(atMs: number, params: Pick<ReportParams, 'from' | 'to'>): boolean {
  return (params.from === undefined || atMs >= params.from.getTime()) && (params.to === undefined || atMs < params.to.getTime());
}

export function paramsOf(params: ReportParams): Report['params'] {
  return { from: params.from?.toISOString() ?? null, to: params.to?.toISOString() ?? null, mode: params.mode ?? null, accountId: params.accountId ?? null };
}

/** Refuses a report grown past `rowsMax`, before it grows further. */
export function checkRows(rows: readonly unknown[], params: ReportParams): void {
  if (params.rowsMax !== undefined && rows.length > params.rowsMax) {
    throw new DaybookError('limit_exceeded', `the report has more than ${params.rowsMax} rows: narrow the period (from, to) or run daybook report`, { limit: params.rowsMax }, 'to');
  }
}

/** The mode of a mode-prefixed id (`test.cus_1`), or null. */
export function modeOfId(id: string | null): 'test' | 'live' | null {
  const match = id === null ? null : /^(test|live)\./.exec(id);
  return match === null ? null : (match[1] as 'test' | 'live');
}
