/**
 * `GET /v1/screening_cases` pages (`app.inject()` on a real store): `limit`
 * (default 10, at most 100) and `starting_after` with a true `has_more`,
 * within the key's mode; a limit past the maximum or a malformed cursor is
 * a 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScreeningCaseService } from '../../compliance/index.ts';
import { fixedClock } from '../../kernel/index.ts';
import { type ApiHarness, openApiHarness } from '../apiTestkit.ts';

let api: ApiHarness;
const hit = { entNum: 9001, name: 'LISTED, Person', score: 0.97, matchedOn: 'name' as const, matchedName: 'LISTED, Person' };

beforeAll(async () => {
  api = await openApiHarness();
  const cases = new ScreeningCaseService(api.store, fixedClock(Date.UTC(2026, 0, 5)));
  for (let index = 0; index < 12; index += 1) {
    const subject = `test.customer.c${String(index).padStart(2, '0')}`;
    await cases.open({ subjectRef: subject, screenedName: 'Listed Person', hits: [hit], listVersion: 'v1', actor: 'key_1' });
  }
  await cases.open({ subjectRef: 'live.customer.other', screenedName: 'Listed Person', hits: [hit], listVersion: 'v1', actor: 'key_1' });
});
afterAll(async () => { await api.close(); });

const get = async (url: string, mode: 'test' | 'live' = 'test') => {
  const response = await api.app.inject({ method: 'GET', url, headers: api.as('analyst', mode) });
  return { status: response.statusCode, body: response.json() };
};
const subjects = (body: { data: Array<{ subject: string }> }) => body.data.map((row) => row.subject);

describe('GET /v1/screening_cases pages', () => {
  it('answers 10 by default with a true has_more, and starting_after finds the rest', async () => {
    const first = await get('/v1/screening_cases');
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(subjects(first.body)).toEqual(Array.from({ length: 10 }, (_, index) => `customer.c${String(index).padStart(2, '0')}`));
    expect(first.body.has_more).toBe(true);
    const rest = await get(`/v1/screening_cases?limit=5&starting_after=${first.body.data.at(-1).id}`);
    expect(subjects(rest.body)).toEqual(['customer.c10', 'customer.c11']);
    expect(rest.body.has_more).toBe(false);
    expect(rest.body.next_cursor).toBeUndefined();
    const one = await get('/v1/screening_cases?limit=1&status=open');
    expect(subjects(one.body)).toEqual(['customer.c00']);
    expect(one.body.has_more).toBe(true);
    expect(subjects((await get('/v1/screening_cases', 'live')).body)).toEqual(['customer.other']);
  });

  it('refuses a limit past 100 and a malformed cursor', async () => {
    expect((await get('/v1/screening_cases?limit=101')).status).toBe(400);
    expect((await get('/v1/screening_cases?limit=0')).status).toBe(400);
    expect((await get('/v1/screening_cases?starting_after=%20bad')).status).toBe(400);
  });
});
