import { type Env, ConfigError } from './config.ts';

/**
 * Categories whose streams belong to a data subject (see src/privacy/subjects.ts):
 * customers, Stripe customers and connected accounts, and the payment objects
 * that are subjects of their own (a guest's intent with its receipt email, a
 * payment method's billing details, a payout's description).
 */
export const RETENTION_CATEGORIES = ['customer', 'pcustomer', 'paccount', 'pintent', 'pmethod', 'ppayout'] as const;
export type RetentionCategory = (typeof RETENTION_CATEGORIES)[number];

/** Keep a category's subjects this long after their latest activity (ops/retention.ts): `7y`, `18m` (months), `90d`. */
export interface RetentionRule {
  category: RetentionCategory;
  amount: number;
  unit: 'y' | 'm' | 'd';
  /** As written (`7y`), for reports. */
  text: string;
}

const RULE = /^([a-z]+)=([1-9][0-9]{0,3})([ymd])$/;

/**
 * `DAYBOOK_RETENTION`: comma-separated `category=duration` rules, e.g.
 * `customer=7y,pcustomer=7y`. Unset or empty: no rule (retention erases
 * nothing). A category twice, an unknown category or a malformed duration is
 * a `ConfigError` naming the variable.
 *
 * @example
 * loadRetentionConfig({ DAYBOOK_RETENTION: 'customer=7y,pcustomer=90d' })
 */
export function loadRetentionConfig(env: Env): RetentionRule[] {
  const text = env.DAYBOOK_RETENTION ?? '';
  const rules: RetentionRule[] = [];
  for (const part of text.split(',').map((item) => item.trim()).filter((item) => item !== '')) {
    const match = RULE.exec(part);
    if (match === null) throw new ConfigError('DAYBOOK_RETENTION', `DAYBOOK_RETENTION: ${JSON.stringify(part)} is not category=<n>y|m|d (e.g. customer=7y)`);
    const category = match[1] as RetentionCategory;
    if (!RETENTION_CATEGORIES.includes(category)) {
      throw new ConfigError('DAYBOOK_RETENTION', `DAYBOOK_RETENTION: ${category} holds no personal data; the categories are ${RETENTION_CATEGORIES.join(', ')}`);
    }
    if (rules.some((rule) => rule.category === category)) throw new ConfigError('DAYBOOK_RETENTION', `DAYBOOK_RETENTION names ${category} twice`);
    rules.push({ category, amount: Number(match[2]), unit: match[3] as RetentionRule['unit'], text: `${match[2]}${match[3]}` });
  }
  return rules;
}

/** The instant before which a subject's latest activity must lie to be past its retention (UTC calendar arithmetic). */
export function retentionCutoffMs(rule: Pick<RetentionRule, 'amount' | 'unit'>, nowMs: number): number {
  const date = new Date(nowMs);
  if (rule.unit === 'y') date.setUTCFullYear(date.getUTCFullYear() - rule.amount);
  else if (rule.unit === 'm') date.setUTCMonth(date.getUTCMonth() - rule.amount);
  else date.setUTCDate(date.getUTCDate() - rule.amount);
  return date.getTime();
}
