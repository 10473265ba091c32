/**
 * What authentication leaves in the logs: every line of an authenticated
 * request carries the key id, role and mode, and no line ever holds the
 * secret (Bearer or Basic), also when the key is refused. The key a keep-alive
 * connection proved is remembered by digest and matched in constant time.
 */
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../edge/index.ts';
import { type ApiHarness, openApiHarness } from './apiTestkit.ts';
import { matchesDigest } from './security.ts';

let api: ApiHarness;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  api = await openApiHarness({ logger: createLogger({ level: 'info', destination }) });
});
afterAll(async () => { await api.close(); });

describe('logs', () => {
  it('carry the key id on every line of an authenticated request, and never the secret', async () => {
    const secret = api.secrets.test.operator;
    await api.app.inject({ method: 'POST', url: '/v1/accounts', payload: { id: 'logged', currency: 'USD' }, headers: { ...api.as('operator'), 'x-correlation-id': 'corr-key' } });
    await api.app.inject({ method: 'GET', url: '/v1/accounts', headers: { authorization: `Basic ${Buffer.from(`${secret}:`).toString('base64')}` } });
    await api.app.inject({ method: 'GET', url: '/v1/accounts', headers: { authorization: `Bearer ${secret.slice(0, -2)}xx` } });
    const mine = lines.filter((line) => line.correlationId === 'corr-key');
    expect(mine.length).toBeGreaterThanOrEqual(2);
    const completed = mine.find((line) => line.msg === 'request completed');
    expect(completed).toMatchObject({ keyId: expect.stringMatching(/^key_/), role: 'operator', mode: 'test' });
    const text = JSON.stringify(lines);
    expect(text).not.toContain(secret);
    expect(text).not.toContain(secret.slice(8, -2));
  });
});

describe('the key remembered on a keep-alive connection', () => {
  it('is matched by digest, in constant time: the same secret matches, any other (same length, one character off, a prefix) does not', async () => {
    const secret = api.secrets.test.operator;
    const digest = createHash('sha256').update(secret).digest();
    expect(matchesDigest(digest, secret)).toBe(true);
    expect(matchesDigest(digest, `${secret.slice(0, -1)}${secret.endsWith('a') ? 'b' : 'a'}`)).toBe(false);
    expect(matchesDigest(digest, secret.slice(0, -1))).toBe(false);
    expect(matchesDigest(digest, '')).toBe(false);
  });

  it('serves several keys on one real keep-alive connection, each as itself, and refuses a near miss', async () => {
    const address = await api.app.listen({ port: 0, host: '127.0.0.1' });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (secret: string) => new Promise<{ status: number; port: number }>((resolve, reject) => {
      const outgoing = request(`${address}/v1/api_keys`, { agent, headers: { authorization: `Bearer ${secret}` } }, (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode!, port: outgoing.socket!.localPort! }));
      });
      outgoing.on('error', reject);
      outgoing.end();
    });
    try {
      const admin = api.secrets.test.admin;
      const first = await get(admin);
      expect(first.status).toBe(200);
      const nearMiss = await get(`${admin.slice(0, -1)}${admin.endsWith('a') ? 'b' : 'a'}`);
      expect(nearMiss.status).toBe(401);
      expect((await get(api.secrets.test.operator)).status).toBe(403);
      const again = await get(admin);
      expect(again.status).toBe(200);
      expect(again.port).toBe(first.port);
    } finally {
      agent.destroy();
    }
  });
});
