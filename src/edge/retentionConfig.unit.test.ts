/** DAYBOOK_RETENTION parsing (rules, refusals) and the calendar cutoff. */
import { describe, expect, it } from 'vitest';
import { loadRetentionConfig, retentionCutoffMs } from './retentionConfig.ts';

describe('DAYBOOK_RETENTION', () => {
  it('reads category=duration rules', () => {
    expect(loadRetentionConfig({ DAYBOOK_RETENTION: 'customer=7y, pcustomer=18m,paccount=90d' })).toEqual([
      { category: 'customer', amount: 7, unit: 'y', text: '7y' }, { category: 'pcustomer', amount: 18, unit: 'm', text: '18m' }, { category: 'paccount', amount: 90, unit: 'd', text: '90d' },
    ]);
    // The payment objects that are subjects of their own (a guest's intent, a payment method, a payout).
    expect(loadRetentionConfig({ DAYBOOK_RETENTION: 'pintent=7y,pmethod=7y,ppayout=10y' }).map((rule) => rule.category)).toEqual(['pintent', 'pmethod', 'ppayout']);
    expect(loadRetentionConfig({})).toEqual([]);
    expect(loadRetentionConfig({ DAYBOOK_RETENTION: '' })).toEqual([]);
  });

  it('refuses a malformed rule, a category without personal data, a category twice', () => {
    expect(() => loadRetentionConfig({ DAYBOOK_RETENTION: 'customer=7' })).toThrow(/"customer=7" is not category=<n>y\|m\|d/);
    expect(() => loadRetentionConfig({ DAYBOOK_RETENTION: 'customer=0y' })).toThrow(/is not category/);
    expect(() => loadRetentionConfig({ DAYBOOK_RETENTION: 'acct=7y' })).toThrow(/acct holds no personal data/);
    expect(() => loadRetentionConfig({ DAYBOOK_RETENTION: 'customer=7y,customer=1y' })).toThrow(/names customer twice/);
  });

  it('subtracts calendar years, months and days in UTC', () => {
    const now = Date.UTC(2025, 5, 15, 12);
    expect(retentionCutoffMs({ amount: 7, unit: 'y' }, now)).toBe(Date.UTC(2018, 5, 15, 12));
    expect(retentionCutoffMs({ amount: 18, unit: 'm' }, now)).toBe(Date.UTC(2023, 11, 15, 12));
    expect(retentionCutoffMs({ amount: 90, unit: 'd' }, now)).toBe(now - 90 * 86_400_000);
  });
});
