/**
 * `daybook report` as a child process of the real `bin/daybook.js`, on a
 * SQLite store written by the banking service: the trial balance as CSV on
 * stdout (balanced, parses back, no progress line when stderr is not a
 * terminal), a statement as JSON written whole to --output, and usage and
 * data errors as one line with their exit codes.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDaybookSync } from '../../../test/support/daybookProcess.ts';
import { BankingService } from '../../banking/index.ts';
import { openEventStore } from '../../eventstore/open.ts';

let dir: string;
let url: string;

function daybook(args: string[]) {
  return runDaybookSync([...args, '--database-url', url], { cwd: dir, env: { DAYBOOK_DATABASE_URL: '', DAYBOOK_DATA_DIR: join(dir, 'unused') } });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-report-cli-'));
  url = `sqlite:${join(dir, 'daybook.db')}`;
  const store = await openEventStore(url);
  const bank = await BankingService.open(store);
  try {
    await bank.registerCustomer({ customerId: 'ada', pii: { fullName: 'Ada Lovelace', email: 'ada@example.com' } });
    await bank.openAccount({ accountId: 'chk', customerId: 'ada', accountType: 'checking', currency: 'USD', regulatoryTier: 'retail', initialBalanceMinor: 50_000n });
    await bank.openAccount({ accountId: 'eur', customerId: 'ada', accountType: 'checking', currency: 'EUR', regulatoryTier: 'retail' });
    await bank.withdraw({ accountId: 'chk', amountMinor: 1_000n, feeMinor: 25n });
    await bank.transferCrossCurrency({ fromAccountId: 'chk', toAccountId: 'eur', amountMinor: 10_000n, exchangeRate: '0.91', feeMinor: 10n });
  } finally {
    await bank.ledger.close();
    await store.close();
  }
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('daybook report', () => {
  it('prints the trial balance as CSV: every partition and currency balanced, no progress line off a terminal', () => {
    const result = daybook(['report', 'trial-balance']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const rows = parse(result.stdout, { columns: true }) as Array<Record<string, string>>;
    const totals = rows.filter((row) => row.account_id === '(total)');
    expect(totals.map((row) => `${row.partition} ${row.currency}`).sort()).toEqual(['banking EUR', 'banking GBP', 'banking USD']);
    for (const total of totals) {
      expect(total.debits_posted_minor).toBe(total.credits_posted_minor);
      expect(total.net_debit_minor).toBe('0');
    }
    expect(rows.find((row) => row.account_id === 'acct:eur')).toMatchObject({ credits_posted_minor: '9100', debits_posted_minor: '0' });
  });

  it('writes a statement as JSON to --output, whole', () => {
    const output = join(dir, 'statement.json');
    const result = daybook(['report', 'account-statement', '--account', 'chk', '--format', 'json', '--output', output, '--from', '2000-01-01']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
    const report = JSON.parse(readFileSync(output, 'utf8'));
    expect(report.data.map((row: { balance_minor: string }) => row.balance_minor)).toEqual(['50000', '48975', '38965']);
    expect(report.summary).toMatchObject({ opening_balance_minor: '0', closing_balance_minor: '38965' });
    expect(readdirSync(dir).filter((name) => name.includes('.partial-'))).toEqual([]);
  });

  it('refuses an unknown report, a bad time and a missing account with one line and a non-zero exit', () => {
    const unknown = daybook(['report', 'balance-sheet']);
    expect(unknown.status).toBe(64);
    expect(unknown.stderr.trim().split('\n')).toEqual([expect.stringContaining('unknown report "balance-sheet"')]);
    const badTime = daybook(['report', 'audit-trail', '--from', '1st of May']);
    expect(badTime.status).toBe(65);
    expect(badTime.stderr).toContain('from must be an ISO-8601 date');
    const noAccount = daybook(['report', 'account-statement']);
    expect(noAccount.status).toBe(64);
    const unknownAccount = daybook(['report', 'account-statement', '--account', 'nope', '--output', join(dir, 'nope.csv')]);
    expect(unknownAccount.status).toBe(65);
    expect(unknownAccount.stderr).toContain('no bank account nope');
    expect(existsSync(join(dir, 'nope.csv'))).toBe(false);
  });

  it('says so when there is no store', () => {
    const result = runDaybookSync(['report', 'trial-balance', '--database-url', `sqlite:${join(dir, 'missing.db')}`], { cwd: dir, env: { DAYBOOK_DATABASE_URL: '' } });
    expect(result.status).toBe(69);
    expect(result.stderr).toContain('no store at');
  });
});
