import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DaybookError } from '../kernel/index.ts';

/**
 * The cipher envelope of one personal-data value, as it is stored in an
 * event's data instead of the value:
 *
 * `{ "$enc": "v1", "s": "<subject>", "t": "s" | "n" | "b", "n": "<nonce>", "c": "<ciphertext ‖ tag>" }`
 *
 * AES-256-GCM under the subject's data key, a random 96-bit nonce per value,
 * the subject id as additional authenticated data (so a ciphertext moved
 * into another subject's stream fails), and `t` the JSON type of the value
 * (string, number or boolean: what the value becomes once its key is gone).
 * `n` and `c` are base64url. The plaintext is the value's JSON text.
 *
 * @example
 * const sealed = sealValue(key, 'bankcustomer:test.c1', 'Ada Lovelace');
 * openValue(key, 'bankcustomer:test.c1', sealed); // 'Ada Lovelace'
 */
export const ENVELOPE_VERSION = 'v1';
/** What an erased string reads as; erased numbers and booleans read as null. */
export const ERASED_TEXT = '[erased]';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const DATA_KEY_BYTES = 32;

export type SealedValue = { $enc: typeof ENVELOPE_VERSION; s: string; t: 's' | 'n' | 'b'; n: string; c: string };
export type PlainLeaf = string | number | boolean;

const ENVELOPE_KEYS = ['$enc', 'c', 'n', 's', 't'];

/**
 * True only for the exact shape `sealValue` makes (its five keys, of their
 * types): an object a caller sent that merely has a `$enc` key is data, and is
 * sealed like any other (it was once taken for a sealed value and kept in the
 * clear).
 */
export function isSealedValue(value: unknown): value is SealedValue {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  if (record.$enc !== ENVELOPE_VERSION || typeof record.s !== 'string' || typeof record.n !== 'string' || typeof record.c !== 'string') return false;
  if (record.t !== 's' && record.t !== 'n' && record.t !== 'b') return false;
  const keys = Object.keys(record);
  return keys.length === ENVELOPE_KEYS.length && keys.every((key) => ENVELOPE_KEYS.includes(key));
}

export function sealValue(key: Buffer, subject: string, value: PlainLeaf): SealedValue {
  requireKey(key);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(subject, 'utf8'));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { $enc: ENVELOPE_VERSION, s: subject, t: typeOf(value), n: nonce.toString('base64url'), c: body.toString('base64url') };
}

/** Decrypts an envelope made for `subject`; a wrong key, subject or any altered byte is `integrity_violation`. */
export function openValue(key: Buffer, subject: string, sealed: SealedValue): PlainLeaf {
  requireKey(key);
  requireShape(sealed);
  if (sealed.s !== subject) throw new DaybookError('integrity_violation', `an encrypted value names the subject ${sealed.s} but sits in the data of ${subject}`, { subject });
  const nonce = Buffer.from(sealed.n, 'base64url');
  const body = Buffer.from(sealed.c, 'base64url');
  if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) throw new DaybookError('integrity_violation', `an encrypted value of ${subject} is truncated`, { subject });
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(Buffer.from(subject, 'utf8'));
  decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
  let text: string;
  try {
    text = Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new DaybookError('integrity_violation', `an encrypted value of ${subject} fails its authentication tag: altered, or sealed under another key or subject`, { subject });
  }
  const value = JSON.parse(text) as unknown;
  if (typeOf(value as PlainLeaf) !== sealed.t) throw new DaybookError('integrity_violation', `an encrypted value of ${subject} is not of its declared type`, { subject });
  return value as PlainLeaf;
}

/** What an envelope reads as once its subject's key is destroyed: a stable placeholder of its type. */
export function erasedValue(sealed: SealedValue): string | null {
  return sealed.t === 's' ? ERASED_TEXT : null;
}

function typeOf(value: PlainLeaf): SealedValue['t'] {
  if (typeof value === 'string') return 's';
  if (typeof value === 'number') return 'n';
  if (typeof value === 'boolean') return 'b';
  throw new DaybookError('integrity_violation', 'only strings, numbers and booleans are sealed one by one', {});
}

function requireKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== DATA_KEY_BYTES) throw new DaybookError('integrity_violation', `a data key must be ${DATA_KEY_BYTES} bytes`, {});
}

function requireShape(sealed: SealedValue): void {
  const ok = sealed.$enc === ENVELOPE_VERSION && typeof sealed.s === 'string' && typeof sealed.n === 'string' && typeof sealed.c === 'string' && ['s', 'n', 'b'].includes(sealed.t);
  if (!ok) throw new DaybookError('integrity_violation', `an encrypted value is not a ${ENVELOPE_VERSION} envelope`, {});
}
