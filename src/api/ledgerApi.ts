import type { FastifyRequest } from 'fastify';
import type { ApiKeyMode } from '../auth/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import type { LedgerEngine, LedgerRequest, LedgerResult } from '../ledger/index.ts';
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
 * True when another process appended to this mode's partition after this
 * engine's last batch (several API processes on one PostgreSQL store). Then
 * an id this engine does not know may exist: the edge's existence checks
 * step aside and let the engine decide, which catches up when its append
 * meets the newer version.
 */
export async function engineBehindTheLog(ledger: LedgerApi, request: FastifyRequest): Promise<boolean> {
  const engine = engineOf(ledger, request);
  return (await ledger.store.streamVersion(engine.streamId)) > engine.streamVersion;
}
