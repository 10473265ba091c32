/**
 * The approval request decider, one describe per starting state and one
 * `it` per rule: every transition (request, grant, reject, execute), every
 * refusal in its order, expiry judged on the command's time, and the
 * retries that write nothing.
 */
import { describe, expect, it } from 'vitest';
import { deciderSpec } from '../../decider/index.ts';
import { type ApprovalCommand, approvalRequestDecider, approvalStatusAt, type OpenedApprovalState } from './approvalRequest.decider.ts';
import type { ApprovalActor, ApprovalEvent, ApprovalRequested } from './approvalRequest.events.ts';

const ID = 'apr_1';
const T0 = '2025-03-01T10:00:00.000Z';
const T1 = '2025-03-01T11:00:00.000Z';
const EXPIRES = '2025-03-02T10:00:00.000Z';
const LATE = '2025-03-02T10:00:00.000Z';
const MAKER: ApprovalActor = { keyId: 'key_maker', role: 'operator', owner: 'alice' };
const MAKER_OTHER_KEY: ApprovalActor = { keyId: 'key_maker2', role: 'approver', owner: 'alice' };
const CHECKER: ApprovalActor = { keyId: 'key_checker', role: 'approver', owner: 'bob' };
const CHECKER2: ApprovalActor = { keyId: 'key_checker2', role: 'admin', owner: 'carol' };

const requested = (overrides: Partial<ApprovalRequested['data']> = {}): ApprovalRequested['data'] => ({
  approvalId: ID, action: 'transfer', payload: { id: 'tr_1', amount: '5000000' }, requestedBy: MAKER, requestedAt: T0, expiresAt: EXPIRES,
  approvalsRequired: 1, mode: 'test', ...overrides,
});
const request = (overrides: Partial<ApprovalRequested['data']> = {}): ApprovalCommand => ({ type: 'RequestApproval', data: requested(overrides) });
const grant = (by: ApprovalActor, at = T1): ApprovalCommand => ({ type: 'GrantApproval', data: { approvalId: ID, by, at } });
const reject = (by: ApprovalActor, reason = 'not justified', at = T1): ApprovalCommand => ({ type: 'RejectApproval', data: { approvalId: ID, by, reason, at } });
const executed = (outcome: 'succeeded' | 'failed' = 'succeeded'): ApprovalEvent => ({
  type: 'ApprovalExecuted',
  data: { approvalId: ID, outcome, result: outcome === 'succeeded' ? { object: 'transfer', id: 'tr_1' } : null, failure: outcome === 'failed' ? { code: 'exceeds_credits', message: 'no funds' } : null, at: T1 },
});
const execute = (outcome: 'succeeded' | 'failed' = 'succeeded'): ApprovalCommand => ({ type: 'RecordExecution', data: executed(outcome).data as Extract<ApprovalEvent, { type: 'ApprovalExecuted' }>['data'] });

const spec = deciderSpec(approvalRequestDecider);
const requestedEvent: ApprovalEvent = { type: 'ApprovalRequested', data: requested() };
const granted = (by: ApprovalActor): ApprovalEvent => ({ type: 'ApprovalGranted', data: { approvalId: ID, by, at: T1 } });

describe('given no request', () => {
  const given = spec.given([]);
  it('records the request', () => given.when(request()).then([requestedEvent]));
  it('refuses a request that needs no approval', () => given.when(request({ approvalsRequired: 0 })).thenRejects('validation_failed'));
  it('refuses an expiry not after the request', () => given.when(request({ expiresAt: T0 })).thenRejects('validation_failed'));
  it('refuses to grant what does not exist', () => given.when(grant(CHECKER)).thenRejects('approval_request_not_found'));
  it('refuses to reject what does not exist', () => given.when(reject(CHECKER)).thenRejects('approval_request_not_found'));
  it('refuses to record an execution of what does not exist', () => given.when(execute()).thenRejects('approval_request_not_found'));
});

describe('given a pending request (one approval required)', () => {
  const given = spec.given([requestedEvent]);
  it('is pending, and expired from its expiry on', () => {
    const state = given.state() as OpenedApprovalState;
    expect(approvalStatusAt(state, Date.parse(T1))).toBe('pending');
    expect(approvalStatusAt(state, Date.parse(EXPIRES))).toBe('expired');
  });
  it('takes the same request again as a retry, whatever its times', () => given.when(request({ requestedAt: T1, expiresAt: LATE.replace('10:', '11:') })).then([]));
  it('refuses the id with another payload', () => given.when(request({ payload: { id: 'tr_1', amount: '1' } })).thenRejects('approval_request_exists'));
  it('refuses the id from another maker', () => given.when(request({ requestedBy: CHECKER })).thenRejects('approval_request_exists'));
  it('is granted by another person, and then approved', () => {
    const when = given.when(grant(CHECKER));
    when.then([granted(CHECKER)]);
    expect(when.state().status).toBe('approved');
  });
  it('refuses its maker', () => given.when(grant(MAKER)).thenRejects('approval_self_approval'));
  it('refuses another key of the same owner', () => given.when(grant(MAKER_OTHER_KEY)).thenRejects('approval_self_approval'));
  it('refuses a grant at or after its expiry', () => given.when(grant(CHECKER, LATE)).thenRejects('approval_expired'));
  it('is rejected with a reason', () => given.when(reject(CHECKER)).then([{ type: 'ApprovalRejected', data: { approvalId: ID, by: CHECKER, reason: 'not justified', at: T1 } }]));
  it('may be withdrawn by its maker', () => given.when(reject(MAKER, 'typo')).then([{ type: 'ApprovalRejected', data: { approvalId: ID, by: MAKER, reason: 'typo', at: T1 } }]));
  it('refuses a rejection without a reason', () => given.when(reject(CHECKER, '  ')).thenRejects('validation_failed'));
  it('refuses a rejection after its expiry', () => given.when(reject(CHECKER, 'late', LATE)).thenRejects('approval_expired'));
  it('refuses to record an execution before it is approved', () => given.when(execute()).thenRejects('approval_not_pending'));
});

describe('given a pending request that needs two approvals, granted once', () => {
  const given = spec.given([{ type: 'ApprovalRequested', data: requested({ approvalsRequired: 2 }) }, granted(CHECKER)]);
  it('stays pending after one grant', () => expect(given.state().status).toBe('pending'));
  it('refuses the same checker twice', () => given.when(grant(CHECKER)).thenRejects('approval_already_granted'));
  it('is approved by a second person', () => {
    const when = given.when(grant(CHECKER2));
    when.then([granted(CHECKER2)]);
    expect(when.state().status).toBe('approved');
  });
});

describe('given an approved request whose action has not run yet', () => {
  const given = spec.given([requestedEvent, granted(CHECKER)]);
  it('takes the same grant again as a retry that resumes the action', () => given.when(grant(CHECKER)).then([]));
  it('refuses a further checker', () => given.when(grant(CHECKER2)).thenRejects('approval_not_pending'));
  it('refuses its maker still', () => given.when(grant(MAKER)).thenRejects('approval_self_approval'));
  it('refuses a rejection', () => given.when(reject(CHECKER2)).thenRejects('approval_not_pending'));
  it('records the execution and its result', () => {
    const when = given.when(execute());
    when.then([executed()]);
    expect(when.state().status).toBe('executed');
  });
  it('records a failed execution', () => {
    const when = given.when(execute('failed'));
    when.then([executed('failed')]);
    expect(when.state().status).toBe('failed');
  });
  it('is not expired by time once approved', () => expect(approvalStatusAt(given.state() as OpenedApprovalState, Date.parse(LATE) + 1)).toBe('approved'));
});

describe('given an executed request', () => {
  const given = spec.given([requestedEvent, granted(CHECKER), executed()]);
  it('takes the same execution again as a retry', () => given.when(execute()).then([]));
  it('refuses another outcome', () => given.when(execute('failed')).thenRejects('approval_not_pending'));
  it('refuses the same checker approving twice', () => given.when(grant(CHECKER)).thenRejects('approval_already_granted'));
  it('refuses another checker', () => given.when(grant(CHECKER2)).thenRejects('approval_not_pending'));
  it('refuses a rejection', () => given.when(reject(CHECKER2)).thenRejects('approval_not_pending'));
});

describe('given a rejected request', () => {
  const given = spec.given([requestedEvent, { type: 'ApprovalRejected', data: { approvalId: ID, by: CHECKER, reason: 'no', at: T1 } }]);
  it('refuses a grant', () => given.when(grant(CHECKER2)).thenRejects('approval_not_pending'));
  it('refuses a grant by the rejecting checker', () => given.when(grant(CHECKER)).thenRejects('approval_not_pending'));
  it('refuses a second rejection', () => given.when(reject(CHECKER2)).thenRejects('approval_not_pending'));
  it('refuses an execution', () => given.when(execute()).thenRejects('approval_not_pending'));
});

describe('given an expired request', () => {
  const given = spec.given([requestedEvent]);
  it('refuses a grant even by the right checker', () => given.when(grant(CHECKER2, '2025-03-05T00:00:00.000Z')).thenRejects('approval_expired'));
  it('refuses the maker first: self-approval comes before expiry', () => given.when(grant(MAKER, '2025-03-05T00:00:00.000Z')).thenRejects('approval_self_approval'));
});
