/**
 * The regulator's candidates, from the AML monitor's alerts
 * (`amlalert-*`): CTR candidates (rule `ctr`: a customer's cash in or out of
 * one UTC day above the threshold) and SAR candidates (structuring, rapid
 * movement, velocity), each with the status of its case in the analysts'
 * queue (`amlcase-<alertId>`; `none` when no case was opened). Dated by the
 * time of the transaction that raised the alert.
 */
import { AML_ALERT_CATEGORY, AML_ALERT_RAISED, AML_CASE_CATEGORY, amlCaseDecider, type AmlAlertRaised, type AmlCaseEvent, type AmlCaseState } from '../compliance/aml/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import { businessSince, type LogScan, reportScan, scanOutcome } from './logScan.ts';
import { checkRows, inPeriod, paramsOf, type Report, type ReportContext, type ReportParams, type ReportRow } from './report.types.ts';

export const CTR_COLUMNS = [
  'alert_id', 'customer_id', 'subject_kind', 'mode', 'day', 'direction', 'currency', 'amount_minor', 'transactions', 'evidence_positions', 'raised_at', 'case_status',
] as const;

export const SAR_COLUMNS = [
  'alert_id', 'rule', 'customer_id', 'subject_kind', 'mode', 'account_id', 'currency', 'amount_minor', 'transactions', 'window_start', 'window_end',
  'evidence_positions', 'raised_at', 'case_status',
] as const;

/**
 * The status of each listed alert's case (a case's id is its alert's), as
 * of the report's head: one read of each case's short stream, so the work
 * follows the rows, not the number of cases ever opened.
 */
async function caseStatuses(store: EventStore, alertIds: readonly string[], head: bigint): Promise<Map<string, AmlCaseState>> {
  const states = new Map<string, AmlCaseState>();
  for (const alertId of alertIds) {
    const events = await store.readStream(`${AML_CASE_CATEGORY}-${alertId}`, { asOfPosition: head });
    states.set(alertId, events.reduce((state, event) => amlCaseDecider.evolve(state, event as unknown as AmlCaseEvent), amlCaseDecider.initialState()));
  }
  return states;
}

async function alertsIn(context: ReportContext, name: 'ctr-candidates' | 'sar-candidates', params: ReportParams, keep: (alert: AmlAlertRaised['data']) => boolean) {
  const scan: LogScan = await reportScan(context.store, name, params, { category: AML_ALERT_CATEGORY, types: [AML_ALERT_RAISED], since: businessSince(params) });
  const alerts: AmlAlertRaised['data'][] = [];
  for await (const event of scan.events()) {
    const alert = event.data as AmlAlertRaised['data'];
    if (params.mode !== undefined && alert.mode !== params.mode) continue;
    if (!inPeriod(Date.parse(alert.raisedAt), params) || !keep(alert)) continue;
    alerts.push(alert);
    checkRows(alerts, params);
  }
  const cases = await caseStatuses(context.store, alerts.map((alert) => alert.alertId), scan.head);
  const statusOf = (alertId: string) => cases.get(alertId)?.status ?? 'none';
  return { head: scan.head, alerts, statusOf, scan: scanOutcome(scan, name, params) };
}

const positions = (alert: AmlAlertRaised['data']) => alert.evidence.map((item) => item.position).join(' ');

export async function ctrCandidatesReport(context: ReportContext, params: ReportParams): Promise<Report> {
  const { head, alerts, statusOf, scan } = await alertsIn(context, 'ctr-candidates', params, (alert) => alert.rule === 'ctr');
  const rows: ReportRow[] = alerts.map((alert) => {
    // The window of a CTR is `<day>:<in|out>:<currency>`.
    const [day = '', direction = ''] = alert.window.split(':');
    return {
      alert_id: alert.alertId, customer_id: alert.customerId, subject_kind: alert.subjectKind, mode: alert.mode, day, direction, currency: alert.currency,
      amount_minor: alert.amountMinor, transactions: alert.count, evidence_positions: positions(alert), raised_at: alert.raisedAt, case_status: statusOf(alert.alertId),
    };
  });
  return { name: 'ctr-candidates', asOfPosition: head, params: paramsOf(params), columns: CTR_COLUMNS, rows, summary: { candidates: rows.length }, ...scan };
}

export async function sarCandidatesReport(context: ReportContext, params: ReportParams): Promise<Report> {
  const { head, alerts, statusOf, scan } = await alertsIn(context, 'sar-candidates', params, (alert) => alert.rule !== 'ctr');
  const rows: ReportRow[] = alerts.map((alert) => ({
    alert_id: alert.alertId, rule: alert.rule, customer_id: alert.customerId, subject_kind: alert.subjectKind, mode: alert.mode, account_id: alert.accountId,
    currency: alert.currency, amount_minor: alert.amountMinor, transactions: alert.count, window_start: alert.windowStart, window_end: alert.windowEnd,
    evidence_positions: positions(alert), raised_at: alert.raisedAt, case_status: statusOf(alert.alertId),
  }));
  const escalated = rows.filter((row) => row.case_status === 'escalated_sar').length;
  return { name: 'sar-candidates', asOfPosition: head, params: paramsOf(params), columns: SAR_COLUMNS, rows, summary: { candidates: rows.length, escalated }, ...scan };
}
