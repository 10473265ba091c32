/**
 * Which Stripe events (`payment_intent.succeeded`, `charge.refunded`, …) a
 * domain event implies (pure). The events projection applies this to the log,
 * so the Stripe events are derived, never stored by a route: a replay of the
 * log rebuilds the same ones.
 *
 * The seam for new objects: add the domain event's mapper to
 * STRIPE_EVENT_MAPPERS, its stream category to STRIPE_EVENT_CATEGORIES, and
 * a renderer for its `kind` at the edge (src/api/stripe/stripeEvents.ts,
 * EVENT_OBJECT_RENDERERS), and its types to STRIPE_EVENT_TYPES.
 */
import { DaybookError } from '../../kernel/errors.ts';
import { WEBHOOK_ENABLED_EVENTS_MAX } from '../../kernel/limits.ts';
import type { CaptureMethod } from './paymentIntent.events.ts';

/** What a Stripe event's `data.object` is: the object's kind and id, rendered from its stream at the source event's version. */
export type StripeEventSubject = { readonly kind: string; readonly id: string };

export type StripeEventOf = {
  readonly type: string;
  readonly subject: StripeEventSubject;
  /** Render the object as it was just before the source event (a deleted customer is shown as it was). */
  readonly before?: boolean;
};

/** What a mapper may need beyond the event: the intent's capture method (from earlier events of its stream). */
export type StripeEventContext = { readonly captureMethod?: CaptureMethod };

type Mapper = (data: any, context: StripeEventContext) => StripeEventOf[];

const intent = (id: string): StripeEventSubject => ({ kind: 'payment_intent', id });
const charge = (id: string): StripeEventSubject => ({ kind: 'charge', id });
const dispute = (id: string): StripeEventSubject => ({ kind: 'dispute', id });
const payout = (id: string): StripeEventSubject => ({ kind: 'payout', id });
const account = (id: string): StripeEventSubject => ({ kind: 'account', id });

/**
 * Domain event type → Stripe events, in the order Stripe sends them. With
 * automatic capture the authorization is silent and the capture says
 * `charge.succeeded` (the charge is then captured, as Stripe shows it); with
 * manual capture the authorization says `charge.succeeded` and
 * `payment_intent.amount_capturable_updated`, the capture `charge.captured`.
 */
export const STRIPE_EVENT_MAPPERS: Record<string, Mapper> = {
  StripeCustomerCreated: (d) => [{ type: 'customer.created', subject: { kind: 'customer', id: d.customerId } }],
  StripeCustomerUpdated: (d) => [{ type: 'customer.updated', subject: { kind: 'customer', id: d.customerId } }],
  StripeCustomerDeleted: (d) => [{ type: 'customer.deleted', subject: { kind: 'customer', id: d.customerId }, before: true }],
  PaymentMethodAttached: (d) => [{ type: 'payment_method.attached', subject: { kind: 'payment_method', id: d.paymentMethodId } }],
  PaymentMethodDetached: (d) => [{ type: 'payment_method.detached', subject: { kind: 'payment_method', id: d.paymentMethodId } }],
  PaymentIntentCreated: (d) => [{ type: 'payment_intent.created', subject: intent(d.paymentIntentId) }],
  PaymentAuthorized: (d, context) => context.captureMethod !== 'manual' ? [] : [
    { type: 'charge.succeeded', subject: charge(d.chargeId) },
    { type: 'payment_intent.amount_capturable_updated', subject: intent(d.paymentIntentId) },
  ],
  PaymentCaptured: (d, context) => [
    { type: context.captureMethod === 'manual' ? 'charge.captured' : 'charge.succeeded', subject: charge(d.chargeId) },
    { type: 'payment_intent.succeeded', subject: intent(d.paymentIntentId) },
  ],
  PaymentFailed: (d) => [
    { type: 'charge.failed', subject: charge(d.chargeId) },
    { type: 'payment_intent.payment_failed', subject: intent(d.paymentIntentId) },
  ],
  PaymentIntentCanceled: (d) => [{ type: 'payment_intent.canceled', subject: intent(d.paymentIntentId) }],
  RefundCreated: (d) => [
    { type: 'charge.refunded', subject: charge(d.chargeId) },
    { type: 'refund.created', subject: { kind: 'refund', id: d.refundId } },
  ],
  // Disputes live in their charge's PaymentIntent stream. Opening one withdraws its amount and fee at once; winning one reinstates them.
  DisputeCreated: (d) => [
    { type: 'charge.dispute.created', subject: dispute(d.disputeId) },
    { type: 'charge.dispute.funds_withdrawn', subject: dispute(d.disputeId) },
  ],
  DisputeUpdated: (d) => [{ type: 'charge.dispute.updated', subject: dispute(d.disputeId) }],
  DisputeEvidenceSubmitted: (d) => [{ type: 'charge.dispute.updated', subject: dispute(d.disputeId) }],
  DisputeResolved: (d) => [
    { type: 'charge.dispute.closed', subject: dispute(d.disputeId) },
    ...(d.outcome === 'won' && d.balanceTransactionId !== null ? [{ type: 'charge.dispute.funds_reinstated', subject: dispute(d.disputeId) }] : []),
  ],
  PayoutCreated: (d) => [{ type: 'payout.created', subject: payout(d.payoutId) }],
  PayoutUpdated: (d) => [{ type: 'payout.updated', subject: payout(d.payoutId) }],
  PayoutPaid: (d) => [{ type: 'payout.paid', subject: payout(d.payoutId) }],
  PayoutFailed: (d) => [{ type: 'payout.failed', subject: payout(d.payoutId) }],
  PayoutCanceled: (d) => [{ type: 'payout.canceled', subject: payout(d.payoutId) }],
  // Stripe has no account.created: an account says account.updated when its details or its verification change.
  AccountUpdated: (d) => [{ type: 'account.updated', subject: account(d.accountId) }],
  KycVerificationCompleted: (d) => [{ type: 'account.updated', subject: account(d.accountId) }],
};

/** Stream categories whose events may imply Stripe events (the webhook endpoints' own, `pwebhook`, is read too). */
export const STRIPE_EVENT_CATEGORIES: string[] = ['pcustomer', 'pmethod', 'pintent', 'ppayout', 'paccount'];

/** The Stripe events of one domain event (none for most). */
export function stripeEventsOf(event: { type: string; data: unknown }, context: StripeEventContext = {}): StripeEventOf[] {
  const mapper = STRIPE_EVENT_MAPPERS[event.type];
  return mapper === undefined ? [] : mapper(event.data, context);
}

/** Types an endpoint may subscribe to (`balance.available` is accepted, not emitted yet). */
export const STRIPE_EVENT_TYPES: readonly string[] = [
  'customer.created', 'customer.updated', 'customer.deleted', 'payment_method.attached', 'payment_method.detached',
  'payment_intent.created', 'payment_intent.succeeded', 'payment_intent.payment_failed', 'payment_intent.canceled', 'payment_intent.amount_capturable_updated',
  'charge.succeeded', 'charge.captured', 'charge.failed', 'charge.refunded', 'refund.created',
  'charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.closed', 'charge.dispute.funds_withdrawn', 'charge.dispute.funds_reinstated',
  'payout.created', 'payout.updated', 'payout.paid', 'payout.failed', 'payout.canceled', 'account.updated', 'balance.available',
];

/** `enabled_events`: `['*']` or known types, at least one, at most WEBHOOK_ENABLED_EVENTS_MAX, without repeats. */
export function checkEnabledEvents(types: readonly string[]): readonly string[] {
  if (types.length === 0) throw new DaybookError('validation_failed', 'Invalid enabled_events: give at least one event type, or *.', {}, 'enabled_events');
  if (types.length > WEBHOOK_ENABLED_EVENTS_MAX) {
    throw new DaybookError('limit_exceeded', `enabled_events may list at most ${WEBHOOK_ENABLED_EVENTS_MAX} types`, { max: WEBHOOK_ENABLED_EVENTS_MAX }, 'enabled_events');
  }
  for (const [index, type] of types.entries()) {
    if (type === '*' && types.length === 1) continue;
    if (!STRIPE_EVENT_TYPES.includes(type)) {
      throw new DaybookError('validation_failed', `Invalid enabled_events[${index}]: must be one of ${['*', ...STRIPE_EVENT_TYPES].join(', ')}`, {}, `enabled_events[${index}]`);
    }
  }
  return [...new Set(types)];
}

/** True when an endpoint listening to `enabledEvents` wants an event of `type`. */
export function endpointWants(enabledEvents: readonly string[], type: string): boolean {
  return enabledEvents.includes('*') || enabledEvents.includes(type);
}
