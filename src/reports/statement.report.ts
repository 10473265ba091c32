/**
 * One bank account's statement for a period: its completed transactions in
 * log order, each with the signed amount it moved on the account (money in
 * positive; money out negative, fees included) and the running balance; the
 * opening balance is everything completed before the period. Failed
 * transactions moved nothing and are left out.
 */
import { type AccountOpened, BANKING_STREAM_PREFIXES, type TransactionCompleted, type TransactionInitiated } from '../banking/index.ts';
import { DaybookError } from '../kernel/index.ts';
import type { RecordedEvent } from '../eventstore/index.ts';
import { type LogScan, reportScan, scanOutcome } from './logScan.ts';
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

type Initiation = TransactionInitiated['data'];

/**
 * The statement folded event by event. A run resumed from a cursor carries
 * the balances in, and meets completions whose initiation an earlier page
 * read: those it looks up in their own stream (only the ones it did not
 * see initiated in this page, so the few in flight at the page's start).
 */
class StatementFold {
  readonly rows: ReportRow[] = [];
  private readonly initiated = new Map<string, Initiation>();
  private readonly seen = new Set<string>();

  constructor(
    private readonly accountId: string,
    private readonly params: ReportParams,
    public opening: bigint,
    public balance: bigint,
    private readonly earlierInitiation: ((transactionId: string) => Promise<Initiation | undefined>) | null,
  ) {}

  private isMine(data: Initiation): boolean {
    return data.fromAccountId === this.accountId || data.toAccountId === this.accountId;
  }

  async add(event: RecordedEvent): Promise<void> {
    if (event.type === 'TransactionInitiated') {
      const data = event.data as Initiation;
      if (this.isMine(data)) this.initiated.set(data.transactionId, data);
      else if (this.earlierInitiation !== null) this.seen.add(data.transactionId);
      return;
    }
    const completed = event.data as TransactionCompleted['data'];
    let mine = this.initiated.get(completed.transactionId);
    if (mine === undefined && this.earlierInitiation !== null && !this.seen.has(completed.transactionId)) {
      const earlier = await this.earlierInitiation(completed.transactionId);
      mine = earlier !== undefined && this.isMine(earlier) ? earlier : undefined;
    }
    if (mine === undefined) return;
    this.initiated.delete(completed.transactionId);
    const atMs = Date.parse(completed.completedAt);
    const { amount, fee } = effectOn(mine, completed, this.accountId);
    if (this.params.from !== undefined && atMs < this.params.from.getTime()) {
      this.opening += amount;
      this.balance += amount;
      return;
    }
    if (!inPeriod(atMs, this.params)) return;
    this.balance += amount;
    this.rows.push({
      completed_at: completed.completedAt, transaction_id: completed.transactionId, type: mine.type, counterparty: counterpartyOf(mine, this.accountId),
      reference: mine.reference, amount_minor: amount.toString(), fee_minor: fee.toString(), balance_minor: this.balance.toString(), position: event.position.toString(),
    });
    checkRows(this.rows, this.params);
  }
}

function carried(scan: LogScan, key: 'opening' | 'balance'): bigint {
  const text = scan.resumed?.state[key] ?? '0';
  if (!/^-?\d{1,30}$/.test(text)) throw new DaybookError('validation_failed', 'cursor is malformed', {}, 'cursor');
  return BigInt(text);
}

/**
 * The opening balance is everything completed before the period, so a
 * statement reads the account's history from the log's start; the scan
 * budget cuts it into pages, each carrying the balances to the next.
 */
export async function accountStatementReport(context: ReportContext, params: ReportParams): Promise<Report> {
  const accountId = params.accountId;
  if (accountId === undefined || accountId.length === 0) throw new DaybookError('validation_failed', 'an account statement needs the bank account (account_id)', {}, 'account_id');
  const [opened] = await context.store.readStream(`${BANKING_STREAM_PREFIXES.account}-${accountId}`, { limit: 1 });
  if (opened?.type !== 'AccountOpened') throw new DaybookError('account_not_found', `no bank account ${accountId}`, { accountId }, 'account_id');
  const { currency, customerId } = opened.data as AccountOpened['data'];
  const scan = await reportScan(context.store, 'account-statement', params, { category: BANKING_STREAM_PREFIXES.transaction, types: ['TransactionInitiated', 'TransactionCompleted'] });
  const earlierInitiation = scan.resumed === null ? null : async (transactionId: string) => {
    const [first] = await context.store.readStream(`${BANKING_STREAM_PREFIXES.transaction}-${transactionId}`, { limit: 1, asOfPosition: scan.head });
    return first?.type === 'TransactionInitiated' ? (first.data as Initiation) : undefined;
  };
  const fold = new StatementFold(accountId, params, carried(scan, 'opening'), carried(scan, 'balance'), earlierInitiation);
  for await (const event of scan.events()) await fold.add(event);
  const { rows, opening, balance } = fold;
  return {
    name: 'account-statement', asOfPosition: scan.head, params: paramsOf(params), columns: STATEMENT_COLUMNS, rows,
    summary: { account_id: accountId, customer_id: customerId, currency, opening_balance_minor: opening.toString(), closing_balance_minor: balance.toString(), transactions: rows.length },
    ...scanOutcome(scan, 'account-statement', params, { opening: opening.toString(), balance: balance.toString() }),
  };
}
