/**
 * The AML rules at their edges, through the per-customer fold: each rule
 * fires just at its threshold (or window), not just past it, and raises one
 * alert per burst, not one per transaction.
 */
import { describe, expect, it } from 'vitest';
import { amlConfig, DEFAULT_AML_CONFIG } from './aml.config.ts';
import type { Activity, ActivityKind, AlertDraft } from './aml.rules.ts';
import { isJustUnderThreshold } from './aml.rules.ts';
import { AML_RECENT_ACTIVITY_MAX } from '../../kernel/limits.ts';
import { applyActivity, decodeSubjectState, EMPTY_SUBJECT_STATE, encodeSubjectState } from './aml.window.ts';

const T0 = Date.UTC(2024, 4, 1, 9, 0, 0);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const config = DEFAULT_AML_CONFIG;

function history() {
  let position = 0n;
  return (kind: ActivityKind, amountMinor: bigint, atMs: number, options: Partial<Activity> = {}): Activity => {
    position += 1n;
    return {
      position, atMs, subject: 'bank:cus-1', subjectKind: 'bank_customer', customerId: 'cus-1', mode: null, accountId: 'acc-1', kind, amountMinor,
      currency: 'USD', sourceId: `tx-${position}`, ...options,
    };
  };
}

function alertsOf(activities: readonly Activity[], settings = config): AlertDraft[] {
  let state = EMPTY_SUBJECT_STATE;
  const alerts: AlertDraft[] = [];
  for (const activity of activities) {
    const applied = applyActivity(state, activity, settings);
    // Through the stored form every time, as the projection does.
    state = decodeSubjectState(encodeSubjectState(applied.state));
    alerts.push(...applied.alerts);
  }
  return alerts;
}

const rules = (alerts: AlertDraft[]) => alerts.map((alert) => alert.rule);

describe('ctr: cash per customer per UTC day above 10,000.00', () => {
  it('is silent at exactly the threshold', () => {
    const at = history();
    expect(alertsOf([at('cash_in', 600_000n, T0), at('cash_in', 400_000n, T0 + HOUR)])).toEqual([]);
  });

  it('fires one minor unit above it, with the day\'s deposits as evidence, once', () => {
    const at = history();
    const alerts = alertsOf([at('cash_in', 600_000n, T0), at('cash_in', 400_001n, T0 + HOUR), at('cash_in', 500_000n, T0 + 2 * HOUR)]);
    expect(rules(alerts)).toEqual(['ctr']);
    expect(alerts[0]!.window).toBe('2024-05-01:in:USD');
    expect(alerts[0]!.evidence.map((activity) => activity.amountMinor)).toEqual([600_000n, 400_001n]);
  });

  it('does not add deposits and withdrawals together, nor two UTC days, nor two currencies', () => {
    const at = history();
    const midnight = Date.UTC(2024, 4, 2);
    expect(alertsOf([
      at('cash_in', 900_000n, T0), at('cash_out', 900_000n, T0 + HOUR, { accountId: 'acc-2' }),
      at('cash_in', 100_000n, midnight - 1), at('cash_in', 900_001n, midnight, { accountId: 'acc-3' }), at('cash_in', 900_000n, midnight + 1, { currency: 'EUR', accountId: 'acc-4' }),
    ], amlConfig({ rapidMovementMinInflowMinor: 10n ** 12n, structuringMinCount: 10 }))).toEqual([]);
  });

  it('fires for withdrawals on their own key, and again on the next day', () => {
    const at = history();
    const next = Date.UTC(2024, 4, 2, 9);
    const alerts = alertsOf([at('cash_out', 1_000_001n, T0), at('cash_out', 1_000_001n, next)]);
    expect(alerts.map((alert) => alert.window)).toEqual(['2024-05-01:out:USD', '2024-05-02:out:USD']);
  });

  it('ignores transfers', () => {
    const at = history();
    expect(alertsOf([at('transfer_in', 5_000_000n, T0)])).toEqual([]);
  });
});

describe('structuring: ≥ 3 cash or card transactions in 24 h, each 80–100% of the threshold, summing above it', () => {
  it('knows "just under": 80% is in, a minor unit less is not; the threshold itself is not', () => {
    expect(isJustUnderThreshold(800_000n, config)).toBe(true);
    expect(isJustUnderThreshold(799_999n, config)).toBe(false);
    expect(isJustUnderThreshold(999_999n, config)).toBe(true);
    expect(isJustUnderThreshold(1_000_000n, config)).toBe(false);
  });

  const card = (at: ReturnType<typeof history>, amountMinor: bigint, atMs: number) => at('card_payment', amountMinor, atMs, { accountId: null });

  it('fires on the third card payment of 80% within 24 h', () => {
    const at = history();
    const alerts = alertsOf([card(at, 800_000n, T0), card(at, 800_000n, T0 + 12 * HOUR), card(at, 800_000n, T0 + 24 * HOUR - 1)]);
    expect(rules(alerts)).toEqual(['structuring']);
    expect(alerts[0]!.evidence).toHaveLength(3);
    expect(alerts[0]!.window).toBe('USD:from:1');
  });

  it('is silent when the first falls out of the 24 h window by a millisecond', () => {
    const at = history();
    expect(alertsOf([card(at, 800_000n, T0), card(at, 800_000n, T0 + HOUR), card(at, 800_000n, T0 + 24 * HOUR)])).toEqual([]);
  });

  it('is silent when one of the three is a minor unit under 80%', () => {
    const at = history();
    expect(alertsOf([card(at, 800_000n, T0), card(at, 799_999n, T0 + HOUR), card(at, 800_000n, T0 + 2 * HOUR)])).toEqual([]);
  });

  it('is silent for two, or for transfers', () => {
    const at = history();
    expect(alertsOf([card(at, 900_000n, T0), card(at, 900_000n, T0 + HOUR), at('transfer_out', 900_000n, T0 + 2 * HOUR)])).toEqual([]);
  });

  it('fires beside a CTR when the cash is deposited on one day', () => {
    const at = history();
    const alerts = alertsOf([at('cash_in', 900_000n, T0), at('cash_in', 900_000n, T0 + HOUR), at('cash_in', 900_000n, T0 + 2 * HOUR)]);
    expect(rules(alerts)).toEqual(['ctr', 'structuring']);
  });

  it('raises one alert per burst: a fourth payment is not a second alert, three more are', () => {
    const at = history();
    const burst = (from: number) => [0, 1, 2].map((index) => card(at, 900_000n, from + index * HOUR));
    const alerts = alertsOf([...burst(T0), card(at, 900_000n, T0 + 3 * HOUR), ...burst(T0 + 28 * HOUR)]);
    expect(rules(alerts)).toEqual(['structuring', 'structuring']);
    expect(alerts.map((alert) => alert.window)).toEqual(['USD:from:1', 'USD:from:5']);
  });
});

describe('rapid movement: ≥ 90% of what came into an account goes out within 24 h', () => {
  it('fires at exactly 90% out', () => {
    const at = history();
    const alerts = alertsOf([at('transfer_in', 500_000n, T0), at('transfer_out', 300_000n, T0 + HOUR), at('payment_out', 150_000n, T0 + 2 * HOUR)]);
    expect(rules(alerts)).toEqual(['rapid_movement']);
    expect(alerts[0]!.accountId).toBe('acc-1');
    expect(alerts[0]!.evidence.map((activity) => activity.kind)).toEqual(['transfer_in', 'transfer_out', 'payment_out']);
  });

  it('is silent a minor unit under 90%', () => {
    const at = history();
    expect(alertsOf([at('transfer_in', 500_000n, T0), at('transfer_out', 449_999n, T0 + HOUR)])).toEqual([]);
  });

  it('is silent when the money leaves 24 h after it came', () => {
    const at = history();
    expect(alertsOf([at('transfer_in', 500_000n, T0), at('transfer_out', 500_000n, T0 + 24 * HOUR)])).toEqual([]);
    const again = history();
    expect(rules(alertsOf([again('transfer_in', 500_000n, T0), again('transfer_out', 500_000n, T0 + 24 * HOUR - 1)]))).toEqual(['rapid_movement']);
  });

  it('counts only money out of the same account, after it came in', () => {
    const at = history();
    expect(alertsOf([
      at('transfer_out', 500_000n, T0 - HOUR), at('transfer_in', 500_000n, T0), at('transfer_out', 500_000n, T0 + HOUR, { accountId: 'acc-2' }),
    ])).toEqual([]);
  });

  it('ignores inflows below the minimum', () => {
    const at = history();
    expect(alertsOf([at('cash_in', 99_999n, T0), at('cash_out', 99_999n, T0 + HOUR)])).toEqual([]);
    const again = history();
    expect(rules(alertsOf([again('cash_in', 100_000n, T0), again('cash_out', 100_000n, T0 + HOUR)]))).toEqual(['rapid_movement']);
  });
});

describe('velocity: more than 10 transactions of one customer in an hour', () => {
  const burst = (count: number, spanMs: number) => {
    const at = history();
    return Array.from({ length: count }, (_, index) => at('transfer_in', 100n, T0 + Math.floor((index * spanMs) / Math.max(count - 1, 1))));
  };

  it('is silent at 10', () => expect(alertsOf(burst(10, 10 * MINUTE))).toEqual([]));

  it('fires at the 11th within the hour, once', () => {
    const alerts = alertsOf(burst(12, HOUR - 1));
    expect(rules(alerts)).toEqual(['velocity']);
    expect(alerts[0]!.evidence).toHaveLength(11);
  });

  it('is silent when the 11th comes an hour after the first', () => expect(alertsOf(burst(11, HOUR))).toEqual([]));

  it('counts a transaction between two accounts of the customer once', () => {
    const at = history();
    const activities: Activity[] = [];
    for (let index = 0; index < 10; index += 1) {
      const out = at('transfer_out', 100n, T0 + index * MINUTE, { accountId: 'acc-1' });
      activities.push(out, { ...out, kind: 'transfer_in', accountId: 'acc-2' });
    }
    expect(alertsOf(activities)).toEqual([]);
  });
});

describe('the configuration', () => {
  it('refuses a threshold that is not positive, naming it', () => {
    expect(() => amlConfig({ ctrThresholdMinor: 0n })).toThrow(/ctrThresholdMinor/);
    expect(() => amlConfig({ velocityMaxCount: 0 })).toThrow(/velocityMaxCount/);
  });

  it('applies a lower threshold', () => {
    const at = history();
    expect(rules(alertsOf([at('cash_in', 5_001n, T0)], amlConfig({ ctrThresholdMinor: 5_000n })))).toEqual(['ctr']);
  });
});

describe('a hot subject', () => {
  it('keeps at most AML_RECENT_ACTIVITY_MAX activities, the newest, and its CTR totals whole', () => {
    const at = history();
    let state = EMPTY_SUBJECT_STATE;
    const count = AML_RECENT_ACTIVITY_MAX + 500;
    for (let i = 0; i < count; i += 1) state = applyActivity(state, at('card_payment', 100n, T0 + i), config).state;
    expect(state.recent).toHaveLength(AML_RECENT_ACTIVITY_MAX);
    expect(state.recent.at(-1)!.position).toBe(BigInt(count));
    const cash = applyActivity(state, at('cash_in', 1n, T0 + count), config).state;
    expect(Object.values(cash.cashDays)).toEqual([1n]);
  });
});
