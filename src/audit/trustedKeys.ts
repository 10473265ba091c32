import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DaybookError } from '../kernel/index.ts';
import { keyIdOf, parsePublicKey, parseRevokedKeys, type RevokedKey, type TrustedKeys } from './keyProvider.ts';

/**
 * Keys to trust from files an auditor holds (`--public-key`, repeatable for
 * rotated keys; `--revoked-keys`): each key's id is derived from the key, so
 * no key folder and no database is needed.
 *
 * @example
 * const keys = trustedKeysFromFiles(['daybook-seal.pub.pem'], 'revoked-keys');
 */
export function trustedKeysFromFiles(publicKeyFiles: readonly string[], revokedFile?: string): TrustedKeys {
  const publicKeys = new Map<string, KeyObject>();
  for (const file of publicKeyFiles) {
    const key = parsePublicKey(readKeyFile(file), file);
    publicKeys.set(keyIdOf(key), key);
  }
  return { publicKeys, revoked: revokedFile === undefined ? new Map() : readRevokedFile(revokedFile), source: `--public-key ${publicKeyFiles.join(', ')}` };
}

/** The revocations of a file (see `parseRevokedKeys`). */
export function readRevokedFile(file: string): Map<string, RevokedKey> {
  return parseRevokedKeys(readKeyFile(file), file);
}

/** The keys with more revocations added (a `--revoked-keys` file beside a key folder's own list). */
export function withRevoked(keys: TrustedKeys, revoked: ReadonlyMap<string, RevokedKey>): TrustedKeys {
  return { ...keys, revoked: new Map([...keys.revoked, ...revoked]) };
}

function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new DaybookError('audit_key_invalid', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file });
  }
}
