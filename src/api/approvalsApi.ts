/**
 * Maker-checker at the edge: which requests wait for a second person (the
 * policy), who the caller is as an approval actor (key, role, owner), and
 * how a guarded route answers `202` with the approval request instead of
 * doing the action.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiKeyRecord } from '../auth/index.ts';
import { type ApprovalAction, APPROVAL_ACTIONS, type ApprovalActor, APPROVAL_STATUSES, type ApprovalService, type ApprovalView } from '../compliance/approvals/index.ts';
import { idFor } from './idempotency.hooks.ts';
import { authOf } from './security.ts';
import { eventMetadataOf } from './wire.ts';

/**
 * What waits for approval. `makerChecker`: journal entries (and their
 * reversals) and unfreezes made through the API; `transferThresholdMinor`:
 * ledger transfers of at least this many minor units of their currency (0:
 * none). A library or test that passes no policy gets `APPROVALS_OFF`; the
 * server passes its configuration (on by default).
 */
export interface ApprovalPolicy {
  makerChecker: boolean;
  transferThresholdMinor: bigint;
  expiresAfterMs: number;
  approvalsRequired: number;
}

export const APPROVALS_OFF: ApprovalPolicy = { makerChecker: false, transferThresholdMinor: 0n, expiresAfterMs: 24 * 60 * 60 * 1000, approvalsRequired: 1 };

export interface ApprovalsApi {
  service: ApprovalService;
  policy: ApprovalPolicy;
  keys: { get(keyId: string): ApiKeyRecord | undefined };
}

/** True when a transfer of this amount waits for approval. */
export function transferNeedsApproval(policy: ApprovalPolicy, amountMinor: bigint): boolean {
  return policy.transferThresholdMinor > 0n && amountMinor >= policy.transferThresholdMinor;
}

/** The caller as maker or checker: its key, role, and the key's owner (the key itself when it has none). */
export function actorOf(approvals: ApprovalsApi, request: FastifyRequest): ApprovalActor {
  const auth = authOf(request);
  return { keyId: auth.keyId, role: auth.role, owner: approvals.keys.get(auth.keyId)?.owner ?? auth.keyId };
}

/**
 * Records the maker's request instead of doing it and answers `202` with it.
 * The approval id comes from the Idempotency-Key when there is one, so a
 * retry after a crash names the same request (and the same ids in its payload).
 */
export async function askApproval(approvals: ApprovalsApi, request: FastifyRequest, reply: FastifyReply, action: ApprovalAction, payload: Record<string, unknown>) {
  const { mode } = authOf(request);
  const view = await approvals.service.request({ approvalId: idFor(request, 'apr'), action, payload, requestedBy: actorOf(approvals, request), mode }, eventMetadataOf(request));
  reply.code(202);
  return approvalToWire(view, mode);
}

const actorWire = z.object({ key_id: z.string(), role: z.string(), owner: z.string() });

export const approvalRequestWire = z.object({
  object: z.literal('approval_request'),
  id: z.string(),
  livemode: z.boolean(),
  status: z.enum(APPROVAL_STATUSES as [string, ...string[]]),
  action: z.enum(APPROVAL_ACTIONS),
  payload: z.record(z.string(), z.unknown()).meta({ description: 'The request as the maker sent it, with the ids its execution uses.' }),
  requested_by: actorWire,
  requested_at: z.string(),
  expires_at: z.string(),
  approvals_required: z.number().int(),
  approvals: z.array(actorWire.extend({ at: z.string() })),
  rejection: actorWire.extend({ reason: z.string(), at: z.string() }).nullable(),
  result: z.object({ object: z.string(), id: z.string() }).nullable().meta({ description: 'What the executed action made or changed.' }),
  failure: z.object({ code: z.string(), message: z.string() }).nullable().meta({ description: 'The refusal the action met when it ran.' }),
  executed_at: z.string().nullable(),
}).meta({ id: 'ApprovalRequest' });

const actorToWire = (actor: ApprovalActor) => ({ key_id: actor.keyId, role: actor.role, owner: actor.owner });

export function approvalToWire(view: ApprovalView, mode: 'test' | 'live') {
  const { state } = view;
  const { requested, execution, rejection } = state;
  return {
    object: 'approval_request' as const, id: requested.approvalId, livemode: mode === 'live', status: view.status, action: requested.action, payload: requested.payload,
    requested_by: actorToWire(requested.requestedBy), requested_at: requested.requestedAt, expires_at: requested.expiresAt, approvals_required: requested.approvalsRequired,
    approvals: state.grants.map((grant) => ({ ...actorToWire(grant.by), at: grant.at })),
    rejection: rejection === null ? null : { ...actorToWire(rejection.by), reason: rejection.reason, at: rejection.at },
    result: execution?.result ?? null, failure: execution?.failure ?? null, executed_at: execution?.at ?? null,
  };
}
