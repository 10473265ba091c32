/**
 * The trial balance of every ledger partition (`ledger-<partition>`), per
 * currency: each account's posted (and pending) debits and credits, as the
 * ledger recorded them right after its last movement up to the report's
 * moment (`to`, or now), and the totals, which must be equal (a double-entry
 * ledger sums to zero). Totals that differ are an `integrity_violation`: the
 * report refuses to print a trial balance that does not balance.
 */
import type { RecordedEvent } from '../eventstore/index.ts';
import { DaybookError } from '../kernel/index.ts';
import { type AccountBalance, type Balances, decodeLedgerEvent, LEDGER_EVENT_TYPES } from '../ledger/index.ts';
import { reportScan, scanOutcome } from './logScan.ts';
import { paramsOf, type Report, type ReportContext, type ReportParams, type ReportRow } from './report.types.ts';

const LEDGER_CATEGORY = 'ledger';
const TOTAL = '(total)';

type AccountLine = { partition: string; accountId: string; ledger: string; currency: string; code: number; balances: Balances | null };

export const TRIAL_BALANCE_COLUMNS = [
  'partition', 'currency', 'ledger', 'account_id', 'code', 'debits_posted_minor', 'credits_posted_minor', 'net_debit_minor', 'debits_pending_minor', 'credits_pending_minor',
] as const;

/** The partition's mode, from its name (`test`, `banking-live`, `payments-test`), or null (`banking`, `main`). */
export function modeOfPartition(partition: string): string | null {
  return /(?:^|-)(test|live)$/.exec(partition)?.[1] ?? null;
}

function fold(accounts: Map<string, AccountLine>, event: RecordedEvent): void {
  const partition = event.streamId.slice(LEDGER_CATEGORY.length + 1);
  const decoded = decodeLedgerEvent(event);
  const set = (list: readonly AccountBalance[]) => {
    for (const { accountId, balances } of list) {
      const line = accounts.get(`${partition}\u0000${accountId}`);
      if (line === undefined) throw new DaybookError('integrity_violation', `trial balance: ledger-${partition} moves money of account ${accountId}, never opened (position ${event.position})`, { partition, accountId });
      line.balances = balances;
    }
  };
  switch (decoded.type) {
    case 'AccountOpened': {
      const { accountId, ledger, currency, code } = decoded.data;
      accounts.set(`${partition}\u0000${accountId}`, { partition, accountId, ledger, currency, code, balances: null });
      return;
    }
    case 'TransferPosted': case 'PendingTransferCreated': case 'PendingTransferPosted': case 'PendingTransferVoided': case 'PendingTransferExpired':
      set([{ accountId: decoded.data.debitAccountId, balances: decoded.data.debitBalances }, { accountId: decoded.data.creditAccountId, balances: decoded.data.creditBalances }]);
      return;
    case 'JournalEntryRecorded': case 'JournalEntryReversed':
      set(decoded.data.balances);
      return;
    default:
      return; // closed, reopened, refused: no money moved
  }
}

type Totals = { debitsPosted: bigint; creditsPosted: bigint; debitsPending: bigint; creditsPending: bigint; accounts: number };

function lineRow(line: AccountLine): ReportRow {
  const b = line.balances ?? { debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n };
  return {
    partition: line.partition, currency: line.currency, ledger: line.ledger, account_id: line.accountId, code: line.code,
    debits_posted_minor: b.debitsPosted.toString(), credits_posted_minor: b.creditsPosted.toString(), net_debit_minor: (b.debitsPosted - b.creditsPosted).toString(),
    debits_pending_minor: b.debitsPending.toString(), credits_pending_minor: b.creditsPending.toString(),
  };
}

export async function trialBalanceReport(context: ReportContext, params: ReportParams): Promise<Report> {
  // It is never cut into pages (see below), so no cursor of it is ever issued: one given is forged or misplaced.
  if (params.cursor !== undefined) throw new DaybookError('validation_failed', 'the trial balance is never cut into pages: it takes no cursor', {}, 'cursor');
  const scan = await reportScan(context.store, 'trial-balance', params, { category: LEDGER_CATEGORY, types: LEDGER_EVENT_TYPES, until: params.to });
  const accounts = new Map<string, AccountLine>();
  for await (const event of scan.events()) {
    const partition = event.streamId.slice(LEDGER_CATEGORY.length + 1);
    if (params.mode !== undefined && modeOfPartition(partition) !== params.mode) continue;
    fold(accounts, event);
  }
  if (scan.resumeAfter !== null) {
    // Every account's last balance up to the report's moment is needed, and no cursor could carry them all.
    throw new DaybookError('limit_exceeded', `the trial balance folds every ledger event up to its moment, more than ${params.scanBudget} here: run daybook report trial-balance, which has no bound`, { limit: params.scanBudget }, 'to');
  }
  const lines = [...accounts.values()].sort((a, b) => (a.partition + '\u0000' + a.currency + '\u0000' + a.accountId).localeCompare(b.partition + '\u0000' + b.currency + '\u0000' + b.accountId));
  const groups = new Map<string, { partition: string; currency: string; lines: AccountLine[]; totals: Totals }>();
  for (const line of lines) {
    const key = `${line.partition}\u0000${line.currency}`;
    const group = groups.get(key) ?? { partition: line.partition, currency: line.currency, lines: [], totals: { debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n, accounts: 0 } };
    const b = line.balances;
    group.lines.push(line);
    group.totals.accounts += 1;
    if (b !== null) {
      group.totals.debitsPosted += b.debitsPosted;
      group.totals.creditsPosted += b.creditsPosted;
      group.totals.debitsPending += b.debitsPending;
      group.totals.creditsPending += b.creditsPending;
    }
    groups.set(key, group);
  }
  const rows: ReportRow[] = [];
  const unbalanced: string[] = [];
  for (const { partition, currency, lines: members, totals } of groups.values()) {
    rows.push(...members.map(lineRow));
    rows.push({
      partition, currency, ledger: TOTAL, account_id: TOTAL, code: null, debits_posted_minor: totals.debitsPosted.toString(), credits_posted_minor: totals.creditsPosted.toString(),
      net_debit_minor: (totals.debitsPosted - totals.creditsPosted).toString(), debits_pending_minor: totals.debitsPending.toString(), credits_pending_minor: totals.creditsPending.toString(),
    });
    if (totals.debitsPosted !== totals.creditsPosted || totals.debitsPending !== totals.creditsPending) {
      unbalanced.push(`${partition} ${currency}: debits ${totals.debitsPosted} (pending ${totals.debitsPending}), credits ${totals.creditsPosted} (pending ${totals.creditsPending})`);
    }
  }
  if (unbalanced.length > 0) {
    throw new DaybookError('integrity_violation', `trial balance does not balance as of position ${scan.head}: ${unbalanced.join('; ')}`, { unbalanced, asOfPosition: scan.head.toString() });
  }
  return {
    name: 'trial-balance', asOfPosition: scan.head, params: paramsOf(params), columns: TRIAL_BALANCE_COLUMNS, rows,
    summary: { partitions: new Set([...groups.values()].map((group) => group.partition)).size, groups: groups.size, accounts: lines.length, balanced: true },
    ...scanOutcome(scan, 'trial-balance', params),
  };
}
