import { convertForEntry, type LedgerCommand, type Posting, type RecordJournalEntryData } from '../ledger/index.ts';
import { BANKING_CURRENCIES, type BankAccountType, type BankingCurrency } from './banking.types.ts';
import type { TransactionInitiated } from './transaction.events.ts';

/**
 * How banking maps onto the ledger: one ledger per currency, one ledger
 * account per bank account, and the bank's own accounts per currency.
 *
 * | ledger account         | what it is                                               | flags |
 * |------------------------|----------------------------------------------------------|-------|
 * | `acct:<id>`            | a customer's bank account (credit-normal: the bank owes it) | debits_must_not_exceed_credits, history |
 * | `cash:<CUR>`           | cash / settlement: debited by deposits, credited by withdrawals | none |
 * | `clearing:<CUR>`       | payments out to external accounts, until the clearing house settles | none |
 * | `fees:<CUR>`           | fee income                                               | none |
 * | `fx:<A>-<B>:<CUR>`     | the bank's position in one currency pair (A < B), one account per side | none |
 * | `fxround:<CUR>`        | what half-even rounding of conversions into CUR cost     | none |
 *
 * Every movement is one journal entry (`bt:<transactionId>`), balanced per
 * currency by construction and asserted so by the ledger; the closing sweep
 * is one balancing transfer with the same id.
 */
export const LEDGER_CODES = {
  checking: 1, savings: 2, investment: 3, cash: 100, clearing: 101, fees: 102, fx: 103, fxRounding: 104,
} as const satisfies Record<BankAccountType | 'cash' | 'clearing' | 'fees' | 'fx' | 'fxRounding', number>;

export const ledgerOf = (currency: BankingCurrency): string => currency.toLowerCase();
export const customerLedgerAccount = (accountId: string): string => `acct:${accountId}`;
export const cashAccount = (currency: BankingCurrency): string => `cash:${currency}`;
export const clearingAccount = (currency: BankingCurrency): string => `clearing:${currency}`;
export const feeAccount = (currency: BankingCurrency): string => `fees:${currency}`;
export const fxRoundingAccount = (currency: BankingCurrency): string => `fxround:${currency}`;

/** The FX position account of the pair {a, b} on the side of `side` (the pair is named in sorted order). */
export function fxAccount(a: BankingCurrency, b: BankingCurrency, side: BankingCurrency): string {
  const [first, second] = a < b ? [a, b] : [b, a];
  return `fx:${first}-${second}:${side}`;
}

/** The ledger entry id of a transaction (also the transfer id of a closing sweep). */
export const entryIdOf = (transactionId: string): string => `bt:${transactionId}`;

type OpenLedgerAccount = Extract<LedgerCommand, { type: 'OpenAccount' }>;

export function openCustomerLedgerAccount(accountId: string, accountType: BankAccountType, currency: BankingCurrency, atMs: number): OpenLedgerAccount {
  return {
    type: 'OpenAccount',
    data: {
      accountId: customerLedgerAccount(accountId), ledger: ledgerOf(currency), currency, code: LEDGER_CODES[accountType],
      flags: { debitsMustNotExceedCredits: true, history: true }, atMs,
    },
  };
}

/** The bank's own accounts, in every currency and pair; opening them again changes nothing. */
export function systemLedgerAccounts(atMs: number): OpenLedgerAccount[] {
  const open = (accountId: string, currency: BankingCurrency, code: number): OpenLedgerAccount =>
    ({ type: 'OpenAccount', data: { accountId, ledger: ledgerOf(currency), currency, code, atMs } });
  const accounts: OpenLedgerAccount[] = [];
  for (const currency of BANKING_CURRENCIES) {
    accounts.push(
      open(cashAccount(currency), currency, LEDGER_CODES.cash),
      open(clearingAccount(currency), currency, LEDGER_CODES.clearing),
      open(feeAccount(currency), currency, LEDGER_CODES.fees),
      open(fxRoundingAccount(currency), currency, LEDGER_CODES.fxRounding),
    );
  }
  for (const [a, b] of currencyPairs()) {
    accounts.push(open(fxAccount(a, b, a), a, LEDGER_CODES.fx), open(fxAccount(a, b, b), b, LEDGER_CODES.fx));
  }
  return accounts;
}

function currencyPairs(): Array<[BankingCurrency, BankingCurrency]> {
  const pairs: Array<[BankingCurrency, BankingCurrency]> = [];
  BANKING_CURRENCIES.forEach((a, index) => BANKING_CURRENCIES.slice(index + 1).forEach((b) => pairs.push(a < b ? [a, b] : [b, a])));
  return pairs;
}

/** What a movement does to its customer accounts, as the ledger will book it. */
export type MovementEffect = {
  /** Taken from the paying account (amount plus fee); 0 for a deposit. */
  debitedMinor: bigint;
  /** Given to the receiving side, in `toCurrency` (converted and rounded half even for a cross-currency transfer). */
  creditedMinor: bigint;
  feeMinor: bigint;
};

export function movementEffect(initiated: TransactionInitiated['data']): MovementEffect {
  const amountMinor = BigInt(initiated.amount);
  const feeMinor = BigInt(initiated.fee);
  const debitedMinor = initiated.fromAccountId === null ? 0n : amountMinor + feeMinor;
  if (initiated.exchangeRate === null) return { debitedMinor, creditedMinor: amountMinor, feeMinor };
  const conversion = convertForEntry(conversionOf(initiated, initiated.exchangeRate));
  return { debitedMinor, creditedMinor: conversion.convertedMinor, feeMinor };
}

/**
 * The journal entry of a movement (without its time):
 * - deposit: cash Dr, customer Cr;
 * - withdrawal: customer Dr amount + fee, cash Cr amount, fees Cr fee;
 * - payment: customer Dr amount + fee, clearing Cr amount, fees Cr fee;
 * - transfer: payer Dr amount + fee, payee Cr amount, fees Cr fee;
 * - cross-currency transfer: payer Dr fee, fees Cr fee, and one FX
 *   conversion (payer → FX pair account in the source currency; FX pair
 *   account and rounding account → payee in the target currency).
 */
export function movementEntry(initiated: TransactionInitiated['data']): Omit<RecordJournalEntryData, 'atMs'> {
  const { currency } = initiated;
  const amountMinor = BigInt(initiated.amount);
  const feeMinor = BigInt(initiated.fee);
  const postings: Posting[] = [];
  const leg = (accountId: string, side: Posting['side'], value: bigint) => {
    if (value > 0n) postings.push({ accountId, side, amountMinor: value, currency });
  };
  const metadata = { transactionId: initiated.transactionId, type: initiated.type };
  const entryId = entryIdOf(initiated.transactionId);
  const payer = initiated.fromAccountId === null ? null : customerLedgerAccount(initiated.fromAccountId);
  if (payer === null) {
    leg(cashAccount(currency), 'debit', amountMinor);
    leg(customerLedgerAccount(initiated.toAccountId!), 'credit', amountMinor);
    return { entryId, postings, metadata };
  }
  if (initiated.exchangeRate !== null) {
    leg(payer, 'debit', feeMinor);
    leg(feeAccount(currency), 'credit', feeMinor);
    return { entryId, postings, conversions: [conversionOf(initiated, initiated.exchangeRate)], metadata };
  }
  leg(payer, 'debit', amountMinor + feeMinor);
  const payee = initiated.type === 'withdrawal' ? cashAccount(currency)
    : initiated.type === 'payment' ? clearingAccount(currency)
      : customerLedgerAccount(initiated.toAccountId!);
  leg(payee, 'credit', amountMinor);
  leg(feeAccount(currency), 'credit', feeMinor);
  return { entryId, postings, metadata };
}

function conversionOf(initiated: TransactionInitiated['data'], rate: string) {
  const { currency: fromCurrency, toCurrency } = initiated;
  return {
    fromAccountId: customerLedgerAccount(initiated.fromAccountId!),
    toAccountId: customerLedgerAccount(initiated.toAccountId!),
    amountMinor: BigInt(initiated.amount),
    fromCurrency, toCurrency, rate,
    liquidityFromAccountId: fxAccount(fromCurrency, toCurrency, fromCurrency),
    liquidityToAccountId: fxAccount(fromCurrency, toCurrency, toCurrency),
    roundingAccountId: fxRoundingAccount(toCurrency),
  };
}
