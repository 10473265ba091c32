import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { DaybookError } from '../kernel/index.ts';

/**
 * Where Daybook's audit secrets live: the Ed25519 key that signs seals, and a
 * master key that wraps (encrypts) data keys, for crypto-shredding. Small on
 * purpose, so that a KMS or an HSM can stand in for the local files
 * (`openLocalKeyProvider`): nothing outside asks for key material, only for
 * a signature or a (un)wrapped key.
 *
 * @example
 * const keys = openLocalKeyProvider({ dir: '/srv/daybook/data/keys' });
 * const signature = keys.sign(Buffer.from(canonicalSealText(fields)));
 * const wrapped = keys.wrapKey(randomBytes(32)); // store it; unwrapKey(wrapped) gives the key back
 */
export interface KeyProvider {
  /** Id of the current signing key (`ed25519-` and 16 hex digits of its fingerprint). */
  readonly keyId: string;
  /** Ed25519 signature (64 bytes) of `bytes` by the current signing key. */
  sign(bytes: Uint8Array): Buffer;
  /** The current signing key's public half, SPKI PEM. */
  publicKey(): string;
  /** What a verifier may trust: every public key this provider knows (older, rotated ones too) and the revoked ids. */
  trustedKeys(): TrustedKeys;
  /** Encrypts a data key under the master key (AES-256-GCM; the output carries its nonce and tag). */
  wrapKey(plain: Buffer): Buffer;
  /** Decrypts what `wrapKey` made; a wrapped key that was altered, or made under another master key, is refused (`integrity_violation`). */
  unwrapKey(wrapped: Buffer): Buffer;
}

/** A revoked key: seals it made at or after `sinceMs` (all of them when absent) are not trusted. */
export interface RevokedKey {
  sinceMs: number | null;
  reason: string;
}

/** The public keys a verifier trusts, by key id, and the ids no longer to be trusted. */
export interface TrustedKeys {
  publicKeys: ReadonlyMap<string, KeyObject>;
  revoked: ReadonlyMap<string, RevokedKey>;
  /** Where the keys came from, for the report (`the key folder …`, `--public-key …`, `the bundle's header`). */
  source: string;
}

/** Hex SHA-256 of the key's SPKI DER encoding. */
export function publicKeyFingerprint(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** A key id named after the key itself, so that a public key file alone says which seals it checks. */
export function keyIdOf(key: KeyObject): string {
  return `ed25519-${publicKeyFingerprint(key).slice(0, 16)}`;
}

/** Parses an Ed25519 public key (SPKI PEM); anything else is refused with `audit_key_invalid`. */
export function parsePublicKey(pem: string, origin: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new DaybookError('audit_key_invalid', `${origin} is not a PEM public key`, { origin });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new DaybookError('audit_key_invalid', `${origin} is a ${key.asymmetricKeyType ?? 'unknown'} key; seals are signed with Ed25519`, { origin });
  }
  return key;
}

/**
 * The revoked-keys list: one key id a line, optionally followed by the ISO
 * time from which it is revoked and a reason; `#` starts a comment.
 *
 * @example
 * parseRevokedKeys('ed25519-0123456789abcdef 2025-01-31T00:00:00Z laptop stolen\n')
 */
export function parseRevokedKeys(text: string, origin: string): Map<string, RevokedKey> {
  const revoked = new Map<string, RevokedKey>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const [keyId, since, ...reason] = line.split(/\s+/);
    let sinceMs: number | null = null;
    if (since !== undefined) {
      sinceMs = Date.parse(since);
      if (!/^\d{4}-\d{2}-\d{2}/.test(since) || Number.isNaN(sinceMs)) {
        throw new DaybookError('audit_key_invalid', `${origin} line ${index + 1}: ${JSON.stringify(since)} is not an ISO time`, { origin });
      }
    }
    revoked.set(keyId!, { sinceMs, reason: reason.join(' ') });
  });
  return revoked;
}
