/** The AML case decider: open → investigating → closed_no_action | escalated_sar, one describe per starting state. */
import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../../decider/index.ts';
import { amlCaseDecider, type AmlCaseCommand, type AmlCaseEvent } from './amlCase.decider.ts';

const CASE = 'aml_1';
const T1 = '2024-05-01T10:00:00.000Z';
const T2 = '2024-05-01T11:00:00.000Z';
const spec = deciderSpec(amlCaseDecider);

const opening = { caseId: CASE, alertId: CASE, rule: 'structuring' as const, customerId: 'cus-1', openedBy: 'alice', at: T1 };
const open = (data = opening): AmlCaseCommand => ({ type: 'OpenAmlCase', data });
const step = (type: Exclude<AmlCaseCommand['type'], 'OpenAmlCase'>, analyst = 'alice', note = 'looked at it', at = T2): AmlCaseCommand =>
  ({ type, data: { caseId: CASE, analyst, note, at } } as AmlCaseCommand);
const opened: AmlCaseEvent = { type: 'AmlCaseOpened', data: opening };
const started: AmlCaseEvent = { type: 'AmlCaseInvestigationStarted', data: { caseId: CASE, analyst: 'alice', note: '', at: T2 } };
const closed: AmlCaseEvent = { type: 'AmlCaseClosedNoAction', data: { caseId: CASE, analyst: 'alice', note: 'salary', at: T2 } };
const escalated: AmlCaseEvent = { type: 'AmlCaseEscalatedSar', data: { caseId: CASE, analyst: 'bob', note: 'shell company', at: T2 } };

describe('given no case', () => {
  const given = spec.given([]);
  it('opens it', () => given.when(open()).then([opened]));
  it('refuses an opening without the opener', () => given.when(open({ ...opening, openedBy: ' ' })).thenRejects('validation_failed'));
  it('refuses any step: not_found', () => given.when(step('StartInvestigation')).thenRejects('not_found'));
  it('refuses a step without an analyst before saying not_found (validation first)', () => given.when(step('CloseNoAction', '')).thenRejects('validation_failed'));
});

describe('given an open case', () => {
  const given = spec.given([opened]);
  it('starts an investigation, naming the analyst', () => {
    given.when(step('StartInvestigation', 'alice', '')).then([started]);
    expect(given.when(step('StartInvestigation', 'alice', '')).state()).toMatchObject({ status: 'investigating', analyst: 'alice' });
  });
  it('takes a note', () => given.when(step('AddCaseNote')).then([{ type: 'AmlCaseNoteAdded', data: { caseId: CASE, analyst: 'alice', note: 'looked at it', at: T2 } }]));
  it('refuses to open it again', () => given.when(open()).thenRejects('aml_case_unexpected_state'));
  it('refuses to close it before an investigation', () => given.when(step('CloseNoAction')).thenRejects('aml_case_unexpected_state'));
  it('refuses to escalate it before an investigation', () => given.when(step('EscalateSar')).thenRejects('aml_case_unexpected_state'));
});

describe('given a case under investigation', () => {
  const given = spec.given([opened, started]);
  it('closes it with no action', () => {
    given.when(step('CloseNoAction', 'alice', 'salary')).then([closed]);
    expect(given.when(step('CloseNoAction', 'alice', 'salary')).state()).toMatchObject({ status: 'closed_no_action' });
  });
  it('escalates it to a SAR, by another analyst', () => {
    given.when(step('EscalateSar', 'bob', 'shell company')).then([escalated]);
    expect(given.when(step('EscalateSar', 'bob', 'shell company')).state()).toMatchObject({ status: 'escalated_sar', analyst: 'bob' });
  });
  it('refuses to close it without a note', () => given.when(step('CloseNoAction', 'alice', '')).thenRejects('validation_failed'));
  it('refuses to escalate it without a note', () => given.when(step('EscalateSar', 'alice', '   ')).thenRejects('validation_failed'));
  it('refuses a note longer than 5,000 characters', () => given.when(step('AddCaseNote', 'alice', 'x'.repeat(5_001))).thenRejects('limit_exceeded'));
  it('refuses to start it again', () => given.when(step('StartInvestigation')).thenRejects('aml_case_unexpected_state'));
});

describe('given a closed case', () => {
  const given = spec.given([opened, started, closed]);
  for (const type of ['StartInvestigation', 'AddCaseNote', 'CloseNoAction', 'EscalateSar'] as const) {
    it(`refuses ${type}: closed is final`, () => given.when(step(type)).thenRejects('aml_case_unexpected_state'));
  }
});

describe('given an escalated case', () => {
  const given = spec.given([opened, started, escalated]);
  it('refuses to close it with no action', () => given.when(step('CloseNoAction')).thenRejects('aml_case_unexpected_state'));
  it('refuses to escalate it again', () => given.when(step('EscalateSar')).thenRejects('aml_case_unexpected_state'));
});
