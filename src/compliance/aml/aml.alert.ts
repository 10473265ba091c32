import { AML_ALERT_RAISED, type AmlAlertRaised, type AmlEvidence } from './aml.events.ts';
import { type Activity, type AlertDraft, sumMinor } from './aml.rules.ts';

const isoOf = (atMs: number): string => new Date(atMs).toISOString();

function evidenceOf(activity: Activity): AmlEvidence {
  return {
    position: activity.position.toString(), sourceId: activity.sourceId, kind: activity.kind, accountId: activity.accountId,
    amountMinor: activity.amountMinor.toString(), currency: activity.currency, at: isoOf(activity.atMs),
  };
}

/**
 * The event of an alert, from its draft and its id. Everything in it comes
 * from the events that are its evidence (never a clock), so raising it again
 * gives the same event, which the store takes as a duplicate.
 */
export function alertRaised(draft: AlertDraft, alertId: string): AmlAlertRaised {
  const { trigger, evidence } = draft;
  // Rapid movement: what went out; the others: the sum of the evidence.
  const amount = draft.rule === 'rapid_movement'
    ? sumMinor(evidence.filter((activity) => activity.kind.endsWith('_out')))
    : sumMinor(evidence);
  const times = evidence.map((activity) => activity.atMs);
  return {
    type: AML_ALERT_RAISED,
    data: {
      alertId, rule: draft.rule, subjectKind: trigger.subjectKind, customerId: trigger.customerId, mode: trigger.mode,
      accountId: draft.accountId, currency: draft.currency, amountMinor: amount.toString(), count: evidence.length, window: draft.window,
      windowStart: isoOf(Math.min(...times)), windowEnd: isoOf(Math.max(...times)), threshold: draft.threshold.toString(),
      evidence: evidence.map(evidenceOf), raisedAt: isoOf(trigger.atMs),
    },
  };
}
