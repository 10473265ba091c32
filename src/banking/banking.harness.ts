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
  store: EventStore;
  bank: BankingService;
  clock: ReturnType<typeof fixedClock>;
  url: string;
  /** Opens a customer and an account with a balance (a deposit), returns the account id. */
  account(accountId: string, options?: { currency?: BankingCurrency; tier?: RegulatoryTier; balanceMinor?: bigint; flags?: Partial<ComplianceFlags> }): Promise<string>;
  ledgerBalance(accountId: string): bigint;
  close(): Promise<void>;
};

/** A banking service on a fresh SQLite store in a temporary folder. */
export async function openBankHarness(): Promise<BankHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-banking-'));
  const url = `sqlite:${join(dir, 'events.db')}`;
  const store = await openEventStore(url);
  const clock = fixedClock(T0);
  const bank = await BankingService.open(store, { clock, ids: counterIds() });
  await bank.registerCustomer({ customerId: 'cus-1', pii: { fullName: 'Ada Lovelace', email: 'ada@example.com' } });
  return {
    store, bank, clock, url,
    async account(accountId, options = {}) {
      await bank.openAccount({
        accountId, customerId: 'cus-1', accountType: 'checking', currency: options.currency ?? 'USD', regulatoryTier: options.tier ?? 'retail',
        initialBalanceMinor: options.balanceMinor ?? 0n, complianceFlags: options.flags ?? {},
      });
      return accountId;
    },
    ledgerBalance(accountId) {
      const account = bank.ledger.state.account(customerLedgerAccount(accountId));
      return account === undefined ? 0n : account.balances.creditsPosted - account.balances.debitsPosted;
    },
    async close() {
      await bank.ledger.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
