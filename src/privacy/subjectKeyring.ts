import { randomBytes } from 'node:crypto';
import type { KeyProvider } from '../audit/index.ts';
import { type Clock, DaybookError, SUBJECT_KEY_CACHE_MAX } from '../kernel/index.ts';
import { DATA_KEY_BYTES } from './piiEnvelope.ts';
import type { SubjectKeyStore } from './subjectKeyStore.ts';

/** A key looked up: the key, or null once erased. */
type Cached = { key: Buffer | null };

/**
 * The data keys of subjects, unwrapped on demand: the key store holds them
 * wrapped by the KeyProvider's master key; the last SUBJECT_KEY_CACHE_MAX
 * unwrapped keys (and erased subjects) are kept in memory, least recently
 * used dropped. A subject with no row yet is never cached (another process
 * may give it a key).
 *
 * @example
 * const keyring = new SubjectKeyring(keyStore, keyProvider, systemClock);
 * const key = await keyring.keyForWrite('bankcustomer:test.c1'); // made on first use
 */
export class SubjectKeyring {
  private readonly cache = new Map<string, Cached>();
  /** Forgets counted while loads are in flight, and the count at each subject's last forget: a load that began before a forget keeps nothing it read. */
  private forgets = 0;
  private readonly forgottenAt = new Map<string, number>();
  private loading = 0;

  constructor(
    readonly keyStore: SubjectKeyStore,
    private readonly keyProvider: KeyProvider,
    private readonly clock: Clock,
    private readonly cacheMax = SUBJECT_KEY_CACHE_MAX,
    /** The key folder whose erasure journal records each erasure (see erasureJournal.ts); none in tests that need none. */
    readonly journalDir?: string,
  ) {}

  /** The subject's key, made on first use; an erased subject takes no new personal data (`subject_already_erased`). */
  async keyForWrite(subject: string): Promise<Buffer> {
    const known = this.cached(subject) ?? await this.load(subject);
    if (known !== undefined && known.key !== null) return known.key;
    if (known !== undefined) throw erasedError(subject);
    const row = await this.keyStore.insertKey(subject, this.keyProvider.wrapKey(randomBytes(DATA_KEY_BYTES)), this.clock.nowMs());
    // Another process may have inserted first: its key (or tombstone) is the one stored.
    const stored = this.remember(subject, { key: row.wrappedKey === null ? null : this.keyProvider.unwrapKey(row.wrappedKey) });
    if (stored.key === null) throw erasedError(subject);
    return stored.key;
  }

  /** The subject's key, null when erased, undefined when it never had one. */
  async keyForRead(subject: string): Promise<Buffer | null | undefined> {
    const known = this.cached(subject) ?? await this.load(subject);
    return known?.key;
  }

  /** Drops what is kept of a subject (after its erasure, here or in another process). */
  forget(subject: string): void {
    this.cache.delete(subject);
    if (this.loading > 0) this.forgottenAt.set(subject, ++this.forgets);
  }

  /**
   * Reads the subject's row and keeps it. A row read before an erasure that
   * was forgotten meanwhile (the erasure destroyed the key after this read
   * began) is read again: a key must never be kept past its erasure.
   */
  private async load(subject: string): Promise<Cached | undefined> {
    this.loading += 1;
    try {
      for (;;) {
        const started = this.forgets;
        const row = await this.keyStore.read(subject);
        if ((this.forgottenAt.get(subject) ?? 0) > started) continue;
        if (row === null) return undefined;
        return this.remember(subject, { key: row.wrappedKey === null ? null : this.keyProvider.unwrapKey(row.wrappedKey) });
      }
    } finally {
      this.loading -= 1;
      if (this.loading === 0) this.forgottenAt.clear();
    }
  }

  private cached(subject: string): Cached | undefined {
    const hit = this.cache.get(subject);
    if (hit !== undefined) {
      this.cache.delete(subject);
      this.cache.set(subject, hit);
    }
    return hit;
  }

  private remember(subject: string, entry: Cached): Cached {
    this.cache.delete(subject);
    this.cache.set(subject, entry);
    while (this.cache.size > this.cacheMax) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }
}

function erasedError(subject: string): DaybookError {
  return new DaybookError('subject_already_erased', `the personal data of ${subject} was erased; it takes no new personal data`, { subject }, 'subject');
}
