/**
 * The built-in projections running together on one engine, on a real SQLite
 * file and a real PostgreSQL database, fed by a banking service (which books
 * every movement in its ledger): `ledger_balances` holds, for every ledger
 * account, the balances the ledger engine itself holds, summing to zero per
 * currency; a ledger event for an account it does not know is parked, not
 * skipped silently; and both read models equal a replay from zero.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeIfConcurrentPostgres, resettableTestDatabase } from '../../../test/support/postgres.ts';
import { BANKING_PROJECTION_NAME, BankingService } from '../../banking/index.ts';
import { counterIds, HOUR, T0 } from '../../banking/banking.testkit.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { createProjectionEngine, dumpReadModel, openReadModelStore } from '../index.ts';
import { replayProjection } from '../replay.ts';
import { builtinProjections, LEDGER_BALANCES_PROJECTION_NAME, LEDGER_BALANCES_TABLE, ledgerBalancesProjection } from './index.ts';

const WAIT_MS = 30_000;

type Row = { partition: string; account_id: string; currency: string; status: string; debits_pending: bigint; debits_posted: bigint; credits_pending: bigint; credits_posted: bigint };

function describeBuiltins(backend: string, openUrl: () => Promise<{ url: string; cleanup(): Promise<void> }>): void {
  describe(`built-in projections on ${backend}`, () => {
    it('ledger_balances equals the ledger engine\'s balances; an event for an unknown account is parked; both read models equal a replay from zero', async () => {
      const { url, cleanup } = await openUrl();
      const store = await openEventStore(url, { subscriptionPollMs: 50 });
      const readModels = await openReadModelStore(url);
      const engine = createProjectionEngine({ store, readModels, projections: builtinProjections(store), maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 2 });
      const clock = fixedClock(T0);
      const bank = await BankingService.open(store, { clock, ids: counterIds() });
      const scratch = mkdtempSync(join(tmpdir(), 'daybook-builtin-replay-'));
      try {
        await engine.start();
        await bank.registerCustomer({ customerId: 'cus-1', pii: { fullName: 'Ada Lovelace', email: 'ada@example.com' } });
        for (const [accountId, currency] of [['a', 'USD'], ['b', 'USD'], ['e', 'EUR']] as const) {
          await bank.openAccount({ accountId, customerId: 'cus-1', accountType: 'checking', currency, regulatoryTier: 'retail', initialBalanceMinor: 10_000n });
        }
        clock.advance(HOUR);
        await bank.transfer({ fromAccountId: 'a', toAccountId: 'b', amountMinor: 2_500n, feeMinor: 25n });
        await bank.withdraw({ accountId: 'b', amountMinor: 100n, feeMinor: 1n });
        await bank.withdraw({ accountId: 'a', amountMinor: 1_000_000n }); // refused: TransferFailed / a failed transaction
        await bank.transferCrossCurrency({ fromAccountId: 'a', toAccountId: 'e', amountMinor: 1_000n, exchangeRate: '0.923456', feeMinor: 10n });
        await bank.close({ accountId: 'b', reason: 'customer_request', sweepToAccountId: 'a' });
        // Not written by the ledger engine: closing an account no ledger opened.
        const bogus = await store.append({ streamId: 'ledger-bogus', events: [{ type: 'AccountClosed', schemaVersion: 1, data: { accountId: 'nobody', atMs: T0 } }] });
        const head = await store.headPosition();
        await engine.waitForPosition(LEDGER_BALANCES_PROJECTION_NAME, head, WAIT_MS);
        await engine.waitForPosition(BANKING_PROJECTION_NAME, head, WAIT_MS);

        const rows = await engine.query(LEDGER_BALANCES_PROJECTION_NAME, (q) => q.query<Row>(`SELECT * FROM ${q.table(LEDGER_BALANCES_TABLE)} ORDER BY partition, account_id`));
        expect(rows.length).toBeGreaterThanOrEqual(3);
        expect(rows.every((row) => row.partition === 'banking')).toBe(true);
        const sums = new Map<string, bigint>();
        for (const row of rows) {
          const record = bank.ledger.state.account(row.account_id);
          expect(record, row.account_id).toBeDefined();
          expect({ debitsPending: row.debits_pending, debitsPosted: row.debits_posted, creditsPending: row.credits_pending, creditsPosted: row.credits_posted })
            .toEqual({ ...record!.balances });
          sums.set(row.currency, (sums.get(row.currency) ?? 0n) + row.credits_posted - row.debits_posted);
        }
        expect([...sums.keys()]).toEqual(expect.arrayContaining(['EUR', 'USD']));
        for (const [currency, sum] of sums) expect(sum, `${currency} sums to zero`).toBe(0n);

        const letters = await engine.listDeadLetters({ projection: LEDGER_BALANCES_PROJECTION_NAME });
        expect(letters.map((letter) => [letter.position, letter.status])).toEqual([[bogus.position, 'parked']]);
        expect(letters[0]!.error).toContain('unknown account bogus/nobody');

        for (const definition of builtinProjections(store)) {
          const replayed = await replayProjection(store, definition, { toPosition: head, into: join(scratch, `${definition.name}.db`) });
          const scratchModels = await openReadModelStore(`sqlite:${replayed.path}`);
          try {
            expect(await dumpReadModel(scratchModels, definition), definition.name).toBe(await dumpReadModel(readModels, definition));
          } finally {
            await scratchModels.close();
          }
        }
        expect(ledgerBalancesProjection.name).toBe('ledger_balances');
      } finally {
        await engine.stop();
        await bank.ledger.close();
        await readModels.close();
        await store.close();
        rmSync(scratch, { recursive: true, force: true });
        await cleanup();
      }
    }, 120_000);
  });
}

describeBuiltins('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-builtin-'));
  return { url: `sqlite:${join(dir, 'daybook.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

const database = resettableTestDatabase();
afterAll(async () => {
  await database.drop();
});
describeIfConcurrentPostgres('built-in projections on postgres', () => {
  describeBuiltins('postgres', async () => {
    const url = await database.emptied();
    return { url, cleanup: async () => {} };
  });
});
