import type { EventStore } from '../eventstore/index.ts';
import { isDaybookError } from '../kernel/index.ts';
import { SUBJECT_LINK_SOURCES, type SubjectIndex } from './subjectIndex.projection.ts';
import { parseSubject, type Subject } from './subjects.ts';

/** The events that name a payment method's or intent's customer (`customerId`), by stream category. */
const LINKS: ReadonlyArray<{ category: 'pmethod' | 'pintent'; types: readonly string[]; idField: string }> = [
  { category: 'pmethod', types: SUBJECT_LINK_SOURCES.pmethod, idField: 'paymentMethodId' },
  { category: 'pintent', types: SUBJECT_LINK_SOURCES.pintent, idField: 'paymentIntentId' },
];

/**
 * The payment methods and intents the log ever linked to a Stripe customer
 * (made for it, attached to it, or updated to name it), as their own data
 * subjects (`pmethod:<mode>:<pm_…>`, `pintent:<mode>:<pi_…>`), in log order;
 * none for other subjects. Read from `store` as stored: pass the raw store
 * (the ids are plain, nothing needs opening). With the subject index
 * (`subject_index`, which records the same links), only the log after its
 * checkpoint is read; without it (the CLI, a server whose index is not
 * built yet) the two categories' linking events are read whole.
 *
 * A payment method detached later stays linked: what it held while the
 * customer's is the customer's data too.
 *
 * @example
 * await linkedPaymentSubjects(store.inner, parseSubject('pcustomer:test:cus_1')); // [{ id: 'pmethod:test:pm_1', … }]
 */
export async function linkedPaymentSubjects(store: EventStore, customer: Subject, index?: SubjectIndex): Promise<Subject[]> {
  if (customer.kind !== 'pcustomer' || customer.mode === null) return [];
  const customerId = customer.id.slice(customer.id.lastIndexOf(':') + 1);
  const streamPrefix = (category: string): string => `${category}-${customer.mode}.`;
  const found = new Map<string, Subject>();
  const add = (category: string, id: string): void => {
    const key = `${category}:${customer.mode}:${id}`;
    if (!found.has(key)) found.set(key, parseSubject(key));
  };
  const indexed = await readSubjectIndex(index, customer.streamId);
  for (const link of indexed.links) {
    if (link.kind === 'paymentMethods') add('pmethod', link.id);
    else if (link.kind === 'paymentIntents') add('pintent', link.id);
  }
  for (const link of LINKS) {
    for await (const event of store.streamAll({ category: link.category, types: link.types, after: indexed.position })) {
      const data = event.data as Record<string, unknown> | null;
      if (data === null || typeof data !== 'object' || data.customerId !== customerId || !event.streamId.startsWith(streamPrefix(link.category))) continue;
      const id = data[link.idField];
      if (typeof id === 'string') add(link.category, id);
    }
  }
  return [...found.values()];
}

/** The index's links of `subject` (a stream id) with its checkpoint; none at position 0 without an index or before it exists. */
export async function readSubjectIndex(index: SubjectIndex | undefined, subject: string): Promise<Awaited<ReturnType<SubjectIndex['read']>>> {
  if (index === undefined) return { position: 0n, links: [] };
  try {
    return await index.read(subject);
  } catch (error) {
    // A server started before the index existed builds it in the background: until then, the log answers.
    if (isDaybookError(error, 'projection_not_found')) return { position: 0n, links: [] };
    throw error;
  }
}
