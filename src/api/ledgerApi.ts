import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyMode } from '../auth/index.ts';
import type { EventStore, StreamWrite } from '../eventstore/index.ts';
import type { LedgerAttachment, LedgerEngine, LedgerOutcome, LedgerRequest, LedgerResult, LedgerView } from '../ledger/index.ts';
import { answerFor } from './errorHandler.ts';
import { AttachedRecord } from './attachedRecord.ts';
import { recordable } from './idempotency.hooks.ts';
import type { AccountDirectory } from './accountDirectory.ts';
import type { TransferDirectory } from './transferDirectory.ts';
import { authOf } from './security.ts';
import { eventMetadataOf, rejectionError, withWireParam } from './wire.ts';

/** What the ledger routes need: one engine (and account directory) per key mode, so test and live never share data. */
export interface LedgerApi {
  store: EventStore;
  engines: Readonly<Record<ApiKeyMode, LedgerEngine>>;
  directories: Readonly<Record<ApiKeyMode, AccountDirectory>>;
  /** Transfers in the order recorded, for the list route. */
  transferDirectories: Readonly<Record<ApiKeyMode, TransferDirectory>>;
}

export function engineOf(ledger: LedgerApi, request: FastifyRequest): LedgerEngine {
  return ledger.engines[authOf(request).mode];
}

/** Runs one command with the request's metadata; a refusal becomes the operating error the table maps. */
export async function executeLedger(ledger: LedgerApi, request: FastifyRequest, command: LedgerRequest, paramPrefix = ''): Promise<LedgerResult> {
  let outcome;
  try {
    outcome = await engineOf(ledger, request).execute(command, eventMetadataOf(request));
  } catch (error) {
    throw withWireParam(error);
  }
  if (!outcome.ok) throw rejectionError(outcome.rejection, paramPrefix);
  return outcome.result;
}


/**
 * Runs one command and answers the request with `present(state)`, or with
 * the refusal's error. With an Idempotency-Key, the answer's record is
 * attached to the command (see LedgerAttachment): it commits in the same
 * append as the command's events, so the answer costs no second durable
 * write, and it is durable before it is sent. The body sent is the recorded
 * string itself, so a replay is the same bytes. Without a key (or for an
 * answer not worth recording) it is the plain `executeLedger` path.
 *
 * @example
 * return executeAndAnswer(ledger, request, reply, command, (state) => transferToWire(state.transfer(id)!, mode));
 */
export async function executeAndAnswer<Answer>(
  ledger: LedgerApi, request: FastifyRequest, reply: FastifyReply, command: LedgerRequest, present: (state: LedgerView) => Answer,
  /** Committed with the command's events when it succeeds and is no repeat (the fraud check's verdict): one durable write holds both. */
  onSuccess?: StreamWrite,
): Promise<Answer | FastifyReply> {
  const record = new AttachedRecord(request);
  // The state the command was decided in: it holds what the answer names, even a record the engine read back from the log for it.
  let decided: LedgerView | undefined;
  // Called at each decision of the command (again if its batch is decided again): the last call is the one that commits.
  const attach: LedgerAttachment = (outcome, state) => {
    decided = state;
    const alongside = onSuccess !== undefined && outcome.ok && !outcome.replayed ? onSuccess : undefined;
    if (request.idempotency === null || request.idempotency.settled) return alongside;
    const { statusCode, body, code } = answerOf(outcome, state, present);
    const own = recordable(statusCode, code) ? record.attachment(body, statusCode) : record.clear();
    return own === undefined ? alongside : alongside === undefined ? own : [own, alongside];
  };
  const engine = engineOf(ledger, request);
  let outcome;
  try {
    outcome = await engine.execute(command, eventMetadataOf(request), attach);
  } catch (error) {
    // Another process recorded the key first: nothing of this request was written; it answers as a retry of the key would.
    const lost = await record.sendIfLost(reply, error);
    if (lost !== undefined) return lost;
    throw withWireParam(error);
  }
  if (record.attached) {
    // The error handler logs the refusals it answers; this one answers without it.
    if (!outcome.ok) request.log.info({ code: outcome.rejection.code, status: record.statusCode }, outcome.rejection.message);
    return record.send(reply);
  }
  if (!outcome.ok) throw rejectionError(outcome.rejection);
  return present(decided ?? engine.state);
}

function answerOf(outcome: LedgerOutcome, state: LedgerView, present: (state: LedgerView) => unknown): { statusCode: number; body: string; code?: string } {
  if (outcome.ok) return { statusCode: 200, body: JSON.stringify(present(state)) };
  const error = rejectionError(outcome.rejection);
  const { status, body } = answerFor(error);
  return { statusCode: status, body: JSON.stringify(body), code: error.code };
}

/**
 * True when the log holds events of this mode's partition that the engine
 * had not applied when the caller looked at its state: `seenVersion` is the
 * engine's `streamVersion`, read in the same synchronous step as that look.
 * Then an id the engine did not know may exist (another process wrote it,
 * several API processes on one PostgreSQL store): the edge's existence checks
 * step aside and let the engine decide, which catches up before it decides.
 * Comparing with the version seen, not the engine's current one, keeps a
 * follower that applied those events in the meantime from hiding them.
 */
export async function engineBehindTheLog(ledger: LedgerApi, request: FastifyRequest, seenVersion: bigint): Promise<boolean> {
  const engine = engineOf(ledger, request);
  return (await ledger.store.streamVersion(engine.streamId)) > seenVersion;
}
