/**
 * Queries of the `payments_events` read model: Stripe events (by id, lists
 * newest first with cursors and filters), webhook endpoints (list) and
 * deliveries (per endpoint, per event, the failed ones). Queries wait for the
 * projection to reach the head first (read-your-writes), as the payments read
 * model does.
 */
import type { EventStore } from '../../eventstore/index.ts';
import { DaybookError } from '../../kernel/index.ts';
import { type ProjectionTx, queryProjection, type ReadModelStore, waitForPosition } from '../../projections/index.ts';
import {
  PAY_EVENTS_TABLE, PAYMENT_EVENTS_PROJECTION_NAME, WEBHOOK_DELIVERIES_TABLE, WEBHOOK_ENDPOINTS_TABLE,
} from './paymentEvents.projection.ts';
import { type CreatedFilter, PAYMENTS_READ_YOUR_WRITES_TIMEOUT_MS, type PositionWaiter } from './payments.readModel.ts';

export type PaymentEventRow = {
  mode: string; id: string; type: string; position: bigint; seq: number; createdS: number; streamId: string; streamVersion: bigint;
  subjectKind: string; subjectId: string; before: boolean; requestId: string | null; idempotencyKey: string | null;
};

export type WebhookAttempt = { atMs: number; statusCode: number | null; error: string | null; durationMs: number };

export type WebhookDeliveryRow = {
  mode: string; endpointId: string; eventId: string; eventType: string; position: bigint; seq: number;
  status: 'pending' | 'succeeded' | 'failed' | 'skipped'; attempts: number; nextAttemptMs: number; lastAttemptMs: number | null;
  lastStatusCode: number | null; lastError: string | null; attemptLog: WebhookAttempt[];
};

export type EventListQuery = {
  limit: number; startingAfter?: string; endingBefore?: string; created?: CreatedFilter; types?: readonly string[];
  /** `charge.*`: every type that starts with `charge.` (Stripe's wildcard in `type`). */
  typePrefix?: string;
};

type Page<T> = { items: T[]; hasMore: boolean };

/** Counters, versions and times from SQL rows (never amounts). */
const int = (value: unknown): number => Number.parseInt(String(value), 10);

const EVENT_COLUMNS = 'mode, id, type, position, seq, created_s, stream_id, stream_version, subject_kind, subject_id, before, request_id, idempotency_key';
const DELIVERY_COLUMNS = 'mode, endpoint_id, event_id, event_type, position, seq, status, attempts, next_attempt_ms, last_attempt_ms, last_status_code, last_error, attempt_log';

export class PaymentEventsReadModel {
  constructor(private readonly store: EventStore, private readonly readModels: ReadModelStore, private readonly waiter?: PositionWaiter) {}

  async fresh(): Promise<void> {
    const head = await this.store.headPosition();
    if (this.waiter) return this.waiter.waitForPosition(PAYMENT_EVENTS_PROJECTION_NAME, head, PAYMENTS_READ_YOUR_WRITES_TIMEOUT_MS);
    return waitForPosition(this.readModels, PAYMENT_EVENTS_PROJECTION_NAME, head, PAYMENTS_READ_YOUR_WRITES_TIMEOUT_MS);
  }

  async event(mode: string, id: string): Promise<PaymentEventRow | undefined> {
    await this.fresh();
    const [row] = await this.query((tx) => tx.query<any>(`SELECT ${EVENT_COLUMNS} FROM ${tx.table(PAY_EVENTS_TABLE)} WHERE mode = $1 AND id = $2`, [mode, id]));
    return row === undefined ? undefined : toEvent(row);
  }

  /** One page of events, newest first (by log position, then index); `ending_before` pages towards newer ones. */
  async events(mode: string, query: EventListQuery): Promise<Page<PaymentEventRow>> {
    await this.fresh();
    return this.query(async (tx) => {
      const table = tx.table(PAY_EVENTS_TABLE);
      const conditions = ['mode = $1'];
      const params: unknown[] = [mode];
      const add = (sql: (n: number) => string, ...values: unknown[]): void => {
        const first = params.length + 1;
        params.push(...values);
        conditions.push(sql(first));
      };
      const cursorId = query.startingAfter ?? query.endingBefore;
      if (cursorId !== undefined) {
        const param = query.startingAfter !== undefined ? 'starting_after' : 'ending_before';
        const [cursor] = await tx.query<{ position: bigint; seq: bigint }>(`SELECT position, seq FROM ${table} WHERE mode = $1 AND id = $2`, [mode, cursorId]);
        if (cursor === undefined) throw new DaybookError('resource_missing', `No such event: '${cursorId}'`, { id: cursorId }, param);
        const op = param === 'starting_after' ? '<' : '>';
        add((n) => `(position ${op} $${n} OR (position = $${n} AND seq ${op} $${n + 1}))`, BigInt(cursor.position), BigInt(cursor.seq));
      }
      if (query.types !== undefined && query.types.length > 0) add((n) => `type IN (${query.types!.map((_, i) => `$${n + i}`).join(', ')})`, ...query.types);
      if (query.typePrefix !== undefined) add((n) => `substr(type, 1, ${query.typePrefix!.length}) = $${n}`, query.typePrefix);
      const created = query.created ?? {};
      for (const [op, value] of [['>', created.gt], ['>=', created.gte], ['<', created.lt], ['<=', created.lte]] as const) {
        if (value !== undefined) add((n) => `created_s ${op} $${n}`, value);
      }
      const order = query.endingBefore !== undefined ? 'ASC' : 'DESC';
      params.push(query.limit + 1);
      const rows = await tx.query<any>(`SELECT ${EVENT_COLUMNS} FROM ${table} WHERE ${conditions.join(' AND ')} ORDER BY position ${order}, seq ${order} LIMIT $${params.length}`, params);
      const page = rows.slice(0, query.limit);
      if (order === 'ASC') page.reverse();
      return { items: page.map(toEvent), hasMore: rows.length > query.limit };
    });
  }

  /** Endpoint ids of a mode, newest first (deleted ones left out). */
  async endpointIds(mode: string, limit: number, startingAfter?: string): Promise<Page<string>> {
    await this.fresh();
    return this.query(async (tx) => {
      const table = tx.table(WEBHOOK_ENDPOINTS_TABLE);
      const params: unknown[] = [mode];
      let cursor = '';
      if (startingAfter !== undefined) {
        const [row] = await tx.query<{ position: bigint }>(`SELECT position FROM ${table} WHERE mode = $1 AND id = $2`, [mode, startingAfter]);
        if (row === undefined) throw new DaybookError('resource_missing', `No such webhook endpoint: '${startingAfter}'`, { id: startingAfter }, 'starting_after');
        params.push(BigInt(row.position));
        cursor = ' AND position < $2';
      }
      params.push(limit + 1);
      const rows = await tx.query<{ id: string }>(`SELECT id FROM ${table} WHERE mode = $1 AND deleted = 0${cursor} ORDER BY position DESC LIMIT $${params.length}`, params);
      return { items: rows.slice(0, limit).map((row) => row.id), hasMore: rows.length > limit };
    });
  }

  /** A mode's endpoints that are not deleted. */
  async endpointCount(mode: string): Promise<number> {
    await this.fresh();
    const [row] = await this.query((tx) => tx.query<{ count: bigint }>(`SELECT count(*) AS count FROM ${tx.table(WEBHOOK_ENDPOINTS_TABLE)} WHERE mode = $1 AND deleted = 0`, [mode]));
    return int(row?.count ?? 0);
  }

  /** An endpoint's deliveries, newest event first. */
  async deliveries(mode: string, endpointId: string, limit: number, status?: string): Promise<Page<WebhookDeliveryRow>> {
    await this.fresh();
    const params: unknown[] = [mode, endpointId];
    if (status !== undefined) params.push(status);
    params.push(limit + 1);
    const rows = await this.query((tx) => tx.query<any>(`SELECT ${DELIVERY_COLUMNS} FROM ${tx.table(WEBHOOK_DELIVERIES_TABLE)}
      WHERE mode = $1 AND endpoint_id = $2${status === undefined ? '' : ' AND status = $3'} ORDER BY position DESC, seq DESC LIMIT $${params.length}`, params));
    return { items: rows.slice(0, limit).map(toDelivery), hasMore: rows.length > limit };
  }

  /** The dead-letter list: deliveries that exhausted their schedule, oldest first, all modes. */
  async failedDeliveries(limit: number): Promise<WebhookDeliveryRow[]> {
    const rows = await this.query((tx) => tx.query<any>(`SELECT ${DELIVERY_COLUMNS} FROM ${tx.table(WEBHOOK_DELIVERIES_TABLE)}
      WHERE status = 'failed' ORDER BY position, seq LIMIT $1`, [limit]));
    return rows.map(toDelivery);
  }

  /** Every delivery of one event (all endpoints, all modes). */
  async eventDeliveries(eventId: string): Promise<WebhookDeliveryRow[]> {
    const rows = await this.query((tx) => tx.query<any>(`SELECT ${DELIVERY_COLUMNS} FROM ${tx.table(WEBHOOK_DELIVERIES_TABLE)} WHERE event_id = $1 ORDER BY endpoint_id`, [eventId]));
    return rows.map(toDelivery);
  }

  private query<T>(fn: (tx: ProjectionTx) => Promise<T>): Promise<T> {
    return queryProjection(this.readModels, PAYMENT_EVENTS_PROJECTION_NAME, fn);
  }
}

export function toEvent(row: any): PaymentEventRow {
  return {
    mode: row.mode, id: row.id, type: row.type, position: BigInt(row.position), seq: int(row.seq), createdS: int(row.created_s), streamId: row.stream_id,
    streamVersion: BigInt(row.stream_version), subjectKind: row.subject_kind, subjectId: row.subject_id, before: int(row.before) === 1,
    requestId: row.request_id ?? null, idempotencyKey: row.idempotency_key ?? null,
  };
}

export function toDelivery(row: any): WebhookDeliveryRow {
  const number = (value: unknown): number | null => (value === null || value === undefined ? null : int(value));
  return {
    mode: row.mode, endpointId: row.endpoint_id, eventId: row.event_id, eventType: row.event_type, position: BigInt(row.position), seq: int(row.seq),
    status: row.status, attempts: int(row.attempts), nextAttemptMs: int(row.next_attempt_ms), lastAttemptMs: number(row.last_attempt_ms),
    lastStatusCode: number(row.last_status_code), lastError: row.last_error ?? null, attemptLog: JSON.parse(row.attempt_log) as WebhookAttempt[],
  };
}
