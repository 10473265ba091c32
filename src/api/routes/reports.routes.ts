import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { EventStore } from '../../eventstore/index.ts';
import { REPORT_ROWS_MAX } from '../../kernel/index.ts';
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
}).meta({ id: 'Report' });

const timeText = z.string().min(1).max(40);
const reportQuery = z.strictObject({
  format: z.enum(['json', 'csv']).default('json').meta({ description: 'json (default) or csv (text/csv, with a header line).' }),
  from: timeText.optional().meta({ description: 'Start of the period, inclusive: 2024-05-01 or 2024-05-01T00:00:00Z.' }),
  to: timeText.optional().meta({ description: 'End of the period, exclusive (trial-balance: the moment of the balances).' }),
  account_id: z.string().min(1).max(100).optional().meta({ description: 'The bank account (account-statement).' }),
});

/**
 * Read-only reports for auditors, on the caller's mode's data: the trial
 * balance of that mode's partitions, its settlement, its statements, its
 * alerts; the audit trail shows what `GET /v1/events` would show the key.
 * Answers hold at most REPORT_ROWS_MAX rows (`limit_exceeded` past it).
 */
export function reportRoutes(store: EventStore): FastifyPluginAsync {
  return async (plain) => {
    useZod(plain);
    const app = plain.withTypeProvider<ZodTypeProvider>();
    const visibility = new EventVisibility(store);
    app.get('/v1/reports/:name', {
      config: { permission: 'reports:read' },
      schema: {
        tags: ['Reports'], summary: 'Run a report: settlement, ctr-candidates, sar-candidates, account-statement, trial-balance, audit-trail',
        params: z.object({ name: z.enum(REPORT_NAMES) }), querystring: reportQuery,
        response: { 200: z.union([reportWire, z.string().meta({ description: 'format=csv: text/csv with a header line.' })]), ...errorResponses },
      },
    }, async (request, reply) => {
      const auth = authOf(request);
      const { name } = request.params;
      const { format, from, to, account_id: accountId } = request.query;
      const report = await runReport({ store }, name, {
        from: from === undefined ? undefined : parseReportTime(from, 'from'),
        to: to === undefined ? undefined : parseReportTime(to, 'to'),
        mode: auth.mode,
        accountId: accountId === undefined ? undefined : internalId(request, accountId),
        rowsMax: REPORT_ROWS_MAX,
        mayShow: (event) => visibility.mayRead(auth, event),
      });
      if (format === 'csv') {
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`).send(renderCsv(report));
      }
      return reportDocument(report);
    });
  };
}
