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

/** Where an object stood in a recorded answer: its type and id (no field of it). */
const OBJECT_PLACEHOLDER = '__daybook_object__';
/** The placeholders of records written before every personal object had one (customers, accounts, disputes only). */
const LEGACY_PLACEHOLDERS: ReadonlyArray<[string, string]> = [['__daybook_customer__', 'customer'], ['__daybook_account__', 'account'], ['__daybook_dispute__', 'dispute']];

function objectNamed(objects: StripeObjects, object: unknown, id: unknown): Promise<Wire> {
  if (typeof id !== 'string') throw new Error(`a recorded answer names a ${String(object)} without an id`);
  switch (object) {
    case 'customer': return objects.customer(id);
    case 'account': return objects.account(id);
    case 'dispute': return objects.dispute(id);
    case 'payment_method': return objects.paymentMethod(id);
    case 'payment_intent': return objects.paymentIntent(id);
    case 'charge': return objects.charge(id);
    case 'refund': return objects.refund(id);
    case 'payout': return objects.payout(id);
    default: throw new Error(`a recorded answer names an object of type ${String(object)}, which is never kept as a placeholder`);
  }
}
/** Objects kept whole as a placeholder: customers and connected accounts (their people), disputes (evidence names the cardholder). */
const PERSONAL_OBJECTS: ReadonlySet<unknown> = new Set(['customer', 'account', 'dispute']);
/** Where an object of PERSONAL_FIELDS stood: its type and id; its personal fields hold FIELD_PLACEHOLDER, the rest is as answered. */
const FIELDS_PLACEHOLDER = '__daybook_fields_of__';
const FIELD_PLACEHOLDER = '__daybook_personal_field__';
/** Objects whose other fields (amounts, statuses, expanded objects) are kept as answered; these are read again on a replay. */
const PERSONAL_FIELDS: Readonly<Record<string, readonly string[]>> = {
  payment_method: ['billing_details', 'metadata'],
  payment_intent: ['description', 'metadata', 'receipt_email', 'shipping'],
  charge: ['billing_details', 'description', 'metadata', 'receipt_email', 'shipping'],
  refund: ['metadata'],
  payout: ['description', 'metadata'],
};
const RECORDED_OBJECTS = [...PERSONAL_OBJECTS, ...Object.keys(PERSONAL_FIELDS)].map((object) => `"object":"${String(object)}"`);

function withoutPersonalFields(item: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const kept: Record<string, unknown> = { ...item, [FIELDS_PLACEHOLDER]: [item.object, item.id] };
  for (const field of fields) if (field in kept) kept[field] = FIELD_PLACEHOLDER;
  return kept;
}

/**
 * The recorded answer of every POST on the Stripe listener keeps no
 * personal data, which erasure could not reach there: a customer, connected
 * account or dispute in an answer (its route's, or an expanded one) is kept
 * as a placeholder naming it; a payment method, intent, charge, refund or
 * payout keeps its other fields, its personal ones (PERSONAL_FIELDS) as
 * placeholders. A replay reads them as they are now (`"[erased]"` once
 * erased). Everything else is replayed as first answered.
 */
export function stripeRecordedAnswer(api: PaymentsApi): RecordedAnswer {
  return {
    stored: (body) => {
      if (!RECORDED_OBJECTS.some((marker) => body.includes(marker))) return body;
      return JSON.stringify(JSON.parse(body), (_key, value: unknown) => {
        const item = value as { object?: unknown; id?: unknown; deleted?: unknown } | null;
        if (item === null || typeof item !== 'object' || typeof item.id !== 'string' || typeof item.object !== 'string') return value;
        const fields = PERSONAL_FIELDS[item.object];
        if (fields !== undefined) return withoutPersonalFields(item as Record<string, unknown>, fields);
        if (!PERSONAL_OBJECTS.has(item.object) || (item.object === 'customer' && item.deleted === true)) return value;
        return { [OBJECT_PLACEHOLDER]: [item.object, item.id] };
      });
    },
    replayed: async (request, stored) => {
      if (!stored.includes(OBJECT_PLACEHOLDER) && !stored.includes(FIELDS_PLACEHOLDER) && !LEGACY_PLACEHOLDERS.some(([legacy]) => stored.includes(legacy))) return stored;
      const objects = new StripeObjects(api, request);
      const restore = async (value: unknown): Promise<unknown> => {
        if (Array.isArray(value)) return Promise.all(value.map(restore));
        if (value === null || typeof value !== 'object') return value;
        const record = value as Record<string, unknown>;
        const placeholder = record[OBJECT_PLACEHOLDER];
        if (Array.isArray(placeholder)) return objectNamed(objects, placeholder[0], placeholder[1]);
        for (const [legacy, object] of LEGACY_PLACEHOLDERS) if (typeof record[legacy] === 'string') return objectNamed(objects, object, record[legacy]);
        const of = record[FIELDS_PLACEHOLDER];
        const now = Array.isArray(of) ? await objectNamed(objects, of[0], of[1]) : undefined;
        const out: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(record)) {
          if (key === FIELDS_PLACEHOLDER) continue;
          out[key] = item === FIELD_PLACEHOLDER && now !== undefined ? now[key] : await restore(item);
        }
        return out;
      };
      return JSON.stringify(await restore(JSON.parse(stored)));
    },
  };
}
