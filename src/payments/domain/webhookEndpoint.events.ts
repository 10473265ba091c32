import type { Metadata } from './payments.rules.ts';

/**
 * Events of a WebhookEndpoint stream (`pwebhook-<mode>.<we_id>`). The signing
 * secret (`whsec_…`) lives here, in the log, as Stripe keeps it: deliveries
 * sign with it, and the API shows it only in the answer to the creation.
 */
export type WebhookEndpointFields = {
  url: string;
  /** Stripe event types, or `['*']` for all. */
  enabledEvents: readonly string[];
  description: string | null;
  disabled: boolean;
  metadata: Metadata;
};

export type WebhookEndpointCreated = { type: 'WebhookEndpointCreated'; data: WebhookEndpointFields & { webhookEndpointId: string; secret: string; atMs: number } };
export type WebhookEndpointUpdated = { type: 'WebhookEndpointUpdated'; data: WebhookEndpointFields & { webhookEndpointId: string; atMs: number } };
export type WebhookEndpointDeleted = { type: 'WebhookEndpointDeleted'; data: { webhookEndpointId: string; atMs: number } };

export type WebhookEndpointEvent = WebhookEndpointCreated | WebhookEndpointUpdated | WebhookEndpointDeleted;
export const WEBHOOK_ENDPOINT_EVENT_TYPES = ['WebhookEndpointCreated', 'WebhookEndpointUpdated', 'WebhookEndpointDeleted'] as const;
