/**
 * Sanctions screening events (pure). A screening with hits opens a case,
 * stream `screening-<caseId>`, with `SanctionsHitRecorded`; an analyst then
 * clears it (a false positive) or confirms it (a true match), once.
 */
import type { ScreeningHit } from './sanctionsScreener.ts';

export const SCREENING_CASE_STREAM_PREFIX = 'screening-';
export const screeningCaseStreamId = (caseId: string): string => `${SCREENING_CASE_STREAM_PREFIX}${caseId}`;

export type RecordedHit = Pick<ScreeningHit, 'entNum' | 'name' | 'score' | 'matchedOn' | 'matchedName'>;

export type SanctionsHitRecorded = {
  type: 'SanctionsHitRecorded';
  data: {
    caseId: string;
    /** Who or what was screened: a customer, a payment's counterparty. */
    subjectRef: string;
    screenedName: string;
    hits: RecordedHit[];
    /** The list screened against (its version as `daybook sanctions load` recorded it). */
    listVersion: string;
    atMs: number;
  };
};

export type AnalystDecision = { caseId: string; analyst: string; note: string; atMs: number };

/** A false positive: the subject is not the listed party. */
export type ScreeningCaseCleared = { type: 'ScreeningCaseCleared'; data: AnalystDecision };
/** A true match: the subject is the listed party. */
export type ScreeningCaseConfirmed = { type: 'ScreeningCaseConfirmed'; data: AnalystDecision };

export type ScreeningCaseEvent = SanctionsHitRecorded | ScreeningCaseCleared | ScreeningCaseConfirmed;
export const SCREENING_CASE_EVENT_TYPES = ['SanctionsHitRecorded', 'ScreeningCaseCleared', 'ScreeningCaseConfirmed'] as const satisfies ReadonlyArray<ScreeningCaseEvent['type']>;
