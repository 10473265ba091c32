/**
 * A screening case (pure): opened by the hits of one screening, closed by an
 * analyst's decision, `open -> cleared | confirmed`, never reopened. A case
 * is only opened with hits (a screening without any needs no analyst), and
 * opening it again with the same hits is a retry that writes nothing.
 *
 * Rejects, in this order:
 * - Open: validation_failed (no hits, an empty subject or name), screening_case_exists (the id with other content).
 * - Clear, Confirm: validation_failed (no analyst), screening_case_not_found, screening_case_closed (cleared or confirmed already).
 */
import type { Decider } from '../../decider/index.ts';
import { deepEqual } from '../../decider/index.ts';
import { assertNever } from '../../kernel/assert.ts';
import { DaybookError } from '../../kernel/errors.ts';
import type { AnalystDecision, SanctionsHitRecorded, ScreeningCaseEvent } from './sanctions.events.ts';

export type ScreeningCaseCommand =
  | { type: 'OpenScreeningCase'; data: SanctionsHitRecorded['data'] }
  | { type: 'ClearScreeningCase'; data: AnalystDecision }
  | { type: 'ConfirmScreeningCase'; data: AnalystDecision };

export type ScreeningCaseStatus = 'open' | 'cleared' | 'confirmed';

export type ScreeningCaseState =
  | { readonly status: 'none' }
  | { readonly status: ScreeningCaseStatus; readonly opened: SanctionsHitRecorded['data']; readonly decidedBy: string | null };

export const screeningCaseDecider: Decider<ScreeningCaseCommand, ScreeningCaseEvent, ScreeningCaseState> = {
  initialState: () => ({ status: 'none' }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'SanctionsHitRecorded': return { status: 'open', opened: event.data, decidedBy: null };
      case 'ScreeningCaseCleared': return state.status === 'none' ? state : { ...state, status: 'cleared', decidedBy: event.data.analyst };
      case 'ScreeningCaseConfirmed': return state.status === 'none' ? state : { ...state, status: 'confirmed', decidedBy: event.data.analyst };
      default: return assertNever(event);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'OpenScreeningCase': return decideOpen(command.data, state);
      case 'ClearScreeningCase': return [{ type: 'ScreeningCaseCleared', data: checkDecision(command.data, state) }];
      case 'ConfirmScreeningCase': return [{ type: 'ScreeningCaseConfirmed', data: checkDecision(command.data, state) }];
      default: return assertNever(command);
    }
  },
};

function decideOpen(data: SanctionsHitRecorded['data'], state: ScreeningCaseState): ScreeningCaseEvent[] {
  if (data.hits.length === 0) throw new DaybookError('validation_failed', `case ${data.caseId}: a screening without hits opens no case`, {}, 'hits');
  if (data.subjectRef.trim() === '') throw new DaybookError('validation_failed', `case ${data.caseId}: the subject is empty`, {}, 'subjectRef');
  if (data.screenedName.trim() === '') throw new DaybookError('validation_failed', `case ${data.caseId}: the screened name is empty`, {}, 'screenedName');
  if (state.status === 'none') return [{ type: 'SanctionsHitRecorded', data }];
  // A retry of the same screening: the time may differ, the content may not.
  const same = deepEqual({ ...state.opened, atMs: 0 }, { ...data, atMs: 0 });
  if (same) return [];
  throw new DaybookError('screening_case_exists', `case ${data.caseId} was opened with other hits`, { caseId: data.caseId });
}

function checkDecision(data: AnalystDecision, state: ScreeningCaseState): AnalystDecision {
  if (data.analyst.trim() === '') throw new DaybookError('validation_failed', `case ${data.caseId}: the analyst is not named`, {}, 'analyst');
  if (state.status === 'none') throw new DaybookError('screening_case_not_found', `no screening case ${data.caseId}`, { caseId: data.caseId });
  if (state.status !== 'open') {
    throw new DaybookError('screening_case_closed', `case ${data.caseId} was ${state.status} by ${state.decidedBy} already`, { caseId: data.caseId, status: state.status });
  }
  return data;
}
