/**
 * The OpenAPI document and the docs: `/openapi.json` is OpenAPI 3, lists
 * every `/v1` route with its parameters, security and error answers, and is
 * public; `/docs` serves Swagger UI from the package's own assets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, openApiHarness } from './apiTestkit.ts';

let api: ApiHarness;
beforeAll(async () => { api = await openApiHarness(); });
afterAll(async () => { await api.close(); });

describe('/openapi.json', () => {
  it('documents every /v1 route, generated from the route schemas', async () => {
    const response = await api.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toMatch(/^3\./);
    expect(document.info.title).toBe('Daybook API');
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    for (const route of api.app.registeredRoutes.filter((item) => item.url.startsWith('/v1/'))) {
      documented.has(`${route.method} ${route.url.replaceAll(/:([a-z_]+)/g, '{$1}')}`) || expect.fail(`${route.method} ${route.url} is not documented`);
    }
    expect(documented.has('GET /healthz')).toBe(false);
  });

  it('names the parameters, the body fields, the security and the error shape', async () => {
    const document = (await api.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const createTransfer = document.paths['/v1/transfers'].post;
    const body = createTransfer.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(expect.arrayContaining(['debit_account_id', 'credit_account_id', 'amount']));
    expect(body.properties.amount.anyOf.map((option: { type: string }) => option.type)).toEqual(['string', 'integer']);
    expect(body.properties.amount.anyOf[1]).toMatchObject({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
    expect(createTransfer.security).toEqual([{ bearerAuth: [] }, { basicAuth: [] }]);
    expect(createTransfer['x-permission']).toBe('ledger:write');
    expect(createTransfer.parameters.some((parameter: { name: string; in: string }) => parameter.name === 'idempotency-key' && parameter.in === 'header')).toBe(true);
    expect(Object.keys(createTransfer.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404', '409', '429']));
    const list = document.paths['/v1/accounts'].get;
    expect(list.parameters.map((parameter: { name: string }) => parameter.name)).toEqual(expect.arrayContaining(['limit', 'starting_after']));
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});

describe('/docs', () => {
  it('serves Swagger UI and its assets without a key', async () => {
    const page = await api.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('swagger');
    const asset = await api.app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.body.length).toBeGreaterThan(100_000);
  });
});
