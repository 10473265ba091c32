import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaybookError } from '../kernel/index.ts';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../kernel/privateFiles.ts';

/**
 * Secrets are stored as HMAC-SHA-256 under a server-side pepper: a stolen
 * copy of the event log alone cannot test guesses, and a 256-bit random
 * secret needs no slow hash (scrypt would cost every request a millisecond
 * for no gain). Comparison is constant-time over the whole digest.
 */
export const PEPPER_FILE_NAME = 'api-key-pepper';
const PEPPER_MIN_CHARS = 32;

export interface ApiKeyHasher {
  /** Hex HMAC-SHA-256 of the secret. */
  hash(secret: string): string;
  /** Constant-time equality of two hex digests of equal length. */
  equal(hashA: string, hashB: string): boolean;
}

export function createApiKeyHasher(pepper: string): ApiKeyHasher {
  if (pepper.length < PEPPER_MIN_CHARS) {
    throw new DaybookError('validation_failed', `the API key pepper must have at least ${PEPPER_MIN_CHARS} characters`, {}, 'DAYBOOK_API_KEY_PEPPER');
  }
  const key = Buffer.from(pepper, 'utf8');
  return {
    hash: (secret) => createHmac('sha256', key).update(secret, 'utf8').digest('hex'),
    equal: (hashA, hashB) => {
      const a = Buffer.from(hashA, 'hex');
      const b = Buffer.from(hashB, 'hex');
      return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
    },
  };
}

/**
 * The pepper: `DAYBOOK_API_KEY_PEPPER` when set (needed when several API
 * processes share one PostgreSQL store), else the file `api-key-pepper` in
 * the data folder, created (mode 0600) with 32 random bytes on first use.
 * Losing it invalidates every key; back it up with the data folder.
 */
export function loadPepper(dataDir: string, envPepper: string | undefined): string {
  if (envPepper !== undefined && envPepper !== '') return envPepper;
  const path = join(dataDir, PEPPER_FILE_NAME);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  ensurePrivateDir(dataDir);
  try {
    // `wx`: of two processes starting at once, one writes and the other reads what it wrote.
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(path, 'utf8').trim();
}
