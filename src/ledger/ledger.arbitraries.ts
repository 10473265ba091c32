/**
 * Random ledger commands for the model-based property tests
 * (ledger.property.unit.test.ts on the pure batch engine,
 * ledger.bounded.int.test.ts on the engine with a bounded cache over a real
 * store): a fixed set of accounts with flags and limits, and steps that
 * build one batch of transfers, pending settlements, expiries, linked
 * chains, journal entries, reversals, closes and late retries.
 */
import fc from 'fast-check';
import type { Currency } from '../kernel/money.ts';
import type { LedgerCommand } from './ledger.commands.ts';
import { creditLeg, debitLeg, ledgerOf, MINUTE, open, transfer } from './ledger.testkit.ts';

export type AccountSetup = { id: string; currency: Currency; debitLimit: bigint | null; creditLimit: bigint | null };
export const ACCOUNTS: AccountSetup[] = [
  { id: 'u0', currency: 'USD', debitLimit: null, creditLimit: null },
  { id: 'u1', currency: 'USD', debitLimit: 0n, creditLimit: null },
  { id: 'u2', currency: 'USD', debitLimit: 500n, creditLimit: null },
  { id: 'u3', currency: 'USD', debitLimit: null, creditLimit: 300n },
  { id: 'u4', currency: 'USD', debitLimit: null, creditLimit: null },
  { id: 'j0', currency: 'JPY', debitLimit: null, creditLimit: null },
  { id: 'j1', currency: 'JPY', debitLimit: 0n, creditLimit: null },
];
export const CURRENCY_OF = new Map(ACCOUNTS.map((a) => [a.id, a.currency]));
export const setupCommands: LedgerCommand[] = [
  ...ACCOUNTS.map((a) => open(a.id, {
    currency: a.currency,
    flags: { debitsMustNotExceedCredits: a.debitLimit !== null, creditsMustNotExceedDebits: a.creditLimit !== null, history: a.id === 'u4' },
    overdraftLimitMinor: a.debitLimit ?? 0n, creditLimitMinor: a.creditLimit ?? 0n,
  })),
  transfer('fund-u1', 'u0', 'u1', 3_000n), transfer('fund-u2', 'u0', 'u2', 1_000n),
  transfer('fund-j1', 'j0', 'j1', 3_000n, { ledger: 'jpy' }),
];

const anAccount = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...ACCOUNTS.map((a) => a.id)) }, { weight: 1, arbitrary: fc.constant('ghost') });
const anAmount = fc.bigInt({ min: 1n, max: 2_500n });
const pick = (prefix: string, count: number) => fc.integer({ min: 0, max: count - 1 }).map((i) => `${prefix}${i}`);

export type Step = { dtMs: number; build: (now: number, history: LedgerCommand[][]) => LedgerCommand[] };

const createTransfer = fc.record({
  id: pick('t', 24), debit: anAccount, credit: anAccount, amount: anAmount, pending: fc.boolean(), timeout: fc.boolean(),
  balancingDebit: fc.boolean(), balancingCredit: fc.boolean(),
}).map((o) => (now: number, linked = false): LedgerCommand => transfer(o.id, o.debit, o.credit, o.amount, {
  ledger: ledgerOf(CURRENCY_OF.get(o.debit) ?? 'USD'), atMs: now,
  flags: { pending: o.pending, balancingDebit: o.balancingDebit, balancingCredit: o.balancingCredit, linked },
  timeoutMs: o.pending && o.timeout ? MINUTE : 0,
}));

const commandBuilders = fc.oneof(
  { weight: 8, arbitrary: createTransfer.map((make) => (now: number) => [make(now)]) },
  { weight: 2, arbitrary: fc.array(createTransfer, { minLength: 2, maxLength: 3 }).map((makes) => (now: number) => makes.map((make, i) => make(now, i < makes.length - 1))) },
  { weight: 4, arbitrary: fc.record({ id: pick('x', 40), pendingId: pick('t', 24), amount: fc.option(anAmount, { nil: undefined }) })
    .map((o) => (now: number): LedgerCommand[] => [{ type: 'PostPendingTransfer', data: { transferId: o.id, pendingId: o.pendingId, amountMinor: o.amount, atMs: now } }]) },
  { weight: 2, arbitrary: fc.record({ id: pick('x', 40), pendingId: pick('t', 24) })
    .map((o) => (now: number): LedgerCommand[] => [{ type: 'VoidPendingTransfer', data: { transferId: o.id, pendingId: o.pendingId, atMs: now } }]) },
  // A pending transfer and two settlements of it in one batch: the second meets a resolved transfer.
  { weight: 2, arbitrary: fc.record({ ids: fc.tuple(pick('x', 40), pick('x', 40)), pendingId: pick('t', 24), kinds: fc.tuple(fc.boolean(), fc.boolean()), amount: anAmount })
    .filter((o) => o.ids[0] !== o.ids[1])
    .map((o) => (now: number): LedgerCommand[] => [
      transfer(o.pendingId, 'u0', 'u4', 2_000n, { flags: { pending: true }, atMs: now }),
      ...o.ids.map((transferId, i): LedgerCommand => (o.kinds[i]
        ? { type: 'PostPendingTransfer', data: { transferId, pendingId: o.pendingId, amountMinor: i === 0 ? o.amount : undefined, atMs: now } }
        : { type: 'VoidPendingTransfer', data: { transferId, pendingId: o.pendingId, atMs: now } })),
    ]) },
  { weight: 2, arbitrary: pick('t', 24).map((pendingId) => (now: number): LedgerCommand[] => [{ type: 'ExpirePendingTransfer', data: { pendingId, atMs: now } }]) },
  { weight: 1, arbitrary: fc.record({ account: anAccount, closing: fc.boolean() })
    .map((o) => (now: number): LedgerCommand[] => [{ type: o.closing ? 'CloseAccount' : 'ReopenAccount', data: { accountId: o.account, atMs: now } }]) },
  { weight: 3, arbitrary: fc.record({ id: pick('e', 10), pairs: fc.array(fc.record({ debit: anAccount, credit: anAccount, amount: anAmount }), { minLength: 1, maxLength: 3 }) })
    .map((o) => (now: number): LedgerCommand[] => [{
      type: 'RecordJournalEntry',
      data: {
        entryId: o.id, atMs: now,
        postings: o.pairs.flatMap((p) => {
          const currency = CURRENCY_OF.get(p.debit) ?? 'USD';
          return [debitLeg(p.debit, p.amount, currency), creditLeg(p.credit, p.amount, currency)];
        }),
      },
    }]) },
  { weight: 2, arbitrary: fc.record({ id: pick('r', 6), target: fc.oneof(pick('e', 10), pick('r', 6)) }).filter((o) => o.id !== o.target)
    .map((o) => (now: number): LedgerCommand[] => [{ type: 'ReverseJournalEntry', data: { reversalId: o.id, entryId: o.target, atMs: now } }]) },
);

export const aStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ dtMs: fc.integer({ min: 0, max: 40_000 }), build: commandBuilders.map((b) => (now: number) => b(now)) }) },
  // A late retry of an earlier step, stamped with the current time as a service would.
  { weight: 2, arbitrary: fc.record({ dtMs: fc.integer({ min: 0, max: 40_000 }), index: fc.nat() }).map(({ dtMs, index }) => ({
    dtMs,
    build: (now: number, history: LedgerCommand[][]) => (history[index % history.length] ?? []).map((c) => ({ ...c, data: { ...c.data, atMs: now } }) as LedgerCommand),
  })) },
);
