/**
 * Property test of the banking service on a real store (SQLite and
 * PostgreSQL, a fresh store per run, 25 runs each, the same ones): random
 * sequences of operations (deposits, withdrawals, transfers, cross-currency
 * transfers, payments, freezes, closes, time passing, idempotency keys reused
 * with the same or another body), refusals included. Each operation may be
 * refused only with the codes listed for it in ALLOWED_OUTCOMES. After every
 * step each ledger's balances sum to zero per currency and no customer
 * account is overdrawn; a retried step with the same key writes nothing and
 * answers the same. At the end, the read model kept up to date step by step
 * equals one replayed from the log, and its posted balances equal the
 * ledger's; and the run reached every outcome in WANTED_OUTCOMES (so a
 * service that refused everything, or a generator that never reached a
 * case, fails).
 *
 * The seed is fixed (DAYBOOK_FC_SEED overrides it), so the run, and with it
 * the coverage check, is the same on every machine; DAYBOOK_FC_RUNS sets the
 * runs per backend (fewer than the defaults may miss a wanted outcome).
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
const anAmount = fc.oneof({ weight: 5, arbitrary: fc.bigInt({ min: 1n, max: 200_000n }) }, { weight: 1, arbitrary: fc.bigInt({ min: 900_000n, max: 1_200_000n }) });
const aFee = fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 500n }));
const aKey = fc.option(fc.constantFrom('k0', 'k1', 'k2', 'k3'), { nil: undefined });

const SEED = Number(process.env.DAYBOOK_FC_SEED ?? 20_261_127);
const RUNS = process.env.DAYBOOK_FC_RUNS === undefined ? null : Number(process.env.DAYBOOK_FC_RUNS);

type Kind = 'deposit' | 'withdraw' | 'transfer' | 'convert' | 'pay' | 'freeze' | 'unfreeze' | 'close';
const MOVEMENTS: readonly Kind[] = ['deposit', 'withdraw', 'transfer', 'convert', 'pay'];
type Step = { kind: Kind; name: string; run: (bank: BankHarness['bank']) => Promise<unknown>; key: string | undefined };
const step = (kind: Kind, name: string, key: string | undefined, run: Step['run']): Step => ({ kind, name, key, run });

/**
 * What each operation may answer, given what the generator sends: `done` (an
 * account operation), `completed` or `failed:<reason>` (a movement's recorded
 * result), or the code of a refusal. Anything else fails the test, so a
 * service that refused with the wrong code, or failed what it should refuse,
 * cannot pass.
 */
const MOVEMENT_REFUSALS = ['account_not_found', 'account_closed', 'account_frozen', 'transaction_limit_exceeded', 'daily_limit_exceeded', 'idempotency_key_reused'];
const ALLOWED_OUTCOMES: Record<Kind, readonly string[]> = {
  deposit: ['completed', 'account_not_found', 'account_closed', 'account_frozen', 'idempotency_key_reused'],
  withdraw: ['completed', 'failed:exceeds_credits', ...MOVEMENT_REFUSALS],
  transfer: ['completed', 'failed:exceeds_credits', ...MOVEMENT_REFUSALS, 'accounts_must_be_different', 'account_currency_mismatch'],
  // validation_failed: an amount that converts to zero at a tiny rate.
  convert: ['completed', 'failed:exceeds_credits', ...MOVEMENT_REFUSALS, 'accounts_must_be_different', 'validation_failed'],
  pay: ['completed', 'failed:exceeds_credits', ...MOVEMENT_REFUSALS],
  freeze: ['done', 'account_not_found', 'account_closed', 'account_already_frozen'],
  unfreeze: ['done', 'account_not_found', 'account_closed', 'account_not_frozen'],
  close: ['done', 'account_not_found', 'account_already_closed', 'account_closed', 'account_frozen', 'accounts_must_be_different', 'account_currency_mismatch', 'sweep_account_required'],
};

/**
 * Outcomes the whole property run must reach at least once: each success, each
 * refusal the generator aims at, and a replayed retry. `movement <outcome>`
 * counts any of deposit, withdraw, transfer, convert and pay.
 */
const WANTED_OUTCOMES = [
  'deposit completed', 'withdraw completed', 'transfer completed', 'convert completed', 'pay completed',
  'freeze done', 'unfreeze done', 'close done', 'retry replayed',
  'withdraw failed:exceeds_credits', 'transfer failed:exceeds_credits', 'pay failed:exceeds_credits',
  'movement transaction_limit_exceeded', 'movement account_frozen', 'movement account_closed', 'movement account_not_found',
  'movement idempotency_key_reused', 'transfer accounts_must_be_different', 'transfer account_currency_mismatch',
  'freeze account_already_frozen', 'unfreeze account_not_frozen', 'close sweep_account_required',
];

// Same-currency pairs are weighted up: two random accounts rarely share a currency, and a transfer must complete too.
const aTransferPair = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(['u1', 'u2'], ['u2', 'u1']) },
  { weight: 2, arbitrary: fc.tuple(anAccount, anAccount) },
);

// A close that can succeed (a sweep to the other USD account) is weighted up, so that later movements meet a closed account.
const aClosing = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom<[string, string | undefined]>(['u1', 'u2'], ['u2', 'u1']) },
  { weight: 2, arbitrary: fc.tuple(anAccount, fc.option(anAccount, { nil: undefined })) },
);

const aStep: fc.Arbitrary<Step | { name: 'wait'; hours: number }> = fc.oneof(
  fc.record({ to: anAccount, amount: anAmount, key: aKey }).map((o) => step('deposit', `deposit ${o.amount} to ${o.to}`, o.key, (bank) => bank.deposit({ accountId: o.to, amountMinor: o.amount, idempotencyKey: o.key }))),
  fc.record({ from: anAccount, amount: anAmount, fee: aFee, key: aKey })
    .map((o) => step('withdraw', `withdraw ${o.amount}+${o.fee} from ${o.from}`, o.key, (bank) => bank.withdraw({ accountId: o.from, amountMinor: o.amount, feeMinor: o.fee, idempotencyKey: o.key }))),
  fc.record({ pair: aTransferPair, amount: anAmount, fee: aFee, key: aKey })
    .map(({ pair: [from, to], ...o }) => step('transfer', `transfer ${o.amount}+${o.fee} ${from}→${to}`, o.key, (bank) => bank.transfer({ fromAccountId: from, toAccountId: to, amountMinor: o.amount, feeMinor: o.fee, idempotencyKey: o.key }))),
  fc.record({ from: anAccount, to: anAccount, amount: anAmount, rate: fc.constantFrom('0.5', '0.923456', '1.25', '1.333333', '0.000001'), key: aKey })
    .map((o) => step('convert', `convert ${o.amount} ${o.from}→${o.to} at ${o.rate}`, o.key, (bank) => bank.transferCrossCurrency({ fromAccountId: o.from, toAccountId: o.to, amountMinor: o.amount, exchangeRate: o.rate, idempotencyKey: o.key }))),
  fc.record({ from: anAccount, amount: anAmount, fee: aFee, key: aKey })
    .map((o) => step('pay', `pay ${o.amount}+${o.fee} from ${o.from}`, o.key, (bank) => bank.pay({ fromAccountId: o.from, beneficiary: 'DE89370400440532013000', amountMinor: o.amount, feeMinor: o.fee, idempotencyKey: o.key }))),
  // Weighted up, so that an account is frozen twice, or unfrozen, within a run.
  { weight: 2, arbitrary: fc.record({ account: anAccount, freezing: fc.boolean() }).map((o) => step(o.freezing ? 'freeze' : 'unfreeze', `${o.freezing ? 'freeze' : 'unfreeze'} ${o.account}`, undefined, (bank) =>
    (o.freezing ? bank.freeze({ accountId: o.account, reason: 'review' }) : bank.unfreeze({ accountId: o.account })))) },
  fc.record({ closing: aClosing }).map(({ closing: [account, sweepTo] }) => step('close', `close ${account} → ${sweepTo}`, undefined, (bank) =>
    bank.close({ accountId: account, reason: 'customer_request', sweepToAccountId: sweepTo }))),
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

type Answer = { result: unknown } | { code: string };

async function runStep(h: BankHarness, current: Step): Promise<Answer> {
  try {
    return { result: await current.run(h.bank) };
  } catch (error) {
    if (!isDaybookError(error)) throw error;
    return { code: error.code };
  }
}

/** `completed` or `failed:<reason>` for a movement, `done` for an account operation, else the refusal's code. */
function outcomeOf(kind: Kind, answer: Answer): string {
  if ('code' in answer) return answer.code;
  if (!MOVEMENTS.includes(kind)) return 'done';
  const result = answer.result as TransactionResult;
  return result.status === 'failed' ? `failed:${result.failed!.reason}` : result.status;
}

/** Counts `<kind> <outcome>` across a whole property run. */
type Outcomes = Map<string, number>;
const count = (outcomes: Outcomes, outcome: string): void => { outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1); };

async function runSteps(h: BankHarness, steps: ReadonlyArray<Step | { name: 'wait'; hours: number }>, outcomes: Outcomes): Promise<InMemoryBankingReadModel> {
  const live = new InMemoryBankingReadModel();
  await live.catchUp(h.store);
  for (const current of steps) {
    if (current.name === 'wait') {
      h.clock.advance((current as { hours: number }).hours * HOUR);
      continue;
    }
    const move = current as Step;
    const first = await runStep(h, move);
    const outcome = outcomeOf(move.kind, first);
    expect(ALLOWED_OUTCOMES[move.kind], `${move.name} answered ${outcome}`).toContain(outcome);
    count(outcomes, `${move.kind} ${outcome}`);
    if (MOVEMENTS.includes(move.kind)) count(outcomes, `movement ${outcome}`);
    expectLedgerInvariants(h, move.name);
    if (move.key !== undefined && 'result' in first) {
      const head = await h.store.headPosition();
      const again = await runStep(h, move);
      expect(again, `retrying ${move.name}`).toEqual({ result: { ...(first.result as TransactionResult), replayed: true } });
      expect(await h.store.headPosition(), `retrying ${move.name} wrote events`).toBe(head);
      count(outcomes, 'retry replayed');
    }
    await live.catchUp(h.store);
  }
  return live;
}

function describeProperties(backend: BankBackend, defaultRuns: number): void {
  describe(`banking service properties on ${backend.name}`, () => {
    const outcomes: Outcomes = new Map();
    it('keeps every ledger balanced, refuses only with the expected codes, retries harmless, and the read model equal to a replay', async () => {
      await fc.assert(fc.asyncProperty(fc.array(aStep, { minLength: 1, maxLength: 40, size: 'max' }), async (steps) => {
        const h = await openBankHarness(backend);
        try {
          for (const setup of ACCOUNTS) await h.account(setup.id, { currency: setup.currency, tier: setup.tier, balanceMinor: setup.balanceMinor });
          const live = await runSteps(h, steps, outcomes);
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
      }), { numRuns: RUNS ?? defaultRuns, seed: SEED });
    }, 300_000);

    it('reached every wanted outcome (successes, insufficient funds, frozen, closed, limits, replays)', () => {
      if (process.env.DAYBOOK_FC_STATS === '1') console.log([...outcomes].sort().map(([outcome, n]) => `${outcome}: ${n}`).join('\n'));
      expect(WANTED_OUTCOMES.filter((outcome) => !outcomes.has(outcome))).toEqual([]);
    });
  });
}

describeProperties(SQLITE_BANK_BACKEND, 25);

describeIfPostgres('banking service properties (postgres)', () => describeProperties(POSTGRES_BANK_BACKEND, 25));
