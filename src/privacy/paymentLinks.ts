import type { EventStore } from '../eventstore/index.ts';
import { parseSubject, type Subject } from './subjects.ts';

/** The events that name a payment method's or intent's customer (`customerId`), by stream category. */
const LINKS: ReadonlyArray<{ category: 'pmethod' | 'pintent'; types: readonly string[]; idField: string }> = [
  { category: 'pmethod', types: ['PaymentMethodCreated', 'PaymentMethodAttached'], idField: 'paymentMethodId' },
  { category: 'pintent', types: ['PaymentIntentCreated', 'PaymentIntentUpdated'], idField: 'paymentIntentId' },
];

/**
 * The payment methods and intents the log ever linked to a Stripe customer
 * (made for it, attached to it, or updated to name it), as their own data
 * subjects (`pmethod:<mode>:<pm_…>`, `pintent:<mode>:<pi_…>`), in log order;
 * none for other subjects. Read from `store` as stored: pass the raw store
 * (the ids are plain, nothing needs opening). Scans the two categories'
 * linking events: erasures and subject exports are rare, admin-only
 * requests, and no index is kept for them.
 *
 * A payment method detached later stays linked: what it held while the
 * customer's is the customer's data too.
 *
 * @example
 * await linkedPaymentSubjects(store.inner, parseSubject('pcustomer:test:cus_1')); // [{ id: 'pmethod:test:pm_1', … }]
 */
export async function linkedPaymentSubjects(store: EventStore, customer: Subject): Promise<Subject[]> {
  if (customer.kind !== 'pcustomer' || customer.mode === null) return [];
  const customerId = customer.id.slice(customer.id.lastIndexOf(':') + 1);
  const streamPrefix = (category: string): string => `${category}-${customer.mode}.`;
  const found = new Map<string, Subject>();
  for (const link of LINKS) {
    for await (const event of store.streamAll({ category: link.category, types: link.types })) {
      const data = event.data as Record<string, unknown> | null;
      if (data === null || typeof data !== 'object' || data.customerId !== customerId || !event.streamId.startsWith(streamPrefix(link.category))) continue;
      const id = data[link.idField];
      if (typeof id === 'string') found.set(`${link.category}:${customer.mode}:${id}`, parseSubject(`${link.category}:${customer.mode}:${id}`));
    }
  }
  return [...found.values()];
}
