/**
 * The auditor's question: who read whose personal data, when, and why.
 * Reads the day streams of the period, oldest first, filtered by subject,
 * actor and mode. One call examines at most LIST_SCAN_MAX records: a page
 * the budget ends early carries `nextCursor`, from which the next call goes on.
 */
import type { EventStore } from '../../eventstore/index.ts';
import { ACCESS_AUDIT_QUERY_DAYS_MAX, DaybookError, LIST_SCAN_MAX, READ_BATCH_MAX } from '../../kernel/index.ts';
import { ACCESS_AUDIT_CATEGORY, PII_ACCESSED, type PiiAccessedData } from './accessAudit.events.ts';

export interface AccessAuditQuery {
  fromMs: number;
  toMs: number;
  subject?: string;
  /** An API key id, or the CLI's actor (`cli:<user>`). */
  actor?: string;
  /** Records of this mode, and those of no mode (the CLI's); all when absent. */
  mode?: 'test' | 'live';
  limit: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface AccessRecord extends PiiAccessedData {
  id: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const CURSOR = /^(\d{4}-\d{2}-\d{2}):(\d{1,18})$/;

export async function queryAccessAudit(store: EventStore, query: AccessAuditQuery): Promise<{ items: AccessRecord[]; nextCursor: string | null }> {
  const days = daysOf(query.fromMs, query.toMs);
  let start = parseCursor(query.cursor);
  const items: AccessRecord[] = [];
  let examined = 0;
  for (const day of days) {
    if (start !== null && day < start.day) continue;
    let fromVersion = start !== null && day === start.day ? start.version + 1n : 1n;
    start = null;
    for (;;) {
      const page = await store.readStream(`${ACCESS_AUDIT_CATEGORY}-${day}`, { fromVersion, limit: READ_BATCH_MAX });
      for (const event of page) {
        examined++;
        const data = event.data as PiiAccessedData;
        if (event.type === PII_ACCESSED && matches(data, query)) items.push({ id: event.eventId, ...data });
        const cursor = `${day}:${event.version}`;
        if (items.length === query.limit || examined >= LIST_SCAN_MAX) return { items, nextCursor: cursor };
      }
      if (page.length < READ_BATCH_MAX) break;
      fromVersion = page.at(-1)!.version + 1n;
    }
  }
  return { items, nextCursor: null };
}

function matches(data: PiiAccessedData, query: AccessAuditQuery): boolean {
  const atMs = Date.parse(data.at);
  if (atMs < query.fromMs || atMs > query.toMs) return false;
  if (query.subject !== undefined && !data.subjects.includes(query.subject)) return false;
  if (query.actor !== undefined && data.actor.keyId !== query.actor) return false;
  return query.mode === undefined || data.actor.mode === null || data.actor.mode === query.mode;
}

/** The UTC days from `fromMs` to `toMs`, both included; refused when backwards or longer than ACCESS_AUDIT_QUERY_DAYS_MAX. */
export function daysOf(fromMs: number, toMs: number): string[] {
  if (toMs < fromMs) throw new DaybookError('validation_failed', `the period ends (${new Date(toMs).toISOString()}) before it starts (${new Date(fromMs).toISOString()})`, {}, 'to');
  const first = Math.floor(fromMs / DAY_MS);
  const last = Math.floor(toMs / DAY_MS);
  if (last - first + 1 > ACCESS_AUDIT_QUERY_DAYS_MAX) {
    throw new DaybookError('limit_exceeded', `a query spans at most ${ACCESS_AUDIT_QUERY_DAYS_MAX} days, got ${last - first + 1}`, { limit: ACCESS_AUDIT_QUERY_DAYS_MAX }, 'from');
  }
  const days: string[] = [];
  for (let day = first; day <= last; day++) days.push(new Date(day * DAY_MS).toISOString().slice(0, 10));
  return days;
}

function parseCursor(cursor: string | undefined): { day: string; version: bigint } | null {
  if (cursor === undefined) return null;
  const match = CURSOR.exec(cursor);
  if (match === null) throw new DaybookError('validation_failed', `cursor must be a next_cursor of a previous page (like 2025-06-01:42), got '${cursor}'`, {}, 'cursor');
  return { day: match[1]!, version: BigInt(match[2]!) };
}
