import { type ApiKeyMode, isApiKeyMode, mayStreamCategory } from '../auth/index.ts';
import { categoryOf, type RecordedEvent } from '../eventstore/index.ts';
import type { AuthContext } from './security.ts';

/**
 * Which key may see which event, on the live feed and in the raw history.
 * An event belongs to a mode by its stream (`ledger-test`, `ledger-live`:
 * the ledger partitions are per mode) or, failing that, by the `mode` the
 * API wrote into its metadata. Events of neither (API keys, events written
 * by tools) are system events: admins and auditors only. Within its mode, an
 * event is seen by the roles whose categories include its stream's.
 */
export function modeOfEvent(event: Pick<RecordedEvent, 'streamId' | 'metadata'>): ApiKeyMode | undefined {
  const ledgerMatch = /^ledger-(test|live)$/.exec(event.streamId);
  if (ledgerMatch !== null) return ledgerMatch[1] as ApiKeyMode;
  const mode = event.metadata?.mode;
  return isApiKeyMode(mode) ? mode : undefined;
}

export function mayReadEvent(auth: AuthContext, event: Pick<RecordedEvent, 'streamId' | 'metadata'>): boolean {
  const mode = modeOfEvent(event);
  if (mode === undefined) return auth.role === 'admin' || auth.role === 'auditor';
  return mode === auth.mode && mayStreamCategory(auth.role, categoryOf(event.streamId));
}

/** An event on the wire: positions and versions as integer strings. */
export function eventToWire(event: RecordedEvent) {
  return {
    object: 'event' as const,
    id: event.eventId,
    stream_id: event.streamId,
    version: event.version.toString(),
    position: event.position.toString(),
    type: event.type,
    schema_version: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
    recorded_at: event.recordedAt.toISOString(),
    hash: event.hash,
    previous_hash: event.previousHash,
  };
}
