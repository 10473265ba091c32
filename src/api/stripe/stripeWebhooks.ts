/**
 * What the events and webhook-endpoint routes use, and how the listener runs
 * the deliveries: the endpoints service, the events read model, the event
 * renderer, the dispatcher (woken by each committed batch of the
 * `payments_events` projection, polling for retries otherwise) and the
 * private-target policy (see webhookTargets.ts for the SSRF note).
 */
import type { WebhookConfig } from '../../edge/index.ts';
import type { EventStore } from '../../eventstore/index.ts';
import type { Logger } from '../../edge/index.ts';
import type { Clock } from '../../kernel/index.ts';
import {
  type ExistingWebhookEndpoint, PAYMENT_EVENTS_PROJECTION_NAME, PaymentEventsReadModel, type PositionWaiter, secondsOf, WebhookDispatcher, type WebhookDeliveryRow,
  WebhookEndpointsService, type PrivateTargets,
} from '../../payments/index.ts';
import type { ReadModelStore } from '../../projections/index.ts';
import { StripeEventRenderer } from './stripeEvents.ts';
import type { PaymentsApi } from './stripeObjects.ts';
import type { Wire } from './stripeWire.ts';

export interface WebhooksApi {
  payments: PaymentsApi;
  endpoints: WebhookEndpointsService;
  events: PaymentEventsReadModel;
  renderer: StripeEventRenderer;
  privateTargets: PrivateTargets;
}

export interface StartedWebhooks {
  api: WebhooksApi;
  dispatcher: WebhookDispatcher;
  close(): Promise<void>;
}

export interface StartWebhooksOptions {
  store: EventStore;
  readModels: ReadModelStore;
  payments: PaymentsApi;
  config: WebhookConfig;
  logger: Logger;
  projections: PositionWaiter & { onBatchCommitted?(listener: (batch: { projection: string; events: number }) => void): () => void };
  /** Start the dispatcher (default true); false in the `api` role, where other processes deliver. */
  deliver?: boolean;
}

export interface StartWebhookDeliveryOptions {
  store: EventStore;
  readModels: ReadModelStore;
  config: WebhookConfig;
  logger: Logger;
  clock: Clock;
  projections: { onBatchCommitted?(listener: (batch: { projection: string; events: number }) => void): () => void };
  /** Start the dispatcher now (default true); with false it is built but idle (the `api` role: other processes deliver). */
  deliver?: boolean;
}

/**
 * The delivery side alone (the `projections` role runs it without any HTTP
 * listener): the dispatcher, woken by each committed batch of the
 * `payments_events` projection in this process, polling otherwise.
 */
export function startWebhookDelivery(options: StartWebhookDeliveryOptions): { dispatcher: WebhookDispatcher; endpoints: WebhookEndpointsService; renderer: StripeEventRenderer; close(): Promise<void> } {
  const { store, readModels, config, logger } = options;
  const endpoints = new WebhookEndpointsService(store, options.clock);
  const renderer = new StripeEventRenderer(store);
  const dispatcher = new WebhookDispatcher({
    readModels, endpoint: (mode, id) => endpoints.endpoint(mode, id), render: (row) => renderer.body(row),
    schedule: config.retryScheduleMs, timeoutMs: config.timeoutMs, privateTargets: config.privateTargets,
    onError: (error) => logger.warn({ err: error }, 'webhook dispatch failed'),
  });
  if (options.deliver === false) return { dispatcher, endpoints, renderer, close: async () => {} };
  const detach = options.projections.onBatchCommitted?.((batch) => {
    if (batch.projection === PAYMENT_EVENTS_PROJECTION_NAME && batch.events > 0) dispatcher.nudge();
  });
  dispatcher.start();
  return {
    dispatcher, endpoints, renderer,
    close: async () => {
      detach?.();
      await dispatcher.stop();
    },
  };
}

/** Builds the webhooks' services and starts the dispatcher (unless `deliver` is false). */
export function startWebhooks(options: StartWebhooksOptions): StartedWebhooks {
  const { store, readModels, config } = options;
  const delivery = startWebhookDelivery({ ...options, clock: options.payments.payments.clock });
  // The API renders on a renderer of its own: its newest-first pages would otherwise replace the states the dispatcher keeps (it renders in log order).
  const api: WebhooksApi = {
    payments: options.payments, endpoints: delivery.endpoints, events: new PaymentEventsReadModel(store, readModels, options.projections), renderer: new StripeEventRenderer(store),
    privateTargets: config.privateTargets,
  };
  return { api, dispatcher: delivery.dispatcher, close: () => delivery.close() };
}

/** A WebhookEndpoint object; the secret only when asked (the creation's answer). */
export function endpointToWire(state: ExistingWebhookEndpoint, livemode: boolean, withSecret = false): Wire {
  return {
    id: state.webhookEndpointId, object: 'webhook_endpoint', api_version: null, application: null, created: secondsOf(state.createdAtMs),
    description: state.description, enabled_events: [...state.enabledEvents], livemode, metadata: state.metadata,
    ...(withSecret ? { secret: state.secret } : {}), status: state.disabled ? 'disabled' : 'enabled', url: state.url,
  };
}

/** A delivery as `GET /v1/webhook_endpoints/:id/deliveries` shows it (a Daybook extension). */
export function deliveryToWire(row: WebhookDeliveryRow): Wire {
  return {
    object: 'webhook_delivery', webhook_endpoint: row.endpointId, event: row.eventId, event_type: row.eventType, status: row.status, attempts: row.attempts,
    next_attempt: row.status === 'pending' ? secondsOf(row.nextAttemptMs) : null, last_attempt: row.lastAttemptMs === null ? null : secondsOf(row.lastAttemptMs),
    last_status_code: row.lastStatusCode, last_error: row.lastError,
    attempt_log: row.attemptLog.map((attempt) => ({ created: secondsOf(attempt.atMs), status_code: attempt.statusCode, error: attempt.error, duration_ms: attempt.durationMs })),
  };
}
