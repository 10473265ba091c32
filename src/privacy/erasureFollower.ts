import { DATA_SUBJECT_ERASED, type DataSubjectErasedData } from './erasure.ts';
import { parseSubject } from './subjects.ts';
import type { ShreddingEventStore } from './shreddingEventStore.ts';

/**
 * Follows the erasures other processes make (several servers on one
 * PostgreSQL): on each `DataSubjectErased` from now on, drops the subject's
 * unwrapped key and folded states kept here. Returns the stop function.
 * (The erasing process drops its own at once; this closes the gap for the
 * others, within the subscription's delay.)
 */
export function followErasures(store: ShreddingEventStore): () => void {
  let subscription: ReturnType<ShreddingEventStore['subscribe']> | undefined;
  let stopped = false;
  void (async () => {
    const after = await store.headPosition();
    if (stopped) return;
    subscription = store.subscribe({ after, category: 'privacy', types: [DATA_SUBJECT_ERASED] });
    for await (const event of subscription) {
      const { subject } = event.data as DataSubjectErasedData;
      const parsed = parseSubject(subject);
      store.keyring.forget(parsed.id);
      store.invalidate(parsed.streamId);
    }
  })().catch(() => { /* the store closed under the subscription: nothing left to follow */ });
  return () => {
    stopped = true;
    subscription?.close();
  };
}
