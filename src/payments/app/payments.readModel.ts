/**
 * Queries of the payments read model (`pay_objects`): look an object up by
 * id, list one object type newest first with Stripe's cursors and filters,
 * find balance transactions due for settlement. Every query first waits for
 * the projection to reach the store's head as read now, so a caller reads
 * its own writes (`projection_wait_timeout`, 503, if it cannot).
 */
import type { EventStore } from '../../eventstore/index.ts';
import { DaybookError } from '../../kernel/errors.ts';
import { type ProjectionTx, queryProjection, type ReadModelStore, waitForPosition } from '../../projections/index.ts';
import type { PaymentCurrency } from '../domain/payments.rules.ts';
import { PAYMENTS_OBJECTS_TABLE, PAYMENTS_PROJECTION_NAME, type PaymentObjectType } from './payments.projection.ts';

/** How long a query waits for the projection to reach the head it saw. */
export const PAYMENTS_READ_YOUR_WRITES_TIMEOUT_MS = 5_000;

export interface PositionWaiter {
  waitForPosition(name: string, position: bigint, timeoutMs: number): Promise<void>;
}

export type CreatedFilter = { gt?: number; gte?: number; lt?: number; lte?: number };

export type ListQuery = {
  object: PaymentObjectType;
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
  created?: CreatedFilter;
  customer?: string;
  paymentIntent?: string;
  charge?: string;
  source?: string;
  /** Payment methods: `card`; balance transactions: `charge` or `refund`. */
  kind?: string;
};

export type ObjectRef = { id: string; object: PaymentObjectType; streamId: string };
export type ListPage = { refs: ObjectRef[]; hasMore: boolean };
export type DueSettlement = { balanceTransactionId: string; currency: PaymentCurrency; netMinor: bigint };

type RefRow = { id: string; object: string; stream_id: string; position: bigint };

export class PaymentsReadModel {
  constructor(private readonly store: EventStore, private readonly readModels: ReadModelStore, private readonly waiter?: PositionWaiter) {}

  /** Resolves once the read model reflects every event durable before the call. */
  async fresh(): Promise<void> {
    const head = await this.store.headPosition();
    if (this.waiter) return this.waiter.waitForPosition(PAYMENTS_PROJECTION_NAME, head, PAYMENTS_READ_YOUR_WRITES_TIMEOUT_MS);
    return waitForPosition(this.readModels, PAYMENTS_PROJECTION_NAME, head, PAYMENTS_READ_YOUR_WRITES_TIMEOUT_MS);
  }

  async lookup(mode: string, id: string): Promise<ObjectRef | undefined> {
    await this.fresh();
    const row = await this.query(async (tx) => (await tx.query<RefRow>(`SELECT id, object, stream_id, position FROM ${tx.table(PAYMENTS_OBJECTS_TABLE)} WHERE mode = $1 AND id = $2`, [mode, id]))[0]);
    return row === undefined ? undefined : toRef(row);
  }

  /** One page, newest first; `ending_before` pages towards newer objects (still answered newest first). */
  async list(mode: string, query: ListQuery): Promise<ListPage> {
    await this.fresh();
    return this.query(async (tx) => {
      const table = tx.table(PAYMENTS_OBJECTS_TABLE);
      const conditions = ['mode = $1', 'object = $2', 'deleted = 0'];
      const params: unknown[] = [mode, query.object];
      const where = (condition: string, value: unknown): void => {
        params.push(value);
        conditions.push(`${condition} $${params.length}`);
      };
      const cursorId = query.startingAfter ?? query.endingBefore;
      if (cursorId !== undefined) where(query.startingAfter !== undefined ? 'position <' : 'position >', await cursorPosition(tx, table, mode, query.object, cursorId, query.startingAfter !== undefined ? 'starting_after' : 'ending_before'));
      for (const [column, value] of [['customer', query.customer], ['payment_intent', query.paymentIntent], ['charge', query.charge], ['source', query.source], ['kind', query.kind]] as const) {
        if (value !== undefined) where(`${column} =`, value);
      }
      const created = query.created ?? {};
      if (created.gt !== undefined) where('created_s >', created.gt);
      if (created.gte !== undefined) where('created_s >=', created.gte);
      if (created.lt !== undefined) where('created_s <', created.lt);
      if (created.lte !== undefined) where('created_s <=', created.lte);
      params.push(query.limit + 1);
      const order = query.endingBefore !== undefined ? 'ASC' : 'DESC';
      const rows = await tx.query<RefRow>(`SELECT id, object, stream_id, position FROM ${table} WHERE ${conditions.join(' AND ')} ORDER BY position ${order} LIMIT $${params.length}`, params);
      const page = rows.slice(0, query.limit);
      if (order === 'ASC') page.reverse();
      return { refs: page.map(toRef), hasMore: rows.length > query.limit };
    });
  }

  /** Balance transactions whose `available_on` has come and that are not settled yet, oldest first. */
  async dueSettlements(mode: string, nowMs: number, limit: number): Promise<DueSettlement[]> {
    await this.fresh();
    const rows = await this.query((tx) => tx.query<{ id: string; currency: string; net_minor: bigint }>(
      `SELECT id, currency, net_minor FROM ${tx.table(PAYMENTS_OBJECTS_TABLE)} WHERE mode = $1 AND settled = 0 AND available_on_ms <= $2 ORDER BY available_on_ms LIMIT $3`,
      [mode, nowMs, limit]));
    return rows.map((row) => ({ balanceTransactionId: row.id, currency: row.currency as PaymentCurrency, netMinor: BigInt(row.net_minor) }));
  }

  private query<T>(fn: (tx: ProjectionTx) => Promise<T>): Promise<T> {
    return queryProjection(this.readModels, PAYMENTS_PROJECTION_NAME, fn);
  }
}

async function cursorPosition(tx: ProjectionTx, table: string, mode: string, object: string, id: string, param: string): Promise<bigint> {
  const [row] = await tx.query<{ position: bigint }>(`SELECT position FROM ${table} WHERE mode = $1 AND id = $2 AND object = $3`, [mode, id, object]);
  if (row === undefined) throw new DaybookError('resource_missing', `No such ${object}: '${id}'`, { id }, param);
  return BigInt(row.position);
}

function toRef(row: RefRow): ObjectRef {
  return { id: row.id, object: row.object as PaymentObjectType, streamId: row.stream_id };
}
