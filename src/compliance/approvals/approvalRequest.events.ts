/**
 * Maker-checker: the events of one approval request (stream
 * `approval-<id>`). A maker's action that needs a second person is recorded
 * as `ApprovalRequested` instead of being done; checkers grant or reject it;
 * once enough grants are in, the action runs once and `ApprovalExecuted`
 * links its result (or says why it failed). Times are ISO 8601 strings.
 */

/** What needs a second person. */
export const APPROVAL_ACTIONS = ['journal_entry', 'journal_entry_reversal', 'bank_account_unfreeze', 'transfer'] as const;
export type ApprovalAction = (typeof APPROVAL_ACTIONS)[number];

/** Who acted: the API key, its role, and the owner the key belongs to (two keys of one owner are one person). */
export interface ApprovalActor {
  keyId: string;
  role: string;
  /** The person or system the key was made for or by; the key id itself when nothing better is known. */
  owner: string;
}

export interface ApprovalRequested {
  type: 'ApprovalRequested';
  data: {
    approvalId: string;
    action: ApprovalAction;
    /** The request as the maker sent it (wire field names), with the ids the execution will use fixed now. */
    payload: Record<string, unknown>;
    requestedBy: ApprovalActor;
    requestedAt: string;
    expiresAt: string;
    /** Grants by distinct checkers the action waits for (at least 1). */
    approvalsRequired: number;
    mode: 'test' | 'live';
  };
}

export interface ApprovalGranted {
  type: 'ApprovalGranted';
  data: { approvalId: string; by: ApprovalActor; at: string };
}

export interface ApprovalRejected {
  type: 'ApprovalRejected';
  data: { approvalId: string; by: ApprovalActor; reason: string; at: string };
}

/** The result of an executed action: what it made (`{ object: 'transfer', id }`), or the refusal it met. */
export interface ApprovalExecuted {
  type: 'ApprovalExecuted';
  data: {
    approvalId: string;
    outcome: 'succeeded' | 'failed';
    /** The object the action made or changed, e.g. `{ object: 'transfer', id: 'tr_…' }`; null when it failed. */
    result: { object: string; id: string } | null;
    failure: { code: string; message: string } | null;
    at: string;
  };
}

export type ApprovalEvent = ApprovalRequested | ApprovalGranted | ApprovalRejected | ApprovalExecuted;
export const APPROVAL_EVENT_TYPES: readonly ApprovalEvent['type'][] = ['ApprovalRequested', 'ApprovalGranted', 'ApprovalRejected', 'ApprovalExecuted'];
export const APPROVAL_CATEGORY = 'approval';

export function approvalStreamId(approvalId: string): string {
  return `${APPROVAL_CATEGORY}-${approvalId}`;
}
