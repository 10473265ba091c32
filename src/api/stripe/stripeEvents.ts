/**
 * Stripe event objects (`object: 'event'`) from rows of the `payments_events`
 * read model: `data.object` is the object as it was when the event happened,
 * rendered from its stream folded up to the source event's version (or just
 * before it, for a deletion), with the same presenters as the API's answers.
 * The body is the same on every delivery and every retrieval.
 *
 * The seam for new objects (disputes, payouts, accounts): a decider for the
 * stream category in STREAM_DECIDERS and a presenter for the subject kind in
 * EVENT_OBJECT_RENDERERS (next to the mapper in stripeEvents.rules.ts).
 */
import type { Decider } from '../../decider/index.ts';
import { categoryOf, type EventStore } from '../../eventstore/index.ts';
import { assert, READ_BATCH_MAX } from '../../kernel/index.ts';
import {
  type ExistingPaymentIntent, type PaymentEventRow, paymentIntentDecider, paymentMethodDecider, stripeCustomerDecider,
} from '../../payments/index.ts';
import { chargeToWire, customerToWire, paymentIntentToWire, paymentMethodToWire, refundToWire, type Wire } from './stripeWire.ts';

/** The API version events say they were rendered with: the one the bundled `stripe` package pins. */
export const STRIPE_EVENTS_API_VERSION = '2026-11-18.endive';

type AnyDecider = Decider<any, any, any>;

/** Stream category → the decider that folds its streams. */
export const STREAM_DECIDERS: Record<string, AnyDecider> = {
  pcustomer: stripeCustomerDecider, pmethod: paymentMethodDecider, pintent: paymentIntentDecider,
};

/** Subject kind → its wire object, from the folded state of the stream that holds it. */
export const EVENT_OBJECT_RENDERERS: Record<string, (state: any, id: string, livemode: boolean) => Wire> = {
  customer: (state, _id, livemode) => customerToWire({ ...state, status: 'active' }, livemode),
  payment_method: (state, _id, livemode) => paymentMethodToWire(state, livemode),
  payment_intent: (state: ExistingPaymentIntent, _id, livemode) => paymentIntentToWire(state, livemode),
  charge: (state: ExistingPaymentIntent, id, livemode) => chargeToWire(state, state.charges.find((charge) => charge.chargeId === id)!, livemode),
  refund: (state: ExistingPaymentIntent, id) => refundToWire(state, state.refunds.find((refund) => refund.refundId === id)!),
};

export class StripeEventRenderer {
  constructor(private readonly store: EventStore) {}

  /** The event object of a row (see the module's comment). */
  async event(row: PaymentEventRow): Promise<Wire> {
    const livemode = row.mode === 'live';
    return {
      id: row.id, object: 'event', api_version: STRIPE_EVENTS_API_VERSION, created: row.createdS,
      data: { object: await this.objectOf(row, livemode) }, livemode, pending_webhooks: 0,
      request: { id: row.requestId, idempotency_key: row.idempotencyKey }, type: row.type,
    };
  }

  /** The JSON body a delivery sends (and signs). */
  async body(row: PaymentEventRow): Promise<string> {
    return JSON.stringify(await this.event(row));
  }

  private async objectOf(row: PaymentEventRow, livemode: boolean): Promise<Wire> {
    const decider = STREAM_DECIDERS[categoryOf(row.streamId)];
    const render = EVENT_OBJECT_RENDERERS[row.subjectKind];
    assert(decider !== undefined && render !== undefined, `no renderer for ${row.subjectKind} events of ${row.streamId}`);
    const state = await this.stateAt(decider, row.streamId, row.before ? row.streamVersion - 1n : row.streamVersion);
    return render(state, row.subjectId, livemode);
  }

  private async stateAt(decider: AnyDecider, streamId: string, version: bigint): Promise<unknown> {
    let state = decider.initialState();
    let from = 1n;
    while (from <= version) {
      const page = await this.store.readStream(streamId, { fromVersion: from, limit: READ_BATCH_MAX });
      for (const recorded of page) {
        if (recorded.version > version) return state;
        state = decider.evolve(state, { type: recorded.type, data: recorded.data });
      }
      if (page.length < READ_BATCH_MAX) break;
      from = page.at(-1)!.version + 1n;
    }
    return state;
  }
}
