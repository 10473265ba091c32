/**
 * The local key provider on real files: keys made once (folder 0700, files
 * 0600) and found again; data keys wrapped and unwrapped, an altered or
 * foreign wrapped key refused; rotation keeping old seals verifiable; broken
 * key files and revocation lists refused with audit_key_invalid.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEventStore } from '../eventstore/open.ts';
import { fixedClock } from '../kernel/index.ts';
import { CURRENT_KEY_FILE, loadLocalTrustedKeys, openLocalKeyProvider, parseRevokedKeys, rotateLocalSigningKey, Sealer, verifyStoreAudit } from './index.ts';

let dir: string;
const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-keys-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the local key provider', () => {
  it('makes its keys once, owner-only, and finds them again', () => {
    const keysDir = join(dir, 'keys');
    const first = openLocalKeyProvider({ dir: keysDir });
    expect(first.keyId).toMatch(/^ed25519-[0-9a-f]{16}$/);
    expect(modeOf(keysDir)).toBe('700');
    for (const name of readdirSync(keysDir)) expect({ name, mode: modeOf(join(keysDir, name)) }).toEqual({ name, mode: '600' });
    const again = openLocalKeyProvider({ dir: keysDir });
    expect(again.keyId).toBe(first.keyId);
    expect(again.publicKey()).toBe(first.publicKey());
    expect([...loadLocalTrustedKeys(keysDir).publicKeys.keys()]).toEqual([first.keyId]);
  });

  it('wraps data keys under the master key; an altered or foreign wrapped key is refused', () => {
    const keys = openLocalKeyProvider({ dir: join(dir, 'keys') });
    const dataKey = randomBytes(32);
    const wrapped = keys.wrapKey(dataKey);
    expect(wrapped.includes(dataKey)).toBe(false);
    expect(keys.wrapKey(dataKey).equals(wrapped)).toBe(false);
    expect(openLocalKeyProvider({ dir: join(dir, 'keys') }).unwrapKey(wrapped).equals(dataKey)).toBe(true);
    const altered = Buffer.from(wrapped);
    altered[altered.length - 1]! ^= 1;
    expect(() => keys.unwrapKey(altered)).toThrow(expect.objectContaining({ code: 'integrity_violation' }));
    expect(() => keys.unwrapKey(wrapped.subarray(0, 10))).toThrow(expect.objectContaining({ code: 'integrity_violation' }));
    expect(() => openLocalKeyProvider({ dir: join(dir, 'elsewhere') }).unwrapKey(wrapped)).toThrow(expect.objectContaining({ code: 'integrity_violation' }));
  });

  it('rotates: new seals use the new key, old seals still verify with the old public key', async () => {
    const keysDir = join(dir, 'keys');
    const store = await openEventStore(`sqlite:${join(dir, 'daybook.db')}`);
    try {
      await store.append({ streamId: 'a-1', events: [{ type: 'Touched', data: {} }] });
      const before = openLocalKeyProvider({ dir: keysDir });
      await new Sealer({ store, keys: before, clock: fixedClock(1) }).sealNow();
      const rotated = rotateLocalSigningKey(keysDir);
      const after = openLocalKeyProvider({ dir: keysDir });
      expect(after.keyId).toBe(rotated);
      expect(rotated).not.toBe(before.keyId);
      await store.append({ streamId: 'a-1', events: [{ type: 'Touched', data: {} }] });
      await new Sealer({ store, keys: after, clock: fixedClock(2) }).sealNow();
      const report = await verifyStoreAudit(store, loadLocalTrustedKeys(keysDir));
      expect(report).toMatchObject({ ok: true, seals: { sealsChecked: 2 } });
      expect(report.seals.keyIds).toEqual([before.keyId, rotated]);
    } finally {
      await store.close();
    }
  });

  it('refuses a current key file naming a key that is not there, and a revocation line with a bad time', () => {
    const keysDir = join(dir, 'keys');
    openLocalKeyProvider({ dir: keysDir });
    writeFileSync(join(keysDir, CURRENT_KEY_FILE), 'ed25519-0000000000000000\n');
    expect(() => openLocalKeyProvider({ dir: keysDir })).toThrow(expect.objectContaining({ code: 'audit_key_invalid', message: expect.stringContaining('is missing') }));
    expect(() => parseRevokedKeys('ed25519-0000000000000000 yesterday\n', 'revoked-keys')).toThrow(expect.objectContaining({ code: 'audit_key_invalid', message: expect.stringContaining('line 1') }));
    expect(parseRevokedKeys('# none\n\nk1\nk2 2025-01-01T00:00:00Z stolen key\n', 'r')).toEqual(new Map([
      ['k1', { sinceMs: null, reason: '' }], ['k2', { sinceMs: Date.parse('2025-01-01T00:00:00Z'), reason: 'stolen key' }],
    ]));
  });
});
