/**
 * The Stripe events read model and the webhook delivery queue, derived from
 * the log in one projection (`payments_events`):
 *
 * - `pay_events`: one row per Stripe event a domain event implies
 *   (stripeEvents.rules.ts), with a deterministic id (`evt_` + a hash of the
 *   source event's id and its index), so a replay rebuilds the same ids. The
 *   object (`data.object`) is not copied here: it is rendered from its stream
 *   at the source event's version (personal data stays in the customer's
 *   stream, where erasure reaches it).
 * - `pay_webhook_endpoints`: endpoints as of this point of the log.
 * - `pay_webhook_deliveries`: one row per (endpoint, event) the endpoint
 *   wanted when the event happened, inserted in the same transaction as the
 *   checkpoint: once an event is committed past the checkpoint its deliveries
 *   exist, so a crash never loses one. The webhook dispatcher then sends them
 *   and writes their attempts, status and next attempt (state of its own,
 *   beside the derived rows).
 *
 * A new generation (a version bump) does not deliver the history again:
 * deliveries of events the active generation had passed are carried over as
 * they were (or `skipped` when it had none), as relays hand over.
 */
import { createHash } from 'node:crypto';
import { categoryOf, type RecordedEvent } from '../../eventstore/index.ts';
import { defineProjection, type ProjectionTx, versionedTable } from '../../projections/index.ts';
import type { CaptureMethod } from '../domain/paymentIntent.events.ts';
import { secondsOf } from '../domain/payments.rules.ts';
import { endpointWants, STRIPE_EVENT_CATEGORIES, type StripeEventOf, stripeEventsOf } from '../domain/stripeEvents.rules.ts';
import type { WebhookEndpointEvent } from '../domain/webhookEndpoint.events.ts';
import { modeOfStream } from './payments.projection.ts';

export const PAYMENT_EVENTS_PROJECTION_NAME = 'payments_events';
export const PAY_EVENTS_TABLE = 'pay_events';
export const PAY_EVENT_INTENTS_TABLE = 'pay_event_intents';
export const WEBHOOK_ENDPOINTS_TABLE = 'pay_webhook_endpoints';
export const WEBHOOK_DELIVERIES_TABLE = 'pay_webhook_deliveries';
export const WEBHOOK_ENDPOINT_CATEGORY = 'pwebhook';

/** Counters, versions and times from SQL rows (never amounts). */
const int = (value: unknown): number => Number.parseInt(String(value), 10);

const ID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `evt_` and 24 base-62 characters of SHA-256(source event id, index): the same on every replay. */
export function stripeEventIdOf(sourceEventId: string, index: number): string {
  let value = BigInt(`0x${createHash('sha256').update(`${sourceEventId}:${index}`).digest('hex')}`);
  let text = '';
  for (let i = 0; i < 24; i += 1) {
    text += ID_ALPHABET[int(value % 62n)];
    value /= 62n;
  }
  return `evt_${text}`;
}

export const paymentEventsProjection = defineProjection({
  name: PAYMENT_EVENTS_PROJECTION_NAME,
  // 2: dispute, payout and account events (charge.dispute.*, payout.*, account.updated).
  version: 2,
  tables: [PAY_EVENTS_TABLE, PAY_EVENT_INTENTS_TABLE, WEBHOOK_ENDPOINTS_TABLE, WEBHOOK_DELIVERIES_TABLE],
  handles: { categories: [...STRIPE_EVENT_CATEGORIES, WEBHOOK_ENDPOINT_CATEGORY] },
  onPoison: 'park',
  async migrate(tx) {
    const events = tx.table(PAY_EVENTS_TABLE);
    await tx.execute(`CREATE TABLE ${events} (
      mode text NOT NULL, id text NOT NULL, type text NOT NULL, position bigint NOT NULL, seq bigint NOT NULL, created_s bigint NOT NULL,
      stream_id text NOT NULL, stream_version bigint NOT NULL, subject_kind text NOT NULL, subject_id text NOT NULL, before smallint NOT NULL,
      request_id text, idempotency_key text, PRIMARY KEY (mode, id))`);
    await tx.execute(`CREATE UNIQUE INDEX ${events}_by_position ON ${events} (mode, position, seq)`);
    await tx.execute(`CREATE INDEX ${events}_by_type ON ${events} (mode, type, position, seq)`);
    await tx.execute(`CREATE TABLE ${tx.table(PAY_EVENT_INTENTS_TABLE)} (mode text NOT NULL, id text NOT NULL, capture_method text NOT NULL, PRIMARY KEY (mode, id))`);
    const endpoints = tx.table(WEBHOOK_ENDPOINTS_TABLE);
    await tx.execute(`CREATE TABLE ${endpoints} (
      mode text NOT NULL, id text NOT NULL, position bigint NOT NULL, enabled_events text NOT NULL, disabled smallint NOT NULL, deleted smallint NOT NULL,
      PRIMARY KEY (mode, id))`);
    await tx.execute(`CREATE INDEX ${endpoints}_by_position ON ${endpoints} (mode, position)`);
    const deliveries = tx.table(WEBHOOK_DELIVERIES_TABLE);
    await tx.execute(`CREATE TABLE ${deliveries} (
      mode text NOT NULL, endpoint_id text NOT NULL, event_id text NOT NULL, event_type text NOT NULL, position bigint NOT NULL, seq bigint NOT NULL,
      status text NOT NULL, attempts bigint NOT NULL, next_attempt_ms bigint NOT NULL, last_attempt_ms bigint, last_status_code bigint, last_error text,
      attempt_log text NOT NULL, PRIMARY KEY (mode, endpoint_id, event_id))`);
    await tx.execute(`CREATE INDEX ${deliveries}_due ON ${deliveries} (status, next_attempt_ms)`);
    await tx.execute(`CREATE INDEX ${deliveries}_by_endpoint ON ${deliveries} (mode, endpoint_id, position, seq)`);
    await tx.execute(`CREATE INDEX ${deliveries}_by_event ON ${deliveries} (event_id)`);
  },
  async handle(events, tx) {
    const handover = await handedOverThrough(tx);
    for (const event of events) {
      if (categoryOf(event.streamId) === WEBHOOK_ENDPOINT_CATEGORY) await applyEndpointEvent(tx, event);
      else await applyDomainEvent(tx, event, handover);
    }
  },
});

async function applyEndpointEvent(tx: ProjectionTx, event: RecordedEvent): Promise<void> {
  const mode = modeOfStream(event.streamId);
  const endpoint = { type: event.type, data: event.data } as WebhookEndpointEvent;
  const table = tx.table(WEBHOOK_ENDPOINTS_TABLE);
  switch (endpoint.type) {
    case 'WebhookEndpointCreated':
      await tx.execute(`INSERT INTO ${table} (mode, id, position, enabled_events, disabled, deleted) VALUES ($1, $2, $3, $4, 0, 0) ON CONFLICT (mode, id) DO NOTHING`,
        [mode, endpoint.data.webhookEndpointId, event.position, JSON.stringify(endpoint.data.enabledEvents)]);
      return;
    case 'WebhookEndpointUpdated':
      await tx.execute(`UPDATE ${table} SET enabled_events = $1, disabled = $2 WHERE mode = $3 AND id = $4`,
        [JSON.stringify(endpoint.data.enabledEvents), endpoint.data.disabled ? 1 : 0, mode, endpoint.data.webhookEndpointId]);
      return;
    case 'WebhookEndpointDeleted':
      await tx.execute(`UPDATE ${table} SET deleted = 1 WHERE mode = $1 AND id = $2`, [mode, endpoint.data.webhookEndpointId]);
      return;
    default:
      return;
  }
}

async function applyDomainEvent(tx: ProjectionTx, event: RecordedEvent, handover: Handover): Promise<void> {
  const mode = modeOfStream(event.streamId);
  const data = event.data as { paymentIntentId?: string; captureMethod?: CaptureMethod };
  if ((event.type === 'PaymentIntentCreated' || event.type === 'PaymentIntentUpdated') && data.paymentIntentId !== undefined && data.captureMethod !== undefined) {
    await tx.execute(`INSERT INTO ${tx.table(PAY_EVENT_INTENTS_TABLE)} (mode, id, capture_method) VALUES ($1, $2, $3)
      ON CONFLICT (mode, id) DO UPDATE SET capture_method = excluded.capture_method`, [mode, data.paymentIntentId, data.captureMethod]);
  }
  const captureMethod = data.paymentIntentId === undefined ? undefined : await captureMethodOf(tx, mode, data.paymentIntentId);
  const stripeEvents = stripeEventsOf({ type: event.type, data: event.data }, { captureMethod });
  for (const [seq, stripeEvent] of stripeEvents.entries()) {
    const id = stripeEventIdOf(event.eventId, seq);
    await insertEvent(tx, mode, event, seq, id, stripeEvent);
    await fanOut(tx, mode, event, seq, id, stripeEvent.type, handover);
  }
}

async function captureMethodOf(tx: ProjectionTx, mode: string, paymentIntentId: string): Promise<CaptureMethod | undefined> {
  const [row] = await tx.query<{ capture_method: CaptureMethod }>(`SELECT capture_method FROM ${tx.table(PAY_EVENT_INTENTS_TABLE)} WHERE mode = $1 AND id = $2`, [mode, paymentIntentId]);
  return row?.capture_method;
}

async function insertEvent(tx: ProjectionTx, mode: string, event: RecordedEvent, seq: number, id: string, stripeEvent: StripeEventOf): Promise<void> {
  const metadata = (event.metadata ?? {}) as { causationId?: unknown; idempotencyKey?: unknown };
  const requestId = typeof metadata.causationId === 'string' && metadata.causationId.startsWith('req_') ? metadata.causationId : null;
  const idempotencyKey = typeof metadata.idempotencyKey === 'string' ? metadata.idempotencyKey : null;
  await tx.execute(`INSERT INTO ${tx.table(PAY_EVENTS_TABLE)}
      (mode, id, type, position, seq, created_s, stream_id, stream_version, subject_kind, subject_id, before, request_id, idempotency_key)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (mode, id) DO NOTHING`, [
    mode, id, stripeEvent.type, event.position, seq, secondsOf(event.recordedAt.getTime()), event.streamId, event.version,
    stripeEvent.subject.kind, stripeEvent.subject.id, stripeEvent.before === true ? 1 : 0, requestId, idempotencyKey,
  ]);
}

/** One delivery per endpoint of the mode that wants this type now (enabled, not deleted). */
async function fanOut(tx: ProjectionTx, mode: string, event: RecordedEvent, seq: number, eventId: string, type: string, handover: Handover): Promise<void> {
  const endpoints = await tx.query<{ id: string; enabled_events: string }>(
    `SELECT id, enabled_events FROM ${tx.table(WEBHOOK_ENDPOINTS_TABLE)} WHERE mode = $1 AND disabled = 0 AND deleted = 0 ORDER BY position`, [mode]);
  const deliveries = tx.table(WEBHOOK_DELIVERIES_TABLE);
  for (const endpoint of endpoints) {
    if (!endpointWants(JSON.parse(endpoint.enabled_events) as string[], type)) continue;
    const key = [mode, endpoint.id, eventId];
    if (handover.table !== null && event.position <= handover.through) {
      // Delivered (or not) by the generation being replaced: carry its row over, never send the history again.
      const copied = await tx.execute(`INSERT INTO ${deliveries} SELECT * FROM ${handover.table} WHERE mode = $1 AND endpoint_id = $2 AND event_id = $3
        ON CONFLICT (mode, endpoint_id, event_id) DO NOTHING`, key);
      if (copied === 1) continue;
    }
    const status = handover.table !== null && event.position <= handover.through ? 'skipped' : 'pending';
    await tx.execute(`INSERT INTO ${deliveries} (mode, endpoint_id, event_id, event_type, position, seq, status, attempts, next_attempt_ms, attempt_log)
      VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, '[]') ON CONFLICT (mode, endpoint_id, event_id) DO NOTHING`,
    [...key, type, event.position, seq, status, event.recordedAt.getTime()]);
  }
}

type Handover = { table: string | null; through: bigint };

/** While another generation is active (a rebuild), how far it delivered and where its deliveries are. */
async function handedOverThrough(tx: ProjectionTx): Promise<Handover> {
  const [active] = await tx.query<{ version: bigint }>('SELECT version FROM projection_active WHERE name = $1', [tx.projection]);
  if (active === undefined || int(active.version) === tx.version) return { table: null, through: 0n };
  const version = int(active.version);
  const [checkpoint] = await tx.query<{ position: bigint }>('SELECT min(position) AS position FROM projection_checkpoints WHERE name = $1 AND version = $2', [tx.projection, version]);
  return { table: versionedTable(WEBHOOK_DELIVERIES_TABLE, version), through: checkpoint?.position === null || checkpoint === undefined ? 0n : BigInt(checkpoint.position) };
}
