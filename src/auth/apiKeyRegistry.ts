import type { EventMetadata, EventStore, RecordedEvent, Subscription } from '../eventstore/index.ts';
import { type Clock, DaybookError, systemClock } from '../kernel/index.ts';
import {
  type ApiKeyMode, generateApiKeyId, generateApiKeySecret, ROLES, isApiKeyMode, isRole, parseApiKeySecret, type Role,
} from './apiKey.ts';
import type { ApiKeyHasher } from './apiKeyHasher.ts';

/**
 * API keys as events in the store itself, one stream per key
 * (`apikey-<keyId>`: `ApiKeyCreated`, then perhaps `ApiKeyRevoked`): they
 * share its durability, backups and audit trail, work the same on SQLite and
 * PostgreSQL, and need no second database. The registry folds them into
 * memory on open, follows the log so keys made by another process take
 * effect, and answers `authenticate` without touching the store.
 *
 * @example
 * const keys = await ApiKeyRegistry.open(store, { hasher });
 * const { secret, key } = await keys.create({ role: 'operator', mode: 'test', createdBy: 'cli' });
 * keys.authenticate(secret)?.role; // 'operator'
 */
export const API_KEY_CATEGORY = 'apikey';

export interface ApiKeyRecord {
  keyId: string;
  role: Role;
  mode: ApiKeyMode;
  name: string;
  /** `sk_test_****abcd`: enough to recognise a key, useless to use it. */
  hint: string;
  createdAtMs: number;
  createdBy: string;
  /**
   * The person (or system) the key belongs to: two keys of one owner are one
   * identity for segregation of duties (maker-checker). Keys made without one,
   * and keys made before owners existed, are their own owner (the key id).
   */
  owner: string;
  revokedAtMs: number | null;
}

type StoredKey = ApiKeyRecord & { secretHash: string };

export interface CreateApiKey {
  role: Role;
  mode: ApiKeyMode;
  name?: string;
  /** Whose key it is (see ApiKeyRecord.owner); the new key's own id when absent. */
  owner?: string;
  /** Who asked: a key id, `cli` or `bootstrap`. */
  createdBy: string;
  /** A known secret to register (DAYBOOK_API_KEY); a random one when absent. */
  secret?: string;
  metadata?: EventMetadata;
}

export interface ApiKeyRegistryOptions {
  hasher: ApiKeyHasher;
  clock?: Clock;
  /** Follow the log for keys written by other processes (the server does; the CLI does not). */
  follow?: boolean;
}

/** Digest characters indexed: a look-up narrows to the candidates, then compares whole digests in constant time. */
const INDEX_CHARS = 16;
const NAME_LENGTH_MAX = 100;

export class ApiKeyRegistry {
  private readonly keys = new Map<string, StoredKey>();
  private readonly byHashPrefix = new Map<string, StoredKey[]>();
  private subscription: Subscription | undefined;
  private following: Promise<void> | undefined;

  private constructor(
    private readonly store: EventStore,
    private readonly hasher: ApiKeyHasher,
    private readonly clock: Clock,
  ) {}

  static async open(store: EventStore, options: ApiKeyRegistryOptions): Promise<ApiKeyRegistry> {
    const registry = new ApiKeyRegistry(store, options.hasher, options.clock ?? systemClock);
    let after = 0n;
    for await (const event of store.streamAll({ category: API_KEY_CATEGORY })) {
      registry.apply(event);
      after = event.position;
    }
    if (options.follow === true) registry.follow(after);
    return registry;
  }

  /** The active key a secret names, or undefined (malformed, unknown or revoked). Never throws, never logs. */
  authenticate(secret: string): ApiKeyRecord | undefined {
    if (parseApiKeySecret(secret) === null) return undefined;
    const digest = this.hasher.hash(secret);
    let found: StoredKey | undefined;
    for (const candidate of this.byHashPrefix.get(digest.slice(0, INDEX_CHARS)) ?? []) {
      if (this.hasher.equal(candidate.secretHash, digest)) found = candidate;
    }
    return found === undefined || found.revokedAtMs !== null ? undefined : publicRecord(found);
  }

  /** True when a key with this secret was ever registered (revoked ones included). */
  knows(secret: string): boolean {
    const digest = this.hasher.hash(secret);
    return (this.byHashPrefix.get(digest.slice(0, INDEX_CHARS)) ?? []).some((candidate) => this.hasher.equal(candidate.secretHash, digest));
  }

  get size(): number {
    return this.keys.size;
  }

  /** Every key, oldest first, revoked ones included. */
  list(): ApiKeyRecord[] {
    return [...this.keys.values()].map(publicRecord);
  }

  get(keyId: string): ApiKeyRecord | undefined {
    const key = this.keys.get(keyId);
    return key === undefined ? undefined : publicRecord(key);
  }

  /** Registers a key and returns its secret: the only time anyone sees it. */
  async create(request: CreateApiKey): Promise<{ key: ApiKeyRecord; secret: string }> {
    if (!isRole(request.role)) throw new DaybookError('validation_failed', `role must be one of ${ROLES.join(', ')}`, {}, 'role');
    if (!isApiKeyMode(request.mode)) throw new DaybookError('validation_failed', 'mode must be test or live', {}, 'mode');
    const name = request.name ?? '';
    if (name.length > NAME_LENGTH_MAX) throw new DaybookError('limit_exceeded', `name is longer than ${NAME_LENGTH_MAX} characters`, { limit: NAME_LENGTH_MAX }, 'name');
    if (request.owner !== undefined && (request.owner.trim() === '' || request.owner.length > NAME_LENGTH_MAX)) {
      throw new DaybookError('validation_failed', `owner must be 1 to ${NAME_LENGTH_MAX} characters`, {}, 'owner');
    }
    const secret = request.secret ?? generateApiKeySecret(request.mode);
    const parsed = parseApiKeySecret(secret);
    if (parsed === null) throw new DaybookError('validation_failed', 'an API key is sk_test_ or sk_live_ and 16 to 128 letters and digits', {}, 'secret');
    if (parsed.mode !== request.mode) throw new DaybookError('validation_failed', `a ${request.mode} key must start with sk_${request.mode}_`, {}, 'mode');
    if (this.knows(secret)) throw new DaybookError('validation_failed', 'this secret is registered already', {}, 'secret');
    const keyId = generateApiKeyId();
    const data = {
      keyId, role: request.role, mode: request.mode, name, hint: `sk_${request.mode}_****${secret.slice(-4)}`,
      secretHash: this.hasher.hash(secret), createdAtMs: this.clock.nowMs(), createdBy: request.createdBy,
      ...(request.owner === undefined ? {} : { owner: request.owner }),
    };
    await this.store.append({
      streamId: `${API_KEY_CATEGORY}-${keyId}`,
      expectedVersion: 'no_stream',
      // The key's mode in the metadata too, whoever made it (an API request, the CLI, the bootstrap): the audit log shows each key to its own mode.
      events: [{ type: 'ApiKeyCreated', data, metadata: { ...request.metadata, actor: request.createdBy, mode: request.mode } }],
    });
    this.applyCreated(data);
    return { key: publicRecord(this.keys.get(keyId)!), secret };
  }

  async revoke(keyId: string, revokedBy: string, metadata: EventMetadata = {}): Promise<ApiKeyRecord> {
    const key = this.keys.get(keyId);
    if (key === undefined) throw new DaybookError('not_found', `no API key ${keyId}`, { keyId }, 'id');
    if (key.revokedAtMs !== null) return publicRecord(key);
    const data = { keyId, revokedAtMs: this.clock.nowMs(), revokedBy };
    await this.store.append({
      streamId: `${API_KEY_CATEGORY}-${keyId}`,
      expectedVersion: 1n,
      events: [{ type: 'ApiKeyRevoked', data, metadata: { ...metadata, actor: revokedBy, mode: key.mode } }],
    });
    key.revokedAtMs = data.revokedAtMs;
    return publicRecord(key);
  }

  async close(): Promise<void> {
    this.subscription?.close();
    await this.following;
  }

  private follow(after: bigint): void {
    const subscription = this.store.subscribe({ after, category: API_KEY_CATEGORY });
    this.subscription = subscription;
    this.following = (async () => {
      try {
        for await (const event of subscription) this.apply(event);
      } catch {
        // The store closed under us: the server is stopping.
      }
    })();
  }

  private apply(event: RecordedEvent): void {
    const data = event.data as Record<string, unknown>;
    if (event.type === 'ApiKeyCreated') this.applyCreated(data as unknown as Omit<StoredKey, 'revokedAtMs' | 'owner'> & { owner?: string });
    else if (event.type === 'ApiKeyRevoked') {
      const key = this.keys.get(String(data.keyId));
      if (key !== undefined && key.revokedAtMs === null) key.revokedAtMs = Number(data.revokedAtMs);
    }
  }

  private applyCreated(data: Omit<StoredKey, 'revokedAtMs' | 'owner'> & { owner?: string }): void {
    if (this.keys.has(data.keyId)) return;
    const key: StoredKey = { ...data, owner: data.owner ?? data.keyId, revokedAtMs: null };
    this.keys.set(key.keyId, key);
    const prefix = key.secretHash.slice(0, INDEX_CHARS);
    const bucket = this.byHashPrefix.get(prefix);
    if (bucket === undefined) this.byHashPrefix.set(prefix, [key]);
    else bucket.push(key);
  }
}

function publicRecord(key: StoredKey): ApiKeyRecord {
  return {
    keyId: key.keyId, role: key.role, mode: key.mode, name: key.name, hint: key.hint,
    createdAtMs: key.createdAtMs, createdBy: key.createdBy, owner: key.owner, revokedAtMs: key.revokedAtMs,
  };
}
