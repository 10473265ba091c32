/**
 * The webhook endpoint decider's creation rules: a creation naming an
 * existing endpoint (a retry whose answer was lost) adds nothing; one naming
 * a deleted endpoint is refused rather than answered as a live endpoint.
 */
import { describe, it } from 'vitest';
import { deciderSpec } from '../../decider/index.ts';
import type { WebhookEndpointCommand } from './webhookEndpoint.commands.ts';
import { webhookEndpointDecider } from './webhookEndpoint.decider.ts';

const create: WebhookEndpointCommand = {
  type: 'CreateWebhookEndpoint',
  data: { webhookEndpointId: 'we_1', url: 'https://example.com/hook', enabledEvents: ['*'], description: null, secret: 'whsec_x', atMs: 1 },
};
const spec = deciderSpec(webhookEndpointDecider);
const created = spec.given([]).when(create).events();

describe('given a webhook endpoint', () => {
  it('answers the same creation again with nothing new', () => spec.given([...created]).when(create).then([]));
});

describe('given a deleted webhook endpoint', () => {
  const deleted = spec.given([...created]).when({ type: 'DeleteWebhookEndpoint', data: { webhookEndpointId: 'we_1', atMs: 2 } }).events();
  it('refuses to create it again', () => spec.given([...created, ...deleted]).when(create).thenRejects('resource_missing'));
});
