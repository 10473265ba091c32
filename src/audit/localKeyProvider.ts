import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { existsSync, linkSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaybookError } from '../kernel/index.ts';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../kernel/privateFiles.ts';
import { type KeyProvider, keyIdOf, parsePublicKey, parseRevokedKeys, type RevokedKey, type TrustedKeys } from './keyProvider.ts';

/**
 * The default KeyProvider: key files in a folder of the data folder
 * (`<data>/keys`, made 0700, files 0600), node:crypto only.
 *
 * - `seal-<keyId>.pem`: an Ed25519 private key (PKCS#8); `seal-<keyId>.pub.pem` its public half.
 * - `current-seal-key`: the id of the key that signs new seals. Rotation
 *   (`rotateLocalSigningKey`) makes a new pair and points this file at it;
 *   the old public key stays, so old seals still verify.
 * - `master.key`: 32 random bytes (hex), the AES-256-GCM key that wraps data keys.
 * - `revoked-keys` (optional, written by the operator): see `parseRevokedKeys`.
 *
 * Back the folder up apart from the store: whoever holds the log and the keys can forge seals.
 */
export const CURRENT_KEY_FILE = 'current-seal-key';
export const MASTER_KEY_FILE = 'master.key';
export const REVOKED_KEYS_FILE = 'revoked-keys';
const WRAP_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Opens the folder's keys, creating the signing key and the master key on first use. */
export function openLocalKeyProvider(options: { dir: string }): KeyProvider {
  const { dir } = options;
  ensurePrivateDir(dir);
  const keyId = currentKeyId(dir) ?? createFirstKey(dir);
  const privateKey = readPrivateKey(dir, keyId);
  const publicKey = createPublicKey(privateKey);
  const masterKey = readOrCreateMasterKey(dir);
  return {
    keyId,
    sign: (bytes) => sign(null, bytes, privateKey),
    publicKey: () => publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    trustedKeys: () => loadLocalTrustedKeys(dir),
    wrapKey: (plain) => wrap(masterKey, plain),
    unwrapKey: (wrapped) => unwrap(masterKey, wrapped),
  };
}

/** The public keys and revocations of a key folder, read only: a verifier never creates keys. */
export function loadLocalTrustedKeys(dir: string): TrustedKeys {
  const publicKeys = new Map<string, KeyObject>();
  const names = existsSync(dir) ? readdirSync(dir) : [];
  for (const name of names.filter((file) => /^seal-.+\.pub\.pem$/.test(file)).sort()) {
    const key = parsePublicKey(readFileSync(join(dir, name), 'utf8'), join(dir, name));
    publicKeys.set(keyIdOf(key), key);
  }
  const revokedPath = join(dir, REVOKED_KEYS_FILE);
  const revoked: Map<string, RevokedKey> = existsSync(revokedPath) ? parseRevokedKeys(readFileSync(revokedPath, 'utf8'), revokedPath) : new Map();
  return { publicKeys, revoked, source: `the key folder ${dir}` };
}

/** Makes a new signing key and makes it current; returns its id. Seals signed before keep verifying with the old public key. */
export function rotateLocalSigningKey(dir: string): string {
  ensurePrivateDir(dir);
  const keyId = writeNewKeyPair(dir);
  const temporary = join(dir, `${CURRENT_KEY_FILE}.${process.pid}.tmp`);
  writeFileSync(temporary, `${keyId}\n`, { mode: PRIVATE_FILE_MODE });
  // A rename replaces the pointer in one step: a reader sees the old id or the new one.
  renameSync(temporary, join(dir, CURRENT_KEY_FILE));
  return keyId;
}

function currentKeyId(dir: string): string | null {
  try {
    return readFileSync(join(dir, CURRENT_KEY_FILE), 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function createFirstKey(dir: string): string {
  const keyId = writeNewKeyPair(dir);
  // Of two processes starting at once, one names its key current; the other uses that one.
  writeOnce(join(dir, CURRENT_KEY_FILE), `${keyId}\n`);
  return currentKeyId(dir)!;
}

/**
 * Creates the file with its whole content, unless it exists: written aside,
 * then hard-linked into place (a link never replaces a file), so that a
 * process racing this one never reads it half-written.
 */
function writeOnce(path: string, content: string): void {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(aside, content, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  try {
    linkSync(aside, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(aside, { force: true });
  }
}

function writeNewKeyPair(dir: string): string {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyId = keyIdOf(publicKey);
  writeFileSync(join(dir, `seal-${keyId}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  writeFileSync(join(dir, `seal-${keyId}.pub.pem`), publicKey.export({ type: 'spki', format: 'pem' }), { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  return keyId;
}

function readPrivateKey(dir: string, keyId: string): KeyObject {
  const path = join(dir, `seal-${keyId}.pem`);
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : 'is not a PEM private key';
    throw new DaybookError('audit_key_invalid', `the current signing key ${path} ${reason} (named by ${join(dir, CURRENT_KEY_FILE)})`, { keyId });
  }
  if (key.asymmetricKeyType !== 'ed25519' || keyIdOf(createPublicKey(key)) !== keyId) {
    throw new DaybookError('audit_key_invalid', `${path} is not the Ed25519 key ${keyId}`, { keyId });
  }
  return key;
}

function readOrCreateMasterKey(dir: string): Buffer {
  const path = join(dir, MASTER_KEY_FILE);
  if (!existsSync(path)) writeOnce(path, `${randomBytes(32).toString('hex')}\n`);
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'hex');
  if (key.length !== 32) throw new DaybookError('audit_key_invalid', `${path} must hold 32 bytes as 64 hex digits`, {});
  return key;
}

/** version (1 byte) ‖ nonce (12) ‖ tag (16) ‖ ciphertext; the version byte is authenticated too. */
function wrap(masterKey: Buffer, plain: Buffer): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const header = Buffer.from([WRAP_VERSION]);
  const cipher = createCipheriv('aes-256-gcm', masterKey, nonce);
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([header, nonce, cipher.getAuthTag(), body]);
}

function unwrap(masterKey: Buffer, wrapped: Buffer): Buffer {
  if (!Buffer.isBuffer(wrapped) || wrapped.length < 1 + NONCE_BYTES + TAG_BYTES || wrapped[0] !== WRAP_VERSION) {
    throw new DaybookError('integrity_violation', 'a wrapped key must be a buffer made by wrapKey (version 1)', {});
  }
  const decipher = createDecipheriv('aes-256-gcm', masterKey, wrapped.subarray(1, 1 + NONCE_BYTES));
  decipher.setAAD(wrapped.subarray(0, 1));
  decipher.setAuthTag(wrapped.subarray(1 + NONCE_BYTES, 1 + NONCE_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(wrapped.subarray(1 + NONCE_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new DaybookError('integrity_violation', 'a wrapped key fails its authentication tag: altered, or wrapped under another master key', {});
  }
}
