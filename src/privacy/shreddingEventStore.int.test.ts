/**
 * The shredding store opens what `readFirstEvents` returns as `readStream`
 * does: sealed personal data reads decrypted, and as placeholders once the
 * subject is erased. Real SQLite event store, key store and key folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openLocalKeyProvider } from '../audit/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { systemClock } from '../kernel/index.ts';
import { ShreddingEventStore } from './shreddingEventStore.ts';
import { SubjectKeyring } from './subjectKeyring.ts';
import { openSqliteSubjectKeyStore, type SubjectKeyStore } from './subjectKeyStore.ts';

let dir: string;
let inner: EventStore;
let keyStore: SubjectKeyStore;
let store: ShreddingEventStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'daybook-shredding-'));
  inner = await openEventStore(`sqlite:${join(dir, 'daybook.db')}`);
  keyStore = openSqliteSubjectKeyStore(join(dir, 'subject-keys.db'));
  store = new ShreddingEventStore(inner, new SubjectKeyring(keyStore, openLocalKeyProvider({ dir: join(dir, 'keys') }), systemClock));
});
afterEach(async () => {
  await keyStore.close();
  await inner.close();
  rmSync(dir, { recursive: true, force: true });
});

it('reads the first events of several streams decrypted, then as placeholders once their subject is erased', async () => {
  const pii = { name: 'Ada Lovelace', email: 'ada@example.com' };
  await store.append({ streamId: 'customer-test.ada', events: [{ type: 'CustomerRegistered', data: { customerId: 'test.ada', pii } }] });
  await store.append({ streamId: 'plain-1', events: [{ type: 'Noted', data: { n: 1 } }] });

  const stored = await inner.readFirstEvents(['customer-test.ada']);
  expect(JSON.stringify(stored.get('customer-test.ada')!.data)).not.toContain('Ada');

  const found = await store.readFirstEvents(['customer-test.ada', 'plain-1', 'absent-1']);
  expect([...found.keys()].sort()).toEqual(['customer-test.ada', 'plain-1']);
  expect(found.get('customer-test.ada')!.data).toEqual({ customerId: 'test.ada', pii });
  expect(found.get('customer-test.ada')).toEqual((await store.readStream('customer-test.ada', { limit: 1 }))[0]);
  expect(found.get('plain-1')!.data).toEqual({ n: 1 });

  expect(await keyStore.erase('bankcustomer:test.ada', Date.now())).toBe('erased');
  store.keyring.forget('bankcustomer:test.ada');
  const erased = (await store.readFirstEvents(['customer-test.ada'])).get('customer-test.ada')!;
  expect(JSON.stringify(erased.data)).not.toContain('Ada');
  expect(erased).toEqual((await store.readStream('customer-test.ada', { limit: 1 }))[0]);
});
