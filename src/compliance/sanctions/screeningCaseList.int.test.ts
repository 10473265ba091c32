/**
 * The screening case list on a real SQLite store: Stripe-style pages
 * (`limit`, `startingAfter`, a true `hasMore`) in case id order within one
 * mode; a status filter examines at most its budget of cases per page and
 * says where to continue, and the continuations find every match once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../eventstore/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { fixedClock } from '../../kernel/index.ts';
import { ScreeningCaseService, type ScreeningCaseView } from './screeningCase.service.ts';

let dir: string;
let store: EventStore;
let cases: ScreeningCaseService;
const ids: string[] = [];
const hit = { entNum: 9001, name: 'LISTED, Person', score: 0.97, matchedOn: 'name' as const, matchedName: 'LISTED, Person' };
const subjectsOf = (views: readonly ScreeningCaseView[]) => views.map((view) => view.opened.subjectRef);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-screening-list-'));
  store = await openEventStore(`sqlite:${join(dir, 'daybook.db')}`);
  cases = new ScreeningCaseService(store, fixedClock(Date.UTC(2026, 0, 5)));
  for (const subject of ['live.cus_0', 'test.cus_1', 'test.cus_2', 'test.cus_3', 'test.cus_4', 'test.cus_5', 'zzz.cus_6']) {
    const view = await cases.open({ subjectRef: subject, screenedName: 'Listed Person', hits: [hit], listVersion: 'v1', actor: 'key_1' });
    if (subject.startsWith('test.')) ids.push(view.caseId);
  }
  await cases.decideCase(ids[1]!, 'clear', 'analyst', 'dob differs');
  await cases.decideCase(ids[3]!, 'clear', 'analyst', 'dob differs');
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ScreeningCaseService.list', () => {
  it('pages one mode\'s cases with limit and startingAfter, with a true hasMore', async () => {
    const first = await cases.list('test.', { limit: 2 });
    expect(subjectsOf(first.views)).toEqual(['test.cus_1', 'test.cus_2']);
    expect(first).toMatchObject({ hasMore: true, resumeAfter: null });
    const second = await cases.list('test.', { limit: 2, startingAfter: first.views.at(-1)!.caseId });
    expect(subjectsOf(second.views)).toEqual(['test.cus_3', 'test.cus_4']);
    expect(second.hasMore).toBe(true);
    const last = await cases.list('test.', { limit: 2, startingAfter: second.views.at(-1)!.caseId });
    expect(subjectsOf(last.views)).toEqual(['test.cus_5']);
    expect(last.hasMore).toBe(false);
    expect((await cases.list('live.', { limit: 10 })).views.map((view) => view.opened.subjectRef)).toEqual(['live.cus_0']);
  });

  it('examines at most the budget per filtered page, and continues where it ended', async () => {
    const first = await cases.list('test.', { status: 'cleared', limit: 10, budget: 2 });
    expect(subjectsOf(first.views)).toEqual(['test.cus_2']);
    expect(first).toMatchObject({ hasMore: true, resumeAfter: ids[1] });
    const second = await cases.list('test.', { status: 'cleared', limit: 10, budget: 2, startingAfter: first.resumeAfter! });
    expect(subjectsOf(second.views)).toEqual(['test.cus_4']);
    expect(second).toMatchObject({ hasMore: true, resumeAfter: ids[3] });
    const third = await cases.list('test.', { status: 'cleared', limit: 10, budget: 2, startingAfter: second.resumeAfter! });
    expect(third).toMatchObject({ views: [], hasMore: false, resumeAfter: null });
    // A budget large enough finds both at once, and the limit still says there is more.
    const whole = await cases.list('test.', { status: 'cleared', limit: 1 });
    expect(subjectsOf(whole.views)).toEqual(['test.cus_2']);
    expect(whole).toMatchObject({ hasMore: true, resumeAfter: null });
  });
});
