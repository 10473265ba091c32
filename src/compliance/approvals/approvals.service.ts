/**
 * Maker-checker over the event store: records approval requests, grants and
 * rejections (each decided by `approvalRequestDecider` on the request's own
 * stream, `approval-<id>`), and runs the approved action exactly once.
 *
 * Exactly once: the action's ids are fixed when the request is made (the
 * transfer or journal entry id is in its payload), so running it again
 * answers its first result; `ApprovalExecuted` then closes the request, and
 * the same outcome again writes nothing. A crash between the action and
 * `ApprovalExecuted` leaves the request `approved`: the checker's approve,
 * retried, resumes it (the decider takes the same grant again as a no-op).
 * Within a process, calls on one request run one after another.
 *
 * Listing keeps every request folded in memory, caught up from the
 * `approval` category on each call: approvals are made by people, a few a
 * minute, so the index stays small (thousands, not millions).
 */
import type { EventMetadata, EventStore, RecordedEvent } from '../../eventstore/index.ts';
import { type Clock, COMMAND_RETRIES_MAX, DaybookError, isDaybookError, KeyedLocks, READ_BATCH_MAX } from '../../kernel/index.ts';
import {
  type ApprovalCommand, approvalRequestDecider, type ApprovalState, type ApprovalStatus, approvalStatusAt, type OpenedApprovalState,
} from './approvalRequest.decider.ts';
import { APPROVAL_CATEGORY, type ApprovalAction, type ApprovalActor, type ApprovalEvent, type ApprovalExecuted, approvalStreamId } from './approvalRequest.events.ts';

/** What a request needs: how long it waits, how many checkers. */
export interface ApprovalSettings {
  /** A pending request expires this long after it was made (DAYBOOK_APPROVAL_EXPIRY_SECONDS, default 24 h). */
  expiresAfterMs: number;
  /** Distinct checkers whose grants the action waits for (default 1). */
  approvalsRequired: number;
}

export const APPROVAL_EXPIRY_MS_DEFAULT = 24 * 60 * 60 * 1000;

/**
 * Runs an approved action. Resolves with what it made, or with the domain's
 * refusal (`failed`: recorded, the request closes); throws for anything a
 * retry may change (an unavailable store), leaving the request approved.
 */
export type ApprovalExecutor = (request: OpenedApprovalState['requested'], approver: ApprovalActor) => Promise<ApprovalOutcome>;
export type ApprovalOutcome = Pick<ApprovalExecuted['data'], 'outcome' | 'result' | 'failure'>;

/** A request as the service answers it: its state and its status now. */
export interface ApprovalView {
  state: OpenedApprovalState;
  status: ApprovalStatus;
}

export interface NewApprovalRequest {
  approvalId: string;
  action: ApprovalAction;
  payload: Record<string, unknown>;
  requestedBy: ApprovalActor;
  mode: 'test' | 'live';
}

export interface ApprovalListQuery {
  mode: 'test' | 'live';
  status?: ApprovalStatus;
  limit: number;
  /** The id of the last request of the previous page. */
  startingAfter?: string;
}

export class ApprovalService {
  private readonly locks = new KeyedLocks();
  private readonly index = new Map<string, OpenedApprovalState>();
  private indexedUpTo = 0n;

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly settings: ApprovalSettings,
    private readonly executors: Readonly<Record<ApprovalAction, ApprovalExecutor>>,
  ) {}

  /** Records a maker's request instead of doing it. The same id and request again (a retry) answers the first. */
  request(input: NewApprovalRequest, metadata: EventMetadata): Promise<ApprovalView> {
    const nowMs = this.clock.nowMs();
    return this.decide(input.approvalId, input.mode, () => ({
      type: 'RequestApproval',
      data: {
        ...input, requestedAt: new Date(nowMs).toISOString(), expiresAt: new Date(nowMs + this.settings.expiresAfterMs).toISOString(),
        approvalsRequired: this.settings.approvalsRequired,
      },
    }), metadata, true);
  }

  /** A checker's grant; once the request is approved, its action runs (once) and its result is linked. */
  async grant(approvalId: string, mode: 'test' | 'live', by: ApprovalActor, metadata: EventMetadata): Promise<ApprovalView> {
    return this.locks.run(approvalId, async () => {
      const granted = await this.decideNow(approvalId, mode, () => ({ type: 'GrantApproval', data: { approvalId, by, at: this.nowIso() } }), metadata);
      if (granted.status !== 'approved') return granted;
      const outcome = await this.executors[granted.state.requested.action](granted.state.requested, by);
      return this.decideNow(approvalId, mode, () => ({ type: 'RecordExecution', data: { approvalId, ...outcome, at: this.nowIso() } }), metadata);
    });
  }

  reject(approvalId: string, mode: 'test' | 'live', by: ApprovalActor, reason: string, metadata: EventMetadata): Promise<ApprovalView> {
    return this.decide(approvalId, mode, () => ({ type: 'RejectApproval', data: { approvalId, by, reason, at: this.nowIso() } }), metadata);
  }

  /** One request of the caller's mode; another mode's is as absent as one that never was. */
  async get(approvalId: string, mode: 'test' | 'live'): Promise<ApprovalView> {
    const { state } = await this.load(approvalId);
    return this.viewOf(approvalId, mode, state);
  }

  /** Newest first, filtered by status as of now. */
  async list(query: ApprovalListQuery): Promise<{ items: ApprovalView[]; hasMore: boolean; known: boolean }> {
    await this.catchUpIndex();
    const nowMs = this.clock.nowMs();
    const all = [...this.index.values()].filter((state) => state.requested.mode === query.mode)
      .sort((left, right) => right.requested.requestedAt.localeCompare(left.requested.requestedAt) || right.requested.approvalId.localeCompare(left.requested.approvalId));
    let start = 0;
    if (query.startingAfter !== undefined) {
      const at = all.findIndex((state) => state.requested.approvalId === query.startingAfter);
      if (at === -1) return { items: [], hasMore: false, known: false };
      start = at + 1;
    }
    const matching = all.slice(start).map((state) => ({ state, status: approvalStatusAt(state, nowMs) })).filter((view) => query.status === undefined || view.status === query.status);
    return { items: matching.slice(0, query.limit), hasMore: matching.length > query.limit, known: true };
  }

  private nowIso(): string {
    return new Date(this.clock.nowMs()).toISOString();
  }

  private decide(approvalId: string, mode: 'test' | 'live', command: () => ApprovalCommand, metadata: EventMetadata, creating = false): Promise<ApprovalView> {
    return this.locks.run(approvalId, () => this.decideNow(approvalId, mode, command, metadata, creating));
  }

  /** Decides on the stream's own events and appends at the version decided on; a concurrent writer means deciding again. */
  private async decideNow(approvalId: string, mode: 'test' | 'live', command: () => ApprovalCommand, metadata: EventMetadata, creating = false): Promise<ApprovalView> {
    for (let attempt = 0; ; attempt++) {
      const { state, version } = await this.load(approvalId);
      // Another mode's request is not there for this caller: refused before the decider sees it, as if absent.
      if (!creating || state.status !== 'none') this.viewOf(approvalId, mode, state);
      const events = approvalRequestDecider.decide(command(), state);
      if (events.length === 0) return this.viewOf(approvalId, mode, state);
      try {
        await this.store.append({
          streamId: approvalStreamId(approvalId), expectedVersion: version,
          events: events.map((event) => ({ type: event.type, data: event.data, metadata: { ...metadata, mode } })),
        });
      } catch (error) {
        if (isDaybookError(error, 'stream_version_conflict') && attempt < COMMAND_RETRIES_MAX) continue;
        throw error;
      }
      const next = events.reduce(approvalRequestDecider.evolve, state);
      return this.viewOf(approvalId, mode, next);
    }
  }

  private async load(approvalId: string): Promise<{ state: ApprovalState; version: bigint }> {
    const recorded = await this.store.readStream(approvalStreamId(approvalId), { limit: READ_BATCH_MAX });
    let state = approvalRequestDecider.initialState();
    for (const event of recorded) state = approvalRequestDecider.evolve(state, toApprovalEvent(event));
    return { state, version: recorded.at(-1)?.version ?? 0n };
  }

  private viewOf(approvalId: string, mode: 'test' | 'live', state: ApprovalState): ApprovalView {
    if (state.status === 'none' || state.requested.mode !== mode) throw new DaybookError('approval_request_not_found', `No such approval request: '${approvalId}'`, { approvalId }, 'id');
    return { state, status: approvalStatusAt(state, this.clock.nowMs()) };
  }

  private async catchUpIndex(): Promise<void> {
    for (;;) {
      const page = await this.store.readAll({ after: this.indexedUpTo, category: APPROVAL_CATEGORY, limit: READ_BATCH_MAX });
      for (const event of page) {
        const approvalId = event.streamId.slice(APPROVAL_CATEGORY.length + 1);
        const state = approvalRequestDecider.evolve(this.index.get(approvalId) ?? approvalRequestDecider.initialState(), toApprovalEvent(event));
        if (state.status !== 'none') this.index.set(approvalId, state);
        this.indexedUpTo = event.position;
      }
      if (page.length < READ_BATCH_MAX) return;
    }
  }
}

function toApprovalEvent(event: RecordedEvent): ApprovalEvent {
  return { type: event.type, data: event.data } as ApprovalEvent;
}
