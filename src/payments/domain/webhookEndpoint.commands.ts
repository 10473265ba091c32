import type { MetadataPatch } from './payments.rules.ts';

/** Commands of a WebhookEndpoint; the service puts the time, the id and the new secret in. */
export type CreateWebhookEndpoint = {
  type: 'CreateWebhookEndpoint';
  data: { webhookEndpointId: string; url: string; enabledEvents: readonly string[]; description: string | null; metadata?: MetadataPatch; secret: string; atMs: number };
};
/** Absent fields stay as they are. */
export type UpdateWebhookEndpoint = {
  type: 'UpdateWebhookEndpoint';
  data: { webhookEndpointId: string; url?: string; enabledEvents?: readonly string[]; description?: string | null; disabled?: boolean; metadata?: MetadataPatch; atMs: number };
};
export type DeleteWebhookEndpoint = { type: 'DeleteWebhookEndpoint'; data: { webhookEndpointId: string; atMs: number } };

export type WebhookEndpointCommand = CreateWebhookEndpoint | UpdateWebhookEndpoint | DeleteWebhookEndpoint;
