import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type ApiKeyRecord, type ApiKeyRegistry, ROLES } from '../../auth/index.ts';
import { DaybookError } from '../../kernel/index.ts';
import { useZod } from '../openapi.ts';
import { authOf } from '../security.ts';
import { errorResponses, eventMetadataOf, idempotencyHeaderWire, idParamsWire, isoTime, cursorOf, listQueryWire, pageOf } from '../wire.ts';

const TAGS = ['API keys'];

export const apiKeyWire = z.object({
  object: z.literal('api_key'),
  id: z.string(),
  role: z.enum(ROLES),
  livemode: z.boolean(),
  name: z.string(),
  hint: z.string().meta({ description: 'The prefix and last four characters; the secret itself is shown only when the key is created.' }),
  created: z.string(),
  created_by: z.string(),
  revoked_at: z.string().nullable(),
  secret: z.string().optional().meta({ description: 'Only in the answer to the creation, never again.' }),
}).meta({ id: 'ApiKey' });

function keyToWire(key: ApiKeyRecord, secret?: string) {
  return {
    object: 'api_key' as const, id: key.keyId, role: key.role, livemode: key.mode === 'live', name: key.name, hint: key.hint,
    created: isoTime(key.createdAtMs)!, created_by: key.createdBy, revoked_at: isoTime(key.revokedAtMs), ...(secret === undefined ? {} : { secret }),
  };
}

/** API keys, for admins: create (the secret is in this answer only), list, revoke. */
export function apiKeyRoutes(keys: ApiKeyRegistry): FastifyPluginAsync {
  return async (plain) => {
    useZod(plain);
    const app = plain.withTypeProvider<ZodTypeProvider>();

    app.post('/v1/api_keys', {
      config: { permission: 'keys:manage' },
      schema: {
        tags: TAGS, summary: 'Create an API key', headers: idempotencyHeaderWire,
        body: z.strictObject({
          role: z.enum(ROLES),
          livemode: z.boolean().optional().meta({ description: "Default: the calling key's mode." }),
          name: z.string().optional(),
        }),
        response: { 200: apiKeyWire, ...errorResponses },
      },
    }, async (request) => {
      const auth = authOf(request);
      const mode = request.body.livemode === undefined ? auth.mode : request.body.livemode ? 'live' : 'test';
      const { key, secret } = await keys.create({ role: request.body.role, mode, name: request.body.name, createdBy: auth.keyId, metadata: eventMetadataOf(request) });
      return keyToWire(key, secret);
    });

    app.get('/v1/api_keys', {
      config: { permission: 'keys:manage' },
      schema: {
        tags: TAGS, summary: 'List API keys, oldest first, revoked ones included', querystring: listQueryWire,
        response: { 200: z.object({ object: z.literal('list'), data: z.array(apiKeyWire), has_more: z.boolean(), url: z.string() }), ...errorResponses },
      },
    }, async (request) => {
      const all = keys.list();
      const ids = all.map((key) => key.keyId);
      const { page, hasMore } = pageOf(ids, (id) => { const index = ids.indexOf(id); return index === -1 ? undefined : index; }, cursorOf(request.query), request.query.limit);
      return { object: 'list' as const, data: page.map((id) => keyToWire(keys.get(id)!)), has_more: hasMore, url: '/v1/api_keys' };
    });

    app.post('/v1/api_keys/:id/revoke', {
      config: { permission: 'keys:manage' },
      schema: { tags: TAGS, summary: 'Revoke an API key (at once, for good)', headers: idempotencyHeaderWire, params: idParamsWire, body: z.strictObject({}).optional(), response: { 200: apiKeyWire, ...errorResponses } },
    }, async (request) => {
      if (keys.get(request.params.id) === undefined) throw new DaybookError('not_found', `No such API key: '${request.params.id}'`, {}, 'id');
      return keyToWire(await keys.revoke(request.params.id, authOf(request).keyId, eventMetadataOf(request)));
    });
  };
}
