import { randomBytes } from 'node:crypto';

/**
 * Secret API keys, Stripe style: `sk_test_…` and `sk_live_…`, the rest 32
 * random bytes written in base62 (43 characters). The prefix names the mode:
 * test keys and live keys see separate data. The secret itself is shown once
 * and never stored; only its peppered hash is (see apiKeyHasher.ts).
 *
 * @example
 * const secret = generateApiKeySecret('test'); // 'sk_test_4eC39HqLyjWDarjtT1zdp7dcXyz…'
 * parseApiKeySecret(secret);                  // { mode: 'test' }
 */
export const API_KEY_MODES = ['test', 'live'] as const;
export type ApiKeyMode = (typeof API_KEY_MODES)[number];

export const ROLES = ['admin', 'operator', 'auditor', 'support', 'service', 'approver', 'analyst'] as const;
/**
 * `admin`: everything, keys included. `operator`: moves money. `auditor`:
 * read-only, the audit log included. `support`: read-only without personal
 * data. `service`: machine clients (moves money, reads, no audit log).
 * `approver`: the checker of maker-checker: approves or rejects what a
 * maker asked for (journal entries, unfreezes, large transfers), reads
 * what it approves, moves no money itself. `analyst`: compliance review:
 * clears or confirms sanctions screening cases, reads customers, moves no
 * money.
 */
export type Role = (typeof ROLES)[number];

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 62^43 > 2^256 > 62^42: 43 characters hold any 32 bytes. */
export const API_KEY_SECRET_CHARS = 43;
/** What we accept, seeded keys included: at least 16 base62 characters (95 bits), at most 128. */
const SECRET_PATTERN = /^sk_(test|live)_[0-9A-Za-z]{16,128}$/;

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function isApiKeyMode(value: unknown): value is ApiKeyMode {
  return value === 'test' || value === 'live';
}

export function base62(bytes: Uint8Array, length: number): string {
  let value = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
  let text = '';
  while (value > 0n) {
    text = BASE62[Number(value % 62n)]! + text;
    value /= 62n;
  }
  return text.padStart(length, '0');
}

/** A new secret of 32 random bytes. */
export function generateApiKeySecret(mode: ApiKeyMode): string {
  return `sk_${mode}_${base62(randomBytes(32), API_KEY_SECRET_CHARS)}`;
}

/** The mode of a well-formed secret, or null for anything else (which is then never hashed or looked up). */
export function parseApiKeySecret(secret: string): { mode: ApiKeyMode } | null {
  const match = SECRET_PATTERN.exec(secret);
  return match === null ? null : { mode: match[1] as ApiKeyMode };
}

/** What may be shown of a secret: its prefix and last four characters (`sk_test_…abcd`), as Stripe does. */
export function redactSecret(secret: string): string {
  const parsed = parseApiKeySecret(secret);
  const prefix = parsed === null ? 'sk' : `sk_${parsed.mode}`;
  return `${prefix}_****${secret.length >= 20 ? secret.slice(-4) : ''}`;
}

/** Key ids are public handles (logged, listed, revoked by): `key_` and 22 base62 characters. */
export function generateApiKeyId(): string {
  return `key_${base62(randomBytes(16), 22)}`;
}

export const API_KEY_ID_PATTERN = /^key_[0-9A-Za-z]{1,64}$/;
