import type { EventStore, RecordedEvent } from '../eventstore/index.ts';
import { type Clock, DaybookError, READ_BATCH_MAX } from '../kernel/index.ts';
import { erasureEventOf } from './erasure.ts';
import { linkedPaymentSubjects, readSubjectIndex } from './paymentLinks.ts';
import { PII_FIELDS } from './piiFields.ts';
import type { ShreddingEventStore } from './shreddingEventStore.ts';
import { parseSubject, screeningRefOfSubject, type Subject } from './subjects.ts';
import { type RelatedKind, SUBJECT_LINK_SOURCES, type SubjectIndex, subjectLinks } from './subjectIndex.projection.ts';

/** One event holding the subject's data (its stream's, its screening cases'), opened: where it is in the log, what and when. */
export interface ExportedEvent {
  position: string;
  streamId: string;
  version: string;
  type: string;
  recordedAt: string;
  data: unknown;
  metadata: Record<string, unknown>;
}

/** A subject access request's answer: everything held about one subject. */
export interface SubjectExport {
  object: 'subject_export';
  subject: string;
  generatedAt: string;
  /** `active` (a key), `erased` (a tombstone), `unencrypted` (events written before encryption, no key). */
  status: 'active' | 'erased' | 'unencrypted';
  keyCreatedAt: string | null;
  erasedAt: string | null;
  /** The personal data as it reads now (the last event that carried it); placeholders once erased. */
  personalData: unknown;
  events: ExportedEvent[];
  /** Ids of the objects that name the subject (its accounts, their transactions; payment methods, payment intents). */
  related: Record<string, string[]>;
  /** The `DataSubjectErased` event, when erased. */
  erasure: ExportedEvent | null;
}

/**
 * Everything held about a subject (GDPR art. 15): its stream's events, its
 * sanctions screening cases' and, for a Stripe customer, those of the payment
 * methods and intents linked to it (in log order), opened (personal data
 * decrypted), with positions, types and times; its
 * personal data as it reads now; the ids of related objects; its key's
 * status. Related objects are found through the subject index
 * (`subject_index`), and the log after its checkpoint.
 * `subject_not_found` when nothing is held.
 *
 * @example
 * const report = await exportSubject(store, 'bankcustomer:test.0190…', systemClock, projectedSubjectIndex(readModels));
 */
export async function exportSubject(store: ShreddingEventStore, subjectId: unknown, clock: Clock, index?: SubjectIndex): Promise<SubjectExport> {
  const subject = parseSubject(subjectId);
  const screening = await screeningStreamsOf(store, subject);
  const events = [await readWholeStream(store, subject.streamId)];
  for (const streamId of screening) events.push(await readWholeStream(store, streamId));
  // A Stripe customer's payment methods and intents hold its data under their own subjects (see paymentLinks.ts).
  for (const linked of await linkedPaymentSubjects(store.inner, subject, index)) events.push(await readWholeStream(store, linked.streamId));
  return exportOf(store, subject, events.flat().sort((a, b) => (a.position < b.position ? -1 : 1)), screening, clock, index);
}

async function exportOf(store: ShreddingEventStore, subject: Subject, events: RecordedEvent[], screening: string[], clock: Clock, index: SubjectIndex | undefined): Promise<SubjectExport> {
  const row = await store.keyring.keyStore.read(subject.id);
  if (row === null && events.length === 0) throw new DaybookError('subject_not_found', `nothing is held about ${subject.id}`, { subject: subject.id }, 'subject');
  const withPii = events.filter((event) => PII_FIELDS[event.type] !== undefined && typeof event.data === 'object' && event.data !== null && 'pii' in event.data);
  const last = withPii.at(-1);
  const erasure = await erasureEventOf(store, subject.id);
  return {
    object: 'subject_export',
    subject: subject.id,
    generatedAt: new Date(clock.nowMs()).toISOString(),
    status: row === null ? 'unencrypted' : row.wrappedKey === null ? 'erased' : 'active',
    keyCreatedAt: row === null ? null : new Date(row.createdAtMs).toISOString(),
    erasedAt: row?.erasedAtMs == null ? null : new Date(row.erasedAtMs).toISOString(),
    personalData: last === undefined ? null : (last.data as { pii: unknown }).pii,
    events: events.map(exported),
    related: { ...await relatedIds(store, subject, index), ...(screening.length === 0 ? {} : { screeningCases: screening.map((id) => id.slice(SCREENING_PREFIX.length)) }) },
    erasure: erasure === null ? null : exported(erasure),
  };
}

const SCREENING_PREFIX = 'screening-';
const STREAMS_PAGE = 100;

/** The streams of the subject's sanctions screening cases (`screening-<subjectRef>@…`). */
async function screeningStreamsOf(store: EventStore, subject: Subject): Promise<string[]> {
  const ref = screeningRefOfSubject(subject);
  if (ref === null) return [];
  const prefix = `${SCREENING_PREFIX}${ref}@`;
  const found: string[] = [];
  for (let after = prefix; ;) {
    const ids = await store.listStreams({ category: SCREENING_PREFIX.slice(0, -1), after, limit: STREAMS_PAGE });
    const mine = ids.filter((id) => id.startsWith(prefix));
    found.push(...mine);
    if (ids.length < STREAMS_PAGE || mine.length < ids.length) return found;
    after = ids[ids.length - 1]!;
  }
}

async function readWholeStream(store: EventStore, streamId: string): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for (;;) {
    const page = await store.readStream(streamId, { fromVersion: BigInt(events.length + 1), limit: READ_BATCH_MAX });
    events.push(...page);
    if (page.length < READ_BATCH_MAX) return events;
  }
}

function exported(event: RecordedEvent): ExportedEvent {
  return {
    position: event.position.toString(), streamId: event.streamId, version: event.version.toString(), type: event.type,
    recordedAt: event.recordedAt.toISOString(), data: event.data, metadata: event.metadata,
  };
}

const RELATED_KINDS: Partial<Record<Subject['kind'], readonly RelatedKind[]>> = {
  bankcustomer: ['bankAccounts', 'bankTransactions'],
  pcustomer: ['paymentMethods', 'paymentIntents'],
};

/** The categories whose events link objects to a subject of this kind, accounts before their transactions. */
const LINK_CATEGORIES: Partial<Record<Subject['kind'], ReadonlyArray<keyof typeof SUBJECT_LINK_SOURCES>>> = {
  bankcustomer: ['bankaccount', 'banktxn'],
  pcustomer: ['pmethod', 'pintent'],
};

/**
 * The ids of the objects that name the subject, in log order: from the
 * subject index up to its checkpoint, then from the log after it (the
 * index's lag, small while its projection runs). Without an index (or
 * before its projection has a read model) the log is read from its start.
 */
async function relatedIds(store: EventStore, subject: Subject, index: SubjectIndex | undefined): Promise<Record<string, string[]>> {
  const kinds = RELATED_KINDS[subject.kind];
  const categories = LINK_CATEGORIES[subject.kind];
  if (kinds === undefined || categories === undefined) return {};
  const found = new Map<RelatedKind, Set<string>>(kinds.map((kind) => [kind, new Set<string>()]));
  const accounts = new Map<string, string>();
  const add = (link: { kind: RelatedKind; id: string }) => {
    found.get(link.kind)?.add(link.id);
    if (link.kind === 'bankAccounts') accounts.set(link.id, subject.streamId);
  };
  const indexed = await readSubjectIndex(index, subject.streamId);
  for (const link of indexed.links) add(link);
  for (const category of categories) {
    for await (const event of store.streamAll({ category, types: SUBJECT_LINK_SOURCES[category], after: indexed.position })) {
      for (const link of subjectLinks(event, accounts)) if (link.subject === subject.streamId) add(link);
    }
  }
  return Object.fromEntries([...found].map(([kind, ids]) => [kind, [...ids]]));
}

