/**
 * The live feed carries personal data when it streams customers' (and
 * payment objects') events: each run of such events is access-audited
 * before it leaves, and with DAYBOOK_REQUIRE_PURPOSE a feed that may carry
 * them needs a purpose.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

let api: ApiHarness;
let baseUrl: string;
const dir = mkdtempSync(join(tmpdir(), 'daybook-stream-audit-'));

beforeAll(async () => {
  api = await openApiHarness({ dir, accessAudit: { requirePurpose: true, write: 'sync' } });
  baseUrl = await api.app.listen({ port: 0, host: '127.0.0.1' });
  const registered = await api.app.inject({ method: 'POST', url: '/v1/customers', headers: api.as('operator'), payload: { id: 'ada', full_name: 'Ada Lovelace', email: 'ada@example.com' } });
  expect(registered.statusCode).toBe(200);
});
afterAll(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The feed's text until `until` appears in it or the bound passes. */
async function feed(url: string, headers: Record<string, string>, until: string): Promise<{ status: number; text: string; code?: string }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 2000);
  const response = await fetch(`${baseUrl}${url}`, { headers, signal: controller.signal });
  if (response.status !== 200) {
    clearTimeout(timer);
    return { status: response.status, text: '', code: ((await response.json()) as { error?: { code?: string } }).error?.code };
  }
  let text = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      text += Buffer.from(chunk).toString('utf8');
      if (text.includes(until)) break;
    }
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { status: 200, text };
}

const accessRecords = async () => (await api.app.inject({ method: 'GET', url: '/v1/access_audit?subject=ada', headers: api.as('auditor') })).json().data as Array<Record<string, unknown>>;

describe('/v1/stream and the access audit', () => {
  it('refuses a feed that may carry personal data without a purpose, and records nothing', async () => {
    for (const url of ['/v1/stream?after=0&category=customer', '/v1/stream?after=0']) {
      expect(await feed(url, api.as('operator'), 'Ada')).toMatchObject({ status: 400, code: 'access_purpose_required' });
    }
    expect(await accessRecords()).toEqual([]);
  });

  it('records who streamed which customers and why, before the events leave', async () => {
    const streamed = await feed('/v1/stream?after=0&category=customer', { ...api.as('operator'), 'daybook-purpose': 'nightly sync' }, 'Ada Lovelace');
    expect(streamed.status).toBe(200);
    expect(streamed.text).toContain('Ada Lovelace');
    expect(await accessRecords()).toEqual([expect.objectContaining({ route: '/v1/stream', method: 'GET', subjects: ['ada'], purpose: 'nightly sync' })]);
  });

  it('needs no purpose for a feed of a category without personal data', async () => {
    const ledger = await feed('/v1/stream?after=0&category=ledger', api.as('operator'), 'AccountOpened');
    expect(ledger.status).toBe(200);
  });
});
