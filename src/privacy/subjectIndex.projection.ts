/**
 * `subject_index`: which objects name a data subject, so that a subject
 * access export finds them without reading whole categories of the log. A
 * banking customer's bank accounts (`AccountOpened`) and the transactions
 * of those accounts (`TransactionInitiated`, either side); a Stripe
 * customer's payment methods and payment intents (every event that named
 * it as their customer). Rebuildable like any projection; an export reads
 * it together with its checkpoint and reads the log only after that (the
 * index's lag), so what it answers is whole even while the index catches up.
 *
 * Tables (base names; the engine adds `_vN`):
 * - `subject_objects`: (subject's stream id, kind, object id), with the
 *   position of the first event that linked them (the export's order);
 * - `subject_bank_accounts`: each bank account's customer, to link its
 *   transactions.
 *
 * @example
 * const index = projectedSubjectIndex(readModels);
 * const { position, links } = await index.read('customer-test.ada');
 */
import type { RecordedEvent } from '../eventstore/index.ts';
import { defineProjection, projectionPosition, queryProjection, type ReadModelStore } from '../projections/index.ts';

export const SUBJECT_INDEX_PROJECTION_NAME = 'subject_index';
export const SUBJECT_INDEX_TABLES = { objects: 'subject_objects', accounts: 'subject_bank_accounts' } as const;

/** The kinds of related objects, as the export names them. */
export type RelatedKind = 'bankAccounts' | 'bankTransactions' | 'paymentMethods' | 'paymentIntents';
export type SubjectLink = { readonly subject: string; readonly kind: RelatedKind; readonly id: string };

/** Where the links come from: categories and the event types of each that name a subject. */
export const SUBJECT_LINK_SOURCES = {
  bankaccount: ['AccountOpened'],
  banktxn: ['TransactionInitiated'],
  pmethod: ['PaymentMethodCreated', 'PaymentMethodAttached'],
  pintent: ['PaymentIntentCreated', 'PaymentIntentUpdated'],
} as const;

const text = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);

/** The bank accounts a transaction's initiation names (either side). */
export function accountsOfTransaction(event: RecordedEvent): string[] {
  if (event.type !== 'TransactionInitiated' || !event.streamId.startsWith('banktxn-')) return [];
  const data = event.data as { fromAccountId?: unknown; toAccountId?: unknown };
  return [text(data.fromAccountId), text(data.toAccountId)].filter((id): id is string => id !== null);
}

/**
 * The subjects (by stream id) an event links to an object, given the
 * customers of the bank accounts known so far. Pure: the projection and an
 * export's read of the index's lag fold events alike.
 */
export function subjectLinks(event: RecordedEvent, customerOfAccount: ReadonlyMap<string, string>): SubjectLink[] {
  const data = (typeof event.data === 'object' && event.data !== null ? event.data : {}) as Record<string, unknown>;
  const dash = event.streamId.indexOf('-');
  const category = event.streamId.slice(0, dash);
  if (category === 'bankaccount' && event.type === 'AccountOpened') {
    const customerId = text(data.customerId);
    const accountId = text(data.accountId);
    return customerId === null || accountId === null ? [] : [{ subject: `customer-${customerId}`, kind: 'bankAccounts', id: accountId }];
  }
  if (category === 'banktxn' && event.type === 'TransactionInitiated') {
    const transactionId = text(data.transactionId);
    if (transactionId === null) return [];
    const subjects = new Set(accountsOfTransaction(event).map((accountId) => customerOfAccount.get(accountId)).filter((subject) => subject !== undefined));
    return [...subjects].map((subject) => ({ subject, kind: 'bankTransactions' as const, id: transactionId }));
  }
  if (category !== 'pmethod' && category !== 'pintent') return [];
  if (!(SUBJECT_LINK_SOURCES[category] as readonly string[]).includes(event.type)) return [];
  // `pmethod-<mode>.<id>`: the customer is of the same mode.
  const rest = event.streamId.slice(dash + 1);
  const mode = rest.slice(0, rest.indexOf('.'));
  const customerId = text(data.customerId);
  const id = text(category === 'pmethod' ? data.paymentMethodId : data.paymentIntentId);
  if (customerId === null || id === null || mode.length === 0) return [];
  return [{ subject: `pcustomer-${mode}.${customerId}`, kind: category === 'pmethod' ? 'paymentMethods' : 'paymentIntents', id }];
}

/**
 * One partition: a transaction's links depend on its accounts' streams. A
 * link is written once, at the first event that makes it.
 */
export const subjectIndexProjection = defineProjection({
  name: SUBJECT_INDEX_PROJECTION_NAME,
  version: 1,
  tables: Object.values(SUBJECT_INDEX_TABLES),
  handles: { categories: Object.keys(SUBJECT_LINK_SOURCES), types: [...new Set(Object.values(SUBJECT_LINK_SOURCES).flat())] },
  onPoison: 'park',
  async migrate(tx) {
    await tx.execute(`CREATE TABLE ${tx.table(SUBJECT_INDEX_TABLES.objects)} (
      subject text NOT NULL, kind text NOT NULL, id text NOT NULL, position bigint NOT NULL, PRIMARY KEY (subject, kind, id))`);
    await tx.execute(`CREATE TABLE ${tx.table(SUBJECT_INDEX_TABLES.accounts)} (account_id text PRIMARY KEY, subject text NOT NULL)`);
  },
  async handle(events, tx) {
    const objects = tx.table(SUBJECT_INDEX_TABLES.objects);
    const accounts = tx.table(SUBJECT_INDEX_TABLES.accounts);
    for (const event of events) {
      const customers = new Map<string, string>();
      for (const accountId of accountsOfTransaction(event)) {
        const [row] = await tx.query<{ subject: string }>(`SELECT subject FROM ${accounts} WHERE account_id = $1`, [accountId]);
        if (row !== undefined) customers.set(accountId, row.subject);
      }
      for (const link of subjectLinks(event, customers)) {
        await tx.execute(`INSERT INTO ${objects} (subject, kind, id, position) VALUES ($1, $2, $3, $4) ON CONFLICT (subject, kind, id) DO NOTHING`,
          [link.subject, link.kind, link.id, event.position]);
        if (link.kind === 'bankAccounts') {
          await tx.execute(`INSERT INTO ${accounts} (account_id, subject) VALUES ($1, $2) ON CONFLICT (account_id) DO NOTHING`, [link.id, link.subject]);
        }
      }
    }
  },
});

/** What an export asks of the index: a subject's links, and the position the index has read the log to. */
export interface SubjectIndex {
  read(subject: string): Promise<{ position: bigint; links: Array<{ kind: RelatedKind; id: string }> }>;
}

/** The index as the projection keeps it, read in one snapshot with its checkpoint. */
export function projectedSubjectIndex(readModels: ReadModelStore): SubjectIndex {
  return {
    read: (subject) => queryProjection(readModels, SUBJECT_INDEX_PROJECTION_NAME, async (q) => {
      const { position } = await projectionPosition(q, SUBJECT_INDEX_PROJECTION_NAME);
      const rows = await q.query<{ kind: RelatedKind; id: string }>(
        `SELECT kind, id FROM ${q.table(SUBJECT_INDEX_TABLES.objects)} WHERE subject = $1 ORDER BY position, id`, [subject]);
      return { position, links: rows.map((row) => ({ kind: row.kind, id: row.id })) };
    }),
  };
}
