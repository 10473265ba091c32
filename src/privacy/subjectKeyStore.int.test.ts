/**
 * The subject key store on SQLite (its own 0600 file beside the store) and
 * PostgreSQL (its own table outside the event schema): keys, erasure with
 * tombstones, reapplying erasures after a restore; and the shredding store
 * over a real event store: plaintext events from before encryption still
 * read, an erased subject reads as placeholders, a key store row is never
 * re-created for an erased subject, and an erased key is gone from the file.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfPostgres, type TestDatabase } from '../../test/support/postgres.ts';
import { openLocalKeyProvider } from '../audit/index.ts';
import { BankingService } from '../banking/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { systemClock } from '../kernel/index.ts';
import { eraseSubject, readTombstones, reapplyErasures, recordMissingErasures } from './erasure.ts';
import { openShreddingStore } from './openPrivacy.ts';
import { openSubjectKeyStore, SUBJECT_KEYS_FILE, type SubjectKeyStore } from './subjectKeyStore.ts';

type Target = { storeUrl: string; keysDir: string; cleanup(): Promise<void> };

async function failureCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

function describeKeyStore(name: string, target: () => Promise<Target>): void {
  describe(name, () => {
    let setup: Target;
    let keys: SubjectKeyStore;
    beforeAll(async () => {
      setup = await target();
      keys = await openSubjectKeyStore(setup.storeUrl);
    });
    afterAll(async () => {
      await keys?.close();
      await setup?.cleanup();
    });

    it('keeps the first key of a subject, erases it once, and lists the tombstone', async () => {
      const first = randomBytes(61);
      expect(await keys.insertKey('bankcustomer:test.k1', first, 1000)).toMatchObject({ wrappedKey: first, createdAtMs: 1000, erasedAtMs: null });
      expect((await keys.insertKey('bankcustomer:test.k1', randomBytes(61), 2000)).wrappedKey).toEqual(first);
      expect(await keys.erase('bankcustomer:test.k1', 3000)).toBe('erased');
      expect(await keys.read('bankcustomer:test.k1')).toMatchObject({ wrappedKey: null, erasedAtMs: 3000 });
      expect(await keys.erase('bankcustomer:test.k1', 4000)).toBe('already_erased');
      expect(await keys.erase('bankcustomer:test.nobody', 4000)).toBe('unknown');
      expect(await keys.read('bankcustomer:test.nobody')).toBeNull();
      // A tombstone never takes a key again.
      expect((await keys.insertKey('bankcustomer:test.k1', randomBytes(61), 5000)).wrappedKey).toBeNull();
      expect(await readTombstones(keys)).toEqual([{ subject: 'bankcustomer:test.k1', erasedAtMs: 3000 }]);
    });

    it('reapplies erasures over a restored (older) key store', async () => {
      await keys.insertKey('pcustomer:test:cus_r1', randomBytes(61), 1000);
      const tombstones = [{ subject: 'pcustomer:test:cus_r1', erasedAtMs: 9000 }, { subject: 'pcustomer:test:cus_r2', erasedAtMs: 9001 }, { subject: 'bankcustomer:test.k1', erasedAtMs: 1 }];
      expect(await reapplyErasures(keys, tombstones)).toEqual(['pcustomer:test:cus_r1', 'pcustomer:test:cus_r2']);
      expect(await keys.read('pcustomer:test:cus_r1')).toMatchObject({ wrappedKey: null, erasedAtMs: 9000 });
      expect(await keys.read('bankcustomer:test.k1')).toMatchObject({ erasedAtMs: 3000 });
      expect(await reapplyErasures(keys, tombstones)).toEqual([]);
    });

    it('erases a bank customer through the shredding store; old plaintext events still read', async () => {
      const raw = await openEventStore(setup.storeUrl);
      // Written before encryption: plain personal data, no envelope.
      await raw.append({ streamId: 'customer-test.legacy', events: [{ type: 'CustomerRegistered', schemaVersion: 1, data: {
        customerId: 'test.legacy', kind: 'individual', registeredAt: '2024-01-01T00:00:00.000Z', pii: { fullName: 'Old Timer', email: 'old@example.com', phone: null, dateOfBirth: null, address: null },
      } }] });
      const store = await openShreddingStore(raw, { storeUrl: setup.storeUrl, keysDir: setup.keysDir });
      try {
        const bank = await BankingService.open(store, { ids: { next: () => `test.${randomBytes(6).toString('hex')}` } });
        await bank.registerCustomer({ customerId: 'test.c1', pii: { fullName: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 1' } });
        expect((await bank.customer('test.legacy'))).toMatchObject({ pii: { fullName: 'Old Timer' } });
        expect((await bank.customer('test.c1'))).toMatchObject({ pii: { fullName: 'Ada Lovelace', phone: '+44 1' } });
        const [stored] = await raw.readRawLog({ category: 'customer', after: 1n });
        expect(stored!.dataJson).not.toContain('Ada');
        await eraseSubject(store, { subject: 'bankcustomer:test.c1', actor: 'test' }, systemClock);
        expect((await bank.customer('test.c1'))).toMatchObject({ pii: { fullName: '[erased]', email: '[erased]', phone: '[erased]', dateOfBirth: null } });
        expect(await failureCode(eraseSubject(store, { subject: 'bankcustomer:test.c1' }, systemClock))).toBe('subject_already_erased');
        // Plaintext from before encryption has no key to destroy: said plainly.
        expect(await failureCode(eraseSubject(store, { subject: 'bankcustomer:test.legacy' }, systemClock))).toBe('subject_not_found');
        expect(await failureCode(bank.updateCustomerPii('test.c1', { fullName: 'Ada', email: 'a@b.cd' }))).toBe('subject_already_erased');
        expect(await recordMissingErasures(store, await readTombstones(keys))).toBe(3);
        expect((await store.verify()).ok).toBe(true);
      } finally {
        await store.close();
      }
    });
  });
}

describeKeyStore('SQLite key store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-keys-'));
  return { storeUrl: `sqlite:${join(dir, 'daybook.db')}`, keysDir: join(dir, 'keys'), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

describe('SQLite key store file', () => {
  it('is a 0600 file apart from the store, and holds no erased key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daybook-keys-'));
    try {
      const url = `sqlite:${join(dir, 'daybook.db')}`;
      const wrapped = openLocalKeyProvider({ dir: join(dir, 'keys') }).wrapKey(randomBytes(32));
      const before = await openSubjectKeyStore(url);
      await before.insertKey('bankcustomer:test.f1', wrapped, 1);
      await before.insertKey('bankcustomer:test.f2', randomBytes(61), 1);
      // Closing checkpoints: the key is in the main file now, where erasing must overwrite it.
      await before.close();
      const keys = await openSubjectKeyStore(url);
      await keys.erase('bankcustomer:test.f1', 2);
      await keys.close();
      const path = join(dir, SUBJECT_KEYS_FILE);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const bytes = Buffer.concat([readFileSync(path), ...['-wal'].map((suffix) => { try { return readFileSync(path + suffix); } catch { return Buffer.alloc(0); } })]);
      expect(bytes.includes(wrapped)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeIfPostgres('PostgreSQL key store', () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'daybook-keys-'));
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  describeKeyStore('on its own table', async () => ({ storeUrl: db.url, keysDir: join(dir, 'keys'), cleanup: async () => {} }));

  it('keeps its table outside the event schema', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ table_schema: string }>("SELECT table_schema FROM information_schema.tables WHERE table_name = 'daybook_subject_keys'");
      expect(rows).toEqual([{ table_schema: 'public' }]);
    } finally {
      await client.end();
    }
  });
});
