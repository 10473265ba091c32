/**
 * The audit trail of a period: every event recorded in [from, to), in log
 * order, with where it is (position, stream, version), what it is (type),
 * when it was recorded, who caused it (the metadata's actor, correlation and
 * causation ids) and its hash. No event data: personal data stays in the
 * store (and erased data stays erased); `GET /v1/events` gives an event's
 * content to whoever may read it.
 */
import { reportScan, scanOutcome } from './logScan.ts';
import { checkRows, paramsOf, type Report, type ReportContext, type ReportParams, type ReportRow } from './report.types.ts';

export const AUDIT_TRAIL_COLUMNS = [
  'position', 'recorded_at', 'stream_id', 'version', 'type', 'event_id', 'actor', 'correlation_id', 'causation_id', 'hash',
] as const;

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export async function auditTrailReport(context: ReportContext, params: ReportParams): Promise<Report> {
  // The log is in recording order, so `from` starts the read (a bounded lookup by time) and `to` ends it.
  const until = params.to === undefined ? undefined : new Date(params.to.getTime() - 1);
  const scan = await reportScan(context.store, 'audit-trail', params, { until, since: params.from });
  const rows: ReportRow[] = [];
  const streams = new Set<string>();
  for await (const event of scan.events()) {
    if (params.mayShow !== undefined && !(await params.mayShow(event))) continue;
    streams.add(event.streamId);
    rows.push({
      position: event.position.toString(), recorded_at: event.recordedAt.toISOString(), stream_id: event.streamId, version: event.version.toString(),
      type: event.type, event_id: event.eventId, actor: text(event.metadata.actor), correlation_id: text(event.metadata.correlationId),
      causation_id: text(event.metadata.causationId), hash: event.hash,
    });
    checkRows(rows, params);
  }
  return { name: 'audit-trail', asOfPosition: scan.head, params: paramsOf(params), columns: AUDIT_TRAIL_COLUMNS, rows, summary: { events: rows.length, streams: streams.size }, ...scanOutcome(scan, 'audit-trail', params) };
}
