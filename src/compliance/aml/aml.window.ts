import { assert } from '../../kernel/index.ts';
import { AML_RECENT_ACTIVITY_MAX } from '../../kernel/limits.ts';
import { type AmlConfig, longestWindowMs } from './aml.config.ts';
import type { AmlSubjectKind } from './aml.events.ts';
import {
  type Activity, type ActivityKind, type AlertDraft, ctrKeyOf, ctrRule, rapidMovementRule, structuringRule, utcDayOf, velocityRule,
} from './aml.rules.ts';

/**
 * One customer's monitoring state: the activity of the longest window, the
 * day's cash totals per CTR key, and per rule the position up to which
 * activity was evidence of an alert already. A pure fold: the same
 * activities in the same order give the same state and the same alerts,
 * whatever the batches they came in (what makes alert ids stable across
 * replays). Stored as JSON (`encodeSubjectState`).
 */
export type SubjectState = {
  readonly recent: readonly Activity[];
  /** `<day>:<in|out>:<currency>` → cash total of that day. Days before yesterday (of the latest activity) are dropped. */
  readonly cashDays: Readonly<Record<string, bigint>>;
  readonly consumedStructuring: bigint;
  readonly consumedVelocity: bigint;
  /** Per bank account: rapid-movement evidence up to this position. */
  readonly consumedRapid: Readonly<Record<string, bigint>>;
};

export const EMPTY_SUBJECT_STATE: SubjectState = { recent: [], cashDays: {}, consumedStructuring: 0n, consumedVelocity: 0n, consumedRapid: {} };

/** Adds one activity (positions must increase) and answers the alerts it trips, CTR first. */
export function applyActivity(state: SubjectState, activity: Activity, config: AmlConfig): { state: SubjectState; alerts: AlertDraft[] } {
  const last = state.recent.at(-1);
  assert(last === undefined || last.position <= activity.position, `AML: activity at position ${activity.position} after ${last?.position}`);
  const recent = [...state.recent, activity];
  const alerts: AlertDraft[] = [];
  let { cashDays, consumedStructuring, consumedVelocity, consumedRapid } = state;

  const ctrKey = ctrKeyOf(activity);
  if (ctrKey !== null) {
    const before = cashDays[ctrKey] ?? 0n;
    const sameDay = state.recent.filter((earlier) => ctrKeyOf(earlier) === ctrKey);
    const ctr = ctrRule(before, activity, sameDay, config);
    if (ctr !== null) alerts.push(ctr);
    cashDays = { ...cashDays, [ctrKey]: before + activity.amountMinor };
  }
  const structuring = structuringRule(recent.filter((item) => item.position > consumedStructuring), activity, config);
  if (structuring !== null) {
    alerts.push(structuring);
    consumedStructuring = activity.position;
  }
  if (activity.accountId !== null) {
    const consumed = consumedRapid[activity.accountId] ?? 0n;
    const rapid = rapidMovementRule(recent.filter((item) => item.position > consumed), activity, config);
    if (rapid !== null) {
      alerts.push(rapid);
      consumedRapid = { ...consumedRapid, [activity.accountId]: activity.position };
    }
  }
  const velocity = velocityRule(recent.filter((item) => item.position > consumedVelocity), activity, config);
  if (velocity !== null) {
    alerts.push(velocity);
    consumedVelocity = activity.position;
  }
  return { state: prune({ recent, cashDays, consumedStructuring, consumedVelocity, consumedRapid }, activity.atMs, config), alerts };
}

/**
 * Drops what no rule can look at any more: activity older than the longest
 * window, days before yesterday. A subject keeps at most
 * AML_RECENT_ACTIVITY_MAX activities (the newest): a hot subject (a
 * platform account, a shared test card) would otherwise make every
 * activity cost time and state in proportion to a whole day of its
 * activity. Past that bound the windowed rules (structuring, rapid
 * movement) see only the newest activities; the CTR totals are kept apart
 * and stay whole.
 */
function prune(state: SubjectState, nowMs: number, config: AmlConfig): SubjectState {
  const horizonMs = nowMs - longestWindowMs(config);
  const recent = state.recent.filter((activity) => activity.atMs > horizonMs).slice(-AML_RECENT_ACTIVITY_MAX);
  const oldestDay = utcDayOf(nowMs - 24 * 3_600_000);
  const cashDays = Object.fromEntries(Object.entries(state.cashDays).filter(([key]) => key.slice(0, 10) >= oldestDay));
  const accounts = new Set(recent.map((activity) => activity.accountId));
  const consumedRapid = Object.fromEntries(Object.entries(state.consumedRapid).filter(([accountId]) => accounts.has(accountId)));
  return { ...state, recent, cashDays, consumedRapid };
}

type ActivityJson = Omit<Activity, 'position' | 'amountMinor'> & { position: string; amountMinor: string };
type SubjectStateJson = {
  recent: ActivityJson[]; cashDays: Record<string, string>; consumedStructuring: string; consumedVelocity: string; consumedRapid: Record<string, string>;
};

const mapValues = <A, B>(record: Readonly<Record<string, A>>, fn: (value: A) => B): Record<string, B> =>
  Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fn(value)]));

export function encodeSubjectState(state: SubjectState): string {
  const json: SubjectStateJson = {
    recent: state.recent.map((activity) => ({ ...activity, position: activity.position.toString(), amountMinor: activity.amountMinor.toString() })),
    cashDays: mapValues(state.cashDays, String),
    consumedStructuring: state.consumedStructuring.toString(),
    consumedVelocity: state.consumedVelocity.toString(),
    consumedRapid: mapValues(state.consumedRapid, String),
  };
  return JSON.stringify(json);
}

export function decodeSubjectState(text: string): SubjectState {
  const json = JSON.parse(text) as SubjectStateJson;
  return {
    recent: json.recent.map((activity) => ({
      ...activity, kind: activity.kind as ActivityKind, subjectKind: activity.subjectKind as AmlSubjectKind,
      position: BigInt(activity.position), amountMinor: BigInt(activity.amountMinor),
    })),
    cashDays: mapValues(json.cashDays, BigInt),
    consumedStructuring: BigInt(json.consumedStructuring),
    consumedVelocity: BigInt(json.consumedVelocity),
    consumedRapid: mapValues(json.consumedRapid, BigInt),
  };
}
