import { openLocalKeyProvider } from '../audit/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import { type Clock, systemClock } from '../kernel/index.ts';
import { type ShreddingEventStore, withPiiEncryption } from './shreddingEventStore.ts';
import { SubjectKeyring } from './subjectKeyring.ts';
import { openSubjectKeyStore } from './subjectKeyStore.ts';

/**
 * Wraps an opened event store for crypto-shredding: opens the key store that
 * belongs to `storeUrl` (the file beside a SQLite store, the table of a
 * PostgreSQL one) and the master key of the key folder. Closing the
 * returned store closes the key store too.
 *
 * @example
 * const store = await openShreddingStore(await openEventStore(url), { storeUrl: url, keysDir: config.audit.keysDir });
 */
export async function openShreddingStore(store: EventStore, options: { storeUrl: string; keysDir: string; clock?: Clock }): Promise<ShreddingEventStore> {
  const keyProvider = openLocalKeyProvider({ dir: options.keysDir });
  const keyStore = await openSubjectKeyStore(options.storeUrl);
  const shredding = withPiiEncryption(store, new SubjectKeyring(keyStore, keyProvider, options.clock ?? systemClock, undefined, options.keysDir));
  const close = shredding.close.bind(shredding);
  shredding.close = async () => {
    try {
      await close();
    } finally {
      await keyStore.close();
    }
  };
  return shredding;
}
