import type { Decider } from '../../decider/index.ts';
import { assertNever, DaybookError } from '../../kernel/index.ts';
import type { AmlRule } from './aml.events.ts';

/**
 * An alert's case, in the analysts' queue (`amlcase-<caseId>`):
 * `open → investigating → closed_no_action | escalated_sar`. Every step
 * names the analyst; closing and escalating need a note saying why. Times
 * arrive in the commands (ISO-8601).
 */
export const AML_CASE_CATEGORY = 'amlcase';
export type AmlCaseStatus = 'open' | 'investigating' | 'closed_no_action' | 'escalated_sar';

type Acting = { caseId: string; analyst: string; note: string; at: string };
export type OpenAmlCase = { type: 'OpenAmlCase'; data: { caseId: string; alertId: string; rule: AmlRule; customerId: string; openedBy: string; at: string } };
export type StartInvestigation = { type: 'StartInvestigation'; data: Acting };
export type AddCaseNote = { type: 'AddCaseNote'; data: Acting };
export type CloseNoAction = { type: 'CloseNoAction'; data: Acting };
export type EscalateSar = { type: 'EscalateSar'; data: Acting };
export type AmlCaseCommand = OpenAmlCase | StartInvestigation | AddCaseNote | CloseNoAction | EscalateSar;

export type AmlCaseOpened = { type: 'AmlCaseOpened'; data: OpenAmlCase['data'] };
export type AmlCaseInvestigationStarted = { type: 'AmlCaseInvestigationStarted'; data: Acting };
export type AmlCaseNoteAdded = { type: 'AmlCaseNoteAdded'; data: Acting };
export type AmlCaseClosedNoAction = { type: 'AmlCaseClosedNoAction'; data: Acting };
export type AmlCaseEscalatedSar = { type: 'AmlCaseEscalatedSar'; data: Acting };
export type AmlCaseEvent = AmlCaseOpened | AmlCaseInvestigationStarted | AmlCaseNoteAdded | AmlCaseClosedNoAction | AmlCaseEscalatedSar;

export const AML_CASE_EVENT_TYPES = [
  'AmlCaseOpened', 'AmlCaseInvestigationStarted', 'AmlCaseNoteAdded', 'AmlCaseClosedNoAction', 'AmlCaseEscalatedSar',
] as const satisfies readonly AmlCaseEvent['type'][];

export type AmlCaseState =
  | { status: 'none' }
  | { status: AmlCaseStatus; caseId: string; alertId: string; analyst: string | null; notes: number };

const NOTE_LENGTH_MAX = 5_000;
const ANALYST_LENGTH_MAX = 200;

function requireText(value: string, field: string, max: number): void {
  if (typeof value !== 'string' || value.trim().length === 0) throw new DaybookError('validation_failed', `${field} is required`, {}, field);
  if (value.length > max) throw new DaybookError('limit_exceeded', `${field} is ${value.length} characters; at most ${max}`, { limit: max }, field);
}

function unexpected(caseId: string, status: string, action: string): DaybookError {
  return new DaybookError('aml_case_unexpected_state', `case ${caseId} is ${status}: cannot ${action}`, { caseId, status }, 'status');
}

/** The statuses each step may start from, and the event it records. */
const TRANSITIONS = {
  StartInvestigation: { from: ['open'], event: 'AmlCaseInvestigationStarted', action: 'start an investigation' },
  AddCaseNote: { from: ['open', 'investigating'], event: 'AmlCaseNoteAdded', action: 'add a note' },
  CloseNoAction: { from: ['investigating'], event: 'AmlCaseClosedNoAction', action: 'close it with no action' },
  EscalateSar: { from: ['investigating'], event: 'AmlCaseEscalatedSar', action: 'escalate it to a SAR' },
} as const;

/**
 * Refuses, in this order: validation_failed / limit_exceeded (analyst, note,
 * ids), not_found (no case yet), aml_case_unexpected_state (opening twice, a
 * step from the wrong status; closed and escalated cases are final).
 */
export const amlCaseDecider: Decider<AmlCaseCommand, AmlCaseEvent, AmlCaseState> = {
  initialState: () => ({ status: 'none' }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'AmlCaseOpened':
        return { status: 'open', caseId: event.data.caseId, alertId: event.data.alertId, analyst: null, notes: 0 };
      case 'AmlCaseInvestigationStarted':
      case 'AmlCaseNoteAdded':
      case 'AmlCaseClosedNoAction':
      case 'AmlCaseEscalatedSar': {
        if (state.status === 'none') return state;
        const status = event.type === 'AmlCaseNoteAdded' ? state.status
          : event.type === 'AmlCaseInvestigationStarted' ? 'investigating' : event.type === 'AmlCaseClosedNoAction' ? 'closed_no_action' : 'escalated_sar';
        return { ...state, status, analyst: event.data.analyst, notes: state.notes + (event.data.note.length > 0 ? 1 : 0) };
      }
      default:
        return assertNever(event);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'OpenAmlCase': {
        const { caseId, alertId, customerId, openedBy } = command.data;
        requireText(caseId, 'caseId', ANALYST_LENGTH_MAX);
        requireText(alertId, 'alertId', ANALYST_LENGTH_MAX);
        requireText(customerId, 'customerId', ANALYST_LENGTH_MAX);
        requireText(openedBy, 'openedBy', ANALYST_LENGTH_MAX);
        if (state.status !== 'none') throw unexpected(caseId, state.status, 'open it again');
        return [{ type: 'AmlCaseOpened', data: command.data }];
      }
      case 'StartInvestigation':
      case 'AddCaseNote':
      case 'CloseNoAction':
      case 'EscalateSar': {
        const step = TRANSITIONS[command.type];
        requireText(command.data.analyst, 'analyst', ANALYST_LENGTH_MAX);
        if (command.type === 'StartInvestigation') {
          if (command.data.note.length > NOTE_LENGTH_MAX) requireText(command.data.note, 'note', NOTE_LENGTH_MAX);
        } else {
          requireText(command.data.note, 'note', NOTE_LENGTH_MAX);
        }
        if (state.status === 'none') throw new DaybookError('not_found', `no AML case ${command.data.caseId}`, { caseId: command.data.caseId }, 'caseId');
        if (!(step.from as readonly string[]).includes(state.status)) throw unexpected(command.data.caseId, state.status, step.action);
        return [{ type: step.event, data: command.data } as AmlCaseEvent];
      }
      default:
        return assertNever(command);
    }
  },
};
