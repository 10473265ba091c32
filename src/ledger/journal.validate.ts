import { isDaybookError } from '../kernel/index.ts';
import { RATE_DIGITS_MAX, parseRate } from '../kernel/decimal.ts';
import type { RecordJournalEntryData } from './ledger.commands.ts';
import { rejection } from './ledger.errors.ts';
import { CONVERSIONS_PER_ENTRY_MAX, POSTINGS_PER_ENTRY_MAX } from './ledger.limits.ts';
import type { EntryId, FxConversionRecord, FxConversionRequest, JournalEntryRequest, Posting } from './ledger.types.ts';
import { Checks, checkAmount, checkCurrency, checkId, checkMetadata, checkTime, isPlainObject, type Validated } from './checks.ts';
import { assertBalanced, convertForEntry, fxLegs, imbalanceByCurrency } from './fx.ts';
import { notAnObject } from './validate.ts';

export type ValidEntry = {
  entryId: EntryId;
  request: JournalEntryRequest;
  conversions: FxConversionRecord[];
  /** Explicit postings first, then each conversion's legs. */
  legs: Posting[];
  atMs: number;
};

/**
 * Validates a journal entry: `validation_failed` (shape, a rate that is not a
 * positive decimal, a conversion within one currency), then
 * `entry_not_balanced` (explicit postings, per currency), then
 * `limit_exceeded`; last, a conversion that rounds to zero is
 * `validation_failed` (it needs the rate, read only once within limits).
 */
export function validateJournalEntry(data: RecordJournalEntryData): Validated<ValidEntry> {
  const bad = notAnObject<ValidEntry>(data);
  if (bad) return bad;
  const checks = new Checks();
  const entryId = checkId(checks, data.entryId, 'entryId');
  const postings = checkList(checks, data.postings, 'postings', POSTINGS_PER_ENTRY_MAX).map((item, index) => checkPosting(checks, item, `postings[${index}]`));
  const conversions = checkList(checks, data.conversions, 'conversions', CONVERSIONS_PER_ENTRY_MAX)
    .map((item, index) => checkConversion(checks, item, `conversions[${index}]`));
  const metadata = checkMetadata(checks, data.metadata);
  const atMs = checkTime(checks, data.atMs);
  if (postings.length === 0 && conversions.length === 0) checks.invalidField('postings', 'an entry needs postings or conversions');
  if (checks.valid) {
    for (const [currency, total] of imbalanceByCurrency(postings)) {
      if (total.debitsMinor !== total.creditsMinor) {
        checks.fail('entry_not_balanced', `entry ${entryId}: ${currency} debits ${total.debitsMinor} differ from credits ${total.creditsMinor}`, 'postings', {
          currency, debitsMinor: total.debitsMinor.toString(), creditsMinor: total.creditsMinor.toString(),
        });
      }
    }
  }
  const shape = checks.result(() => null);
  if (!shape.ok) return shape;
  const records = conversions.map(convertForEntry);
  const zero = records.findIndex((record) => record.convertedMinor === 0n);
  if (zero >= 0) {
    return { ok: false, rejection: rejection('validation_failed', `conversions[${zero}] converts to zero ${records[zero]?.toCurrency}`, {}, `conversions[${zero}]`) };
  }
  const legs = [...postings, ...records.flatMap(fxLegs)];
  assertBalanced(legs, `entry ${entryId}`);
  return { ok: true, value: { entryId, request: { kind: 'entry', postings, conversions, metadata }, conversions: records, legs, atMs } };
}

function checkList(checks: Checks, value: unknown, param: string, max: number): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    checks.invalidField(param, 'must be an array');
    return [];
  }
  if (value.length > max) {
    checks.tooLarge(param, `has more than ${max} items`, max);
    return value.slice(0, max);
  }
  return value;
}

function checkPosting(checks: Checks, value: unknown, param: string): Posting {
  if (!isPlainObject(value)) {
    checks.invalidField(param, 'must be an object');
    return { accountId: '', side: 'debit', amountMinor: 0n, currency: 'USD' };
  }
  const accountId = checkId(checks, value.accountId, `${param}.accountId`);
  if (value.side !== 'debit' && value.side !== 'credit') checks.invalidField(`${param}.side`, "must be 'debit' or 'credit'");
  const amountMinor = checkAmount(checks, value.amountMinor, `${param}.amountMinor`);
  const currency = checkCurrency(checks, value.currency, `${param}.currency`);
  return { accountId, side: value.side === 'credit' ? 'credit' : 'debit', amountMinor, currency };
}

const CONVERSION_ACCOUNTS = ['fromAccountId', 'toAccountId', 'liquidityFromAccountId', 'liquidityToAccountId', 'roundingAccountId'] as const;

function checkConversion(checks: Checks, value: unknown, param: string): FxConversionRequest {
  if (!isPlainObject(value)) {
    checks.invalidField(param, 'must be an object');
    return { fromAccountId: '', toAccountId: '', liquidityFromAccountId: '', liquidityToAccountId: '', roundingAccountId: '', amountMinor: 0n, fromCurrency: 'USD', toCurrency: 'USD', rate: '1' };
  }
  const [fromAccountId, toAccountId, liquidityFromAccountId, liquidityToAccountId, roundingAccountId] = CONVERSION_ACCOUNTS
    .map((name) => checkId(checks, value[name], `${param}.${name}`)) as [string, string, string, string, string];
  const amountMinor = checkAmount(checks, value.amountMinor, `${param}.amountMinor`);
  const fromCurrency = checkCurrency(checks, value.fromCurrency, `${param}.fromCurrency`);
  const toCurrency = checkCurrency(checks, value.toCurrency, `${param}.toCurrency`);
  if (checks.valid && fromCurrency === toCurrency) checks.invalidField(`${param}.toCurrency`, 'must differ from fromCurrency');
  const rate = checkRate(checks, value.rate, `${param}.rate`);
  return { fromAccountId, toAccountId, amountMinor, fromCurrency, toCurrency, rate, liquidityFromAccountId, liquidityToAccountId, roundingAccountId };
}

function checkRate(checks: Checks, value: unknown, param: string): string {
  try {
    parseRate(value as string, param);
    return value as string;
  } catch (error) {
    if (!isDaybookError(error)) throw error;
    if (error.code === 'limit_exceeded') checks.tooLarge(param, `has more than ${RATE_DIGITS_MAX} digits`, RATE_DIGITS_MAX);
    else checks.invalidField(param, `must be a positive decimal string: ${error.message}`);
    return '1';
  }
}
