/**
 * Which properties `expand` may follow, per object type, as in Stripe's API
 * reference (the subset of objects this server has). A path is checked
 * against this table before a route does anything (a POST with a bad
 * `expand` writes nothing), and again while expanding, so only these fields
 * are ever followed: an id in `description` or `metadata` is never read as
 * an object to fetch.
 */
import { DaybookError } from '../../kernel/index.ts';

type ObjectType =
  | 'account' | 'balance' | 'balance_transaction' | 'charge' | 'customer' | 'dispute' | 'event' | 'payment_intent' | 'payment_method'
  | 'payout' | 'refund' | 'webhook_endpoint' | 'webhook_delivery';

/** A field's target: an object type, or `any` for a field naming objects of several types (a balance transaction's `source`), which must end the path. */
const EXPANDABLE: Readonly<Record<ObjectType, Readonly<Record<string, ObjectType | 'any'>>>> = {
  account: {},
  balance: {},
  balance_transaction: { source: 'any' },
  charge: { balance_transaction: 'balance_transaction', customer: 'customer', payment_intent: 'payment_intent' },
  customer: {},
  dispute: { charge: 'charge', payment_intent: 'payment_intent' },
  event: {},
  payment_intent: { customer: 'customer', latest_charge: 'charge', payment_method: 'payment_method' },
  payment_method: { customer: 'customer' },
  payout: { balance_transaction: 'balance_transaction', failure_balance_transaction: 'balance_transaction' },
  refund: { balance_transaction: 'balance_transaction', charge: 'charge', failure_balance_transaction: 'balance_transaction', payment_intent: 'payment_intent' },
  webhook_endpoint: {},
  webhook_delivery: {},
};

/** Stripe's own bound: four levels of a property. */
export const EXPAND_DEPTH_MAX = 4;

/** What a route answers: one object of a type, or a list of them (whose paths start with `data.`). */
export type ExpandRoot = { readonly type: ObjectType; readonly list: boolean };

const COLLECTIONS: Readonly<Record<string, ObjectType>> = {
  accounts: 'account', balance: 'balance', balance_transactions: 'balance_transaction', charges: 'charge', customers: 'customer', disputes: 'dispute',
  events: 'event', payment_intents: 'payment_intent', payment_methods: 'payment_method', payouts: 'payout', refunds: 'refund', webhook_endpoints: 'webhook_endpoint',
};

/**
 * The answer's shape from the route's path (`/v1/payment_intents/:id/capture`
 * answers a payment_intent; `GET /v1/charges` a list of charges;
 * `/v1/customers/:id/payment_methods` a list of payment methods).
 */
export function expandRootOf(method: string, url: string): ExpandRoot | undefined {
  const parts = url.split('/').filter((part) => part !== '' && part !== 'v1' && part !== 'test_helpers');
  const collection = parts[0] === undefined ? undefined : COLLECTIONS[parts[0]];
  if (collection === undefined) return undefined;
  const tail = parts.at(-1);
  if (tail === 'payment_methods' && parts.length > 1) return { type: 'payment_method', list: true };
  if (tail === 'deliveries') return { type: 'webhook_delivery', list: true };
  return { type: collection, list: method === 'GET' && parts.length === 1 && collection !== 'balance' };
}

/** Refuses, with `validation_failed` on `expand`, any path the answer's type cannot expand. */
export function checkExpandPaths(root: ExpandRoot, paths: readonly string[]): void {
  for (const path of paths) {
    const parts = path.split('.');
    if (root.list) {
      if (parts[0] !== 'data') throw cannotExpand(path);
      parts.shift();
    }
    if (parts.length > EXPAND_DEPTH_MAX) throw new DaybookError('validation_failed', `You cannot expand more than ${EXPAND_DEPTH_MAX} levels of a property (${path}).`, {}, 'expand');
    let type: ObjectType | 'any' = root.type;
    for (const field of parts) {
      if (type === 'any') throw cannotExpand(path);
      const target: ObjectType | 'any' | undefined = Object.hasOwn(EXPANDABLE[type], field) ? EXPANDABLE[type][field] : undefined;
      if (target === undefined) throw cannotExpand(path);
      type = target;
    }
  }
}

/** Whether an object (by its `object` field) may have `field` expanded. */
export function isExpandable(objectType: unknown, field: string): boolean {
  return typeof objectType === 'string' && Object.hasOwn(EXPANDABLE, objectType) && Object.hasOwn(EXPANDABLE[objectType as ObjectType], field);
}

export function cannotExpand(path: string): DaybookError {
  return new DaybookError('validation_failed', `This property cannot be expanded (${path}).`, {}, 'expand');
}
