/**
 * What the AML monitor says, as events. Each alert is its own stream
 * (`amlalert-<alertId>`) holding one `AmlAlertRaised`, whose id (and the
 * alert's) derives from the rule, the customer and the window: raising it
 * again, after a replay or a restart, appends nothing. Amounts are integer
 * strings of minor units; positions are the global positions of the events
 * that are the evidence.
 */
export const AML_RULES = ['ctr', 'structuring', 'rapid_movement', 'velocity'] as const;
export type AmlRule = (typeof AML_RULES)[number];

/** The stream category of alerts (`amlalert-<alertId>`). */
export const AML_ALERT_CATEGORY = 'amlalert';
export const AML_ALERT_RAISED = 'AmlAlertRaised';

/** Whose activity: a bank customer (`customer-<id>` streams) or a Stripe customer of the payments API. */
export type AmlSubjectKind = 'bank_customer' | 'payments_customer';

export type AmlEvidence = {
  /** Global position of the event that recorded the transaction (its completion or capture). */
  readonly position: string;
  /** The banking transaction id or the PaymentIntent id. */
  readonly sourceId: string;
  readonly kind: string;
  readonly accountId: string | null;
  readonly amountMinor: string;
  readonly currency: string;
  readonly at: string;
};

export type AmlAlertRaised = {
  type: typeof AML_ALERT_RAISED;
  data: {
    alertId: string;
    rule: AmlRule;
    subjectKind: AmlSubjectKind;
    customerId: string;
    /** `test` or `live` when the ids say so (the API prefixes them), null otherwise. */
    mode: string | null;
    /** The bank account the rule watched (rapid movement), else null. */
    accountId: string | null;
    /** Null for velocity (a count over currencies). */
    currency: string | null;
    /** Sum of the evidence amounts (in `currency`; over all currencies for velocity: informational). */
    amountMinor: string;
    count: number;
    /** What makes the alert unique for its rule and customer, e.g. `2024-05-01:in:USD` for a CTR. */
    window: string;
    windowStart: string;
    windowEnd: string;
    /** The threshold the rule compared against (amount or count), as configured when raised. */
    threshold: string;
    evidence: AmlEvidence[];
    /** The time of the transaction that tripped the rule. */
    raisedAt: string;
  };
};

/** The deterministic key of an alert: one alert per rule, customer and window. */
export function alertKey(rule: AmlRule, subject: string, window: string): string {
  return `${rule}\u0000${subject}\u0000${window}`;
}
