import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type ApiKeyMode, type ApiKeyRecord, type ApiKeyRegistry, ROLES } from '../../auth/index.ts';
import { DaybookError } from '../../kernel/index.ts';
import { useZod } from '../openapi.ts';
import { type AuthContext, authOf } from '../security.ts';
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
  owner: z.string().meta({ description: 'Whose key it is: keys of one owner are one person for maker-checker (the key id when none was given).' }),
  revoked_at: z.string().nullable(),
  secret: z.string().optional().meta({ description: 'Only in the answer to the creation, never again.' }),
}).meta({ id: 'ApiKey' });

function keyToWire(key: ApiKeyRecord, secret?: string) {
  return {
    object: 'api_key' as const, id: key.keyId, role: key.role, livemode: key.mode === 'live', name: key.name, hint: key.hint,
    created: isoTime(key.createdAtMs)!, created_by: key.createdBy, owner: key.owner, revoked_at: isoTime(key.revokedAtMs), ...(secret === undefined ? {} : { secret }),
  };
}

/**
 * Keys of another mode are none of a key's business: test keys are handed to
 * developers and scripts, and a test admin able to mint a live admin would
 * make every test key a way into live money. So a key creates, lists and
 * revokes keys of its own mode only. Asking for the other mode is a 403
 * (`permission_denied`, param `livemode`), since the request is well-formed
 * and only this key may not make it; another mode's key is unknown here
 * (404), as Stripe answers for a test object asked for with a live key. The
 * first live admin is an operator's act: `daybook keys create --mode live
 * --role admin`, or `DAYBOOK_API_KEY=sk_live_…` at start.
 */
function refuseOtherMode(auth: AuthContext, livemode: boolean | undefined): ApiKeyMode {
  if (livemode === undefined) return auth.mode;
  const mode: ApiKeyMode = livemode ? 'live' : 'test';
  if (mode === auth.mode) return mode;
  throw new DaybookError('permission_denied',
    `The API key ${auth.keyId} is a ${auth.mode}-mode key and may only create ${auth.mode}-mode keys. `
    + `Create the first ${mode}-mode admin with \`daybook keys create --role admin --mode ${mode}\` or DAYBOOK_API_KEY, then use it.`,
    { mode: auth.mode, requestedMode: mode }, 'livemode');
}

/** The key of that id if it is of the caller's mode; another mode's key is as unknown as a key never made. */
function ownKey(keys: ApiKeyRegistry, auth: AuthContext, keyId: string): ApiKeyRecord {
  const key = keys.get(keyId);
  if (key === undefined || key.mode !== auth.mode) throw new DaybookError('not_found', `No such API key: '${keyId}'`, {}, 'id');
  return key;
}

/** API keys, for admins, each within its own mode: create (the secret is in this answer only), list, revoke. */
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
          livemode: z.boolean().optional().meta({ description: "The calling key's mode, the default; the other mode is refused (403 permission_denied)." }),
          name: z.string().optional(),
          owner: z.string().min(1).max(200).optional().meta({ description: 'The person or system the key belongs to (segregation of duties); the key id when absent.' }),
        }),
        response: { 200: apiKeyWire, ...errorResponses },
      },
    }, async (request) => {
      const auth = authOf(request);
      const mode = refuseOtherMode(auth, request.body.livemode);
      const { key, secret } = await keys.create({ role: request.body.role, mode, name: request.body.name, owner: request.body.owner, createdBy: auth.keyId, metadata: eventMetadataOf(request) });
      return keyToWire(key, secret);
    });

    app.get('/v1/api_keys', {
      config: { permission: 'keys:manage' },
      schema: {
        tags: TAGS, summary: "List the API keys of the calling key's mode, oldest first, revoked ones included", querystring: listQueryWire,
        response: { 200: z.object({ object: z.literal('list'), data: z.array(apiKeyWire), has_more: z.boolean(), url: z.string() }), ...errorResponses },
      },
    }, async (request) => {
      const { mode } = authOf(request);
      const ids = keys.list().filter((key) => key.mode === mode).map((key) => key.keyId);
      const { page, hasMore } = pageOf(ids, (id) => { const index = ids.indexOf(id); return index === -1 ? undefined : index; }, cursorOf(request.query), request.query.limit);
      return { object: 'list' as const, data: page.map((id) => keyToWire(keys.get(id)!)), has_more: hasMore, url: '/v1/api_keys' };
    });

    app.post('/v1/api_keys/:id/revoke', {
      config: { permission: 'keys:manage' },
      schema: { tags: TAGS, summary: "Revoke an API key of the calling key's mode (at once, for good)", headers: idempotencyHeaderWire, params: idParamsWire, body: z.strictObject({}).optional(), response: { 200: apiKeyWire, ...errorResponses } },
    }, async (request) => {
      const auth = authOf(request);
      const key = ownKey(keys, auth, request.params.id);
      return keyToWire(await keys.revoke(key.keyId, auth.keyId, eventMetadataOf(request)));
    });
  };
}
