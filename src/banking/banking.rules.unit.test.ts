/**
 * The banking rules and tables: exchange rates as recorded (six decimals,
 * refused rather than rounded), the regulatory-reporting rule, the tier
 * limit table, and the chart of ledger accounts (every journal entry a
 * movement makes balances per currency).
 */
import { describe, expect, it } from 'vitest';
import { AMOUNT_MINOR_MAX } from '../kernel/money.ts';
import { movementEffect, movementEntry, systemLedgerAccounts } from './banking.ledgerPlan.ts';
import { REPORTABLE_COMPLIANCE_SCORE, REPORTING_THRESHOLD_MINOR, TIER_LIMITS } from './banking.limits.ts';
import { formatExchangeRate, regulatoryReportingRequired } from './banking.rules.ts';
import { NO_COMPLIANCE_FLAGS, REGULATORY_TIERS } from './banking.types.ts';
import type { TransactionInitiated } from './transaction.events.ts';

describe('formatExchangeRate', () => {
  it('pads to six decimals', () => {
    expect(formatExchangeRate('0.92')).toBe('0.920000');
    expect(formatExchangeRate('151')).toBe('151.000000');
    expect(formatExchangeRate('0.000001')).toBe('0.000001');
  });
  it('refuses more than six decimals, zero, negatives and floats in disguise', () => {
    for (const rate of ['0.9234567', '0', '-1.2', '1e3', '.5', ' 1']) {
      expect(() => formatExchangeRate(rate), rate).toThrow(expect.objectContaining({ code: 'validation_failed' }));
    }
  });
});

describe('regulatoryReportingRequired', () => {
  const base = { amountMinor: REPORTING_THRESHOLD_MINOR - 1n, complianceScore: REPORTABLE_COMPLIANCE_SCORE - 1, parties: [NO_COMPLIANCE_FLAGS] };
  it('is false below every threshold', () => expect(regulatoryReportingRequired(base)).toBe(false));
  it('is true from the amount threshold', () => expect(regulatoryReportingRequired({ ...base, amountMinor: REPORTING_THRESHOLD_MINOR })).toBe(true));
  it('is true from the compliance score threshold', () => expect(regulatoryReportingRequired({ ...base, complianceScore: REPORTABLE_COMPLIANCE_SCORE })).toBe(true));
  it('is true when a party is politically exposed or under enhanced due diligence', () => {
    expect(regulatoryReportingRequired({ ...base, parties: [NO_COMPLIANCE_FLAGS, { ...NO_COMPLIANCE_FLAGS, politicallyExposed: true }] })).toBe(true);
    expect(regulatoryReportingRequired({ ...base, parties: [{ ...NO_COMPLIANCE_FLAGS, enhancedDueDiligence: true }] })).toBe(true);
  });
});

describe('TIER_LIMITS', () => {
  it('grows with the tier, and a day allows more than one transaction', () => {
    const limits = REGULATORY_TIERS.map((tier) => TIER_LIMITS[tier]);
    for (let i = 0; i < limits.length; i += 1) {
      expect(limits[i]!.dailyMinor > limits[i]!.perTransactionMinor).toBe(true);
      if (i > 0) expect(limits[i]!.perTransactionMinor > limits[i - 1]!.perTransactionMinor).toBe(true);
    }
    expect(TIER_LIMITS.retail).toEqual({ perTransactionMinor: 1_000_000n, dailyMinor: 2_500_000n });
  });
});

describe('movementEntry', () => {
  const base: TransactionInitiated['data'] = {
    transactionId: 'tx-1', type: 'transfer', fromAccountId: 'a', toAccountId: 'b', beneficiary: null, amount: '10000', currency: 'USD',
    toCurrency: 'USD', exchangeRate: null, fee: '25', reference: '', idempotencyKey: 'k', complianceScore: 0, requestHash: 'a'.repeat(64),
    initiatedAt: '2023-11-14T22:13:20.000Z',
  };
  const cases: Array<[string, Partial<TransactionInitiated['data']>]> = [
    ['deposit', { type: 'deposit', fromAccountId: null, fee: '0' }],
    ['withdrawal', { type: 'withdrawal', toAccountId: null }],
    ['payment', { type: 'payment', toAccountId: null, beneficiary: 'GB82WEST12345698765432' }],
    ['transfer', {}],
    ['cross-currency transfer', { toCurrency: 'EUR', exchangeRate: '0.923456' }],
  ];
  it.each(cases)('a %s books legs that balance per currency', (_name, change) => {
    const entry = movementEntry({ ...base, ...change });
    const totals = new Map<string, bigint>();
    for (const leg of entry.postings ?? []) totals.set(leg.currency, (totals.get(leg.currency) ?? 0n) + (leg.side === 'debit' ? leg.amountMinor : -leg.amountMinor));
    for (const total of totals.values()) expect(total).toBe(0n);
    expect((entry.postings?.length ?? 0) + (entry.conversions?.length ?? 0)).toBeGreaterThan(0);
  });
  it('converts half even: 100.00 USD at 0.923456 is 92.35 EUR (exact 92.3456)', () => {
    expect(movementEffect({ ...base, fee: '0', toCurrency: 'EUR', exchangeRate: '0.923456' })).toEqual({ debitedMinor: 10_000n, creditedMinor: 9_235n, feeMinor: 0n });
    expect(movementEffect({ ...base, amount: '5', fee: '0', toCurrency: 'EUR', exchangeRate: '0.500000' }).creditedMinor).toBe(2n); // 2.5 → 2
    expect(movementEffect({ ...base, amount: '3', fee: '0', toCurrency: 'EUR', exchangeRate: '0.500000' }).creditedMinor).toBe(2n); // 1.5 → 2
  });
  it('names the bank accounts of every currency and pair once', () => {
    const ids = systemLedgerAccounts(0).map((command) => command.data.accountId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('fx:EUR-USD:EUR');
    expect(ids).toContain('fx:EUR-USD:USD');
    expect(ids).toHaveLength(3 * 4 + 3 * 2);
  });
  it('keeps amounts exact up to the largest amount', () => {
    expect(movementEffect({ ...base, amount: AMOUNT_MINOR_MAX.toString(), fee: '0' }).debitedMinor).toBe(AMOUNT_MINOR_MAX);
  });
});
