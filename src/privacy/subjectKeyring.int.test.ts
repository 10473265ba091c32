/**
 * The keyring never keeps a key past its erasure: a read of the key store
 * that began before an erasure and finishes after the keyring forgot the
 * subject (the erasure's own step) is read again, so the tombstone is what
 * stays, not the destroyed key. Real SQLite key store and key folder; the
 * read is held at a gate to make the interleaving happen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openLocalKeyProvider } from '../audit/index.ts';
import { systemClock } from '../kernel/index.ts';
import { SubjectKeyring } from './subjectKeyring.ts';
import { openSqliteSubjectKeyStore, type SubjectKeyStore } from './subjectKeyStore.ts';

const dirs: string[] = [];
afterEach(() => { for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true }); });

it('does not keep a key read before an erasure that finished during the read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-keyring-'));
  dirs.push(dir);
  const real = openSqliteSubjectKeyStore(join(dir, 'subject-keys.db'));
  const keys = openLocalKeyProvider({ dir: join(dir, 'keys') });
  const subject = 'bankcustomer:test.ada';
  await new SubjectKeyring(real, keys, systemClock).keyForWrite(subject);
  // Reads wait at the gate once, after they read the row: as a read that began before the erasure committed.
  let release!: () => void;
  let held = false;
  const gated: SubjectKeyStore = Object.assign(Object.create(real) as SubjectKeyStore, {
    read: async (name: string) => {
      const row = await real.read(name);
      if (!held) {
        held = true;
        await new Promise<void>((resolve) => { release = resolve; });
      }
      return row;
    },
  });
  const keyring = new SubjectKeyring(gated, keys, systemClock);
  const reading = keyring.keyForRead(subject);
  await new Promise((resolve) => setImmediate(resolve));
  expect(await real.erase(subject, Date.now())).toBe('erased');
  keyring.forget(subject);
  release();
  expect(await reading).toBeNull();
  expect(await keyring.keyForRead(subject)).toBeNull();
  await real.close();
});
