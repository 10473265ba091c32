/**
 * Daily settlement of card payments, per UTC day, mode and currency:
 * captured (count, amount), refunded (count, amount), processing fees and
 * net (captured - fees - refunded), from the PaymentIntent streams'
 * `PaymentCaptured` and `RefundCreated` events, dated by their own time.
 * Disputes and payouts are not in it (they move the balance, not the sales).
 * A run the scan budget ended totals the events it read: the pages of one
 * report add up (rows of the same day, mode and currency summed).
 */
import type { PaymentCaptured, RefundCreated } from '../payments/index.ts';
import { businessSince, reportScan, scanOutcome } from './logScan.ts';
import { inPeriod, paramsOf, type Report, type ReportContext, type ReportParams, type ReportRow } from './report.types.ts';

const SETTLEMENT_TYPES = ['PaymentCaptured', 'RefundCreated'] as const;

export const SETTLEMENT_COLUMNS = [
  'day', 'mode', 'currency', 'captures', 'captured_minor', 'refunds', 'refunded_minor', 'fees_minor', 'net_minor',
] as const;

type Day = { day: string; mode: string; currency: string; captures: number; captured: bigint; refunds: number; refunded: bigint; fees: bigint };

/** `pintent-<mode>.<id>` → mode. */
function modeOfIntentStream(streamId: string): string {
  const rest = streamId.slice(streamId.indexOf('-') + 1);
  return rest.slice(0, rest.indexOf('.'));
}

export async function settlementReport(context: ReportContext, params: ReportParams): Promise<Report> {
  const scan = await reportScan(context.store, 'settlement', params, { category: 'pintent', types: SETTLEMENT_TYPES, since: businessSince(params) });
  const days = new Map<string, Day>();
  for await (const event of scan.events()) {
    const mode = modeOfIntentStream(event.streamId);
    if (params.mode !== undefined && mode !== params.mode) continue;
    const data = event.data as PaymentCaptured['data'] | RefundCreated['data'];
    if (!inPeriod(data.atMs, params)) continue;
    const day = new Date(data.atMs).toISOString().slice(0, 10);
    const currency = data.currency.toUpperCase();
    const key = `${day}\u0000${mode}\u0000${currency}`;
    const totals = days.get(key) ?? { day, mode, currency, captures: 0, captured: 0n, refunds: 0, refunded: 0n, fees: 0n };
    if (event.type === 'PaymentCaptured') {
      const captured = data as PaymentCaptured['data'];
      totals.captures += 1;
      totals.captured += BigInt(captured.amount);
      totals.fees += BigInt(captured.fee);
    } else {
      totals.refunds += 1;
      totals.refunded += BigInt(data.amount);
    }
    days.set(key, totals);
  }
  const rows: ReportRow[] = [...days.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, d]) => ({
    day: d.day, mode: d.mode, currency: d.currency, captures: d.captures, captured_minor: d.captured.toString(), refunds: d.refunds,
    refunded_minor: d.refunded.toString(), fees_minor: d.fees.toString(), net_minor: (d.captured - d.fees - d.refunded).toString(),
  }));
  return { name: 'settlement', asOfPosition: scan.head, params: paramsOf(params), columns: SETTLEMENT_COLUMNS, rows, summary: { days: new Set(rows.map((row) => row.day)).size, rows: rows.length }, ...scanOutcome(scan, 'settlement', params) };
}
