/**
 * The reports by name, and their two formats. CSV (RFC 4180, through
 * `csv-stringify`) is the table with a header line; JSON carries the table
 * and the summary and the moment of the log it was read at.
 *
 * @example
 * const report = await runReport({ store }, 'trial-balance', { mode: 'test' });
 * process.stdout.write(renderReport(report, 'csv'));
 */
import { stringify } from 'csv-stringify/sync';
import { ctrCandidatesReport, sarCandidatesReport } from './amlCandidates.report.ts';
import { auditTrailReport } from './auditTrail.report.ts';
import { checkPeriod, type Report, type ReportContext, type ReportName, type ReportParams } from './report.types.ts';
import { settlementReport } from './settlement.report.ts';
import { accountStatementReport } from './statement.report.ts';
import { trialBalanceReport } from './trialBalance.report.ts';

export const REPORT_FORMATS = ['csv', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const RUNNERS: Readonly<Record<ReportName, (context: ReportContext, params: ReportParams) => Promise<Report>>> = {
  'settlement': settlementReport,
  'ctr-candidates': ctrCandidatesReport,
  'sar-candidates': sarCandidatesReport,
  'account-statement': accountStatementReport,
  'trial-balance': trialBalanceReport,
  'audit-trail': auditTrailReport,
};

/** One line per report, for help texts. */
export const REPORT_DESCRIPTIONS: Readonly<Record<ReportName, string>> = {
  'settlement': 'card payments captured, refunded, fees and net per UTC day, mode and currency',
  'ctr-candidates': 'currency transaction report candidates: a customer\'s cash above the threshold in a UTC day (AML alerts)',
  'sar-candidates': 'suspicious activity report candidates: structuring, rapid movement, velocity alerts, with their case status',
  'account-statement': 'one bank account\'s transactions with the running balance (needs the account)',
  'trial-balance': 'per ledger partition and currency: each account\'s debits and credits, and totals that must balance',
  'audit-trail': 'every event recorded in the period: position, stream, type, time, actor (no event data)',
};

export async function runReport(context: ReportContext, name: ReportName, params: ReportParams = {}): Promise<Report> {
  checkPeriod(params.from, params.to);
  return RUNNERS[name](context, params);
}

export function renderCsv(report: Report): string {
  return stringify(report.rows.map((row) => report.columns.map((column) => row[column] ?? '')), { header: true, columns: [...report.columns] });
}

/** The JSON document of a report (what `--format json` prints and the API answers). */
export function reportDocument(report: Report) {
  return {
    object: 'report' as const,
    name: report.name,
    as_of_position: report.asOfPosition.toString(),
    params: report.params,
    summary: { ...report.summary },
    columns: [...report.columns],
    data: [...report.rows],
    events_scanned: report.eventsScanned,
    has_more: report.nextCursor !== null,
    next_cursor: report.nextCursor,
  };
}

export function renderReport(report: Report, format: ReportFormat): string {
  return format === 'csv' ? renderCsv(report) : `${JSON.stringify(reportDocument(report), null, 2)}\n`;
}
