import type { Decider } from '../../decider/index.ts';
import { assertNever } from '../../kernel/assert.ts';
import { DaybookError } from '../../kernel/errors.ts';
import { applyMetadataPatch } from './payments.rules.ts';
import { checkEnabledEvents } from './stripeEvents.rules.ts';
import type { WebhookEndpointCommand } from './webhookEndpoint.commands.ts';
import type { WebhookEndpointEvent, WebhookEndpointFields } from './webhookEndpoint.events.ts';

export type WebhookEndpointState =
  | { status: 'none' }
  | (WebhookEndpointFields & { status: 'active' | 'deleted'; webhookEndpointId: string; secret: string; createdAtMs: number });

/**
 * A webhook endpoint: created (with its secret), updated, deleted for good.
 * The URL's scheme and reachability are checked at the edge (policy, not
 * domain); the event types here.
 *
 * Rejects, in this order: validation_failed / limit_exceeded (enabled events,
 * metadata); resource_missing (no such endpoint, or deleted).
 */
export const webhookEndpointDecider: Decider<WebhookEndpointCommand, WebhookEndpointEvent, WebhookEndpointState> = {
  initialState: () => ({ status: 'none' }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'WebhookEndpointCreated': {
        const { webhookEndpointId, secret, atMs, url, enabledEvents, description, disabled, metadata } = event.data;
        return { status: 'active', webhookEndpointId, secret, createdAtMs: atMs, url, enabledEvents, description, disabled, metadata };
      }
      case 'WebhookEndpointUpdated': {
        if (state.status === 'none') return state;
        const { url, enabledEvents, description, disabled, metadata } = event.data;
        return { ...state, url, enabledEvents, description, disabled, metadata };
      }
      case 'WebhookEndpointDeleted':
        return state.status === 'none' ? state : { ...state, status: 'deleted' };
      default:
        return assertNever(event);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'CreateWebhookEndpoint': {
        const { webhookEndpointId, url, enabledEvents, description, metadata, secret, atMs } = command.data;
        const fields = { url, enabledEvents: checkEnabledEvents(enabledEvents), description, disabled: false, metadata: applyMetadataPatch({}, metadata) };
        // A retry of a creation whose answer was lost names the same id: nothing more to do; once deleted, it is not answered as if alive.
        if (state.status === 'deleted') throw new DaybookError('resource_missing', `Webhook endpoint ${webhookEndpointId} was deleted; create a new one with another Idempotency-Key.`, { webhookEndpointId }, 'id');
        if (state.status !== 'none') return [];
        return [{ type: 'WebhookEndpointCreated', data: { webhookEndpointId, secret, atMs, ...fields } }];
      }
      case 'UpdateWebhookEndpoint': {
        const current = existing(state, command.data.webhookEndpointId);
        const d = command.data;
        const enabledEvents = d.enabledEvents === undefined ? current.enabledEvents : checkEnabledEvents(d.enabledEvents);
        return [{
          type: 'WebhookEndpointUpdated',
          data: {
            webhookEndpointId: current.webhookEndpointId, url: d.url ?? current.url, enabledEvents, description: d.description === undefined ? current.description : d.description,
            disabled: d.disabled ?? current.disabled, metadata: applyMetadataPatch(current.metadata, d.metadata), atMs: d.atMs,
          },
        }];
      }
      case 'DeleteWebhookEndpoint': {
        const current = existing(state, command.data.webhookEndpointId);
        return [{ type: 'WebhookEndpointDeleted', data: { webhookEndpointId: current.webhookEndpointId, atMs: command.data.atMs } }];
      }
      default:
        return assertNever(command);
    }
  },
};

export type ExistingWebhookEndpoint = Exclude<WebhookEndpointState, { status: 'none' }>;

function existing(state: WebhookEndpointState, id: string): ExistingWebhookEndpoint {
  if (state.status !== 'active') throw new DaybookError('resource_missing', `No such webhook endpoint: '${id}'`, { id }, 'id');
  return state;
}
