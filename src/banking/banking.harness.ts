/**
 * A banking service on a real store (SQLite in a temporary folder, or a
 * fresh PostgreSQL database from the test harness), with a fixed clock and
 * readable ids, for the integration and property tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../../test/support/postgres.ts';
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

/** Where a harness keeps its events: a fresh, empty store each time. */
export type BankBackend = { readonly name: 'sqlite' | 'postgres'; fresh(): Promise<{ url: string; cleanup(): Promise<void> }> };

export const SQLITE_BANK_BACKEND: BankBackend = {
  name: 'sqlite',
  async fresh() {
    const dir = mkdtempSync(join(tmpdir(), 'daybook-banking-'));
    return { url: `sqlite:${join(dir, 'events.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

/** A new database on the test PostgreSQL per harness (use inside `describeIfPostgres`). */
export const POSTGRES_BANK_BACKEND: BankBackend = {
  name: 'postgres',
  async fresh() {
    const database = await createTestDatabase();
    return { url: database.url, cleanup: () => database.drop() };
  },
};

/** A banking service on a fresh store, with customer `cus-1` registered. */
export async function openBankHarness(backend: BankBackend = SQLITE_BANK_BACKEND): Promise<BankHarness> {
  const { url, cleanup } = await backend.fresh();
  const store = await openEventStore(url);
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
      await cleanup();
    },
  };
}
