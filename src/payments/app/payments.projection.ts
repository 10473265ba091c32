/**
 * The payments read model: one row per Stripe-compatible object (customer,
 * payment method, payment intent, charge, refund, balance transaction) with
 * what lists filter and page on, and the stream that holds the object. The
 * objects themselves are rendered from their streams (customers' personal
 * data never enters this table, so erasure need not reach it). Lists are
 * newest first by the global position of the event that created the
 * object: stable, and unique per object type.
 *
 * Table (base name; the engine adds `_vN`): `pay_objects`.
 */
import { categoryOf, type RecordedEvent } from '../../eventstore/index.ts';
import { defineProjection, type ProjectionTx } from '../../projections/index.ts';
import { STRIPE_CUSTOMER_EVENT_TYPES, type StripeCustomerEvent } from '../domain/customer.events.ts';
import { PAYMENT_INTENT_EVENT_TYPES, type PaymentIntentEvent } from '../domain/paymentIntent.events.ts';
import { PAYMENT_METHOD_EVENT_TYPES, type PaymentMethodEvent } from '../domain/paymentMethod.events.ts';
import { secondsOf } from '../domain/payments.rules.ts';
import { PAYOUT_EVENT_TYPES, type PayoutEvent } from '../domain/payout.events.ts';

export const PAYMENTS_PROJECTION_NAME = 'payments_objects';
export const PAYMENTS_OBJECTS_TABLE = 'pay_objects';

/** Stream categories of the payments module (`<category>-<mode>.<id>`). */
export const PAYMENTS_CATEGORIES = {
  customer: 'pcustomer', paymentMethod: 'pmethod', paymentIntent: 'pintent', settlement: 'psettlement', payout: 'ppayout', account: 'paccount',
} as const;

/** Appended to `psettlement-<mode>` once a sweep moved balance transactions to the available balance. */
export const BALANCE_SETTLED_EVENT = 'BalanceTransactionsSettled';
export type BalanceTransactionsSettled = { type: typeof BALANCE_SETTLED_EVENT; data: { balanceTransactionIds: string[]; atMs: number } };

export type PaymentObjectType = 'customer' | 'payment_method' | 'payment_intent' | 'charge' | 'refund' | 'balance_transaction' | 'dispute' | 'payout' | 'account';

type Row = {
  id: string; object: PaymentObjectType; createdAtMs: number; customer?: string | null; paymentIntent?: string | null; charge?: string | null;
  source?: string | null; kind?: string | null; currency?: string | null; net?: string | null; availableOnMs?: number | null; settled?: boolean;
};

export const paymentsProjection = defineProjection({
  name: PAYMENTS_PROJECTION_NAME,
  // 2: disputes (and their balance transactions), payouts, connected accounts.
  version: 2,
  tables: [PAYMENTS_OBJECTS_TABLE],
  handles: {
    categories: Object.values(PAYMENTS_CATEGORIES),
    types: [...STRIPE_CUSTOMER_EVENT_TYPES, ...PAYMENT_METHOD_EVENT_TYPES, ...PAYMENT_INTENT_EVENT_TYPES, BALANCE_SETTLED_EVENT, ...PAYOUT_EVENT_TYPES, 'AccountCreated'],
  },
  onPoison: 'park',
  async migrate(tx) {
    const t = tx.table(PAYMENTS_OBJECTS_TABLE);
    await tx.execute(`CREATE TABLE ${t} (
      mode text NOT NULL, id text NOT NULL, object text NOT NULL, stream_id text NOT NULL, position bigint NOT NULL, created_s bigint NOT NULL,
      customer text, payment_intent text, charge text, source text, kind text, deleted smallint NOT NULL DEFAULT 0,
      currency text, net_minor bigint, available_on_ms bigint, settled smallint NOT NULL DEFAULT 1,
      PRIMARY KEY (mode, id))`);
    await tx.execute(`CREATE UNIQUE INDEX ${t}_by_position ON ${t} (mode, object, position)`);
    await tx.execute(`CREATE INDEX ${t}_by_customer ON ${t} (mode, object, customer, position)`);
    await tx.execute(`CREATE INDEX ${t}_by_intent ON ${t} (mode, object, payment_intent, position)`);
    await tx.execute(`CREATE INDEX ${t}_by_charge ON ${t} (mode, object, charge, position)`);
    await tx.execute(`CREATE INDEX ${t}_unsettled ON ${t} (mode, settled, available_on_ms)`);
  },
  async handle(events, tx) {
    // New rows are inserted many per statement (one round trip per batch on PostgreSQL, not one per object); an update first flushes them, so order holds.
    const rows = new RowBuffer(tx);
    for (const event of events) await applyPaymentsEvent(event, tx, rows);
    await rows.flush();
  },
});

/** The category of a payments stream id (`ppayout-test.po_…` → `ppayout`). */
export function categoryOfPaymentsStream(streamId: string): string {
  return streamId.slice(0, streamId.indexOf('-'));
}

/** The mode of a payments stream id (`pintent-test.pi_…` → `test`). */
export function modeOfStream(streamId: string): string {
  const rest = streamId.slice(streamId.indexOf('-') + 1);
  return rest.slice(0, rest.indexOf('.'));
}

async function applyPaymentsEvent(event: RecordedEvent, tx: ProjectionTx, rows: RowBuffer): Promise<void> {
  const mode = modeOfStream(event.streamId);
  const insert = async (row: Row) => rows.add(mode, event, row);
  const update = async (id: string, column: 'customer' | 'deleted', value: unknown) => {
    await rows.flush();
    await tx.execute(`UPDATE ${tx.table(PAYMENTS_OBJECTS_TABLE)} SET ${column} = $1 WHERE mode = $2 AND id = $3`, [value, mode, id]);
  };
  switch (categoryOf(event.streamId)) {
    case PAYMENTS_CATEGORIES.customer: {
      const customer = { type: event.type, data: event.data } as StripeCustomerEvent;
      if (customer.type === 'StripeCustomerCreated') await insert({ id: customer.data.customerId, object: 'customer', createdAtMs: customer.data.atMs });
      if (customer.type === 'StripeCustomerDeleted') await update(customer.data.customerId, 'deleted', 1);
      return;
    }
    case PAYMENTS_CATEGORIES.paymentMethod: {
      const method = { type: event.type, data: event.data } as PaymentMethodEvent;
      if (method.type === 'PaymentMethodCreated') await insert({ id: method.data.paymentMethodId, object: 'payment_method', createdAtMs: method.data.atMs, customer: method.data.customerId, kind: 'card' });
      if (method.type === 'PaymentMethodAttached') await update(method.data.paymentMethodId, 'customer', method.data.customerId);
      if (method.type === 'PaymentMethodDetached') await update(method.data.paymentMethodId, 'customer', null);
      return;
    }
    case PAYMENTS_CATEGORIES.paymentIntent:
      return applyIntentEvent({ type: event.type, data: event.data } as PaymentIntentEvent, insert, update);
    case PAYMENTS_CATEGORIES.payout:
      return applyPayoutEvent({ type: event.type, data: event.data } as PayoutEvent, insert);
    case PAYMENTS_CATEGORIES.account:
      if (event.type === 'AccountCreated') await insert({ id: (event.data as { accountId: string }).accountId, object: 'account', createdAtMs: (event.data as { atMs: number }).atMs });
      return;
    case PAYMENTS_CATEGORIES.settlement: {
      const { balanceTransactionIds } = (event.data as BalanceTransactionsSettled['data']);
      await rows.flush();
      for (const id of balanceTransactionIds) await tx.execute(`UPDATE ${tx.table(PAYMENTS_OBJECTS_TABLE)} SET settled = 1 WHERE mode = $1 AND id = $2`, [mode, id]);
      return;
    }
    default:
      return;
  }
}

async function applyIntentEvent(
  event: PaymentIntentEvent, insert: (row: Row) => Promise<unknown>, update: (id: string, column: 'customer', value: unknown) => Promise<unknown>,
): Promise<void> {
  switch (event.type) {
    case 'PaymentIntentCreated':
      await insert({ id: event.data.paymentIntentId, object: 'payment_intent', createdAtMs: event.data.atMs, customer: event.data.customerId });
      return;
    case 'PaymentIntentUpdated':
      await update(event.data.paymentIntentId, 'customer', event.data.customerId);
      return;
    case 'ChargeRequested': {
      const d = event.data;
      await insert({ id: d.chargeId, object: 'charge', createdAtMs: d.atMs, customer: d.customerId, paymentIntent: d.paymentIntentId });
      return;
    }
    case 'PaymentCaptured': {
      const d = event.data;
      await insert({
        id: d.balanceTransactionId, object: 'balance_transaction', createdAtMs: d.atMs, paymentIntent: d.paymentIntentId, source: d.chargeId, kind: 'charge',
        currency: d.currency, net: d.net, availableOnMs: d.availableOnMs, settled: d.bypassPending,
      });
      return;
    }
    case 'RefundCreated': {
      const d = event.data;
      await insert({ id: d.refundId, object: 'refund', createdAtMs: d.atMs, paymentIntent: d.paymentIntentId, charge: d.chargeId });
      // A refund is debited from the available balance at once: nothing to settle.
      await insert({
        id: d.balanceTransactionId, object: 'balance_transaction', createdAtMs: d.atMs, paymentIntent: d.paymentIntentId, source: d.refundId, kind: 'refund',
        currency: d.currency, net: `-${d.amount}`, availableOnMs: d.atMs, settled: true,
      });
      return;
    }
    case 'DisputeCreated': {
      const d = event.data;
      await insert({ id: d.disputeId, object: 'dispute', createdAtMs: d.atMs, paymentIntent: d.paymentIntentId, charge: d.chargeId });
      // Dispute withdrawals and reversals move the available balance at once: nothing to settle.
      await insert({
        id: d.balanceTransactionId, object: 'balance_transaction', createdAtMs: d.atMs, paymentIntent: d.paymentIntentId, source: d.disputeId, kind: 'adjustment',
        currency: d.currency, net: (-(BigInt(d.amount) + BigInt(d.fee))).toString(), availableOnMs: d.atMs, settled: true,
      });
      return;
    }
    case 'DisputeResolved': {
      const d = event.data;
      if (d.balanceTransactionId === null) return;
      await insert({
        id: d.balanceTransactionId, object: 'balance_transaction', createdAtMs: d.atMs, paymentIntent: d.paymentIntentId, source: d.disputeId, kind: 'adjustment',
        currency: d.currency, net: (BigInt(d.amount) + BigInt(d.fee)).toString(), availableOnMs: d.atMs, settled: true,
      });
      return;
    }
    default:
      return;
  }
}

async function applyPayoutEvent(event: PayoutEvent, insert: (row: Row) => Promise<unknown>): Promise<void> {
  const d = event.data;
  const transaction = (id: string, kind: string, net: string) =>
    insert({ id, object: 'balance_transaction', createdAtMs: d.atMs, source: d.payoutId, kind, currency: d.currency, net, availableOnMs: d.atMs, settled: true });
  switch (event.type) {
    case 'PayoutCreated':
      await insert({ id: d.payoutId, object: 'payout', createdAtMs: d.atMs, currency: d.currency });
      await transaction(event.data.balanceTransactionId, 'payout', `-${d.amount}`);
      return;
    case 'PayoutFailed':
      await transaction(event.data.balanceTransactionId, 'payout_failure', d.amount);
      return;
    case 'PayoutCanceled':
      await transaction(event.data.balanceTransactionId, 'payout_cancel', d.amount);
      return;
    default:
      return;
  }
}

const ROW_COLUMNS = 15;
/** Rows per INSERT: 500 × 15 parameters stays far below either backend's bound on parameters per statement. */
const ROWS_PER_INSERT = 500;

/** New rows of one batch, inserted together (`ON CONFLICT DO NOTHING`: a replayed event inserts nothing twice). */
class RowBuffer {
  private params: unknown[] = [];

  constructor(private readonly tx: ProjectionTx) {}

  async add(mode: string, event: RecordedEvent, row: Row): Promise<void> {
    this.params.push(
      mode, row.id, row.object, event.streamId, event.position, secondsOf(row.createdAtMs), row.customer ?? null, row.paymentIntent ?? null, row.charge ?? null,
      row.source ?? null, row.kind ?? null, row.currency ?? null, row.net === undefined || row.net === null ? null : BigInt(row.net), row.availableOnMs ?? null,
      row.settled === false ? 0 : 1,
    );
    if (this.params.length >= ROWS_PER_INSERT * ROW_COLUMNS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.params.length === 0) return;
    const params = this.params;
    this.params = [];
    const values: string[] = [];
    for (let row = 0; row < params.length / ROW_COLUMNS; row += 1) {
      values.push(`(${Array.from({ length: ROW_COLUMNS }, (_, column) => `$${row * ROW_COLUMNS + column + 1}`).join(', ')})`);
    }
    await this.tx.execute(`INSERT INTO ${this.tx.table(PAYMENTS_OBJECTS_TABLE)}
      (mode, id, object, stream_id, position, created_s, customer, payment_intent, charge, source, kind, currency, net_minor, available_on_ms, settled)
      VALUES ${values.join(', ')} ON CONFLICT (mode, id) DO NOTHING`, params);
  }
}
