/**
 * One bank account's statement for a period: its completed transactions in
 * log order, each with the signed amount it moved on the account (money in
 * positive; money out negative, fees included) and the running balance; the
 * opening balance is everything completed before the period. Failed
 * transactions moved nothing and are left out.
 */
import { type AccountOpened, BANKING_STREAM_PREFIXES, type TransactionCompleted, type TransactionInitiated } from '../banking/index.ts';
import { DaybookError } from '../kernel/index.ts';
import { scanLog } from './logScan.ts';
import { checkRows, inPeriod, paramsOf, type Report, type ReportContext, type ReportParams, type ReportRow } from './report.types.ts';

export const STATEMENT_COLUMNS = [
  'completed_at', 'transaction_id', 'type', 'counterparty', 'reference', 'amount_minor', 'fee_minor', 'balance_minor', 'position',
] as const;

function counterpartyOf(initiated: TransactionInitiated['data'], accountId: string): string {
  if (initiated.type === 'deposit' || initiated.type === 'withdrawal') return 'cash';
  if (initiated.type === 'payment') return initiated.beneficiary ?? '';
  return (initiated.fromAccountId === accountId ? initiated.toAccountId : initiated.fromAccountId) ?? '';
}

/** What a completed transaction did to `accountId`: credited (in its currency) less debited (fees included). */
function effectOn(initiated: TransactionInitiated['data'], completed: TransactionCompleted['data'], accountId: string): { amount: bigint; fee: bigint } {
  let amount = 0n;
  let fee = 0n;
  if (initiated.toAccountId === accountId) amount += BigInt(completed.finalAmount);
  if (initiated.fromAccountId === accountId) {
    amount -= BigInt(completed.debitedAmount);
    fee = BigInt(completed.feesCharged);
  }
  return { amount, fee };
}

export async function accountStatementReport(context: ReportContext, params: ReportParams): Promise<Report> {
  const accountId = params.accountId;
  if (accountId === undefined || accountId.length === 0) throw new DaybookError('validation_failed', 'an account statement needs the bank account (account_id)', {}, 'account_id');
  const [opened] = await context.store.readStream(`${BANKING_STREAM_PREFIXES.account}-${accountId}`, { limit: 1 });
  if (opened?.type !== 'AccountOpened') throw new DaybookError('account_not_found', `no bank account ${accountId}`, { accountId }, 'account_id');
  const { currency, customerId } = opened.data as AccountOpened['data'];
  const scan = await scanLog(context.store, { category: BANKING_STREAM_PREFIXES.transaction, types: ['TransactionInitiated', 'TransactionCompleted'] }, params.onProgress);
  const initiated = new Map<string, TransactionInitiated['data']>();
  let opening = 0n;
  let balance = 0n;
  const rows: ReportRow[] = [];
  for await (const event of scan.events()) {
    if (event.type === 'TransactionInitiated') {
      const data = event.data as TransactionInitiated['data'];
      if (data.fromAccountId === accountId || data.toAccountId === accountId) initiated.set(data.transactionId, data);
      continue;
    }
    const completed = event.data as TransactionCompleted['data'];
    const mine = initiated.get(completed.transactionId);
    if (mine === undefined) continue;
    initiated.delete(completed.transactionId);
    const atMs = Date.parse(completed.completedAt);
    const { amount, fee } = effectOn(mine, completed, accountId);
    if (params.from !== undefined && atMs < params.from.getTime()) {
      opening += amount;
      balance += amount;
      continue;
    }
    if (!inPeriod(atMs, params)) continue;
    balance += amount;
    rows.push({
      completed_at: completed.completedAt, transaction_id: completed.transactionId, type: mine.type, counterparty: counterpartyOf(mine, accountId),
      reference: mine.reference, amount_minor: amount.toString(), fee_minor: fee.toString(), balance_minor: balance.toString(), position: event.position.toString(),
    });
    checkRows(rows, params);
  }
  return {
    name: 'account-statement', asOfPosition: scan.head, params: paramsOf(params), columns: STATEMENT_COLUMNS, rows,
    summary: { account_id: accountId, customer_id: customerId, currency, opening_balance_minor: opening.toString(), closing_balance_minor: balance.toString(), transactions: rows.length },
  };
}
