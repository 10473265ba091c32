/**
 * When each data subject was last active, across the streams that name it
 * rather than only its own: a banking customer's accounts (`bankaccount-*`,
 * tied to it by `AccountOpened.customerId`) and their transactions
 * (`banktxn-*`, tied by `TransactionInitiated`'s from and to accounts); a
 * Stripe customer's payment methods and payment intents (`pmethod-*`,
 * `pintent-*`, tied by the `customerId` their events carry; an intent's
 * stream also holds its charges, refunds and disputes). Retention judges
 * expiry on this, so a customer created long ago but transacting yesterday
 * is kept.
 *
 * Built by one scan of those categories per run (retention is a rare,
 * explicit command; no index is kept for it). Reads the raw store: only
 * ids and times are needed, nothing personal is decrypted.
 */
import type { EventStore, RecordedEvent } from '../eventstore/index.ts';

/** Subject id (`bankcustomer:…`, `pcustomer:<mode>:…`) → the newest event time (ms) among the streams that name it. */
export type SubjectActivity = ReadonlyMap<string, { atMs: number; streamId: string }>;

export async function subjectActivity(store: EventStore): Promise<SubjectActivity> {
  const latest = new Map<string, { atMs: number; streamId: string }>();
  const touch = (subject: string, event: RecordedEvent): void => {
    const atMs = event.recordedAt.getTime();
    if ((latest.get(subject)?.atMs ?? -Infinity) < atMs) latest.set(subject, { atMs, streamId: event.streamId });
  };
  await bankingActivity(store, touch);
  await paymentsActivity(store, touch);
  return latest;
}

type Touch = (subject: string, event: RecordedEvent) => void;

const dataOf = (event: RecordedEvent): Record<string, unknown> =>
  (typeof event.data === 'object' && event.data !== null ? event.data as Record<string, unknown> : {});
const localIdOf = (streamId: string): string => streamId.slice(streamId.indexOf('-') + 1);

async function bankingActivity(store: EventStore, touch: Touch): Promise<void> {
  // Account id → its customer; an account is opened before anything else happens on it or through it.
  const owners = new Map<string, string>();
  for await (const event of store.streamAll({ category: 'bankaccount' })) {
    const data = dataOf(event);
    if (event.type === 'AccountOpened' && typeof data.customerId === 'string') owners.set(localIdOf(event.streamId), data.customerId);
    const owner = owners.get(localIdOf(event.streamId));
    if (owner !== undefined) touch(`bankcustomer:${owner}`, event);
  }
  // Transaction stream → the customers of the accounts it moves money between.
  const parties = new Map<string, string[]>();
  for await (const event of store.streamAll({ category: 'banktxn' })) {
    const data = dataOf(event);
    if (event.type === 'TransactionInitiated') {
      const customers = [data.fromAccountId, data.toAccountId].flatMap((id) => (typeof id === 'string' && owners.has(id) ? [owners.get(id)!] : []));
      parties.set(event.streamId, [...new Set(customers)]);
    }
    for (const customer of parties.get(event.streamId) ?? []) touch(`bankcustomer:${customer}`, event);
  }
}

async function paymentsActivity(store: EventStore, touch: Touch): Promise<void> {
  for (const category of ['pmethod', 'pintent']) {
    // Stream → every customer its events have named (an intent may change customer; each was active with it).
    const named = new Map<string, Set<string>>();
    for await (const event of store.streamAll({ category })) {
      const { customerId } = dataOf(event);
      const local = localIdOf(event.streamId);
      const mode = local.slice(0, Math.max(0, local.indexOf('.')));
      if (typeof customerId === 'string' && mode.length > 0) {
        const subjects = named.get(event.streamId) ?? new Set<string>();
        subjects.add(`pcustomer:${mode}:${customerId}`);
        named.set(event.streamId, subjects);
      }
      for (const subject of named.get(event.streamId) ?? []) touch(subject, event);
    }
  }
}
