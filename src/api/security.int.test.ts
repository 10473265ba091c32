/**
 * What authentication leaves in the logs: every line of an authenticated
 * request carries the key id, role and mode, and no line ever holds the
 * secret (Bearer or Basic), also when the key is refused.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../edge/index.ts';
import { type ApiHarness, openApiHarness } from './apiTestkit.ts';

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
