/**
 * Retention by crypto-shredding (`daybook retention apply`): the subjects of
 * a category (banking customers `customer-*`, Stripe customers
 * `pcustomer-*`, connected accounts `paccount-*`) whose latest activity was
 * recorded before the category's cutoff are erased with `eraseSubject`
 * (actor `retention`): their data keys are destroyed, their events stay as
 * written (hashes, seals, archives unchanged) and read `"[erased]"`. History
 * is never rewritten; each erasure appends a `DataSubjectErased` event, which
 * is the audit trail. A dry run reads only.
 *
 * Latest activity is the newest event of the subject's own stream or of any
 * stream that names it (subjectActivity.ts: a customer's accounts and their
 * transactions, a Stripe customer's payment methods and intents): a
 * customer created eight years ago who transacted yesterday is kept. A
 * subject found erased already (before the run, or by another erasure while
 * it ran) is reported `already_erased`, not an error.
 *
 * @example
 * const report = await applyRetention(store, [{ category: 'customer', cutoffMs: Date.parse('2018-06-01'), text: '7y' }], systemClock, { dryRun: true });
 */
import { type Clock, isDaybookError, READ_PAGE_SIZE } from '../kernel/index.ts';
import { eraseSubject, type ShreddingEventStore, subjectOfStream } from '../privacy/index.ts';
import { type SubjectActivity, subjectActivity } from './subjectActivity.ts';

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
  const activity = await subjectActivity(store.inner);
  for (const policy of policies) {
    let streamsChecked = 0;
    for await (const streamId of categoryStreams(store, policy.category)) {
      streamsChecked += 1;
      const action = await expired(store, streamId, policy, activity);
      if (action === null) continue;
      // An `already_erased` key is erased again too: an erasure stopped before its event (a crash) is finished, its audit event written.
      report.actions.push(options.dryRun || action.outcome === 'no_key' ? action : await erase(store, action, clock));
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

/** The stream's subject when its latest activity is past the cutoff (with what can be done), else null. */
async function expired(store: ShreddingEventStore, streamId: string, policy: RetentionPolicy, activity: SubjectActivity): Promise<RetentionAction | null> {
  const subject = subjectOfStream(streamId);
  if (subject === null) return null;
  // The raw store: the last event's time is all that is needed, nothing to decrypt.
  const [last] = await store.inner.readStream(streamId, { direction: 'backwards', limit: 1 });
  if (last === undefined) return null;
  const elsewhere = activity.get(subject);
  const latest = elsewhere !== undefined && elsewhere.atMs > last.recordedAt.getTime() ? elsewhere : { atMs: last.recordedAt.getTime(), streamId };
  if (latest.atMs >= policy.cutoffMs) return null;
  const key = await store.keyring.keyStore.read(subject);
  const outcome = key === null ? 'no_key' : key.wrappedKey === null ? 'already_erased' : 'would_erase';
  return { subject, streamId, category: policy.category, lastEventAt: new Date(latest.atMs).toISOString(), lastEventStreamId: latest.streamId, outcome };
}

/**
 * Erases one subject; one erased already (before the run, or meanwhile by an
 * operator) is reported `already_erased`, not failed. A key destroyed
 * without its `DataSubjectErased` event (an erasure that crashed between
 * the two) is finished here: the event is written and the subject reported
 * `erased` with its position.
 */
async function erase(store: ShreddingEventStore, action: RetentionAction, clock: Clock): Promise<RetentionAction> {
  try {
    const result = await eraseSubject(store, { subject: action.subject, actor: RETENTION_ACTOR, metadata: { actor: RETENTION_ACTOR } }, clock);
    return { ...action, outcome: 'erased', position: result.position.toString() };
  } catch (error) {
    if (isDaybookError(error, 'subject_already_erased')) return { ...action, outcome: 'already_erased' };
    throw error;
  }
}
