import { appendErasureJournal } from './erasureJournal.ts';
import { v5 as uuidv5 } from 'uuid';
import type { EventMetadata, EventStore, RecordedEvent } from '../eventstore/index.ts';
import { type Clock, DaybookError } from '../kernel/index.ts';
import { linkedPaymentSubjects } from './paymentLinks.ts';
import type { SubjectIndex } from './subjectIndex.projection.ts';
import type { ShreddingEventStore } from './shreddingEventStore.ts';
import type { SubjectKeyStore, Tombstone } from './subjectKeyStore.ts';
import { parseSubject, type Subject } from './subjects.ts';

/** The stream of erasures (category `privacy`): one `DataSubjectErased` per erased subject, no personal data. */
export const PRIVACY_ERASURES_STREAM = 'privacy-erasures';
export const DATA_SUBJECT_ERASED = 'DataSubjectErased';

export type DataSubjectErasedData = { subject: string; erasedAt: string; actor: string | null };

export interface ErasureInput {
  subject: unknown;
  /** Who asked (an API key id, `cli:<user>`); recorded in the event. */
  actor?: string | null;
  /** Correlation and causation ids for the event's metadata. */
  metadata?: EventMetadata;
  /** The subject index, to find a customer's payment objects without reading their categories whole. */
  index?: SubjectIndex;
}

export interface ErasureResult {
  subject: string;
  erasedAt: string;
  /** Global position of the `DataSubjectErased` event. */
  position: bigint;
  /** The subjects erased with it: a Stripe customer's payment methods and intents (see paymentLinks.ts), each with its own erasure event. */
  linked: string[];
}

const ERASURE_EVENT_NAMESPACE = '0b9c8f4e-8f3f-4a8e-9d55-2f0e6a7b51c1';

/** The erasure event's id, named after the subject: recording an erasure twice writes it once. */
export function erasureEventId(subject: string): string {
  return uuidv5(`${PRIVACY_ERASURES_STREAM}\n${subject}`, ERASURE_EVENT_NAMESPACE);
}

/**
 * Erases a subject by destroying its data key: every event that holds its
 * personal data keeps its ciphertext (so hashes, seals and ledgers stay as
 * they are) and reads as `"[erased]"` from then on. Then appends
 * `DataSubjectErased` to `privacy-erasures` and tells the services to drop
 * the subject's folded states.
 *
 * Refuses, in this order: validation_failed (not a subject id),
 * subject_not_found (no data key: unknown, or its data was written before
 * encryption), subject_already_erased (erasing twice is an error, not an
 * idempotent answer: the caller learns that nothing happened now; the
 * message says when it was erased). An erasure stopped between the key and
 * the event (a crash) is finished by the next attempt, which then answers.
 *
 * A Stripe customer takes with it the payment methods and intents the log
 * links to it (each its own subject, see paymentLinks.ts): theirs are
 * erased first (one that never held personal data, so has no key, gets a
 * tombstone: what is written to it later is stored as placeholders), then
 * the customer's, then the links are read again (one written meanwhile).
 * A link written after that last read, by a writer that checked the
 * customer before its key was destroyed, is caught by that writer, which
 * reads the customer's key row again once its write is in the log and then
 * erases what it linked (see ShreddingEventStore). A crash in between is
 * finished by the retry.
 *
 * @example
 * await eraseSubject(store, { subject: 'pcustomer:test:cus_123', actor: 'key_…' }, systemClock);
 */
export async function eraseSubject(store: ShreddingEventStore, input: ErasureInput, clock: Clock): Promise<ErasureResult> {
  const subject = parseSubject(input.subject);
  const metadata = input.metadata ?? {};
  const atMs = clock.nowMs();
  const actor = input.actor ?? null;
  // The journal first: a restore of an older backup destroys the key again from it, even if this erasure stops before the key store.
  const known = await store.keyring.keyStore.read(subject.id);
  const linked = known === null ? [] : await eraseLinked(store, subject, atMs, actor, metadata, input.index);
  if (known !== null && known.wrappedKey !== null && store.keyring.journalDir !== undefined) appendErasureJournal(store.keyring.journalDir, { subject: subject.id, erasedAtMs: atMs });
  const outcome = await store.keyring.keyStore.erase(subject.id, atMs);
  store.keyring.forget(subject.id);
  store.invalidate(subject.streamId);
  if (outcome === 'unknown') {
    throw new DaybookError('subject_not_found', `no personal data is held under a key for ${subject.id} (unknown subject, or written before encryption)`, { subject: subject.id }, 'subject');
  }
  if (outcome === 'already_erased') {
    const row = await store.keyring.keyStore.read(subject.id);
    const erasedAtMs = row?.erasedAtMs ?? atMs;
    const recorded = await recordErasure(store, subject, erasedAtMs, actor, metadata);
    linked.push(...await eraseLinked(store, subject, atMs, actor, metadata, input.index));
    if (!recorded.appended) {
      throw new DaybookError('subject_already_erased', `${subject.id} was erased at ${new Date(erasedAtMs).toISOString()}`, { subject: subject.id, erasedAt: new Date(erasedAtMs).toISOString() }, 'subject');
    }
    return { subject: subject.id, erasedAt: new Date(erasedAtMs).toISOString(), position: recorded.position, linked: unique(linked) };
  }
  const recorded = await recordErasure(store, subject, atMs, actor, metadata);
  linked.push(...await eraseLinked(store, subject, atMs, actor, metadata, input.index));
  return { subject: subject.id, erasedAt: new Date(atMs).toISOString(), position: recorded.position, linked: unique(linked) };
}

const unique = (ids: readonly string[]): string[] => [...new Set(ids)];

/**
 * Erases the subjects linked to `subject` (see eraseLinkedSubject); one
 * erased before gets its missing erasure event. Returns those erased now.
 */
async function eraseLinked(store: ShreddingEventStore, subject: Subject, atMs: number, actor: string | null, metadata: EventMetadata, index: SubjectIndex | undefined): Promise<string[]> {
  const erased: string[] = [];
  for (const linked of await linkedPaymentSubjects(store.inner, subject, index)) {
    if (await eraseLinkedSubject(store, linked, atMs, actor, metadata)) erased.push(linked.id);
  }
  return erased;
}

/**
 * Erases a payment method or intent with its customer: journal, then its key
 * destroyed, or a tombstone written when it has no key yet (it held no
 * personal data so far: from now on what is written to it is stored as
 * placeholders, never under a key made later); its cached key and folded
 * states dropped; its erasure event recorded (once). True when this call
 * destroyed its key or wrote its tombstone.
 */
export async function eraseLinkedSubject(store: ShreddingEventStore, linked: Subject, atMs: number, actor: string | null, metadata: EventMetadata = {}): Promise<boolean> {
  const keyStore = store.keyring.keyStore;
  const row = await keyStore.read(linked.id);
  let erasedNow = false;
  if (row === null || row.wrappedKey !== null) {
    if (store.keyring.journalDir !== undefined) appendErasureJournal(store.keyring.journalDir, { subject: linked.id, erasedAtMs: atMs });
    // A key inserted meanwhile by another process is overwritten by the tombstone; a tombstone written meanwhile is kept.
    if (row === null) await keyStore.putTombstone({ subject: linked.id, erasedAtMs: atMs });
    erasedNow = row === null || await keyStore.erase(linked.id, atMs) === 'erased';
  }
  store.keyring.forget(linked.id);
  store.invalidate(linked.streamId);
  const stored = row?.erasedAtMs ?? (await keyStore.read(linked.id))?.erasedAtMs ?? atMs;
  await recordErasure(store, linked, stored, actor, metadata);
  return erasedNow;
}

/** Appends the erasure event unless it is there (its id is the subject's); says whether this call wrote it. */
async function recordErasure(store: EventStore, subject: Subject, erasedAtMs: number, actor: string | null, metadata: EventMetadata = {}): Promise<{ appended: boolean; position: bigint }> {
  const eventId = erasureEventId(subject.id);
  const [existing] = await store.readEventsById([eventId]);
  if (existing !== undefined) return { appended: false, position: existing.position };
  const data: DataSubjectErasedData = { subject: subject.id, erasedAt: new Date(erasedAtMs).toISOString(), actor };
  const result = await store.append({
    streamId: PRIVACY_ERASURES_STREAM, expectedVersion: 'any',
    events: [{ id: eventId, type: DATA_SUBJECT_ERASED, data, metadata: actor === null ? metadata : { ...metadata, actor } }],
  });
  return { appended: !result.duplicate, position: result.position };
}

/** The tombstones of a key store: what `reapplyErasures` needs to carry erasures over a restore. */
export function readTombstones(keyStore: SubjectKeyStore): Promise<Tombstone[]> {
  return keyStore.tombstones();
}

/**
 * After restoring a backup taken before some erasures, destroys again the
 * keys of the subjects erased since: for each tombstone, the key store's row
 * becomes a tombstone (a key restored with the backup is overwritten; an
 * existing tombstone is kept). Read the tombstones (`readTombstones`) from
 * the key store in use before the restore replaces anything. Returns the
 * subjects whose keys were destroyed again.
 */
export async function reapplyErasures(keyStore: SubjectKeyStore, tombstones: readonly Tombstone[]): Promise<string[]> {
  const reapplied: string[] = [];
  for (const tombstone of tombstones) {
    const before = await keyStore.read(tombstone.subject);
    await keyStore.putTombstone(tombstone);
    if (before === null || before.wrappedKey !== null) reapplied.push(tombstone.subject);
  }
  return reapplied;
}

/**
 * Appends the `DataSubjectErased` events a restored log lacks (erasures made
 * after its backup), so the log again says every erasure; idempotent (the
 * events' ids are the subjects'). Returns how many were appended.
 */
export async function recordMissingErasures(store: EventStore, tombstones: readonly Tombstone[]): Promise<number> {
  let appended = 0;
  for (const tombstone of tombstones) {
    const recorded = await recordErasure(store, parseSubject(tombstone.subject), tombstone.erasedAtMs, null);
    if (recorded.appended) appended += 1;
  }
  return appended;
}

/** The erasure events of the log, for the subject export. */
export async function erasureEventOf(store: EventStore, subject: string): Promise<RecordedEvent | null> {
  const [event] = await store.readEventsById([erasureEventId(subject)]);
  return event ?? null;
}
