/**
 * Reading payment objects for one request: by id (the stream for ids that
 * name it, the read model for charges, refunds and balance transactions,
 * which live in their PaymentIntent's stream), lists, `expand`, and the
 * recorded answers that keep customers' personal data out of idempotency
 * records.
 */
import { cannotExpand, EXPAND_DEPTH_MAX, isExpandable } from './stripeExpand.ts';
import type { FastifyRequest } from 'fastify';
import { hasPermission } from '../../auth/index.ts';
import { DaybookError } from '../../kernel/index.ts';
import { type BalanceTransactionState, categoryOfPaymentsStream, type ExistingAccount, type ExistingPayout, PAYMENTS_CATEGORIES, payoutBalanceTransactions } from '../../payments/index.ts';
import type { ExistingPaymentIntent, ListQuery, ObjectRef, PaymentMode, PaymentObjectType, PaymentsContext, PaymentsReadModel, PaymentsService } from '../../payments/index.ts';
import type { RecordedAnswer } from '../idempotency.hooks.ts';
import { authOf } from '../security.ts';
import { accountToWire, disputeToWire, payoutToWire } from './moneyOutWire.ts';
import { balanceTransactionToWire, chargeToWire, customerToWire, paymentIntentToWire, paymentMethodToWire, refundToWire, type Wire } from './stripeWire.ts';

export interface PaymentsApi {
  payments: PaymentsService;
  readModel: PaymentsReadModel;
  /** Sanctions screening of customers and the hold on their payments (the native API's ComplianceApi); none when absent. */
  compliance?: StripeCompliance;
}

/** What the Stripe routes need of compliance (structurally the native API's ComplianceApi). */
export interface StripeCompliance {
  screen(subjectRef: string, name: string | null, actor: string): Promise<unknown>;
  assertNotHeld(subjectRef: string, what: string): Promise<void>;
}

/** A Stripe customer as a screening subject: `test.stripe_customer.cus_…`, the mode first as for banking customers. */
export function stripeCustomerSubject(mode: 'test' | 'live', customerId: string): string {
  return `${mode}.stripe_customer.${customerId}`;
}

/** Where a list answers from (Stripe's `url` of a list object). */
export type ListAnswer = { object: 'list'; data: Wire[]; has_more: boolean; url: string };


const OBJECT_NAMES: Readonly<Record<PaymentObjectType, string>> = {
  customer: 'customer', payment_method: 'PaymentMethod', payment_intent: 'payment_intent', charge: 'charge', refund: 'refund', balance_transaction: 'balance_transaction',
  dispute: 'dispute', payout: 'payout', account: 'account',
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
  async holderOf(object: 'charge' | 'refund' | 'balance_transaction' | 'dispute', id: string, param = 'id'): Promise<ExistingPaymentIntent> {
    const ref = await this.api.readModel.lookup(this.mode, id);
    if (ref === undefined || ref.object !== object) throw missing(object, id, param);
    const state = await this.api.payments.paymentIntentOfStream(ref.streamId);
    if (state.status === 'none') throw missing(object, id, param);
    return state;
  }

  /** A charge, with its payment method's billing details (read from the method's stream, as they read now). */
  async chargeOf(intent: ExistingPaymentIntent, id: string): Promise<Wire> {
    const charge = intent.charges.find((item) => item.chargeId === id);
    if (charge === undefined) throw missing('charge', id);
    const method = await this.api.payments.paymentMethod(this.mode, charge.paymentMethodId);
    return chargeToWire(intent, charge, this.livemode, method.status === 'none' ? undefined : method.billingDetails);
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
    const ref = await this.api.readModel.lookup(this.mode, id);
    if (ref === undefined || ref.object !== 'balance_transaction') throw missing('balance_transaction', id, param);
    return this.transactionOfRef(ref, param);
  }

  /** A balance transaction lives in its PaymentIntent's stream (charges, refunds, disputes) or its payout's. */
  private async transactionOfRef(ref: ObjectRef, param = 'id'): Promise<Wire> {
    let transactions: readonly BalanceTransactionState[] = [];
    if (categoryOfPaymentsStream(ref.streamId) === PAYMENTS_CATEGORIES.payout) {
      const payout = await this.api.payments.payoutOfStream(ref.streamId);
      if (payout.status !== 'none') transactions = payoutBalanceTransactions(payout);
    } else {
      const intent = await this.api.payments.paymentIntentOfStream(ref.streamId);
      if (intent.status !== 'none') transactions = intent.balanceTransactions;
    }
    const transaction = transactions.find((item) => item.balanceTransactionId === ref.id);
    if (transaction === undefined) throw missing('balance_transaction', ref.id, param);
    return balanceTransactionToWire(transaction, this.api.payments.clock.nowMs());
  }

  disputeOf(intent: ExistingPaymentIntent, id: string): Wire {
    const dispute = intent.disputes.find((item) => item.disputeId === id);
    if (dispute === undefined) throw missing('dispute', id);
    return disputeToWire(intent, dispute, this.livemode, this.api.payments.clock.nowMs());
  }

  async dispute(id: string, param = 'id'): Promise<Wire> {
    return this.disputeOf(await this.holderOf('dispute', id, param), id);
  }

  async payoutState(id: string, param = 'id'): Promise<ExistingPayout> {
    const state = await this.api.payments.payout(this.mode, id);
    if (state.status === 'none') throw missing('payout', id, param);
    return state;
  }

  async payout(id: string, param = 'id'): Promise<Wire> {
    return payoutToWire(await this.payoutState(id, param), this.livemode);
  }

  async accountState(id: string, param = 'id'): Promise<ExistingAccount> {
    const state = await this.api.payments.account(this.mode, id);
    if (state.status === 'none') throw missing('account', id, param);
    return state;
  }

  async account(id: string, param = 'id'): Promise<Wire> {
    return accountToWire(await this.accountState(id, param), this.livemode);
  }

  private async requireCustomersRead(): Promise<void> {
    const { role } = authOf(this.request);
    if (!hasPermission(role, 'customers:read')) {
      throw new DaybookError('permission_denied', `Expanding an account needs the permission customers:read (it holds personal data), which the role ${role} lacks.`, {}, 'expand');
    }
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
      case 'du': case 'dp': return this.dispute(id);
      case 'po': return this.payout(id);
      case 'acct': return this.requireCustomersRead().then(() => this.account(id));
      default: throw new DaybookError('validation_failed', `This property cannot be expanded (${id}).`, {}, 'expand');
    }
  }

  async ofRef(ref: ObjectRef): Promise<Wire> {
    switch (ref.object) {
      case 'customer': return this.customer(ref.id);
      case 'payment_method': return this.paymentMethod(ref.id);
      case 'payment_intent': return this.paymentIntent(ref.id);
      case 'payout': return this.payout(ref.id);
      case 'account': return this.account(ref.id);
      case 'balance_transaction': return this.transactionOfRef(ref);
      default: {
        const intent = await this.api.payments.paymentIntentOfStream(ref.streamId);
        if (intent.status === 'none') throw missing(ref.object, ref.id);
        if (ref.object === 'charge') return this.chargeOf(intent, ref.id);
        if (ref.object === 'dispute') return this.disputeOf(intent, ref.id);
        return this.refundOf(intent, ref.id);
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
    // Only the fields Stripe expands on this object's type (checked before the route ran, see stripeExpand.ts), never any string that looks like an id.
    if (field === undefined || !Object.hasOwn(object, field) || !isExpandable(object['object'], field)) throw cannotExpand(path);
    let value = object[field];
    if (value === null) return;
    if (typeof value === 'string') {
      value = await this.byId(value);
      object[field] = value;
    }
    if (typeof value !== 'object' || value === null) throw cannotExpand(path);
    if (rest.length > 0) await this.expandPath(value as Wire, rest, path, depth + 1);
  }
}

const CUSTOMER_PLACEHOLDER = '__daybook_customer__';
const ACCOUNT_PLACEHOLDER = '__daybook_account__';
const DISPUTE_PLACEHOLDER = '__daybook_dispute__';

/**
 * The recorded answer of every POST on the Stripe listener: a customer,
 * connected account or dispute object in an answer (its route's, or an
 * expanded one) is kept as a placeholder naming its id, never with its
 * personal data (a dispute's evidence names the cardholder: name, email,
 * addresses, IP); a replay puts the object as it is now in its place.
 * Everything else is replayed as first answered.
 */
export function stripeRecordedAnswer(api: PaymentsApi): RecordedAnswer {
  return {
    stored: (body) => {
      if (!body.includes('"object":"customer"') && !body.includes('"object":"account"') && !body.includes('"object":"dispute"')) return body;
      return JSON.stringify(JSON.parse(body), (_key, value: unknown) => {
        const item = value as { object?: unknown; id?: unknown; deleted?: unknown } | null;
        if (item === null || typeof item !== 'object') return value;
        if (item.object === 'customer' && item.deleted !== true) return { [CUSTOMER_PLACEHOLDER]: item.id };
        if (item.object === 'account') return { [ACCOUNT_PLACEHOLDER]: item.id };
        if (item.object === 'dispute') return { [DISPUTE_PLACEHOLDER]: item.id };
        return value;
      });
    },
    replayed: async (request, stored) => {
      if (!stored.includes(CUSTOMER_PLACEHOLDER) && !stored.includes(ACCOUNT_PLACEHOLDER) && !stored.includes(DISPUTE_PLACEHOLDER)) return stored;
      const objects = new StripeObjects(api, request);
      const restore = async (value: unknown): Promise<unknown> => {
        if (Array.isArray(value)) return Promise.all(value.map(restore));
        if (value === null || typeof value !== 'object') return value;
        const record = value as Record<string, unknown>;
        if (typeof record[CUSTOMER_PLACEHOLDER] === 'string') return objects.customer(record[CUSTOMER_PLACEHOLDER] as string);
        if (typeof record[ACCOUNT_PLACEHOLDER] === 'string') return objects.account(record[ACCOUNT_PLACEHOLDER] as string);
        if (typeof record[DISPUTE_PLACEHOLDER] === 'string') return objects.dispute(record[DISPUTE_PLACEHOLDER] as string);
        const out: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(record)) out[key] = await restore(item);
        return out;
      };
      return JSON.stringify(await restore(JSON.parse(stored)));
    },
  };
}
