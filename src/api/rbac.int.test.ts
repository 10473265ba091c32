/**
 * Role-based access, exhaustively: every registered route × every role
 * (and no key, a bad key, a revoked key) against ROLE_PERMISSIONS, the one
 * table. Over real HTTP, so that the streaming route is checked like the
 * others: the status arrives with the headers, then the request is aborted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasPermission, type Permission, PERMISSIONS, ROLES } from '../auth/index.ts';
import { type ApiHarness, openApiHarness } from './apiTestkit.ts';

let api: ApiHarness;
let baseUrl: string;

beforeAll(async () => {
  api = await openApiHarness();
  baseUrl = await api.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => { await api.close(); });

async function statusOf(method: string, url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}${url.replaceAll(/:[a-z_]+/g, 'x')}`, {
    method, headers: { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) }, body: method === 'POST' ? '{}' : undefined, signal: controller.signal,
  });
  const isStream = response.headers.get('content-type')?.startsWith('text/event-stream') ?? false;
  const body = isStream ? '' : await response.text();
  controller.abort();
  return { status: response.status, body };
}

describe('the route table', () => {
  it('gives every /v1 route a permission from the list, and only probes, metrics and docs are public', () => {
    const routes = api.app.registeredRoutes;
    expect(routes.filter((route) => route.url.startsWith('/v1/')).length).toBeGreaterThanOrEqual(30);
    for (const route of routes) {
      if (route.url.startsWith('/v1/')) expect(PERMISSIONS).toContain(route.permission);
      else expect(route.url).toMatch(/^\/(healthz|readyz|metrics|openapi\.json|docs)/);
    }
  });

  it('uses every permission somewhere', () => {
    const used = new Set(api.app.registeredRoutes.map((route) => route.permission));
    // payments:* guard the Stripe-compatible listener's routes (src/api/stripe; its own test walks them).
    for (const permission of PERMISSIONS.filter((name) => !name.startsWith('payments:'))) expect(used).toContain(permission);
  });
});

describe('every route × every role', () => {
  it('answers 401 without a key, with a malformed key and with an unknown key, on every /v1 route', async () => {
    for (const route of api.app.registeredRoutes.filter((item) => item.url.startsWith('/v1/'))) {
      for (const headers of [{}, { authorization: 'Bearer nonsense' }, { authorization: `Bearer sk_test_${'Z'.repeat(43)}` }] as Array<Record<string, string>>) {
        const { status, body } = await statusOf(route.method, route.url, headers);
        expect({ route: `${route.method} ${route.url}`, status }).toEqual({ route: `${route.method} ${route.url}`, status: 401 });
        expect(JSON.parse(body).error.type).toBe('invalid_request_error');
      }
    }
  });

  it('allows exactly what ROLE_PERMISSIONS allows, and answers 403 to the rest', async () => {
    const mismatches: string[] = [];
    for (const route of api.app.registeredRoutes.filter((item) => item.url.startsWith('/v1/'))) {
      for (const role of ROLES) {
        const allowed = hasPermission(role, route.permission as Permission);
        const { status, body } = await statusOf(route.method, route.url, api.as(role));
        const denied = status === 403;
        if (allowed === denied || status === 401 || status >= 500) mismatches.push(`${role} ${route.method} ${route.url}: ${status} ${body.slice(0, 120)}`);
        if (denied) expect(JSON.parse(body).error).toMatchObject({ code: 'permission_denied', type: 'invalid_request_error' });
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('takes the key as the Basic user too, as Stripe clients send it', async () => {
    const basic = Buffer.from(`${api.secrets.test.auditor}:`).toString('base64');
    expect((await statusOf('GET', '/v1/accounts', { authorization: `Basic ${basic}` })).status).toBe(200);
  });

  it('refuses a revoked key at once', async () => {
    const { key, secret } = await api.services.keys.create({ role: 'operator', mode: 'test', createdBy: 'test' });
    expect((await statusOf('GET', '/v1/accounts', { authorization: `Bearer ${secret}` })).status).toBe(200);
    await api.services.keys.revoke(key.keyId, 'test');
    const revoked = await statusOf('GET', '/v1/accounts', { authorization: `Bearer ${secret}` });
    expect(revoked.status).toBe(401);
    expect(revoked.body).toContain(`sk_test_****${secret.slice(-4)}`);
    expect(revoked.body).not.toContain(secret);
  });
});
