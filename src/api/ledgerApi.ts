import type { FastifyRequest } from 'fastify';
import type { ApiKeyMode } from '../auth/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import type { LedgerEngine, LedgerRequest, LedgerResult } from '../ledger/index.ts';
import type { AccountDirectory } from './accountDirectory.ts';
import { authOf } from './security.ts';
import { eventMetadataOf, rejectionError, withWireParam } from './wire.ts';

/** What the ledger routes need: one engine (and account directory) per key mode, so test and live never share data. */
export interface LedgerApi {
  store: EventStore;
  engines: Readonly<Record<ApiKeyMode, LedgerEngine>>;
  directories: Readonly<Record<ApiKeyMode, AccountDirectory>>;
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
