/**
 * Reading payment objects for one request: by id (the stream for ids that
 * name it, the read model for charges, refunds and balance transactions,
 * which live in their PaymentIntent's stream), lists, `expand`, and the
 * recorded answers that keep customers' personal data out of idempotency
 * records.
 */
import type { FastifyRequest } from 'fastify';
import { hasPermission } from '../../auth/index.ts';
import { DaybookError } from '../../kernel/index.ts';
import type { ExistingPaymentIntent, ListQuery, ObjectRef, PaymentMode, PaymentObjectType, PaymentsContext, PaymentsReadModel, PaymentsService } from '../../payments/index.ts';
import type { RecordedAnswer } from '../idempotency.hooks.ts';
import { authOf } from '../security.ts';
import { balanceTransactionToWire, chargeToWire, customerToWire, paymentIntentToWire, paymentMethodToWire, refundToWire, type Wire } from './stripeWire.ts';

export interface PaymentsApi {
  payments: PaymentsService;
  readModel: PaymentsReadModel;
}

/** Where a list answers from (Stripe's `url` of a list object). */
export type ListAnswer = { object: 'list'; data: Wire[]; has_more: boolean; url: string };

const EXPAND_DEPTH_MAX = 4;

const OBJECT_NAMES: Readonly<Record<PaymentObjectType, string>> = {
  customer: 'customer', payment_method: 'PaymentMethod', payment_intent: 'payment_intent', charge: 'charge', refund: 'refund', balance_transaction: 'balance_transaction',
};

export function modeOf(request: FastifyRequest): PaymentMode {
  return authOf(request).mode;
}

/** The mode and event metadata of a write made for this request. */
export function contextOf(request: FastifyRequest): PaymentsContext {
  const auth = authOf(request);
  const idempotencyKey = request.idempotency?.key;
  // The Idempotency-Key travels with the events so that Stripe events can show it (`request.idempotency_key`).
  return { mode: auth.mode, metadata: { correlationId: request.correlationId, causationId: request.id, actor: auth.keyId, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) } };
}

export function missing(object: PaymentObjectType, id: string, param = 'id'): DaybookError {
  return new DaybookError('resource_missing', `No such ${OBJECT_NAMES[object]}: '${id}'`, { id }, param);
}

export class StripeObjects {
  readonly mode: PaymentMode;
  private readonly livemode: boolean;

  constructor(private readonly api: PaymentsApi, private readonly request: FastifyRequest) {
    this.mode = modeOf(request);
    this.livemode = this.mode === 'live';
  }

  async customer(id: string, param = 'id'): Promise<Wire> {
    const state = await this.api.payments.customer(this.mode, id);
    if (state.status === 'none') throw missing('customer', id, param);
    return customerToWire(state, this.livemode);
  }

  async paymentMethod(id: string, param = 'id'): Promise<Wire> {
    const state = await this.api.payments.paymentMethod(this.mode, id);
    if (state.status === 'none') throw missing('payment_method', id, param);
    return paymentMethodToWire(state, this.livemode);
  }

  paymentIntentWire(state: ExistingPaymentIntent): Wire {
    return paymentIntentToWire(state, this.livemode);
  }

  async paymentIntent(id: string, param = 'id'): Promise<Wire> {
    return this.paymentIntentWire(await this.intentState(id, param));
  }

  async intentState(id: string, param = 'id'): Promise<ExistingPaymentIntent> {
    const state = await this.api.payments.paymentIntent(this.mode, id);
    if (state.status === 'none') throw missing('payment_intent', id, param);
    return state;
  }

  /** The PaymentIntent holding a charge, refund or balance transaction, through the read model. */
  async holderOf(object: 'charge' | 'refund' | 'balance_transaction', id: string, param = 'id'): Promise<ExistingPaymentIntent> {
    const ref = await this.api.readModel.lookup(this.mode, id);
    if (ref === undefined || ref.object !== object) throw missing(object, id, param);
    const state = await this.api.payments.paymentIntentOfStream(ref.streamId);
    if (state.status === 'none') throw missing(object, id, param);
    return state;
  }

  chargeOf(intent: ExistingPaymentIntent, id: string): Wire {
    const charge = intent.charges.find((item) => item.chargeId === id);
    if (charge === undefined) throw missing('charge', id);
    return chargeToWire(intent, charge, this.livemode);
  }

  async charge(id: string, param = 'id'): Promise<Wire> {
    return this.chargeOf(await this.holderOf('charge', id, param), id);
  }

  refundOf(intent: ExistingPaymentIntent, id: string): Wire {
    const refund = intent.refunds.find((item) => item.refundId === id);
    if (refund === undefined) throw missing('refund', id);
    return refundToWire(intent, refund);
  }

  async refund(id: string, param = 'id'): Promise<Wire> {
    return this.refundOf(await this.holderOf('refund', id, param), id);
  }

  async balanceTransaction(id: string, param = 'id'): Promise<Wire> {
    const intent = await this.holderOf('balance_transaction', id, param);
    const transaction = intent.balanceTransactions.find((item) => item.balanceTransactionId === id);
    if (transaction === undefined) throw missing('balance_transaction', id, param);
    return balanceTransactionToWire(transaction, this.api.payments.clock.nowMs());
  }

  /** Any object by its id's prefix (what `expand` follows). */
  async byId(id: string): Promise<Wire> {
    const prefix = id.slice(0, id.indexOf('_'));
    switch (prefix) {
      case 'cus':
        if (!hasPermission(authOf(this.request).role, 'customers:read')) {
          throw new DaybookError('permission_denied', `Expanding a customer needs the permission customers:read, which the role ${authOf(this.request).role} lacks.`, {}, 'expand');
        }
        return this.customer(id);
      case 'pm': return this.paymentMethod(id);
      case 'pi': return this.paymentIntent(id);
      case 'ch': return this.charge(id);
      case 're': return this.refund(id);
      case 'txn': return this.balanceTransaction(id);
      default: throw new DaybookError('validation_failed', `This property cannot be expanded (${id}).`, {}, 'expand');
    }
  }

  async ofRef(ref: ObjectRef): Promise<Wire> {
    switch (ref.object) {
      case 'customer': return this.customer(ref.id);
      case 'payment_method': return this.paymentMethod(ref.id);
      case 'payment_intent': return this.paymentIntent(ref.id);
      default: {
        const intent = await this.api.payments.paymentIntentOfStream(ref.streamId);
        if (intent.status === 'none') throw missing(ref.object, ref.id);
        if (ref.object === 'charge') return this.chargeOf(intent, ref.id);
        if (ref.object === 'refund') return this.refundOf(intent, ref.id);
        const transaction = intent.balanceTransactions.find((item) => item.balanceTransactionId === ref.id)!;
        return balanceTransactionToWire(transaction, this.api.payments.clock.nowMs());
      }
    }
  }

  /** A list object, newest first, with `expand` (`data.customer`) applied to each item. */
  async list(query: ListQuery, url: string, expand: readonly string[] = []): Promise<ListAnswer> {
    const page = await this.api.readModel.list(this.mode, query);
    const data: Wire[] = [];
    for (const ref of page.refs) data.push(await this.ofRef(ref));
    const itemPaths = expand.filter((path) => path.startsWith('data.')).map((path) => path.slice('data.'.length));
    for (const item of data) await this.expand(item, itemPaths);
    return { object: 'list', data, has_more: page.hasMore, url };
  }

  /** Replaces the ids at `paths` (dotted: `latest_charge.balance_transaction`) by the objects they name, in place. */
  async expand(object: Wire, paths: readonly string[] | undefined): Promise<Wire> {
    for (const path of paths ?? []) await this.expandPath(object, path.split('.'), path, 0);
    return object;
  }

  private async expandPath(object: Wire, parts: readonly string[], path: string, depth: number): Promise<void> {
    if (depth >= EXPAND_DEPTH_MAX) throw new DaybookError('validation_failed', `You cannot expand more than ${EXPAND_DEPTH_MAX} levels of a property (${path}).`, {}, 'expand');
    const [field, ...rest] = parts;
    if (field === undefined || !Object.hasOwn(object, field)) throw new DaybookError('validation_failed', `This property cannot be expanded (${path}).`, {}, 'expand');
    let value = object[field];
    if (value === null) return;
    if (typeof value === 'string') {
      value = await this.byId(value);
      object[field] = value;
    }
    if (typeof value !== 'object' || value === null) throw new DaybookError('validation_failed', `This property cannot be expanded (${path}).`, {}, 'expand');
    if (rest.length > 0) await this.expandPath(value as Wire, rest, path, depth + 1);
  }
}

const CUSTOMER_PLACEHOLDER = '__daybook_customer__';

/**
 * The recorded answer of every POST on the Stripe listener: a customer
 * object in an answer (a customer route's, or an expanded `customer`) is
 * kept as a placeholder naming its id, never with its personal data; a
 * replay puts the customer as it is now in its place. Everything else is
 * replayed as first answered.
 */
export function stripeRecordedAnswer(api: PaymentsApi): RecordedAnswer {
  return {
    stored: (body) => {
      if (!body.includes('"object":"customer"')) return body;
      return JSON.stringify(JSON.parse(body), (_key, value: unknown) => {
        const item = value as { object?: unknown; id?: unknown; deleted?: unknown } | null;
        return item !== null && typeof item === 'object' && item.object === 'customer' && item.deleted !== true ? { [CUSTOMER_PLACEHOLDER]: item.id } : value;
      });
    },
    replayed: async (request, stored) => {
      if (!stored.includes(CUSTOMER_PLACEHOLDER)) return stored;
      const objects = new StripeObjects(api, request);
      const restore = async (value: unknown): Promise<unknown> => {
        if (Array.isArray(value)) return Promise.all(value.map(restore));
        if (value === null || typeof value !== 'object') return value;
        const record = value as Record<string, unknown>;
        if (typeof record[CUSTOMER_PLACEHOLDER] === 'string') return objects.customer(record[CUSTOMER_PLACEHOLDER] as string);
        const out: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(record)) out[key] = await restore(item);
        return out;
      };
      return JSON.stringify(await restore(JSON.parse(stored)));
    },
  };
}
