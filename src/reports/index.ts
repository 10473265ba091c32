/**
 * Regulatory and audit reports, read from the log as of one position:
 * daily settlement, CTR and SAR candidates (from the AML alerts), account
 * statements, the trial balance of every ledger partition, and the audit
 * trail. `daybook report <name>` and `GET /v1/reports/<name>` run them.
 */
export * from './report.types.ts';
export { REPORT_DESCRIPTIONS, REPORT_FORMATS, renderCsv, renderReport, reportDocument, runReport, type ReportFormat } from './reports.ts';
export { createProgress, type Progress, type ProgressStream } from './progress.ts';
export { modeOfPartition } from './trialBalance.report.ts';
export { setReportCursorSecret } from './reportCursor.ts';
