import { API_KEY_CATEGORY, type ApiKeyMode, isApiKeyMode, mayStreamCategory } from '../auth/index.ts';
import { categoryOf, type EventStore, type RecordedEvent } from '../eventstore/index.ts';
import { IDEMPOTENCY_RECORD_EVENT } from './idempotencyStore.ts';
import type { AuthContext } from './security.ts';

/**
 * Which key may see which event, on the live feed and in the raw history.
 * An event belongs to a mode by, in order: its stream (the ledger partitions
 * `ledger-test`, `ledger-banking-live`, …, and their snapshot digests,
 * `ledgersnapshot-test`, …, and their lookup markers, `ledgerindex-test`, …
 * (the payments partitions, `ledger-payments-test`, … likewise); banking streams whose id carries the mode
 * prefix, `customer-test.c1`), the `mode` the API wrote into its metadata,
 * an API key's own `mode` in its data (keys made by the CLI or at start
 * carry no request, so older ones have no mode in their metadata), the mode
 * prefix of the ids in its data (`accountId`, `fromAccountId`, …), or else
 * the first event of its stream (a key's revocation: its creation). Events
 * of no mode (events written by tools, the `ledger-main` partition) are
 * system events: admins and auditors only. Within its mode, an event is seen
 * by the roles whose categories include its stream's.
 */
const LEDGER_STREAM = /^ledger(?:snapshot|index)?-(?:banking-|payments-)?(test|live)$/;
const PREFIXED_STREAM = /^[A-Za-z0-9_]+-(test|live)\./;
const ID_FIELDS = ['accountId', 'fromAccountId', 'toAccountId', 'customerId'] as const;
const MODE_PREFIX = /^(test|live)\./;
const STREAM_MODE_CACHE_MAX = 100_000;

export function modeOfEvent(event: Pick<RecordedEvent, 'streamId' | 'metadata' | 'data'>): ApiKeyMode | undefined {
  const byStream = LEDGER_STREAM.exec(event.streamId) ?? PREFIXED_STREAM.exec(event.streamId);
  if (byStream !== null) return byStream[1] as ApiKeyMode;
  const data = event.data as Record<string, unknown> | null;
  // A key's events belong to the key's mode, not to the mode of whoever acted on it (earlier builds let a test key make or revoke a live one):
  // its creation says the mode; any other event of its stream is judged by that creation (EventVisibility reads it).
  if (categoryOf(event.streamId) === API_KEY_CATEGORY) return isApiKeyMode(data?.mode) ? data.mode : undefined;
  const mode = event.metadata?.mode;
  if (isApiKeyMode(mode)) return mode;
  for (const field of ID_FIELDS) {
    const value = data?.[field];
    const match = typeof value === 'string' ? MODE_PREFIX.exec(value) : null;
    if (match !== null) return match[1] as ApiKeyMode;
  }
  return undefined;
}

/** Resolves modes, reading a stream's first event when an event says nothing itself (a settled banking transaction). */
export class EventVisibility {
  private readonly streamModes = new Map<string, ApiKeyMode | null>();
  /** Reads of a stream's first event under way: every live stream checks the same new event at once, and one read answers them all. */
  private readonly reading = new Map<string, Promise<ApiKeyMode | undefined>>();

  constructor(private readonly store: EventStore) {}

  async modeOf(event: RecordedEvent): Promise<ApiKeyMode | undefined> {
    const direct = modeOfEvent(event);
    if (direct !== undefined || event.version === 1n) return direct;
    const cached = this.streamModes.get(event.streamId);
    if (cached !== undefined) return cached ?? undefined;
    let pending = this.reading.get(event.streamId);
    if (pending === undefined) {
      pending = this.readModeOf(event.streamId).finally(() => this.reading.delete(event.streamId));
      this.reading.set(event.streamId, pending);
    }
    return pending;
  }

  private async readModeOf(streamId: string): Promise<ApiKeyMode | undefined> {
    const [first] = await this.store.readStream(streamId, { limit: 1 });
    const mode = first === undefined ? undefined : modeOfEvent(first);
    if (this.streamModes.size >= STREAM_MODE_CACHE_MAX) this.streamModes.clear();
    this.streamModes.set(streamId, mode ?? null);
    return mode;
  }

  async mayRead(auth: AuthContext, event: RecordedEvent): Promise<boolean> {
    const mode = await this.modeOf(event);
    if (mode === undefined) return auth.role === 'admin' || auth.role === 'auditor';
    return mode === auth.mode && mayStreamCategory(auth.role, categoryOf(event.streamId));
  }
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
    data: withoutSecrets(event),
    metadata: event.metadata,
    recorded_at: event.recordedAt.toISOString(),
    hash: event.hash,
    previous_hash: event.previousHash,
  };
}

/** A secret key, or a webhook signing secret, inside a recorded answer's body (JSON text). */
const SECRET_IN_BODY = /"secret"\s*:\s*"(?:sk_(?:test|live)_|whsec_)[^"]*"/g;

/**
 * Key hashes stay in the store: peppered as they are, nobody outside needs
 * them; a webhook endpoint's signing secret is shown redacted. And an API key's secret never leaves in a recorded answer: records
 * made before answers were stored without it (idempotent `POST
 * /v1/api_keys`) still hold it in the log, and are shown with it redacted.
 */
function withoutSecrets(event: RecordedEvent): unknown {
  if (typeof event.data !== 'object' || event.data === null) return event.data;
  if (event.type === 'ApiKeyCreated') {
    const { secretHash: _secretHash, ...rest } = event.data as Record<string, unknown>;
    return rest;
  }
  // A webhook endpoint's signing secret is kept in its stream (deliveries sign with it); whoever reads the log must not be able to sign.
  if (event.type === 'WebhookEndpointCreated') return { ...(event.data as Record<string, unknown>), secret: '[redacted]' };
  const body = (event.data as Record<string, unknown>).body;
  if (event.type === IDEMPOTENCY_RECORD_EVENT && typeof body === 'string' && body.includes('"secret"')) {
    return { ...(event.data as Record<string, unknown>), body: body.replace(SECRET_IN_BODY, '"secret":"[redacted]"') };
  }
  return event.data;
}
