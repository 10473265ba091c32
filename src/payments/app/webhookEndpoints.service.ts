/**
 * Webhook endpoints as aggregates (`pwebhook-<mode>.<we_id>`): create (with a
 * fresh `whsec_` secret), update, delete, load. Writes to one stream are
 * serialized here; across processes the expected version decides.
 *
 * @example
 * const endpoints = new WebhookEndpointsService(store, systemClock);
 * await endpoints.create(ctx, { webhookEndpointId: 'we_1', url: 'https://example.com/hook', enabledEvents: ['*'], description: null });
 */
import { randomBytes } from 'node:crypto';
import type { EventStore } from '../../eventstore/index.ts';
import { type Clock, DaybookError, KeyedLocks, WEBHOOK_ENDPOINTS_MAX } from '../../kernel/index.ts';
import type { MetadataPatch } from '../domain/payments.rules.ts';
import type { WebhookEndpointCommand } from '../domain/webhookEndpoint.commands.ts';
import { webhookEndpointDecider, type WebhookEndpointState } from '../domain/webhookEndpoint.decider.ts';
import { WEBHOOK_ENDPOINT_EVENT_TYPES, type WebhookEndpointEvent } from '../domain/webhookEndpoint.events.ts';
import { WEBHOOK_ENDPOINT_CATEGORY } from './paymentEvents.projection.ts';
import { AggregateRepository, type Decided } from './payments.repository.ts';
import type { PaymentsContext, PaymentMode } from './payments.service.ts';

export type WebhookEndpointInput = { webhookEndpointId: string; url: string; enabledEvents: readonly string[]; description: string | null; metadata?: MetadataPatch };
export type WebhookEndpointPatch = { url?: string; enabledEvents?: readonly string[]; description?: string | null; disabled?: boolean; metadata?: MetadataPatch };

/** A signing secret: `whsec_` and 32 random bytes in hex (the whole string is the HMAC key, as Stripe's libraries use it). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('hex')}`;
}

export class WebhookEndpointsService {
  readonly repo: AggregateRepository<WebhookEndpointCommand, WebhookEndpointEvent, WebhookEndpointState>;
  private readonly locks = new KeyedLocks();

  constructor(store: EventStore, private readonly clock: Clock) {
    this.repo = new AggregateRepository(store, webhookEndpointDecider, WEBHOOK_ENDPOINT_CATEGORY, WEBHOOK_ENDPOINT_EVENT_TYPES);
  }

  /**
   * `activeCount` counts the mode's endpoints (from the read model), bounded
   * by WEBHOOK_ENDPOINTS_MAX. Creations of one mode are decided one at a
   * time in this process, each counting after the one before committed, so
   * concurrent requests cannot pass the bound together (across processes it
   * may be passed by at most one per process).
   */
  create(ctx: PaymentsContext, input: WebhookEndpointInput, activeCount: () => Promise<number>): Promise<Decided<WebhookEndpointState, WebhookEndpointEvent>> {
    return this.locks.run(`create:${ctx.mode}`, async () => {
      const existing = await this.endpoint(ctx.mode, input.webhookEndpointId);
      // An existing id is this request's (derived from its Idempotency-Key and payload): answered again below, whatever the count now.
      if (existing.status === 'none' && await activeCount() >= WEBHOOK_ENDPOINTS_MAX) {
        throw new DaybookError('limit_exceeded', `A mode may have at most ${WEBHOOK_ENDPOINTS_MAX} webhook endpoints.`, { max: WEBHOOK_ENDPOINTS_MAX }, 'url');
      }
      return this.run(ctx, input.webhookEndpointId, { type: 'CreateWebhookEndpoint', data: { ...input, secret: newWebhookSecret(), atMs: this.clock.nowMs() } });
    });
  }

  update(ctx: PaymentsContext, webhookEndpointId: string, patch: WebhookEndpointPatch) {
    return this.run(ctx, webhookEndpointId, { type: 'UpdateWebhookEndpoint', data: { webhookEndpointId, ...patch, atMs: this.clock.nowMs() } });
  }

  delete(ctx: PaymentsContext, webhookEndpointId: string) {
    return this.run(ctx, webhookEndpointId, { type: 'DeleteWebhookEndpoint', data: { webhookEndpointId, atMs: this.clock.nowMs() } });
  }

  async endpoint(mode: PaymentMode | string, webhookEndpointId: string): Promise<WebhookEndpointState> {
    return (await this.repo.load(this.repo.streamId(mode, webhookEndpointId))).state;
  }

  private run(ctx: PaymentsContext, id: string, command: WebhookEndpointCommand): Promise<Decided<WebhookEndpointState, WebhookEndpointEvent>> {
    const streamId = this.repo.streamId(ctx.mode, id);
    return this.locks.run(streamId, async () => {
      const loaded = await this.repo.load(streamId);
      const events = this.repo.decider.decide(command, loaded.state);
      return this.repo.append(streamId, loaded, events, { ...ctx.metadata, mode: ctx.mode });
    });
  }
}
