/**
 * Stripe event objects (`object: 'event'`) from rows of the `payments_events`
 * read model: `data.object` is the object as it was when the event happened,
 * rendered from its stream folded up to the source event's version (or just
 * before it, for a deletion), with the same presenters as the API's answers.
 * The body is the same on every delivery and every retrieval.
 *
 * The seam for new objects: a decider for the stream category in
 * STREAM_DECIDERS and a presenter for the subject kind in
 * EVENT_OBJECT_RENDERERS (next to the mapper in stripeEvents.rules.ts).
 * Presenters that depend on the time (a dispute's `past_due`, its balance
 * transactions' `status`) are given the event's own time, so the body
 * never changes between retrievals.
 */
import type { Decider } from '../../decider/index.ts';
import { categoryOf, type EventStore } from '../../eventstore/index.ts';
import { assert, READ_BATCH_MAX } from '../../kernel/index.ts';
import { PAYMENT_STATE_CACHE_MAX } from '../../kernel/limits.ts';
import {
  accountDecider, type ExistingAccount, type ExistingPaymentIntent, type ExistingPayout, type PaymentEventRow, paymentIntentDecider, paymentMethodDecider, payoutDecider,
  stripeCustomerDecider,
} from '../../payments/index.ts';
import { accountToWire, disputeToWire, payoutToWire } from './moneyOutWire.ts';
import { chargeToWire, customerToWire, paymentIntentToWire, paymentMethodToWire, refundToWire, type Wire } from './stripeWire.ts';

/** The API version events say they were rendered with: the one the bundled `stripe` package pins. */
export const STRIPE_EVENTS_API_VERSION = '2026-11-18.endive';

type AnyDecider = Decider<any, any, any>;

/** Stream category → the decider that folds its streams. */
export const STREAM_DECIDERS: Record<string, AnyDecider> = {
  pcustomer: stripeCustomerDecider, pmethod: paymentMethodDecider, pintent: paymentIntentDecider, ppayout: payoutDecider, paccount: accountDecider,
};

/** Subject kind → its wire object, from the folded state of the stream that holds it. */
export const EVENT_OBJECT_RENDERERS: Record<string, (state: any, id: string, livemode: boolean, atMs: number) => Wire> = {
  customer: (state, _id, livemode) => customerToWire({ ...state, status: 'active' }, livemode),
  payment_method: (state, _id, livemode) => paymentMethodToWire(state, livemode),
  payment_intent: (state: ExistingPaymentIntent, _id, livemode) => paymentIntentToWire(state, livemode),
  charge: (state: ExistingPaymentIntent, id, livemode) => chargeToWire(state, state.charges.find((charge) => charge.chargeId === id)!, livemode),
  refund: (state: ExistingPaymentIntent, id) => refundToWire(state, state.refunds.find((refund) => refund.refundId === id)!),
  dispute: (state: ExistingPaymentIntent, id, livemode, atMs) => disputeToWire(state, state.disputes.find((dispute) => dispute.disputeId === id)!, livemode, atMs),
  payout: (state: ExistingPayout, _id, livemode) => payoutToWire(state, livemode),
  account: (state: ExistingAccount, _id, livemode) => accountToWire(state, livemode),
};

export class StripeEventRenderer {
  /**
   * The last state folded per stream (at most `cacheMax` streams, least
   * recently used first out): events are rendered in log order by the
   * deliveries, so each render folds only the events since the previous
   * one of its stream instead of the stream from its start.
   */
  private readonly folded = new Map<string, { state: unknown; version: bigint }>();
  /** Invalidations per stream since the renderer started: a fold that saw one happen while it read is not kept. */
  private readonly invalidations = new Map<string, number>();

  constructor(private readonly store: EventStore, private readonly cacheMax = PAYMENT_STATE_CACHE_MAX) {
    // A state folded before its subject's erasure holds the opened personal data: an erasure drops it (see ShreddingEventStore.invalidate).
    store.onStreamInvalidated?.((streamId) => {
      this.folded.delete(streamId);
      this.invalidations.set(streamId, (this.invalidations.get(streamId) ?? 0) + 1);
    });
  }

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
    const { state, atMs } = await this.stateAt(decider, row.streamId, row.streamVersion, row.before);
    return render(state, row.subjectId, livemode, atMs ?? row.createdS * 1000);
  }

  /**
   * The stream folded through `version` (or just before it), and the time
   * the event at `version` carries (`atMs`, the service's clock when it was
   * decided), which time-dependent presenters are given.
   */
  private async stateAt(decider: AnyDecider, streamId: string, version: bigint, before: boolean): Promise<{ state: unknown; atMs: number | undefined }> {
    const target = before ? version - 1n : version;
    const invalidationsBefore = this.invalidations.get(streamId) ?? 0;
    const kept = this.folded.get(streamId);
    let { state, version: reached } = kept !== undefined && kept.version <= target ? kept : { state: decider.initialState(), version: 0n };
    let atMs: number | undefined;
    // Reads through `version` (its event carries the time, read even when the state kept is already there), folds through `target`.
    let from = reached < version ? reached + 1n : version;
    while (from <= version) {
      const limit = Number(version - from + 1n < BigInt(READ_BATCH_MAX) ? version - from + 1n : BigInt(READ_BATCH_MAX));
      const page = await this.store.readStream(streamId, { fromVersion: from, limit });
      for (const recorded of page) {
        if (recorded.version === version) {
          const time = (recorded.data as { atMs?: unknown }).atMs;
          atMs = typeof time === 'number' ? time : undefined;
        }
        if (recorded.version > reached && recorded.version <= target) {
          state = decider.evolve(state, { type: recorded.type, data: recorded.data });
          reached = recorded.version;
        }
      }
      if (page.length < limit) break;
      from = page.at(-1)!.version + 1n;
    }
    // An erasure while this fold read put opened data in it that the store now reads as erased: neither kept nor shown.
    if ((this.invalidations.get(streamId) ?? 0) !== invalidationsBefore) return this.stateAt(decider, streamId, version, before);
    this.remember(streamId, state, reached);
    return { state, atMs };
  }

  private remember(streamId: string, state: unknown, version: bigint): void {
    this.folded.delete(streamId);
    this.folded.set(streamId, { state, version });
    // Maps iterate in insertion order: the first key is the least recently used.
    while (this.folded.size > this.cacheMax) this.folded.delete(this.folded.keys().next().value!);
  }
}
