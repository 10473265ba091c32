/**
 * When each data subject was last active, across the streams that name it
 * rather than only its own: a banking customer's accounts (`bankaccount-*`,
 * tied to it by `AccountOpened.customerId`) and their transactions
 * (`banktxn-*`, tied by `TransactionInitiated`'s from and to accounts); a
 * Stripe customer's payment methods and payment intents (`pmethod-*`,
 * `pintent-*`, tied by the `customerId` their events carry; an intent's
 * stream also holds its charges, refunds and disputes). Retention judges
 * expiry on this, so a customer created long ago but transacting yesterday
 * is kept. Other subjects (connected accounts, payment methods, intents and
 * payouts) are named by no other stream: their own stream is their activity.
 *
 * Read lazily and incrementally (retention is a rare, explicit command; no
 * index is kept for it): a kind's categories are scanned the first time a
 * subject of that kind needs them, and `refresh` reads only the events
 * appended since, so a long run can look again just before it erases.
 * Reads the raw store: only ids and times are needed, nothing personal is
 * decrypted.
 */
import type { EventStore, RecordedEvent } from '../eventstore/index.ts';

export type Activity = { atMs: number; streamId: string };

type Source = 'banking' | 'payments';
const SOURCE_OF_KIND: Readonly<Record<string, Source>> = { bankcustomer: 'banking', pcustomer: 'payments' };
const SOURCE_CATEGORIES: Readonly<Record<Source, readonly string[]>> = { banking: ['bankaccount', 'banktxn'], payments: ['pmethod', 'pintent'] };

const dataOf = (event: RecordedEvent): Record<string, unknown> =>
  (typeof event.data === 'object' && event.data !== null ? event.data as Record<string, unknown> : {});
const localIdOf = (streamId: string): string => streamId.slice(streamId.indexOf('-') + 1);

/**
 * Subject id (`bankcustomer:…`, `pcustomer:<mode>:…`) → the newest event
 * (time in ms, stream) among the streams that name it.
 *
 * @example
 * const activity = new SubjectActivity(store.inner);
 * const latest = await activity.latestOf('pcustomer:test:cus_1'); // undefined: no other stream names it
 */
export class SubjectActivity {
  private readonly latest = new Map<string, Activity>();
  /** Per linking category, the last position read; absent until the category's first scan. */
  private readonly readUpTo = new Map<string, bigint>();
  /** Bank account id → its customer; an account is opened before anything else happens on it or through it. */
  private readonly owners = new Map<string, string>();
  /** Stream → the subjects its events have named (an intent may change customer; each was active with it). */
  private readonly named = new Map<string, Set<string>>();
  private headAtRefresh: bigint | null = null;

  constructor(private readonly store: EventStore) {}

  /** The subject's newest activity outside its own stream, as of the last scan or refresh. */
  async latestOf(subject: string): Promise<Activity | undefined> {
    const source = SOURCE_OF_KIND[subject.slice(0, subject.indexOf(':'))];
    if (source === undefined) return undefined;
    if (!SOURCE_CATEGORIES[source].every((category) => this.readUpTo.has(category))) {
      this.headAtRefresh ??= await this.store.headPosition();
      await this.catchUp(source);
    }
    return this.latest.get(subject);
  }

  /** Reads what was appended to the categories scanned so far since they were read (nothing when the log has not moved). */
  async refresh(): Promise<void> {
    const head = await this.store.headPosition();
    if (head === this.headAtRefresh) return;
    this.headAtRefresh = head;
    for (const source of ['banking', 'payments'] as const) {
      if (SOURCE_CATEGORIES[source].some((category) => this.readUpTo.has(category))) await this.catchUp(source);
    }
  }

  private async catchUp(source: Source): Promise<void> {
    // Accounts before transactions: a transaction's parties are looked up among the accounts read.
    for (const category of SOURCE_CATEGORIES[source]) {
      const after = this.readUpTo.get(category) ?? 0n;
      let last = after;
      for await (const event of this.store.streamAll({ category, after })) {
        last = event.position;
        if (category === 'bankaccount') this.account(event);
        else if (category === 'banktxn') this.transaction(event);
        else this.payment(event);
      }
      this.readUpTo.set(category, last);
    }
  }

  private touch(subject: string, event: RecordedEvent): void {
    const atMs = event.recordedAt.getTime();
    if ((this.latest.get(subject)?.atMs ?? -Infinity) < atMs) this.latest.set(subject, { atMs, streamId: event.streamId });
  }

  private account(event: RecordedEvent): void {
    const data = dataOf(event);
    if (event.type === 'AccountOpened' && typeof data.customerId === 'string') this.owners.set(localIdOf(event.streamId), data.customerId);
    const owner = this.owners.get(localIdOf(event.streamId));
    if (owner !== undefined) this.touch(`bankcustomer:${owner}`, event);
  }

  private transaction(event: RecordedEvent): void {
    const data = dataOf(event);
    if (event.type === 'TransactionInitiated') {
      const customers = [data.fromAccountId, data.toAccountId].flatMap((id) => (typeof id === 'string' && this.owners.has(id) ? [`bankcustomer:${this.owners.get(id)!}`] : []));
      this.named.set(event.streamId, new Set(customers));
    }
    for (const subject of this.named.get(event.streamId) ?? []) this.touch(subject, event);
  }

  private payment(event: RecordedEvent): void {
    const { customerId } = dataOf(event);
    const local = localIdOf(event.streamId);
    const mode = local.slice(0, Math.max(0, local.indexOf('.')));
    if (typeof customerId === 'string' && mode.length > 0) {
      const subjects = this.named.get(event.streamId) ?? new Set<string>();
      subjects.add(`pcustomer:${mode}:${customerId}`);
      this.named.set(event.streamId, subjects);
    }
    for (const subject of this.named.get(event.streamId) ?? []) this.touch(subject, event);
  }
}
