/**
 * The banking service on a real store, SQLite (a temporary folder) and
 * PostgreSQL (a fresh database per test, through the test harness): each
 * operation (open with an opening deposit, deposit, withdrawal, transfer,
 * cross-currency transfer with half-even rounding, payment through the
 * clearing account, freeze, close with a sweep), tier limits per
 * transaction and per UTC day, frozen and closed accounts, idempotency keys,
 * metadata, a restart half way through a transaction, freezes racing
 * movements already under way, and the read model
 * (balances, history pages, as-of balances, live equals rebuilt). After each
 * test, every ledger balances to zero per currency.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore, RecordedEvent, StreamWrite } from '../eventstore/index.ts';
import { isDaybookError } from '../kernel/errors.ts';
import { describeIfPostgres } from '../../test/support/postgres.ts';
import { openBankHarness, POSTGRES_BANK_BACKEND, SQLITE_BANK_BACKEND, type BankBackend, type BankHarness } from './banking.harness.ts';
import { customerLedgerAccount, systemLedgerAccounts } from './banking.ledgerPlan.ts';
import { InMemoryBankingReadModel } from './banking.readModel.memory.ts';
import { BANKING_STREAM_PREFIXES } from './banking.runtime.ts';
import { BankingService } from './banking.service.ts';
import type { TransactionResult } from './banking.service.types.ts';
import { counterIds, HOUR, T0 } from './banking.testkit.ts';

function describeBanking(backend: BankBackend): void {
  describe(`banking service on ${backend.name}`, () => {
    let h: BankHarness;
    const customerAccounts = new Set<string>();

    beforeEach(async () => {
      h = await openBankHarness(backend);
      customerAccounts.clear();
    });
    afterEach(async () => {
      expectLedgersBalanced();
      await h.close();
    });

    async function account(accountId: string, options: Parameters<BankHarness['account']>[1] = {}): Promise<string> {
      customerAccounts.add(accountId);
      return h.account(accountId, options);
    }

    /** Every ledger account of the chart and of the customers, summed per currency: zero. */
    function expectLedgersBalanced(): void {
      const ids = [...systemLedgerAccounts(0).map((command) => command.data.accountId), ...[...customerAccounts].map(customerLedgerAccount)];
      const sums = new Map<string, bigint>();
      for (const id of ids) {
        const record = h.bank.ledger.state.account(id);
        if (record === undefined) continue;
        sums.set(record.currency, (sums.get(record.currency) ?? 0n) + record.balances.creditsPosted - record.balances.debitsPosted);
        if (id.startsWith('acct:')) expect(record.balances.debitsPosted <= record.balances.creditsPosted, `${id} overdrawn`).toBe(true);
      }
      for (const [currency, sum] of sums) expect(sum, `${currency} ledger sum`).toBe(0n);
    }

    async function nothingWritten(run: () => Promise<unknown>, code: string): Promise<void> {
      const head = await h.store.headPosition();
      await expect(run()).rejects.toMatchObject({ code });
      expect(await h.store.headPosition()).toBe(head);
    }

    async function streamEvents(prefix: string, id: string): Promise<RecordedEvent[]> {
      return h.store.readStream(`${prefix}-${id}`);
    }

    describe('customers and accounts', () => {
      it('opens an account with its opening deposit, once, for a registered customer only', async () => {
        const opened = await h.bank.openAccount({ accountId: 'a', customerId: 'cus-1', accountType: 'savings', currency: 'GBP', regulatoryTier: 'professional', initialBalanceMinor: 5_000n });
        customerAccounts.add('a');
        expect(opened).toMatchObject({ accountId: 'a', replayed: false, account: { status: 'open', opened: { initialBalance: '5000', accountType: 'savings' } } });
        expect(opened.initialDeposit).toMatchObject({ status: 'completed', initiated: { type: 'deposit', toAccountId: 'a', amount: '5000', idempotencyKey: 'open:a' } });
        expect(h.ledgerBalance('a')).toBe(5_000n);
        expect(h.ledgerAccountBalance('cash:GBP')).toBe(-5_000n);

        const head = await h.store.headPosition();
        const again = await h.bank.openAccount({ accountId: 'a', customerId: 'cus-1', accountType: 'savings', currency: 'GBP', regulatoryTier: 'professional', initialBalanceMinor: 5_000n });
        expect(again).toMatchObject({ replayed: true, initialDeposit: { replayed: true, status: 'completed' } });
        expect(await h.store.headPosition()).toBe(head);
        await nothingWritten(() => h.bank.openAccount({ accountId: 'a', customerId: 'cus-1', accountType: 'checking', currency: 'GBP', regulatoryTier: 'professional' }), 'account_exists_with_different_fields');
        await nothingWritten(() => h.bank.openAccount({ accountId: 'b', customerId: 'nobody', accountType: 'checking', currency: 'USD', regulatoryTier: 'retail' }), 'customer_not_found');
        expect(h.bank.ledger.state.account(customerLedgerAccount('b'))).toBeUndefined();
      });

      it('registers a customer idempotently, personal data in its own group', async () => {
        const pii = { fullName: 'Grace Hopper', email: 'grace@example.com' };
        expect(await h.bank.registerCustomer({ customerId: 'cus-2', pii })).toMatchObject({ customerId: 'cus-2', replayed: false, pii: { phone: null } });
        expect(await h.bank.registerCustomer({ customerId: 'cus-2', pii })).toMatchObject({ replayed: true });
        await nothingWritten(() => h.bank.registerCustomer({ customerId: 'cus-2', pii: { ...pii, email: 'g@example.com' } }), 'customer_exists_with_different_fields');
        await h.bank.updateCustomerPii('cus-2', { ...pii, email: 'g@example.com' });
        const [registered, updated] = await streamEvents(BANKING_STREAM_PREFIXES.customer, 'cus-2');
        expect(registered!.data).toMatchObject({ customerId: 'cus-2', pii: { fullName: 'Grace Hopper' } });
        expect(updated!.data).toMatchObject({ pii: { email: 'g@example.com' } });
        await expect(h.bank.updateCustomerPii('nobody', pii)).rejects.toMatchObject({ code: 'customer_not_found' });
      });
    });

    describe('money movements', () => {
      it('deposits, withdraws with a fee, transfers, and pays out through the clearing account: each a balanced entry', async () => {
        await account('a', { balanceMinor: 1_000_000n });
        await account('b');
        const deposit = await h.bank.deposit({ accountId: 'b', amountMinor: 10_000n, reference: 'salary' });
        const withdrawal = await h.bank.withdraw({ accountId: 'a', amountMinor: 20_000n, feeMinor: 50n });
        const transfer = await h.bank.transfer({ fromAccountId: 'a', toAccountId: 'b', amountMinor: 30_000n });
        const payment = await h.bank.pay({ fromAccountId: 'a', beneficiary: 'GB82WEST12345698765432', amountMinor: 40_000n, feeMinor: 25n });
        for (const result of [deposit, withdrawal, transfer, payment]) expect(result.status).toBe('completed');
        expect(withdrawal.completed).toMatchObject({ finalAmount: '20000', debitedAmount: '20050', feesCharged: '50', exchangeRate: '1.000000', settlementDate: '2023-11-14', finalCurrency: 'USD' });
        expect(payment.initiated).toMatchObject({ type: 'payment', toAccountId: null, beneficiary: 'GB82WEST12345698765432' });
        expect(h.ledgerBalance('a')).toBe(1_000_000n - 20_050n - 30_000n - 40_025n);
        expect(h.ledgerBalance('b')).toBe(40_000n);
        expect(h.ledgerAccountBalance('clearing:USD')).toBe(40_000n);
        expect(h.ledgerAccountBalance('fees:USD')).toBe(75n);
        expect(h.ledgerAccountBalance('cash:USD')).toBe(-1_000_000n - 10_000n + 20_000n);
      });

      it('records a ledger refusal as a failed transaction, and releases the debit from the day\'s limit', async () => {
        await account('a', { balanceMinor: 1_000n });
        const refused = await h.bank.withdraw({ accountId: 'a', amountMinor: 1_001n, idempotencyKey: 'too-much' });
        expect(refused).toMatchObject({ status: 'failed', failed: { reason: 'exceeds_credits' } });
        const types = (await streamEvents(BANKING_STREAM_PREFIXES.account, 'a')).map((event) => event.type);
        expect(types).toEqual(['AccountOpened', 'DebitAuthorized', 'DebitReleased']);
        expect(h.ledgerBalance('a')).toBe(1_000n);
      });

      it('flags transactions for regulatory reporting by amount, score and the parties\' compliance flags', async () => {
        await account('a', { balanceMinor: 1_000_000n });
        await account('pep', { flags: { politicallyExposed: true } });
        expect((await h.bank.deposit({ accountId: 'a', amountMinor: 1_000_000n })).completed?.regulatoryReportingRequired).toBe(true);
        expect((await h.bank.withdraw({ accountId: 'a', amountMinor: 100n })).completed?.regulatoryReportingRequired).toBe(false);
        expect((await h.bank.withdraw({ accountId: 'a', amountMinor: 100n, complianceScore: 80 })).completed?.regulatoryReportingRequired).toBe(true);
        expect((await h.bank.transfer({ fromAccountId: 'a', toAccountId: 'pep', amountMinor: 100n })).completed?.regulatoryReportingRequired).toBe(true);
      });

      it('never overdraws one account under concurrent debits, and each is recorded', async () => {
        await account('hot', { balanceMinor: 1_000n });
        await account('sink');
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => h.bank.transfer({ fromAccountId: 'hot', toAccountId: 'sink', amountMinor: 75n, idempotencyKey: `c${i}` })));
        expect(results.filter((result) => result.status === 'completed')).toHaveLength(13);
        expect(results.filter((result) => result.status === 'failed').every((result) => result.failed?.reason === 'exceeds_credits')).toBe(true);
        expect(h.ledgerBalance('hot')).toBe(25n);
        expect(h.ledgerBalance('sink')).toBe(975n);
      });
    });

    describe('tier limits', () => {
      it('refuses a retail debit over 10,000.00, writing nothing', async () => {
        await account('a', { balanceMinor: 5_000_000n });
        await nothingWritten(() => h.bank.withdraw({ accountId: 'a', amountMinor: 1_000_001n }), 'transaction_limit_exceeded');
        expect((await h.bank.withdraw({ accountId: 'a', amountMinor: 1_000_000n })).status).toBe('completed');
      });

      it('sums debits per UTC day to 25,000.00, refused debits excluded, and starts afresh the next day', async () => {
        await account('a', { balanceMinor: 5_000_000n });
        await account('poor', { balanceMinor: 100n });
        await h.bank.withdraw({ accountId: 'a', amountMinor: 1_000_000n });
        await h.bank.transfer({ fromAccountId: 'a', toAccountId: 'poor', amountMinor: 1_000_000n });
        await nothingWritten(() => h.bank.pay({ fromAccountId: 'a', beneficiary: 'X1', amountMinor: 500_001n }), 'daily_limit_exceeded');
        expect((await h.bank.pay({ fromAccountId: 'a', beneficiary: 'X1', amountMinor: 500_000n })).status).toBe('completed');
        // A refused debit is released: `poor` can still send its whole daily limit after one.
        await account('rich', { balanceMinor: 0n });
        expect((await h.bank.withdraw({ accountId: 'rich', amountMinor: 1_000_000n })).status).toBe('failed');
        await h.bank.deposit({ accountId: 'rich', amountMinor: 3_000_000n });
        for (const amount of [1_000_000n, 1_000_000n, 500_000n]) expect((await h.bank.withdraw({ accountId: 'rich', amountMinor: amount })).status).toBe('completed');
        await expect(h.bank.withdraw({ accountId: 'rich', amountMinor: 1n })).rejects.toMatchObject({ code: 'daily_limit_exceeded' });
        h.clock.advance(2 * HOUR); // T0 is 22:13 UTC
        expect((await h.bank.withdraw({ accountId: 'a', amountMinor: 1_000_000n })).status).toBe('completed');
      });

      it('lets a professional account send 100,000.00 at once', async () => {
        await account('pro', { tier: 'professional', balanceMinor: 20_000_000n });
        expect((await h.bank.withdraw({ accountId: 'pro', amountMinor: 10_000_000n })).status).toBe('completed');
        await expect(h.bank.withdraw({ accountId: 'pro', amountMinor: 10_000_001n })).rejects.toMatchObject({ code: 'transaction_limit_exceeded' });
      });
    });

    describe('frozen and closed accounts', () => {
      it('a frozen account neither sends nor receives until unfrozen', async () => {
        await account('a', { balanceMinor: 10_000n });
        await account('b', { balanceMinor: 10_000n });
        await h.bank.freeze({ accountId: 'a', reason: 'fraud review' });
        await nothingWritten(() => h.bank.withdraw({ accountId: 'a', amountMinor: 1n }), 'account_frozen');
        await nothingWritten(() => h.bank.deposit({ accountId: 'a', amountMinor: 1n }), 'account_frozen');
        await expect(h.bank.transfer({ fromAccountId: 'b', toAccountId: 'a', amountMinor: 1n })).rejects.toMatchObject({ code: 'account_frozen', param: 'toAccountId' });
        await nothingWritten(() => h.bank.freeze({ accountId: 'a', reason: 'again' }), 'account_already_frozen');
        await h.bank.unfreeze({ accountId: 'a' });
        await nothingWritten(() => h.bank.unfreeze({ accountId: 'a' }), 'account_not_frozen');
        expect((await h.bank.transfer({ fromAccountId: 'b', toAccountId: 'a', amountMinor: 1n })).status).toBe('completed');
      });

      it('a freeze waits while the close lane of its account is held elsewhere (a named lock of the store, shared by every process)', async () => {
        await account('lane', { balanceMinor: 100n });
        const done: string[] = [];
        let release!: () => void;
        const holding = h.store.lock('banking:close:lane', () => new Promise<void>((resolve) => { release = resolve; }));
        await new Promise((resolve) => setTimeout(resolve, 20));
        const freezing = h.bank.freeze({ accountId: 'lane', reason: 'fraud review' }).then(() => done.push('freeze'));
        await new Promise((resolve) => setTimeout(resolve, 150));
        expect(done).toEqual([]);
        release();
        await holding;
        await freezing;
        expect(done).toEqual(['freeze']);
        expect(h.ledgerBalance('lane')).toBe(100n);
      });

      it('a freeze acknowledged while a credit, a transfer in and a debit are under way stops all three', async () => {
        await account('merchant', { balanceMinor: 1_000n });
        await account('payer', { balanceMinor: 5_000n });
        // A second service on the same store and ledger (as another process would be) whose transaction writes wait at a gate:
        // each movement has read the merchant's account as not frozen, and is held right before it writes.
        let release!: () => void;
        const gate = new Promise<void>((resolve) => { release = resolve; });
        let held = 0;
        let allHeld!: () => void;
        const heldAll = new Promise<void>((resolve) => { allHeld = resolve; });
        const gated: EventStore = {
          ...h.store,
          async append(writes) {
            const list: readonly StreamWrite[] = Array.isArray(writes) ? writes : [writes as StreamWrite];
            if (list.some((write) => write.events.some((event) => event.type === 'TransactionInitiated'))) {
              held += 1;
              if (held === 3) allHeld();
              await gate;
            }
            return h.store.append(writes);
          },
        };
        const racing = await BankingService.open(gated, { ledger: h.bank.ledger, clock: h.clock, ids: counterIds('race') });
        const deposit = racing.deposit({ accountId: 'merchant', amountMinor: 100n, idempotencyKey: 'race-deposit' });
        const transferIn = racing.transfer({ fromAccountId: 'payer', toAccountId: 'merchant', amountMinor: 200n, idempotencyKey: 'race-transfer' });
        const withdrawal = racing.withdraw({ accountId: 'merchant', amountMinor: 300n, idempotencyKey: 'race-withdrawal' }).catch((error: unknown) => error);
        await heldAll;
        await h.bank.freeze({ accountId: 'merchant', reason: 'fraud review' });
        const atFreeze = h.ledgerBalance('merchant');
        release();
        expect(await deposit).toMatchObject({ status: 'failed', failed: { reason: 'account_frozen' } });
        expect(await transferIn).toMatchObject({ status: 'failed', failed: { reason: 'account_frozen' } });
        // The debit's authorization meets the freeze on the account's own stream: refused before it is written.
        expect(await withdrawal).toMatchObject({ code: 'account_frozen' });
        expect(atFreeze).toBe(1_000n);
        expect(h.ledgerBalance('merchant')).toBe(1_000n);
        expect(h.ledgerBalance('payer')).toBe(5_000n);
        await h.bank.unfreeze({ accountId: 'merchant' });
        expect(await h.bank.deposit({ accountId: 'merchant', amountMinor: 5n })).toMatchObject({ status: 'completed' });
        expect(h.ledgerBalance('merchant')).toBe(1_005n);
      });

      it('credits racing a freeze: the balance when the freeze is acknowledged is final, and every credit is counted in it or refused as frozen', async () => {
        await account('hot');
        const credits = Array.from({ length: 40 }, (_, i) => h.bank.deposit({ accountId: 'hot', amountMinor: 1n, idempotencyKey: `hot-${i}` })
          .then((result): TransactionResult | unknown => result, (error: unknown) => error));
        const atFreeze = h.bank.freeze({ accountId: 'hot', reason: 'review' }).then(() => h.ledgerBalance('hot'));
        const balanceAtFreeze = await atFreeze;
        const outcomes = await Promise.all(credits);
        expect(h.ledgerBalance('hot')).toBe(balanceAtFreeze);
        const completed = outcomes.filter((outcome) => (outcome as TransactionResult).status === 'completed');
        expect(BigInt(completed.length)).toBe(balanceAtFreeze);
        for (const outcome of outcomes) {
          if ((outcome as TransactionResult).status === 'completed') continue;
          const refusedAsFrozen = isDaybookError(outcome, 'account_frozen') || (outcome as TransactionResult).failed?.reason === 'account_frozen';
          expect(refusedAsFrozen, `unexpected outcome ${JSON.stringify(outcome, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`).toBe(true);
        }
      });

      it('a closed account refuses everything', async () => {
        await account('a', { balanceMinor: 10_000n });
        await account('b');
        await h.bank.close({ accountId: 'b', reason: 'customer_request' });
        await nothingWritten(() => h.bank.deposit({ accountId: 'b', amountMinor: 1n }), 'account_closed');
        await nothingWritten(() => h.bank.transfer({ fromAccountId: 'a', toAccountId: 'b', amountMinor: 1n }), 'account_closed');
        await nothingWritten(() => h.bank.withdraw({ accountId: 'b', amountMinor: 1n }), 'account_closed');
        await nothingWritten(() => h.bank.freeze({ accountId: 'b', reason: 'x' }), 'account_closed');
        await nothingWritten(() => h.bank.close({ accountId: 'b', reason: 'customer_request' }), 'account_already_closed');
        await nothingWritten(() => h.bank.withdraw({ accountId: 'ghost', amountMinor: 1n }), 'account_not_found');
      });
    });

    describe('idempotency keys', () => {
      it('the same key and body answer the first result and write nothing; another body is refused', async () => {
        await account('a', { balanceMinor: 10_000n });
        await account('b');
        const first = await h.bank.transfer({ fromAccountId: 'a', toAccountId: 'b', amountMinor: 100n, idempotencyKey: 'k1' });
        const head = await h.store.headPosition();
        const again = await h.bank.transfer({ fromAccountId: 'a', toAccountId: 'b', amountMinor: 100n, idempotencyKey: 'k1' });
        expect(again).toEqual({ ...first, replayed: true });
        expect(await h.store.headPosition()).toBe(head);
        await nothingWritten(() => h.bank.transfer({ fromAccountId: 'a', toAccountId: 'b', amountMinor: 101n, idempotencyKey: 'k1' }), 'idempotency_key_reused');
        await nothingWritten(() => h.bank.withdraw({ accountId: 'a', amountMinor: 100n, idempotencyKey: 'k1' }), 'idempotency_key_reused');
        expect(h.ledgerBalance('b')).toBe(100n);
      });

      it('idempotency wins over existence and state: a replay after a freeze answers the first result', async () => {
        await account('a', { balanceMinor: 10_000n });
        const first = await h.bank.withdraw({ accountId: 'a', amountMinor: 100n, idempotencyKey: 'k2' });
        await h.bank.freeze({ accountId: 'a', reason: 'review' });
        expect(await h.bank.withdraw({ accountId: 'a', amountMinor: 100n, idempotencyKey: 'k2' })).toEqual({ ...first, replayed: true });
        await expect(h.bank.withdraw({ accountId: 'a', amountMinor: 100n, idempotencyKey: 'k3' })).rejects.toMatchObject({ code: 'account_frozen' });
      });

      it('a failed transaction stays failed on retry, even once the money is there', async () => {
        await account('a', { balanceMinor: 50n });
        expect((await h.bank.withdraw({ accountId: 'a', amountMinor: 100n, idempotencyKey: 'k4' })).status).toBe('failed');
        await h.bank.deposit({ accountId: 'a', amountMinor: 1_000n });
        expect(await h.bank.withdraw({ accountId: 'a', amountMinor: 100n, idempotencyKey: 'k4' })).toMatchObject({ status: 'failed', replayed: true });
      });

      it('concurrent requests with one key make one transaction; without a key each request is its own', async () => {
        await account('a', { balanceMinor: 10_000n });
        await account('b');
        const results = await Promise.all(Array.from({ length: 8 }, () => h.bank.transfer({ fromAccountId: 'a', toAccountId: 'b', amountMinor: 10n, idempotencyKey: 'same' })));
        expect(new Set(results.map((result) => result.transactionId)).size).toBe(1);
        expect(results.filter((result) => !result.replayed)).toHaveLength(1);
        await h.bank.transfer({ fromAccountId: 'a', toAccountId: 'b', amountMinor: 10n });
        await h.bank.transfer({ fromAccountId: 'a', toAccountId: 'b', amountMinor: 10n });
        expect(h.ledgerBalance('b')).toBe(30n);
      });

      it('finishes a transaction that stopped half way when retried with its key after a restart', async () => {
        await account('a', { balanceMinor: 10_000n });
        await h.bank.ledger.close(); // the ledger goes away between TransactionInitiated and the booking
        await expect(h.bank.withdraw({ accountId: 'a', amountMinor: 700n, idempotencyKey: 'crash' })).rejects.toMatchObject({ code: 'store_closed' });
        const bank = await h.restart();
        expect(h.ledgerBalance('a')).toBe(10_000n);
        const finished = await bank.withdraw({ accountId: 'a', amountMinor: 700n, idempotencyKey: 'crash' });
        expect(finished).toMatchObject({ status: 'completed', replayed: true });
        expect(await bank.withdraw({ accountId: 'a', amountMinor: 700n, idempotencyKey: 'crash' })).toEqual(finished);
        expect(h.ledgerBalance('a')).toBe(9_300n);
        expect((await bank.account('a')).status).toBe('open');
      });
    });

    describe('cross-currency transfers', () => {
      it('converts at the given rate, half even to the minor unit, with the rounding and the FX position booked', async () => {
        await account('usd', { balanceMinor: 100_000n });
        await account('eur', { currency: 'EUR' });
        const result = await h.bank.transferCrossCurrency({ fromAccountId: 'usd', toAccountId: 'eur', amountMinor: 10_000n, exchangeRate: '0.923456', feeMinor: 100n });
        // 100.00 USD × 0.923456 = 92.3456 EUR → 92.35
        expect(result.completed).toMatchObject({ finalAmount: '9235', finalCurrency: 'EUR', debitedAmount: '10100', feesCharged: '100', exchangeRate: '0.923456' });
        expect(h.ledgerBalance('eur')).toBe(9_235n);
        expect(h.ledgerBalance('usd')).toBe(100_000n - 10_100n);
        expect(h.ledgerAccountBalance('fx:EUR-USD:USD')).toBe(10_000n);
        expect(h.ledgerAccountBalance('fx:EUR-USD:EUR')).toBe(-9_234n);
        expect(h.ledgerAccountBalance('fxround:EUR')).toBe(-1n);
        expect(h.ledgerAccountBalance('fees:USD')).toBe(100n);
      });

      it('rounds ties to even', async () => {
        await account('usd', { balanceMinor: 100n });
        await account('gbp', { currency: 'GBP' });
        const credited = async (amountMinor: bigint) =>
          (await h.bank.transferCrossCurrency({ fromAccountId: 'usd', toAccountId: 'gbp', amountMinor, exchangeRate: '0.5' })).completed?.finalAmount;
        expect(await credited(3n)).toBe('2'); // 1.5 → 2
        expect(await credited(5n)).toBe('2'); // 2.5 → 2
        expect(await credited(7n)).toBe('4'); // 3.5 → 4
      });

      it('refuses what it cannot convert exactly or sensibly, writing nothing', async () => {
        await account('usd', { balanceMinor: 100n });
        await account('usd2');
        await account('eur', { currency: 'EUR' });
        await nothingWritten(() => h.bank.transferCrossCurrency({ fromAccountId: 'usd', toAccountId: 'eur', amountMinor: 1n, exchangeRate: '0.5' }), 'validation_failed');
        await nothingWritten(() => h.bank.transferCrossCurrency({ fromAccountId: 'usd', toAccountId: 'eur', amountMinor: 10n, exchangeRate: '0.9234567' }), 'validation_failed');
        await nothingWritten(() => h.bank.transferCrossCurrency({ fromAccountId: 'usd', toAccountId: 'usd2', amountMinor: 10n, exchangeRate: '1.1' }), 'validation_failed');
        await nothingWritten(() => h.bank.transfer({ fromAccountId: 'usd', toAccountId: 'eur', amountMinor: 10n }), 'account_currency_mismatch');
        await nothingWritten(() => h.bank.withdraw({ accountId: 'usd', amountMinor: 10n, currency: 'GBP' }), 'account_currency_mismatch');
      });
    });

    describe('closing', () => {
      it('refuses to close a balance without a sweep account, then sweeps it to the named one', async () => {
        await account('a', { balanceMinor: 50_000n });
        await account('b', { balanceMinor: 1n });
        await account('eur', { currency: 'EUR' });
        await nothingWritten(() => h.bank.close({ accountId: 'a', reason: 'customer_request' }), 'sweep_account_required');
        await nothingWritten(() => h.bank.close({ accountId: 'a', reason: 'customer_request', sweepToAccountId: 'eur' }), 'account_currency_mismatch');
        await nothingWritten(() => h.bank.close({ accountId: 'a', reason: 'customer_request', sweepToAccountId: 'a' }), 'accounts_must_be_different');
        expect(h.bank.ledger.state.account(customerLedgerAccount('a'))?.closed).toBe(false);

        h.clock.advance(HOUR);
        const closed = await h.bank.close({ accountId: 'a', reason: 'fraud', sweepToAccountId: 'b' });
        expect(closed.closed).toEqual({
          accountId: 'a', reason: 'fraud', finalBalance: '50000', closureDate: '2023-11-14', closedAt: '2023-11-14T23:13:20.000Z',
          regulatorNotified: true, sweptToAccountId: 'b', sweepTransactionId: closed.sweep!.transactionId,
        });
        expect(closed.sweep).toMatchObject({ status: 'completed', initiated: { type: 'transfer', fromAccountId: 'a', toAccountId: 'b', amount: '50000' }, completed: { finalAmount: '50000' } });
        expect(h.ledgerBalance('a')).toBe(0n);
        expect(h.ledgerBalance('b')).toBe(50_001n);
        expect(h.bank.ledger.state.account(customerLedgerAccount('a'))?.closed).toBe(true);
        await nothingWritten(() => h.bank.close({ accountId: 'a', reason: 'fraud', sweepToAccountId: 'b' }), 'account_already_closed');
        // Asked again otherwise, it is still closed: its finished sweep is no idempotency conflict.
        await nothingWritten(() => h.bank.close({ accountId: 'a', reason: 'fraud' }), 'account_already_closed');
        await nothingWritten(() => h.bank.close({ accountId: 'a', reason: 'fraud', sweepToAccountId: 'eur' }), 'account_already_closed');
      });

      it('closes a frozen account, sweeping it; a customer-request closure does not notify the regulator unless told', async () => {
        await account('a', { balanceMinor: 700n });
        await account('b');
        await h.bank.freeze({ accountId: 'a', reason: 'deceased' });
        const closed = await h.bank.close({ accountId: 'a', reason: 'customer_request', sweepToAccountId: 'b' });
        expect(closed.closed).toMatchObject({ finalBalance: '700', regulatorNotified: false });
        expect(h.ledgerBalance('b')).toBe(700n);
        await account('c');
        expect((await h.bank.close({ accountId: 'c', reason: 'customer_request', regulatorNotified: true })).closed).toMatchObject({ finalBalance: '0', regulatorNotified: true, sweepTransactionId: null });
      });
    });

    describe('metadata', () => {
      it('carries the correlation id on every event of an operation, and chains causation', async () => {
        await account('a', { balanceMinor: 1_000n });
        const result = await h.bank.withdraw({ accountId: 'a', amountMinor: 10n }, { correlationId: 'corr-1', causationId: 'cmd-1', actor: 'teller-7' });
        const [initiated, completed] = await streamEvents(BANKING_STREAM_PREFIXES.transaction, result.transactionId);
        expect(initiated!.metadata).toEqual({ correlationId: 'corr-1', causationId: 'cmd-1', actor: 'teller-7' });
        expect(completed!.metadata).toEqual({ correlationId: 'corr-1', causationId: initiated!.eventId, actor: 'teller-7' });
        const authorized = (await streamEvents(BANKING_STREAM_PREFIXES.account, 'a')).find((event) => event.type === 'DebitAuthorized');
        expect(authorized!.metadata).toMatchObject({ correlationId: 'corr-1' });
        const all = await h.store.readAll({ limit: 1000 });
        // The ledger's events of the operation (booked between its initiation and its completion) carry its correlation id too.
        const booked = all.filter((e) => e.streamId.startsWith('ledger-') && e.position > initiated!.position && e.position < completed!.position);
        expect(booked.length).toBeGreaterThan(0);
        for (const event of booked) expect(event.metadata).toMatchObject({ correlationId: 'corr-1', actor: 'teller-7' });
        for (const event of all.filter((e) => !e.streamId.startsWith('ledger-'))) {
          expect(event.schemaVersion).toBe(1);
          expect(typeof event.metadata.correlationId).toBe('string');
        }
      });
    });

    describe('read model', () => {
      async function someHistory(): Promise<void> {
        await account('a');
        await account('b');
        for (let i = 1; i <= 7; i += 1) {
          h.clock.advance(HOUR);
          await h.bank.deposit({ accountId: 'a', amountMinor: BigInt(i) * 100n, reference: `d${i}` });
        }
        h.clock.advance(HOUR);
        await h.bank.transfer({ fromAccountId: 'a', toAccountId: 'b', amountMinor: 250n, feeMinor: 5n, reference: 't' });
      }

      // Balances, pending halves, paging, filters, cursors and as-of balances of the same model: banking.readModel.int.test.ts, on both backends.
      it('a live model fed by a subscription equals one rebuilt from the log', async () => {
        const live = new InMemoryBankingReadModel();
        const feed = live.follow(h.store);
        await someHistory();
        await h.bank.withdraw({ accountId: 'a', amountMinor: 1_000_000n }); // refused by the ledger: a failed transaction
        await h.bank.close({ accountId: 'b', reason: 'customer_request', sweepToAccountId: 'a' });
        const rebuilt = await InMemoryBankingReadModel.rebuild(h.store);
        const target = await rebuilt.position();
        for (let polls = 0; (await live.position()) < target; polls += 1) {
          expect(polls, 'the live model did not catch up').toBeLessThan(500);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await feed.stop();
        expect(live.snapshot()).toEqual(rebuilt.snapshot());
        expect((await live.balance('a'))!.postedMinor).toBe(h.ledgerBalance('a'));
        expect(await live.balance('b')).toMatchObject({ status: 'closed', postedMinor: 0n });
      });
    });
  });
}

describeBanking(SQLITE_BANK_BACKEND);

describeIfPostgres('banking service (postgres)', () => describeBanking(POSTGRES_BANK_BACKEND));
