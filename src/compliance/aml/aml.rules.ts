import type { AmlConfig } from './aml.config.ts';
import type { AmlRule, AmlSubjectKind } from './aml.events.ts';

/**
 * The four AML rules, pure. Each looks at one customer's recent activity
 * (oldest first, by global position) and the transaction just added, and
 * answers the evidence of an alert, or null. A transaction that was evidence
 * of an alert is "consumed" for that rule (and, for rapid movement, that
 * account), so one burst of activity raises one alert, not one per
 * transaction; the caller keeps the consumed positions (aml.window.ts).
 *
 * | rule            | tripped when                                                                                  |
 * |-----------------|-----------------------------------------------------------------------------------------------|
 * | ctr             | cash in (or out) of one customer in one UTC day and currency goes above the threshold          |
 * | structuring     | ≥ minCount cash or card transactions within the window, each ≥ lower% of the threshold and below it, summing above it |
 * | rapid_movement  | out of an account ≥ out% of what came into it within the window (after it came in)              |
 * | velocity        | more than maxCount transactions of one customer within the window                             |
 */
export type ActivityKind = 'cash_in' | 'cash_out' | 'transfer_in' | 'transfer_out' | 'payment_out' | 'card_payment';

/** One side of one transaction, as the monitor sees it. */
export type Activity = {
  readonly position: bigint;
  readonly atMs: number;
  /** The customer's key: `bank:<customerId>` or `pay:<mode>:<customerId>`. */
  readonly subject: string;
  readonly subjectKind: AmlSubjectKind;
  readonly customerId: string;
  readonly mode: string | null;
  readonly accountId: string | null;
  readonly kind: ActivityKind;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly sourceId: string;
};

/** What an alert will say, before it gets its id. */
export type AlertDraft = {
  readonly rule: AmlRule;
  readonly trigger: Activity;
  readonly accountId: string | null;
  readonly currency: string | null;
  readonly window: string;
  readonly evidence: readonly Activity[];
  readonly threshold: bigint;
};

const CASH_KINDS: readonly ActivityKind[] = ['cash_in', 'cash_out'];
const STRUCTURING_KINDS: readonly ActivityKind[] = ['cash_in', 'cash_out', 'card_payment'];
const INFLOW_KINDS: readonly ActivityKind[] = ['cash_in', 'transfer_in'];
const OUTFLOW_KINDS: readonly ActivityKind[] = ['cash_out', 'transfer_out', 'payment_out'];

/** True when `activity` happened within `windowMs` up to `nowMs` (the window is open at its start). */
export function withinWindow(activity: Activity, nowMs: number, windowMs: number): boolean {
  return activity.atMs > nowMs - windowMs && activity.atMs <= nowMs;
}

export function utcDayOf(atMs: number): string {
  return new Date(atMs).toISOString().slice(0, 10);
}

export function sumMinor(activities: readonly Activity[]): bigint {
  return activities.reduce((sum, activity) => sum + activity.amountMinor, 0n);
}

/** The key a CTR aggregates under: UTC day, direction, currency. Null when the activity is not cash. */
export function ctrKeyOf(activity: Activity): string | null {
  if (!CASH_KINDS.includes(activity.kind)) return null;
  return `${utcDayOf(activity.atMs)}:${activity.kind === 'cash_in' ? 'in' : 'out'}:${activity.currency}`;
}

/**
 * CTR: the day's total before this transaction was at most the threshold,
 * and this one takes it above: raised once per day, direction and currency.
 * `sameDay` is the day's earlier cash of that key (evidence with `current`).
 */
export function ctrRule(totalBeforeMinor: bigint, current: Activity, sameDay: readonly Activity[], config: AmlConfig): AlertDraft | null {
  const key = ctrKeyOf(current);
  if (key === null) return null;
  const threshold = config.ctrThresholdMinor;
  if (!(totalBeforeMinor <= threshold && totalBeforeMinor + current.amountMinor > threshold)) return null;
  return { rule: 'ctr', trigger: current, accountId: null, currency: current.currency, window: key, evidence: [...sameDay, current], threshold };
}

/** "Just under" the threshold: at least `structuringLowerPercent` of it, and below it. */
export function isJustUnderThreshold(amountMinor: bigint, config: AmlConfig): boolean {
  return amountMinor * 100n >= config.ctrThresholdMinor * config.structuringLowerPercent && amountMinor < config.ctrThresholdMinor;
}

/** Structuring, over the customer's unconsumed history (current included, last). */
export function structuringRule(history: readonly Activity[], current: Activity, config: AmlConfig): AlertDraft | null {
  if (!STRUCTURING_KINDS.includes(current.kind) || !isJustUnderThreshold(current.amountMinor, config)) return null;
  const candidates = history.filter((activity) => STRUCTURING_KINDS.includes(activity.kind) && activity.currency === current.currency
    && isJustUnderThreshold(activity.amountMinor, config) && withinWindow(activity, current.atMs, config.structuringWindowMs));
  if (candidates.length < config.structuringMinCount || sumMinor(candidates) <= config.ctrThresholdMinor) return null;
  return {
    rule: 'structuring', trigger: current, accountId: null, currency: current.currency,
    window: `${current.currency}:from:${candidates[0]!.position}`, evidence: candidates, threshold: config.ctrThresholdMinor,
  };
}

/** Rapid movement through one account, over its unconsumed history (current, an outflow, included last). */
export function rapidMovementRule(history: readonly Activity[], current: Activity, config: AmlConfig): AlertDraft | null {
  const accountId = current.accountId;
  if (accountId === null || !OUTFLOW_KINDS.includes(current.kind)) return null;
  const ofAccount = history.filter((activity) => activity.accountId === accountId && withinWindow(activity, current.atMs, config.rapidMovementWindowMs));
  const inflows = ofAccount.filter((activity) => INFLOW_KINDS.includes(activity.kind));
  if (inflows.length === 0) return null;
  const firstIn = inflows[0]!.position;
  const outflows = ofAccount.filter((activity) => OUTFLOW_KINDS.includes(activity.kind) && activity.position > firstIn);
  const inMinor = sumMinor(inflows);
  if (inMinor === 0n || inMinor < config.rapidMovementMinInflowMinor) return null;
  if (sumMinor(outflows) * 100n < inMinor * config.rapidMovementOutPercent) return null;
  return {
    rule: 'rapid_movement', trigger: current, accountId, currency: current.currency, window: `${accountId}:from:${firstIn}`,
    evidence: [...inflows, ...outflows].sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0)),
    threshold: config.rapidMovementOutPercent,
  };
}

/** Velocity: more than `velocityMaxCount` distinct transactions of the customer within the window. */
export function velocityRule(history: readonly Activity[], current: Activity, config: AmlConfig): AlertDraft | null {
  const seen = new Set<string>();
  const distinct: Activity[] = [];
  for (const activity of history) {
    if (!withinWindow(activity, current.atMs, config.velocityWindowMs) || seen.has(activity.sourceId)) continue;
    seen.add(activity.sourceId);
    distinct.push(activity);
  }
  if (distinct.length <= config.velocityMaxCount) return null;
  return {
    rule: 'velocity', trigger: current, accountId: null, currency: null, window: `from:${distinct[0]!.position}`,
    evidence: distinct, threshold: BigInt(config.velocityMaxCount),
  };
}
