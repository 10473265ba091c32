/**
 * The API key routes through `app.inject()` on a real SQLite store: an admin
 * creates a key (its secret in that answer only), the new key works at once
 * with its role's permissions, the list pages both ways and never shows a
 * secret, and a revoked key is refused from the next request on. A key
 * manages only keys of its own mode: creating one of the other mode is a 403,
 * the list shows its own mode only, and revoking another mode's key is a 404.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

let api: ApiHarness;

beforeAll(async () => { api = await openApiHarness(); });
afterAll(async () => { await api.close(); });

async function call(method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: object) {
  const response = await api.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
  return { status: response.statusCode, body: response.json() };
}

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

describe('API keys over HTTP', () => {
  it('creates a key whose secret is shown once and works at once, within its role', async () => {
    const created = await call('POST', '/v1/api_keys', api.as('admin'), { role: 'auditor', name: 'books' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ object: 'api_key', role: 'auditor', livemode: false, name: 'books', revoked_at: null, secret: expect.stringMatching(/^sk_test_/) });
    const secret: string = created.body.secret;
    expect(created.body.hint).not.toContain(secret.slice(8, -4));
    expect((await call('GET', '/v1/accounts', bearer(secret))).status).toBe(200);
    expect((await call('POST', '/v1/accounts', bearer(secret), { id: 'by-auditor', currency: 'USD' })).status).toBe(403);
    const listed = await call('GET', '/v1/api_keys?limit=100', api.as('admin'));
    const mine = listed.body.data.find((key: { id: string }) => key.id === created.body.id);
    expect(mine).toMatchObject({ role: 'auditor', name: 'books' });
    expect(JSON.stringify(listed.body)).not.toContain(secret);
  });

  it('pages the list forwards and backwards to the same keys', async () => {
    for (let i = 0; i < 3; i += 1) await call('POST', '/v1/api_keys', api.as('admin'), { role: 'support', name: `paging-${i}` });
    const all: string[] = (await call('GET', '/v1/api_keys?limit=100', api.as('admin'))).body.data.map((key: { id: string }) => key.id);
    const forwards: string[] = [];
    for (let after: string | undefined; ;) {
      const page = await call('GET', `/v1/api_keys?limit=2${after ? `&starting_after=${after}` : ''}`, api.as('admin'));
      forwards.push(...page.body.data.map((key: { id: string }) => key.id));
      if (!page.body.has_more) break;
      after = forwards.at(-1);
    }
    const backwards: string[] = [all.at(-1)!];
    for (let before = all.at(-1)!; ;) {
      const page = await call('GET', `/v1/api_keys?limit=2&ending_before=${before}`, api.as('admin'));
      const ids: string[] = page.body.data.map((key: { id: string }) => key.id);
      backwards.unshift(...ids);
      if (!page.body.has_more) break;
      before = ids[0]!;
    }
    expect(forwards).toEqual(all);
    expect(backwards).toEqual(all);
    expect((await call('GET', '/v1/api_keys?ending_before=key_nope', api.as('admin'))).body.error).toMatchObject({ code: 'not_found', param: 'ending_before' });
  });

  it('revokes a key: refused from then on, listed with the time it was revoked; only admins manage keys', async () => {
    const created = await call('POST', '/v1/api_keys', api.as('admin'), { role: 'operator' });
    expect((await call('GET', '/v1/api_keys', api.as('operator'))).status).toBe(403);
    const revoked = await call('POST', `/v1/api_keys/${created.body.id}/revoke`, api.as('admin'));
    expect(revoked.body).toMatchObject({ id: created.body.id, revoked_at: expect.any(String) });
    expect(revoked.body.secret).toBeUndefined();
    const refused = await call('GET', '/v1/accounts', bearer(created.body.secret));
    expect(refused.status).toBe(401);
    expect((await call('POST', '/v1/api_keys/key_nope/revoke', api.as('admin'))).status).toBe(404);
  });
});

describe('API keys stay within the calling key\'s mode', () => {
  it('refuses a test admin that asks for a live key, with a 403 naming livemode, and writes nothing', async () => {
    const before = api.services.keys.size;
    const refused = await call('POST', '/v1/api_keys', api.as('admin', 'test'), { role: 'admin', livemode: true });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ type: 'invalid_request_error', code: 'permission_denied', param: 'livemode' });
    expect(JSON.stringify(refused.body)).not.toContain('sk_live_');
    expect(api.services.keys.size).toBe(before);
    const liveRefused = await call('POST', '/v1/api_keys', api.as('admin', 'live'), { role: 'operator', livemode: false });
    expect(liveRefused.status).toBe(403);
  });

  it('creates a key of the caller\'s own mode, said or implied', async () => {
    const live = await call('POST', '/v1/api_keys', api.as('admin', 'live'), { role: 'support', livemode: true });
    expect(live.body).toMatchObject({ livemode: true, secret: expect.stringMatching(/^sk_live_/) });
    const implied = await call('POST', '/v1/api_keys', api.as('admin', 'live'), { role: 'support' });
    expect(implied.body).toMatchObject({ livemode: true, secret: expect.stringMatching(/^sk_live_/) });
  });

  it('lists only the keys of the caller\'s mode, and a cursor of the other mode is unknown', async () => {
    const listed = async (mode: 'test' | 'live') =>
      (await call('GET', '/v1/api_keys?limit=100', api.as('admin', mode))).body.data as Array<{ id: string; livemode: boolean }>;
    const test = await listed('test');
    const live = await listed('live');
    expect(test.length).toBeGreaterThan(0);
    expect(live.length).toBeGreaterThan(0);
    expect(test.every((key) => !key.livemode)).toBe(true);
    expect(live.every((key) => key.livemode)).toBe(true);
    expect(test.length + live.length).toBe(api.services.keys.size);
    const crossCursor = await call('GET', `/v1/api_keys?starting_after=${live[0]!.id}`, api.as('admin', 'test'));
    expect(crossCursor.status).toBe(404);
  });

  it('answers 404 to revoking a key of the other mode, as for an unknown key, and leaves it working', async () => {
    const live = await call('POST', '/v1/api_keys', api.as('admin', 'live'), { role: 'operator' });
    const refused = await call('POST', `/v1/api_keys/${live.body.id}/revoke`, api.as('admin', 'test'));
    const unknown = await call('POST', '/v1/api_keys/key_nope/revoke', api.as('admin', 'test'));
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe(unknown.body.error.code);
    expect(refused.body.error.message).toBe(`No such API key: '${live.body.id}'`);
    expect((await call('GET', '/v1/accounts', bearer(live.body.secret))).status).toBe(200);
  });
});

describe('API key events in the audit log', () => {
  const history = async (streamId: string, role: 'auditor' | 'admin', mode: 'test' | 'live') =>
    call('GET', `/v1/events?stream=${streamId}`, api.as(role, mode));

  it('shows a key made outside the API (no mode in its metadata) and its revocation to its own mode only', async () => {
    // As `daybook keys create` and `revoke` write them: no request, so no mode in the metadata.
    const { key } = await api.services.keys.create({ role: 'operator', mode: 'live', createdBy: 'cli' });
    await api.services.keys.revoke(key.keyId, 'cli');
    const streamId = `apikey-${key.keyId}`;
    for (const role of ['auditor', 'admin'] as const) {
      const own = await history(streamId, role, 'live');
      expect(own.status).toBe(200);
      expect(own.body.data.map((event: { type: string }) => event.type)).toEqual(['ApiKeyCreated', 'ApiKeyRevoked']);
      expect((await history(streamId, role, 'test')).status).toBe(404);
    }
  });
});
