import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { EventStore } from '../../eventstore/index.ts';
import { REPORT_ROWS_MAX, REPORT_SCAN_MAX } from '../../kernel/index.ts';
import { parseReportTime, REPORT_NAMES, renderCsv, reportDocument, runReport } from '../../reports/index.ts';
import { internalId } from '../bankingApi.ts';
import { EventVisibility } from '../eventVisibility.ts';
import { useZod } from '../openapi.ts';
import { authOf } from '../security.ts';
import { errorResponses } from '../wire.ts';

const reportValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const reportWire = z.object({
  object: z.literal('report'),
  name: z.enum(REPORT_NAMES),
  as_of_position: z.string().meta({ description: 'The log was read up to this global position.' }),
  params: z.object({ from: z.string().nullable(), to: z.string().nullable(), mode: z.string().nullable(), accountId: z.string().nullable() }),
  summary: z.record(z.string(), reportValue),
  columns: z.array(z.string()),
  data: z.array(z.record(z.string(), reportValue)),
  events_scanned: z.number().int().meta({ description: 'Events of the log this request read (at most the scan budget).' }),
  has_more: z.boolean().meta({ description: 'The scan budget ended the report early: `next_cursor` continues it.' }),
  next_cursor: z.string().nullable().meta({ description: 'Send it as `cursor`, with the same report, from, to and account_id, for the rest (null: the report is whole).' }),
}).meta({ id: 'Report' });

const timeText = z.string().min(1).max(40);
const reportQuery = z.strictObject({
  format: z.enum(['json', 'csv']).default('json').meta({ description: 'json (default) or csv (text/csv, with a header line).' }),
  from: timeText.optional().meta({ description: 'Start of the period, inclusive: 2024-05-01 or 2024-05-01T00:00:00Z.' }),
  to: timeText.optional().meta({ description: 'End of the period, exclusive (trial-balance: the moment of the balances).' }),
  account_id: z.string().min(1).max(100).optional().meta({ description: 'The bank account (account-statement).' }),
  cursor: z.string().min(1).max(2_000).optional().meta({ description: 'The `next_cursor` of the previous page of this report (same from, to and account_id).' }),
});

/** What the reports' documentation says about the scan budget. */
const REPORT_BUDGET_NOTE = 'One request reads at most a scan budget of the log\'s events (REPORT_SCAN_MAX, 100,000). A period starts its read at the first event '
  + 'recorded at `from` (less 15 minutes for business times), found by a lookup, not by reading what came before. When the budget ends a report early, '
  + 'the answer holds what was read, `has_more: true` and a `next_cursor` (CSV: the `Daybook-Next-Cursor` header): send it as `cursor` with the same '
  + 'parameters for the next page, read at the same `as_of_position`. Rows of the audit trail and of the candidates continue page after page; the '
  + 'settlement\'s rows total each page\'s events (add the pages\' rows of the same day, mode and currency); a statement\'s page carries its running balance '
  + 'on. The trial balance and a statement read from the log\'s start; a trial balance past the budget is refused (`limit_exceeded`: run `daybook report`).';

/**
 * Read-only reports for auditors, on the caller's mode's data: the trial
 * balance of that mode's partitions, its settlement, its statements, its
 * alerts; the audit trail shows what `GET /v1/events` would show the key.
 * Answers hold at most REPORT_ROWS_MAX rows (`limit_exceeded` past it), and
 * read at most `scanBudget` events of the log (see REPORT_BUDGET_NOTE).
 */
export function reportRoutes(store: EventStore, scanBudget: number = REPORT_SCAN_MAX): FastifyPluginAsync {
  return async (plain) => {
    useZod(plain);
    const app = plain.withTypeProvider<ZodTypeProvider>();
    const visibility = new EventVisibility(store);
    app.get('/v1/reports/:name', {
      config: { permission: 'reports:read' },
      schema: {
        tags: ['Reports'], summary: 'Run a report: settlement, ctr-candidates, sar-candidates, account-statement, trial-balance, audit-trail', description: REPORT_BUDGET_NOTE,
        params: z.object({ name: z.enum(REPORT_NAMES) }), querystring: reportQuery,
        response: { 200: z.union([reportWire, z.string().meta({ description: 'format=csv: text/csv with a header line.' })]), ...errorResponses },
      },
    }, async (request, reply) => {
      const auth = authOf(request);
      const { name } = request.params;
      const { format, from, to, account_id: accountId, cursor } = request.query;
      const report = await runReport({ store }, name, {
        from: from === undefined ? undefined : parseReportTime(from, 'from'),
        to: to === undefined ? undefined : parseReportTime(to, 'to'),
        mode: auth.mode,
        accountId: accountId === undefined ? undefined : internalId(request, accountId),
        rowsMax: REPORT_ROWS_MAX,
        scanBudget,
        cursor,
        mayShow: (event) => visibility.mayRead(auth, event),
      });
      if (format === 'csv') {
        if (report.nextCursor !== null) reply.header('daybook-next-cursor', report.nextCursor);
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`).send(renderCsv(report));
      }
      return reportDocument(report);
    });
  };
}
