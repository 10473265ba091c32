/**
 * Property test of the banking service on a real store (SQLite, 25 runs;
 * PostgreSQL, a fresh database per run, 8 runs): random
 * sequences of operations (deposits, withdrawals, transfers, cross-currency
 * transfers, payments, freezes, closes, time passing, idempotency keys reused
 * with the same or another body), refusals included. After every step each
 * ledger's balances sum to zero per currency and no customer account is
 * overdrawn; a retried step with the same key writes nothing and answers
 * the same. At the end, the read model kept up to date step by step equals
 * one replayed from the log, and its posted balances equal the ledger's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDaybookError } from '../kernel/errors.ts';
import { describeIfPostgres } from '../../test/support/postgres.ts';
import { openBankHarness, POSTGRES_BANK_BACKEND, SQLITE_BANK_BACKEND, type BankBackend, type BankHarness } from './banking.harness.ts';
import { customerLedgerAccount, systemLedgerAccounts } from './banking.ledgerPlan.ts';
import { InMemoryBankingReadModel } from './banking.readModel.memory.ts';
import type { TransactionResult } from './banking.service.types.ts';
import type { BankingCurrency, RegulatoryTier } from './banking.types.ts';
import { HOUR } from './banking.testkit.ts';

const ACCOUNTS: Array<{ id: string; currency: BankingCurrency; tier: RegulatoryTier; balanceMinor: bigint }> = [
  { id: 'u1', currency: 'USD', tier: 'retail', balanceMinor: 500_000n },
  { id: 'u2', currency: 'USD', tier: 'retail', balanceMinor: 0n },
  { id: 'e1', currency: 'EUR', tier: 'professional', balanceMinor: 2_000_000n },
  { id: 'g1', currency: 'GBP', tier: 'retail', balanceMinor: 100_000n },
];
const SYSTEM_ACCOUNTS = systemLedgerAccounts(0).map((command) => command.data.accountId);

const anAccount = fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...ACCOUNTS.map((a) => a.id)) }, { weight: 1, arbitrary: fc.constant('ghost') });
const anAmount = fc.oneof({ weight: 6, arbitrary: fc.bigInt({ min: 1n, max: 200_000n }) }, { weight: 1, arbitrary: fc.bigInt({ min: 900_000n, max: 1_200_000n }) });
const aFee = fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 500n }));
const aKey = fc.option(fc.constantFrom('k0', 'k1', 'k2', 'k3'), { nil: undefined });

type Step = { name: string; run: (bank: BankHarness['bank']) => Promise<unknown>; key: string | undefined };
const step = (name: string, key: string | undefined, run: Step['run']): Step => ({ name, key, run });

const aStep: fc.Arbitrary<Step | { name: 'wait'; hours: number }> = fc.oneof(
  fc.record({ to: anAccount, amount: anAmount, key: aKey }).map((o) => step(`deposit ${o.amount} to ${o.to}`, o.key, (bank) => bank.deposit({ accountId: o.to, amountMinor: o.amount, idempotencyKey: o.key }))),
  fc.record({ from: anAccount, amount: anAmount, fee: aFee, key: aKey })
    .map((o) => step(`withdraw ${o.amount}+${o.fee} from ${o.from}`, o.key, (bank) => bank.withdraw({ accountId: o.from, amountMinor: o.amount, feeMinor: o.fee, idempotencyKey: o.key }))),
  fc.record({ from: anAccount, to: anAccount, amount: anAmount, fee: aFee, key: aKey })
    .map((o) => step(`transfer ${o.amount}+${o.fee} ${o.from}→${o.to}`, o.key, (bank) => bank.transfer({ fromAccountId: o.from, toAccountId: o.to, amountMinor: o.amount, feeMinor: o.fee, idempotencyKey: o.key }))),
  fc.record({ from: anAccount, to: anAccount, amount: anAmount, rate: fc.constantFrom('0.5', '0.923456', '1.25', '1.333333', '0.000001'), key: aKey })
    .map((o) => step(`convert ${o.amount} ${o.from}→${o.to} at ${o.rate}`, o.key, (bank) => bank.transferCrossCurrency({ fromAccountId: o.from, toAccountId: o.to, amountMinor: o.amount, exchangeRate: o.rate, idempotencyKey: o.key }))),
  fc.record({ from: anAccount, amount: anAmount, fee: aFee, key: aKey })
    .map((o) => step(`pay ${o.amount}+${o.fee} from ${o.from}`, o.key, (bank) => bank.pay({ fromAccountId: o.from, beneficiary: 'DE89370400440532013000', amountMinor: o.amount, feeMinor: o.fee, idempotencyKey: o.key }))),
  fc.record({ account: anAccount, freezing: fc.boolean() }).map((o) => step(`${o.freezing ? 'freeze' : 'unfreeze'} ${o.account}`, undefined, (bank) =>
    (o.freezing ? bank.freeze({ accountId: o.account, reason: 'review' }) : bank.unfreeze({ accountId: o.account })))),
  fc.record({ account: anAccount, sweepTo: fc.option(anAccount, { nil: undefined }) }).map((o) => step(`close ${o.account} → ${o.sweepTo}`, undefined, (bank) =>
    bank.close({ accountId: o.account, reason: 'customer_request', sweepToAccountId: o.sweepTo }))),
  fc.integer({ min: 1, max: 30 }).map((hours) => ({ name: 'wait' as const, hours })),
);

function expectLedgerInvariants(h: BankHarness, context: string): void {
  const sums = new Map<string, bigint>();
  for (const id of [...SYSTEM_ACCOUNTS, ...ACCOUNTS.map((a) => customerLedgerAccount(a.id))]) {
    const record = h.bank.ledger.state.account(id);
    if (record === undefined) continue;
    const { creditsPosted, debitsPosted, creditsPending, debitsPending } = record.balances;
    expect(creditsPending + debitsPending, `${context}: ${id} has pending amounts`).toBe(0n);
    sums.set(record.currency, (sums.get(record.currency) ?? 0n) + creditsPosted - debitsPosted);
    if (id.startsWith('acct:')) expect(debitsPosted <= creditsPosted, `${context}: ${id} overdrawn`).toBe(true);
  }
  for (const [currency, sum] of sums) expect(sum, `${context}: ${currency} balances sum`).toBe(0n);
}

async function runStep(h: BankHarness, current: Step): Promise<{ result: unknown } | { code: string }> {
  try {
    return { result: await current.run(h.bank) };
  } catch (error) {
    if (!isDaybookError(error)) throw error;
    return { code: error.code };
  }
}

function describeProperties(backend: BankBackend, numRuns: number): void {
  describe(`banking service properties on ${backend.name}`, () => {
    it('keeps every ledger balanced, retries harmless, and the read model equal to a replay', async () => {
      await fc.assert(fc.asyncProperty(fc.array(aStep, { minLength: 1, maxLength: 25 }), async (steps) => {
        const h = await openBankHarness(backend);
        try {
          for (const setup of ACCOUNTS) await h.account(setup.id, { currency: setup.currency, tier: setup.tier, balanceMinor: setup.balanceMinor });
          const live = new InMemoryBankingReadModel();
          await live.catchUp(h.store);
          for (const current of steps) {
            if (current.name === 'wait') {
              h.clock.advance((current as { hours: number }).hours * HOUR);
              continue;
            }
            const move = current as Step;
            const first = await runStep(h, move);
            expectLedgerInvariants(h, move.name);
            if (move.key !== undefined && 'result' in first) {
              const head = await h.store.headPosition();
              const again = await runStep(h, move);
              expect(again, `retrying ${move.name}`).toEqual({ result: { ...(first.result as TransactionResult), replayed: true } });
              expect(await h.store.headPosition(), `retrying ${move.name} wrote events`).toBe(head);
            }
            await live.catchUp(h.store);
          }
          const rebuilt = await InMemoryBankingReadModel.rebuild(h.store);
          expect(live.snapshot()).toEqual(rebuilt.snapshot());
          for (const { id } of ACCOUNTS) {
            const balance = (await rebuilt.balance(id))!;
            expect(balance.postedMinor, `${id} read model vs ledger`).toBe(h.ledgerBalance(id));
            expect(balance.pendingMinor).toBe(0n);
          }
        } finally {
          await h.close();
        }
      }), { numRuns });
    }, 300_000);
  });
}

describeProperties(SQLITE_BANK_BACKEND, 25);

describeIfPostgres('banking service properties (postgres)', () => describeProperties(POSTGRES_BANK_BACKEND, 8));
