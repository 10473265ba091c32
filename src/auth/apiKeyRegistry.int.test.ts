/**
 * API keys on a real SQLite store: the secret format, hashing under a pepper
 * (never the secret at rest), authentication by constant-time comparison,
 * revocation, keys written by another registry taking effect by following
 * the log, the pepper file, and the bootstrap key.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { API_KEY_SECRET_CHARS, generateApiKeySecret, parseApiKeySecret, redactSecret } from './apiKey.ts';
import { createApiKeyHasher, loadPepper, PEPPER_FILE_NAME } from './apiKeyHasher.ts';
import { ApiKeyRegistry } from './apiKeyRegistry.ts';
import { ensureBootstrapKey } from './bootstrap.ts';
import { hasPermission, PERMISSIONS, ROLE_PERMISSIONS } from './permissions.ts';

const PEPPER = 'p'.repeat(64);
let dir: string;
let store: EventStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-auth-'));
  store = await openEventStore(`sqlite:${join(dir, 'daybook.db')}`);
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('secrets', () => {
  it('are sk_<mode>_ and 43 base62 characters, all different', () => {
    const secrets = new Set(Array.from({ length: 200 }, () => generateApiKeySecret('live')));
    expect(secrets.size).toBe(200);
    for (const secret of secrets) expect(secret).toMatch(new RegExp(`^sk_live_[0-9A-Za-z]{${API_KEY_SECRET_CHARS}}$`));
    expect(parseApiKeySecret(generateApiKeySecret('test'))).toEqual({ mode: 'test' });
  });

  it('refuses anything else before hashing', () => {
    for (const bad of ['', 'sk_test_', 'sk_prod_abcdefghijklmnopqrstu', 'pk_test_abcdefghijklmnopqrstu', 'sk_test_short', `sk_test_${'a'.repeat(129)}`, 'sk_test_abcdefghijklmnop!']) {
      expect(parseApiKeySecret(bad)).toBeNull();
    }
  });

  it('are redacted to their mode and last four characters', () => {
    expect(redactSecret('sk_test_abcdefghijklmnopqrstuvwxyz')).toBe('sk_test_****wxyz');
  });
});

describe('the registry', () => {
  it('stores only a peppered hash and authenticates the secret', async () => {
    const keys = await ApiKeyRegistry.open(store, { hasher: createApiKeyHasher(PEPPER) });
    const { key, secret } = await keys.create({ role: 'operator', mode: 'test', name: 'ops', createdBy: 'cli' });
    expect(keys.authenticate(secret)).toEqual(key);
    expect(key).toMatchObject({ role: 'operator', mode: 'test', revokedAtMs: null, hint: `sk_test_****${secret.slice(-4)}` });
    const raw = JSON.stringify((await store.readAll()).map((event) => [event.data, event.metadata]));
    expect(raw).not.toContain(secret);
    expect(raw).not.toContain(secret.slice(8));
    const lastChanged = `${secret.slice(0, -1)}${secret.endsWith('x') ? 'y' : 'x'}`;
    expect(keys.authenticate(lastChanged)).toBeUndefined();
    expect(keys.authenticate('Bearer nonsense')).toBeUndefined();
  });

  it('does not accept a secret hashed under another pepper', async () => {
    const keys = await ApiKeyRegistry.open(store, { hasher: createApiKeyHasher(PEPPER) });
    const { secret } = await keys.create({ role: 'admin', mode: 'live', createdBy: 'cli' });
    const other = await ApiKeyRegistry.open(store, { hasher: createApiKeyHasher('q'.repeat(64)) });
    expect(other.size).toBe(1);
    expect(other.authenticate(secret)).toBeUndefined();
  });

  it('revokes, and a revoked key no longer authenticates, after a reopen too', async () => {
    const hasher = createApiKeyHasher(PEPPER);
    const keys = await ApiKeyRegistry.open(store, { hasher });
    const { key, secret } = await keys.create({ role: 'service', mode: 'live', createdBy: 'cli' });
    await keys.revoke(key.keyId, 'cli');
    expect(keys.authenticate(secret)).toBeUndefined();
    const reopened = await ApiKeyRegistry.open(store, { hasher });
    expect(reopened.authenticate(secret)).toBeUndefined();
    expect(reopened.get(key.keyId)?.revokedAtMs).toEqual(expect.any(Number));
    await expect(keys.revoke('key_nope', 'cli')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('follows keys that another registry writes', async () => {
    const hasher = createApiKeyHasher(PEPPER);
    const server = await ApiKeyRegistry.open(store, { hasher, follow: true });
    const cli = await ApiKeyRegistry.open(store, { hasher });
    const { secret } = await cli.create({ role: 'auditor', mode: 'test', createdBy: 'cli' });
    const deadline = Date.now() + 5000;
    while (server.authenticate(secret) === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(server.authenticate(secret)?.role).toBe('auditor');
    await server.close();
  });

  it('refuses a bad role, a mode that does not match the secret, and a secret registered twice', async () => {
    const keys = await ApiKeyRegistry.open(store, { hasher: createApiKeyHasher(PEPPER) });
    await expect(keys.create({ role: 'root' as never, mode: 'test', createdBy: 'cli' })).rejects.toMatchObject({ code: 'validation_failed', param: 'role' });
    await expect(keys.create({ role: 'admin', mode: 'live', createdBy: 'cli', secret: 'sk_test_0123456789abcdefXYZ' })).rejects.toMatchObject({ param: 'mode' });
    await keys.create({ role: 'admin', mode: 'test', createdBy: 'cli', secret: 'sk_test_0123456789abcdefXYZ' });
    await expect(keys.create({ role: 'admin', mode: 'test', createdBy: 'cli', secret: 'sk_test_0123456789abcdefXYZ' })).rejects.toMatchObject({ param: 'secret' });
  });
});

describe('the pepper', () => {
  it('is made once in the data folder, readable by its owner only, and reused', () => {
    const first = loadPepper(dir, undefined);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dir, PEPPER_FILE_NAME)).mode & 0o777).toBe(0o600);
    expect(loadPepper(dir, undefined)).toBe(first);
    expect(readFileSync(join(dir, PEPPER_FILE_NAME), 'utf8').trim()).toBe(first);
    expect(loadPepper(dir, 'from-the-environment-'.repeat(2))).toBe('from-the-environment-'.repeat(2));
  });
});

describe('bootstrap', () => {
  it('generates an admin test key on an empty store, once', async () => {
    const keys = await ApiKeyRegistry.open(store, { hasher: createApiKeyHasher(PEPPER) });
    const first = await ensureBootstrapKey(keys, undefined);
    expect(first.secretToPrint).toMatch(/^sk_test_/);
    expect(keys.authenticate(first.secretToPrint!)?.role).toBe('admin');
    expect(await ensureBootstrapKey(keys, undefined)).toEqual({ created: undefined, secretToPrint: undefined });
  });

  it('seeds DAYBOOK_API_KEY as an admin key of its mode, once, without printing it', async () => {
    const keys = await ApiKeyRegistry.open(store, { hasher: createApiKeyHasher(PEPPER) });
    const seeded = await ensureBootstrapKey(keys, 'sk_live_knownKnownKnown1234');
    expect(seeded.secretToPrint).toBeUndefined();
    expect(keys.authenticate('sk_live_knownKnownKnown1234')).toMatchObject({ role: 'admin', mode: 'live' });
    expect((await ensureBootstrapKey(keys, 'sk_live_knownKnownKnown1234')).created).toBeUndefined();
    expect(keys.size).toBe(1);
    await expect(ensureBootstrapKey(keys, 'nonsense')).rejects.toMatchObject({ param: 'DAYBOOK_API_KEY' });
  });
});

describe('the permission table', () => {
  it('gives admins everything, auditors the audit log without writes, support nothing personal', () => {
    expect(ROLE_PERMISSIONS.admin).toEqual(PERMISSIONS);
    expect(ROLE_PERMISSIONS.auditor.some((permission) => permission.endsWith(':write'))).toBe(false);
    expect(hasPermission('auditor', 'events:read')).toBe(true);
    expect(hasPermission('support', 'customers:read')).toBe(false);
    expect(hasPermission('operator', 'keys:manage')).toBe(false);
  });
});
