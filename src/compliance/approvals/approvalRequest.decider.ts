/**
 * An approval request (pure): maker-checker for one action. States:
 * `pending -> approved -> executed | failed`, `pending -> rejected`, and
 * `pending` turns `expired` once its time has come (judged on the time in
 * each command: the service puts its clock's reading there). The action runs
 * once the request is `approved`; `ApprovalExecuted` closes it.
 *
 * Segregation of duties: the maker (the same API key, or another key of the
 * same owner) never grants their own request; a checker grants at most once,
 * so N required approvals need N distinct people. A maker may withdraw (reject)
 * their own pending request: that direction is always safe.
 *
 * Rejects, in this order:
 * - RequestApproval: validation_failed (no approvals required, expiry not after the request),
 *   approval_request_exists (the id with another action, payload or maker; the same again is a retry and writes nothing).
 * - GrantApproval: approval_request_not_found, approval_self_approval, approval_already_granted (this checker
 *   granted already; while the action still waits to run, the same grant again writes nothing, so a retry
 *   resumes it), approval_not_pending (approved, rejected, executed or failed), approval_expired.
 * - RejectApproval: validation_failed (no reason), approval_request_not_found, approval_not_pending, approval_expired.
 * - RecordExecution: approval_request_not_found, approval_not_pending (not approved; the same outcome again writes nothing).
 */
import type { Decider } from '../../decider/index.ts';
import { deepEqual } from '../../decider/index.ts';
import { assertNever } from '../../kernel/assert.ts';
import { DaybookError } from '../../kernel/errors.ts';
import type { ApprovalActor, ApprovalEvent, ApprovalExecuted, ApprovalRequested } from './approvalRequest.events.ts';

export type ApprovalCommand =
  | { type: 'RequestApproval'; data: ApprovalRequested['data'] }
  | { type: 'GrantApproval'; data: { approvalId: string; by: ApprovalActor; at: string } }
  | { type: 'RejectApproval'; data: { approvalId: string; by: ApprovalActor; reason: string; at: string } }
  | { type: 'RecordExecution'; data: ApprovalExecuted['data'] };

/** As stored; `expired` is never stored, only read (see `approvalStatusAt`). */
export type StoredApprovalStatus = 'pending' | 'approved' | 'rejected' | 'executed' | 'failed';
export type ApprovalStatus = StoredApprovalStatus | 'expired';
export const APPROVAL_STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'rejected', 'executed', 'failed', 'expired'];

export type ApprovalState =
  | { readonly status: 'none' }
  | {
    readonly status: StoredApprovalStatus;
    readonly requested: ApprovalRequested['data'];
    readonly grants: readonly { by: ApprovalActor; at: string }[];
    readonly rejection: { by: ApprovalActor; reason: string; at: string } | null;
    readonly execution: ApprovalExecuted['data'] | null;
  };
export type OpenedApprovalState = Exclude<ApprovalState, { status: 'none' }>;

/** The status a reader sees at `atMs`: a pending request past its expiry is expired. */
export function approvalStatusAt(state: OpenedApprovalState, atMs: number): ApprovalStatus {
  return state.status === 'pending' && atMs >= Date.parse(state.requested.expiresAt) ? 'expired' : state.status;
}

/** Two keys are one person when they are the same key or have the same owner. */
export function sameIdentity(left: ApprovalActor, right: ApprovalActor): boolean {
  return left.keyId === right.keyId || left.owner === right.owner;
}

export const approvalRequestDecider: Decider<ApprovalCommand, ApprovalEvent, ApprovalState> = {
  initialState: () => ({ status: 'none' }),
  evolve: (state, event) => {
    if (event.type === 'ApprovalRequested') return { status: 'pending', requested: event.data, grants: [], rejection: null, execution: null };
    if (state.status === 'none') return state;
    switch (event.type) {
      case 'ApprovalGranted': {
        const grants = [...state.grants, { by: event.data.by, at: event.data.at }];
        return { ...state, grants, status: grants.length >= state.requested.approvalsRequired ? 'approved' : 'pending' };
      }
      case 'ApprovalRejected': return { ...state, status: 'rejected', rejection: { by: event.data.by, reason: event.data.reason, at: event.data.at } };
      case 'ApprovalExecuted': return { ...state, status: event.data.outcome === 'succeeded' ? 'executed' : 'failed', execution: event.data };
      default: return assertNever(event);
    }
  },
  decide: (command, state) => {
    switch (command.type) {
      case 'RequestApproval': return decideRequest(command.data, state);
      case 'GrantApproval': return decideGrant(command.data, state);
      case 'RejectApproval': return decideReject(command.data, state);
      case 'RecordExecution': return decideExecution(command.data, state);
      default: return assertNever(command);
    }
  },
};

function decideRequest(data: ApprovalRequested['data'], state: ApprovalState): ApprovalEvent[] {
  if (!Number.isSafeInteger(data.approvalsRequired) || data.approvalsRequired < 1) {
    throw new DaybookError('validation_failed', `approval ${data.approvalId}: at least one approval is required, got ${data.approvalsRequired}`, {}, 'approvalsRequired');
  }
  if (!(Date.parse(data.expiresAt) > Date.parse(data.requestedAt))) {
    throw new DaybookError('validation_failed', `approval ${data.approvalId}: expires at ${data.expiresAt}, not after it was requested (${data.requestedAt})`, {}, 'expiresAt');
  }
  if (state.status === 'none') return [{ type: 'ApprovalRequested', data }];
  // A retry (the id is derived from the maker's Idempotency-Key): its times may differ, what it asks and who asks may not.
  const { requestedAt: _a, expiresAt: _b, ...asked } = data;
  const { requestedAt: _c, expiresAt: _d, ...first } = state.requested;
  if (deepEqual(asked, first)) return [];
  throw new DaybookError('approval_request_exists', `approval request ${data.approvalId} exists with another action, payload or maker`, { approvalId: data.approvalId });
}

function opened(approvalId: string, state: ApprovalState): OpenedApprovalState {
  if (state.status === 'none') throw new DaybookError('approval_request_not_found', `No such approval request: '${approvalId}'`, { approvalId }, 'id');
  return state;
}

function refuseUnlessPending(approvalId: string, state: OpenedApprovalState, atIso: string): void {
  const status = approvalStatusAt(state, Date.parse(atIso));
  if (status === 'expired') throw new DaybookError('approval_expired', `approval request ${approvalId} expired at ${state.requested.expiresAt}`, { approvalId, expiresAt: state.requested.expiresAt });
  if (status !== 'pending') throw new DaybookError('approval_not_pending', `approval request ${approvalId} is ${status}: nothing is left to decide`, { approvalId, status });
}

function decideGrant(data: { approvalId: string; by: ApprovalActor; at: string }, state: ApprovalState): ApprovalEvent[] {
  const request = opened(data.approvalId, state);
  const maker = request.requested.requestedBy;
  if (sameIdentity(data.by, maker)) {
    throw new DaybookError('approval_self_approval', `approval request ${data.approvalId} was made by ${maker.keyId} (owner ${maker.owner}): its maker cannot approve it; another person must`,
      { approvalId: data.approvalId, requestedBy: maker.keyId });
  }
  if (request.grants.some((grant) => sameIdentity(grant.by, data.by))) {
    // Approved, the action not yet recorded as run (a crash between the two): the same grant again resumes it.
    if (request.status === 'approved') return [];
    throw new DaybookError('approval_already_granted', `approval request ${data.approvalId} was approved by ${data.by.keyId} already; a further approval needs another person`,
      { approvalId: data.approvalId, by: data.by.keyId, status: request.status });
  }
  refuseUnlessPending(data.approvalId, request, data.at);
  return [{ type: 'ApprovalGranted', data: { approvalId: data.approvalId, by: data.by, at: data.at } }];
}

function decideReject(data: { approvalId: string; by: ApprovalActor; reason: string; at: string }, state: ApprovalState): ApprovalEvent[] {
  if (data.reason.trim() === '') throw new DaybookError('validation_failed', 'a rejection needs a reason', {}, 'reason');
  const request = opened(data.approvalId, state);
  refuseUnlessPending(data.approvalId, request, data.at);
  return [{ type: 'ApprovalRejected', data }];
}

function decideExecution(data: ApprovalExecuted['data'], state: ApprovalState): ApprovalEvent[] {
  const request = opened(data.approvalId, state);
  if (request.status === 'approved') return [{ type: 'ApprovalExecuted', data }];
  const sameOutcome = request.execution !== null && request.execution.outcome === data.outcome && deepEqual(request.execution.result, data.result);
  if (sameOutcome) return [];
  throw new DaybookError('approval_not_pending', `approval request ${data.approvalId} is ${request.status}: it cannot be executed`, { approvalId: data.approvalId, status: request.status });
}
