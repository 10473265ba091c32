import type { EventStore, VerifyReport } from '../eventstore/index.ts';
import { READ_BATCH_MAX, READ_PAGE_SIZE } from '../kernel/index.ts';
import type { TrustedKeys } from './keyProvider.ts';
import { SEAL_STREAM } from './seal.ts';
import { checkSeals, type LogCursor, type SealEvent, type SealReport } from './sealCheck.ts';

/** The chains' report, as `store.verify()` gives it, with the seals' beside it; `ok` only when both are. */
export interface AuditReport extends VerifyReport {
  seals: SealReport & {
    /** Events after the last checked seal: not a failure, only not yet vouched for. */
    unsealedTail: bigint;
    /** Where the trusted public keys came from. */
    keysSource: string;
  };
}

/**
 * `daybook verify` on a store: every hash chain (`store.verify()`), then
 * every seal against the log, in one more pass over it in position order.
 * Read-only: it runs on a store opened read-only beside a live server.
 *
 * @example
 * const report = await verifyStoreAudit(store, loadLocalTrustedKeys(keysDir));
 * if (!report.ok) console.log(report.firstBreak ?? report.seals.firstBreak);
 */
export async function verifyStoreAudit(store: EventStore, keys: TrustedKeys): Promise<AuditReport> {
  const chains = await store.verify();
  const seals = await checkSeals(sealEvents(store, chains.headPosition), logCursor(store, chains.headPosition), keys, { fromGenesis: true });
  return {
    ...chains,
    ok: chains.ok && seals.firstBreak === null,
    seals: { ...seals, unsealedTail: chains.headPosition - seals.sealedThrough, keysSource: keys.source },
  };
}

/** The seal stream as stored (its category is its id): a seal whose data is not JSON is reported, not thrown. */
async function* sealEvents(store: EventStore, head: bigint): AsyncGenerator<SealEvent> {
  let after = 0n;
  for (;;) {
    const page = await store.readRawLog({ after, asOfPosition: head, category: SEAL_STREAM, limit: READ_PAGE_SIZE });
    for (const event of page) {
      if (event.streamId === SEAL_STREAM) yield { version: event.version, position: event.position, type: event.type, data: parseJson(event.dataJson) };
    }
    if (page.length < READ_PAGE_SIZE) return;
    after = page[page.length - 1]!.position;
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The stored hashes in position order, a page at a time. */
function logCursor(store: EventStore, head: bigint): LogCursor {
  let page: Array<{ position: bigint; hash: string }> = [];
  let index = 0;
  let after = 0n;
  let done = false;
  return {
    async next() {
      if (index >= page.length) {
        if (done) return null;
        const raw = await store.readRawLog({ after, asOfPosition: head, limit: READ_BATCH_MAX });
        page = raw.map((event) => ({ position: event.position, hash: event.hash }));
        index = 0;
        if (raw.length < READ_BATCH_MAX) done = true;
        if (page.length === 0) return null;
        after = page[page.length - 1]!.position;
      }
      return page[index++]!;
    },
  };
}
