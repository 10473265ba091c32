/**
 * The screening case decider, given/when/then: a case opens only with hits;
 * opening it again with the same hits writes nothing, with other hits is
 * refused; an open case is cleared or confirmed once, by a named analyst;
 * a closed case refuses every further decision; an unknown case is not found.
 */
import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../../decider/index.ts';
import type { ScreeningCaseEvent } from './sanctions.events.ts';
import { screeningCaseDecider, type ScreeningCaseCommand } from './screeningCase.decider.ts';

const CASE = 'case_1';
const T0 = 1_700_000_000_000;
const hit = { entNum: 9001, name: 'FAKENAME, Boris Testovich', score: 0.95, matchedOn: 'name' as const, matchedName: 'FAKENAME, Boris Testovich' };
const opened = (hits = [hit], atMs = T0) => ({ caseId: CASE, subjectRef: 'cus_1', screenedName: 'Boris Fakename', hits, listVersion: 'list_1', atMs });
const open = (hits = [hit], atMs = T0): ScreeningCaseCommand => ({ type: 'OpenScreeningCase', data: opened(hits, atMs) });
const decision = (analyst = 'ana', atMs = T0 + 1) => ({ caseId: CASE, analyst, note: 'different date of birth', atMs });
const clear = (analyst?: string): ScreeningCaseCommand => ({ type: 'ClearScreeningCase', data: decision(analyst) });
const confirm = (analyst?: string): ScreeningCaseCommand => ({ type: 'ConfirmScreeningCase', data: decision(analyst) });
const hitRecorded: ScreeningCaseEvent = { type: 'SanctionsHitRecorded', data: opened() };
const cleared: ScreeningCaseEvent = { type: 'ScreeningCaseCleared', data: decision() };
const confirmed: ScreeningCaseEvent = { type: 'ScreeningCaseConfirmed', data: decision() };
const spec = deciderSpec(screeningCaseDecider);

describe('given no case', () => {
  const given = spec.given([]);
  it('opens one with the hits', () => given.when(open()).then([hitRecorded]));
  it('refuses to open one without hits', () => given.when(open([])).thenRejects('validation_failed'));
  it('refuses to clear it', () => given.when(clear()).thenRejects('screening_case_not_found'));
  it('refuses to confirm it', () => given.when(confirm()).thenRejects('screening_case_not_found'));
});

describe('given an open case', () => {
  const given = spec.given([hitRecorded]);
  it('clears it', () => given.when(clear()).then([cleared]));
  it('confirms it', () => given.when(confirm()).then([confirmed]));
  it('takes the same opening again as a retry that writes nothing', () => given.when(open([hit], T0 + 5)).then([]));
  it('refuses an opening with other hits', () => given.when(open([{ ...hit, score: 0.9 }])).thenRejects('screening_case_exists'));
  it('refuses a decision without an analyst', () => given.when(clear(' ')).thenRejects('validation_failed'));
  it('is open, with no analyst yet', () => expect(given.state()).toMatchObject({ status: 'open', decidedBy: null }));
});

describe('given a cleared case', () => {
  const given = spec.given([hitRecorded, cleared]);
  it('refuses to clear it twice', () => given.when(clear('bob')).thenRejects('screening_case_closed'));
  it('refuses to confirm it', () => given.when(confirm()).thenRejects('screening_case_closed'));
  it('says who cleared it', () => expect(given.state()).toMatchObject({ status: 'cleared', decidedBy: 'ana' }));
});

describe('given a confirmed case', () => {
  const given = spec.given([hitRecorded, confirmed]);
  it('refuses to clear it', () => given.when(clear()).thenRejects('screening_case_closed'));
  it('refuses to confirm it twice', () => given.when(confirm()).thenRejects('screening_case_closed'));
});
