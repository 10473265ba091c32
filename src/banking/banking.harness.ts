/**
 * A banking service on a real SQLite store in a temporary folder, with a
 * fixed clock and readable ids, for the integration and property tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { fixedClock } from '../kernel/clock.ts';
import { customerLedgerAccount } from './banking.ledgerPlan.ts';
import { BankingService } from './banking.service.ts';
import { counterIds, T0 } from './banking.testkit.ts';
import type { BankingCurrency, ComplianceFlags, RegulatoryTier } from './banking.types.ts';

export type BankHarness = {
  readonly store: EventStore;
  /** The current service (replaced by `restart`). */
  readonly bank: BankingService;
  readonly clock: ReturnType<typeof fixedClock>;
  /** Opens an account of `cus-1` with a balance paid in by its opening deposit; returns its id. */
  account(accountId: string, options?: { currency?: BankingCurrency; tier?: RegulatoryTier; balanceMinor?: bigint; flags?: Partial<ComplianceFlags> }): Promise<string>;
  /** Credits less debits posted of the account's ledger account. */
  ledgerBalance(accountId: string): bigint;
  /** Balance of any ledger account (a bank account of the chart, e.g. `fees:USD`). */
  ledgerAccountBalance(ledgerAccountId: string): bigint;
  /** A new service on the same store, as after a process restart (its ledger engine replays the log). */
  restart(): Promise<BankingService>;
  close(): Promise<void>;
};

/** A banking service on a fresh SQLite store in a temporary folder, with customer `cus-1` registered. */
export async function openBankHarness(): Promise<BankHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-banking-'));
  const store = await openEventStore(`sqlite:${join(dir, 'events.db')}`);
  const clock = fixedClock(T0);
  const ids = counterIds();
  let bank = await BankingService.open(store, { clock, ids });
  await bank.registerCustomer({ customerId: 'cus-1', pii: { fullName: 'Ada Lovelace', email: 'ada@example.com' } });
  const ledgerAccountBalance = (ledgerAccountId: string) => {
    const account = bank.ledger.state.account(ledgerAccountId);
    return account === undefined ? 0n : account.balances.creditsPosted - account.balances.debitsPosted;
  };
  return {
    store, clock,
    get bank() { return bank; },
    async account(accountId, options = {}) {
      await bank.openAccount({
        accountId, customerId: 'cus-1', accountType: 'checking', currency: options.currency ?? 'USD', regulatoryTier: options.tier ?? 'retail',
        initialBalanceMinor: options.balanceMinor ?? 0n, complianceFlags: options.flags ?? {},
      });
      return accountId;
    },
    ledgerBalance: (accountId) => ledgerAccountBalance(customerLedgerAccount(accountId)),
    ledgerAccountBalance,
    async restart() {
      await bank.ledger.close();
      bank = await BankingService.open(store, { clock, ids });
      return bank;
    },
    async close() {
      await bank.ledger.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
