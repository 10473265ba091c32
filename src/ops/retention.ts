/**
 * Retention by crypto-shredding (`daybook retention apply`): the subjects of
 * a category (banking customers `customer-*`, Stripe customers
 * `pcustomer-*`, connected accounts `paccount-*`, and the payment objects
 * that are subjects of their own, a guest's included: payment methods
 * `pmethod-*`, intents `pintent-*`, payouts `ppayout-*`) whose latest activity was
 * recorded before the category's cutoff are erased with `eraseSubject`
 * (actor `retention`): their data keys are destroyed, their events stay as
 * written (hashes, seals, archives unchanged) and read `"[erased]"`. History
 * is never rewritten; each erasure appends a `DataSubjectErased` event, which
 * is the audit trail. A dry run reads only.
 *
 * Latest activity is the newest event of the subject's own stream or of any
 * stream that names it (subjectActivity.ts: a customer's accounts and their
 * transactions, a Stripe customer's payment methods and intents): a
 * customer created eight years ago who transacted yesterday is kept. That
 * activity is read once, then again (only what was appended since) just
 * before each erasure: a subject active again while a long run went on is
 * kept, and left out of the report.
 *
 * A subject found erased already (key destroyed, `DataSubjectErased`
 * written: before the run, or by another erasure while it ran) is reported
 * `already_erased` without any work, so a run costs nothing for the
 * erasures of earlier runs. One whose key was destroyed without its event
 * (an erasure stopped by a crash) is finished by apply.
 *
 * @example
 * const report = await applyRetention(store, [{ category: 'customer', cutoffMs: Date.parse('2018-06-01'), text: '7y' }], systemClock, { dryRun: true });
 */
import { type Clock, isDaybookError, READ_PAGE_SIZE } from '../kernel/index.ts';
import { eraseSubject, erasureEventId, type ShreddingEventStore, subjectOfStream } from '../privacy/index.ts';
import { type Activity, SubjectActivity } from './subjectActivity.ts';

export interface RetentionPolicy {
  category: string;
  /** Subjects whose latest activity was recorded before this instant are past retention. */
  cutoffMs: number;
  /** The rule as configured (`7y`), for the report. */
  text: string;
}

export interface RetentionAction {
  subject: string;
  streamId: string;
  category: string;
  /** The subject's latest activity: the newest event of its stream or of a stream naming it (`lastEventStreamId`). */
  lastEventAt: string;
  lastEventStreamId: string;
  /** `erased` (now), `would_erase` (dry run), `already_erased`, `no_key` (nothing of it is encrypted: nothing to shred). */
  outcome: 'erased' | 'would_erase' | 'already_erased' | 'no_key';
  /** Position of the `DataSubjectErased` event written. */
  position?: string;
}

export interface RetentionReport {
  dryRun: boolean;
  policies: Array<{ category: string; retention: string; cutoff: string; streamsChecked: number }>;
  actions: RetentionAction[];
}

export const RETENTION_ACTOR = 'retention';

export async function applyRetention(
  store: ShreddingEventStore, policies: readonly RetentionPolicy[], clock: Clock, options: { dryRun: boolean },
): Promise<RetentionReport> {
  const report: RetentionReport = { dryRun: options.dryRun, policies: [], actions: [] };
  const activity = new SubjectActivity(store.inner);
  for (const policy of policies) {
    let streamsChecked = 0;
    for await (const streamId of categoryStreams(store, policy.category)) {
      streamsChecked += 1;
      const found = await expired(store, streamId, policy, activity);
      if (found === null) continue;
      if (options.dryRun || found.done) {
        report.actions.push(found.action);
        continue;
      }
      const action = await erase(store, found, policy, activity, clock);
      if (action !== null) report.actions.push(action);
    }
    report.policies.push({ category: policy.category, retention: policy.text, cutoff: new Date(policy.cutoffMs).toISOString(), streamsChecked });
  }
  return report;
}

async function* categoryStreams(store: ShreddingEventStore, category: string): AsyncGenerator<string> {
  let after: string | undefined;
  for (;;) {
    const page = await store.listStreams({ category, after, limit: READ_PAGE_SIZE });
    yield* page;
    if (page.length < READ_PAGE_SIZE) return;
    after = page[page.length - 1];
  }
}

/** A subject past retention: what to report, and whether nothing is left to do (`no_key`, or erased with its event). */
type Expired = { action: RetentionAction; done: boolean };

/** The subject's own stream's last activity; null when the stream is gone. The raw store: the time is all that is needed, nothing to decrypt. */
async function ownActivity(store: ShreddingEventStore, streamId: string): Promise<Activity | null> {
  const [last] = await store.inner.readStream(streamId, { direction: 'backwards', limit: 1 });
  return last === undefined ? null : { atMs: last.recordedAt.getTime(), streamId };
}

/** The newest of the subject's own stream (`own`, read afresh when not given) and the streams naming it; null when its own stream is gone. */
async function latestActivity(store: ShreddingEventStore, streamId: string, subject: string, activity: SubjectActivity, own?: Activity): Promise<Activity | null> {
  own ??= await ownActivity(store, streamId) ?? undefined;
  if (own === undefined) return null;
  const elsewhere = await activity.latestOf(subject);
  return elsewhere !== undefined && elsewhere.atMs > own.atMs ? elsewhere : own;
}

/** The stream's subject when its latest activity is past the cutoff (with what can be done), else null. */
async function expired(store: ShreddingEventStore, streamId: string, policy: RetentionPolicy, activity: SubjectActivity): Promise<Expired | null> {
  const subject = subjectOfStream(streamId);
  if (subject === null) return null;
  const own = await ownActivity(store, streamId);
  // Activity elsewhere only ever makes a subject younger: a recent stream of its own settles it without reading other categories.
  if (own === null || own.atMs >= policy.cutoffMs) return null;
  const action = (latest: Activity, outcome: RetentionAction['outcome']): RetentionAction => (
    { subject, streamId, category: policy.category, lastEventAt: new Date(latest.atMs).toISOString(), lastEventStreamId: latest.streamId, outcome }
  );
  const key = await store.keyring.keyStore.read(subject);
  if (key !== null && key.wrappedKey === null && (await store.inner.readEventsById([erasureEventId(subject)])).length > 0) {
    return { action: action(own, 'already_erased'), done: true };
  }
  const latest = await latestActivity(store, streamId, subject, activity, own);
  if (latest === null || latest.atMs >= policy.cutoffMs) return null;
  if (key === null) return { action: action(latest, 'no_key'), done: true };
  return { action: action(latest, key.wrappedKey === null ? 'already_erased' : 'would_erase'), done: false };
}

/**
 * Erases one subject, unless it turns out active again (the run's view of
 * activity is refreshed first: null, it is kept). One erased meanwhile by an
 * operator is reported `already_erased`, not failed. A key destroyed without
 * its `DataSubjectErased` event (an erasure that crashed between the two) is
 * finished here: the event is written and the subject reported `erased` with
 * its position.
 */
async function erase(store: ShreddingEventStore, found: Expired, policy: RetentionPolicy, activity: SubjectActivity, clock: Clock): Promise<RetentionAction | null> {
  let { action } = found;
  if (action.outcome === 'would_erase') {
    await activity.refresh();
    const latest = await latestActivity(store, action.streamId, action.subject, activity);
    if (latest === null || latest.atMs >= policy.cutoffMs) return null;
    action = { ...action, lastEventAt: new Date(latest.atMs).toISOString(), lastEventStreamId: latest.streamId };
  }
  try {
    const result = await eraseSubject(store, { subject: action.subject, actor: RETENTION_ACTOR, metadata: { actor: RETENTION_ACTOR } }, clock);
    return { ...action, outcome: 'erased', position: result.position.toString() };
  } catch (error) {
    if (isDaybookError(error, 'subject_already_erased')) return { ...action, outcome: 'already_erased' };
    throw error;
  }
}
