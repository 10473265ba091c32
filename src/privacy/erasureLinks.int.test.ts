/**
 * Erasing a Stripe customer closes every payment method and intent linked to
 * it, at the service level (ShreddingEventStore + eraseSubject over a real
 * SQLite store and key store, and PostgreSQL when available):
 * - a linked payment method or intent that never held personal data (so had
 *   no key) is tombstoned and recorded as erased with the customer: personal
 *   data written to it later (billing details, a refund's metadata) is
 *   stored as placeholders, never under a fresh key;
 * - a link written by another process (a second ShreddingEventStore over the
 *   same log and key store) that checked the customer before the erasure and
 *   commits after its final scan is refused (`subject_already_erased`) and
 *   leaves nothing readable: the new subject is erased at once. Also when
 *   that process still holds the customer's key in its cache.
 * The interleaving is forced with a gate on the second store's appends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfPostgres } from '../../test/support/postgres.ts';
import { openLocalKeyProvider } from '../audit/index.ts';
import type { EventStore, StreamWrite } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { systemClock } from '../kernel/index.ts';
import { eraseSubject, erasureEventOf } from './erasure.ts';
import { ShreddingEventStore } from './shreddingEventStore.ts';
import { SubjectKeyring } from './subjectKeyring.ts';
import { openSubjectKeyStore, type SubjectKeyStore } from './subjectKeyStore.ts';

const one = (streamId: string, type: string, data: object): StreamWrite => ({ streamId, events: [{ type, data }] });
const customer = (id: string) => one(`pcustomer-test.${id}`, 'StripeCustomerCreated', { customerId: id, pii: { name: `Name of ${id}` } });
const method = (id: string, customerId: string | null, extra: object = {}) => one(`pmethod-test.${id}`, 'PaymentMethodCreated', { paymentMethodId: id, customerId, metadata: {}, ...extra });
const intent = (id: string, customerId: string | null, extra: object = {}, type = 'PaymentIntentCreated') =>
  one(`pintent-test.${id}`, type, { paymentIntentId: id, customerId, metadata: {}, ...extra });

type Database = { url: string; dir: string; drop(): Promise<void> };

/** Appends pass through, except the one held at the gate: `reached` once it is there, written once released. */
function gatedAppends(inner: EventStore): { store: EventStore; holdNext(): { reached: Promise<void>; release(): void } } {
  let gate: { arrive(): void; opened: Promise<void> } | null = null;
  const store = new Proxy(inner, {
    get(target, key) {
      if (key === 'append') {
        return async (writes: Parameters<EventStore['append']>[0]) => {
          const held = gate;
          gate = null;
          if (held !== null) {
            held.arrive();
            await held.opened;
          }
          return target.append(writes);
        };
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    store,
    holdNext: () => {
      let arrive!: () => void;
      let release!: () => void;
      const reached = new Promise<void>((resolve) => { arrive = resolve; });
      gate = { arrive, opened: new Promise<void>((resolve) => { release = resolve; }) };
      return { reached, release };
    },
  };
}

function describeLinks(openDatabase: () => Promise<Database>): void {
  let database: Database;
  let inner: EventStore;
  let keyStore: SubjectKeyStore;
  /** The erasing process. */
  let a: ShreddingEventStore;
  /** Another process writing payment objects, over the same log and key store; its appends can be held. */
  let b: ShreddingEventStore;
  let gate: ReturnType<typeof gatedAppends>;
  let keysDir: string;

  /** A store that has cached nothing: what a new process reads. */
  const fresh = (): ShreddingEventStore => new ShreddingEventStore(inner, new SubjectKeyring(keyStore, openLocalKeyProvider({ dir: keysDir }), systemClock));
  const dataOf = async (streamId: string): Promise<Array<Record<string, any>>> => (await fresh().readStream(streamId)).map((event) => event.data as Record<string, any>);

  beforeAll(async () => {
    database = await openDatabase();
    keysDir = join(database.dir, 'keys');
    inner = await openEventStore(database.url);
    keyStore = await openSubjectKeyStore(database.url);
    const keys = openLocalKeyProvider({ dir: keysDir });
    a = new ShreddingEventStore(inner, new SubjectKeyring(keyStore, keys, systemClock));
    gate = gatedAppends(inner);
    b = new ShreddingEventStore(gate.store, new SubjectKeyring(keyStore, keys, systemClock));
  }, 60_000);

  afterAll(async () => {
    await keyStore?.close();
    await inner?.close();
    await database?.drop();
  });

  it('tombstones the linked payment method and intent that had no key, so personal data written to them later is stored erased', async () => {
    await a.append(customer('cus_plain'));
    await a.append([method('pm_plain', 'cus_plain'), intent('pi_plain', 'cus_plain')]);
    expect(await keyStore.read('pmethod:test:pm_plain')).toBeNull();
    expect(await keyStore.read('pintent:test:pi_plain')).toBeNull();

    const erased = await eraseSubject(a, { subject: 'pcustomer:test:cus_plain' }, systemClock);
    expect(erased.linked).toEqual(['pmethod:test:pm_plain', 'pintent:test:pi_plain']);
    for (const subject of erased.linked) {
      expect((await keyStore.read(subject))?.erasedAtMs).toBeTypeOf('number');
      expect(await erasureEventOf(inner, subject)).not.toBeNull();
    }

    // Later writes (POST /v1/payment_methods/<pm> billing_details, a refund with metadata) are kept, their personal data as placeholders.
    await a.append(one('pmethod-test.pm_plain', 'PaymentMethodUpdated', { paymentMethodId: 'pm_plain', metadata: { note: 'Later note' }, billingDetails: { name: 'Later Name' } }));
    await b.append(one('pintent-test.pi_plain', 'RefundCreated', { refundId: 're_1', metadata: { reason: 'Later refund text' } }));
    expect((await dataOf('pmethod-test.pm_plain'))[1]).toMatchObject({ metadata: { note: '[erased]' }, billingDetails: { name: '[erased]' } });
    expect((await dataOf('pintent-test.pi_plain'))[1]).toMatchObject({ metadata: { reason: '[erased]' } });
    expect((await keyStore.read('pmethod:test:pm_plain'))?.wrappedKey).toBeNull();
    const raw = JSON.stringify((await inner.readRawLog({ after: 0n, limit: 1000 })).map((event) => event.dataJson));
    expect(raw).not.toContain('Later');
  });

  it('refuses a link committed after the erasure\'s final scan, and erases the newly linked payment method at once', async () => {
    await a.append(customer('cus_race'));
    const held = gate.holdNext();
    // B checks the customer (its key is live), seals the billing details under a new key, and stops before the log.
    const writing = b.append(method('pm_race', 'cus_race', { billingDetails: { name: 'Racing Name' } }));
    const outcome = writing.then(() => 'written', (error: unknown) => error);
    await held.reached;
    expect((await keyStore.read('pmethod:test:pm_race'))?.wrappedKey).toBeInstanceOf(Buffer);

    const erased = await eraseSubject(a, { subject: 'pcustomer:test:cus_race' }, systemClock);
    expect(erased.linked).toEqual([]);
    held.release();

    expect(await outcome).toMatchObject({ code: 'subject_already_erased' });
    expect((await keyStore.read('pmethod:test:pm_race'))?.wrappedKey).toBeNull();
    expect(await erasureEventOf(inner, 'pmethod:test:pm_race')).not.toBeNull();
    expect((await dataOf('pmethod-test.pm_race'))[0]).toMatchObject({ customerId: 'cus_race', billingDetails: { name: '[erased]' } });
    expect((await b.readStream('pmethod-test.pm_race'))[0]!.data).toMatchObject({ billingDetails: { name: '[erased]' } });
  });

  it('refuses a link by a process that still holds the customer\'s key in its cache, erasing the intent\'s earlier data too', async () => {
    await a.append(customer('cus_cached'));
    await b.append(intent('pi_guest', null, { description: 'Guest order text' }));
    // B reads the customer (its keyring keeps the key), then A erases it; B follows no erasures.
    expect((await b.readStream('pcustomer-test.cus_cached'))[0]!.data).toMatchObject({ pii: { name: 'Name of cus_cached' } });
    await eraseSubject(a, { subject: 'pcustomer:test:cus_cached' }, systemClock);

    const linking = b.append(intent('pi_guest', 'cus_cached', { description: 'Now the customer\'s' }, 'PaymentIntentUpdated'));
    await expect(linking).rejects.toMatchObject({ code: 'subject_already_erased' });
    expect((await dataOf('pintent-test.pi_guest')).map((data) => data.description)).toEqual(['[erased]', '[erased]']);
    expect((await keyStore.read('pintent:test:pi_guest'))?.wrappedKey).toBeNull();
    // Its cache was put right: the next link is refused before anything is written.
    const before = await inner.headPosition();
    await expect(b.append(method('pm_after', 'cus_cached'))).rejects.toMatchObject({ code: 'subject_already_erased' });
    expect(await inner.headPosition()).toBe(before);
  });

  it('still links payment objects to a customer that is not erased', async () => {
    await a.append(customer('cus_live'));
    await b.append(method('pm_live', 'cus_live', { billingDetails: { name: 'Live Name' } }));
    expect((await dataOf('pmethod-test.pm_live'))[0]).toMatchObject({ billingDetails: { name: 'Live Name' } });
    expect(await erasureEventOf(inner, 'pmethod:test:pm_live')).toBeNull();
  });
}

describe('on SQLite', () => {
  describeLinks(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daybook-erasure-links-'));
    return { url: `sqlite:${join(dir, 'daybook.db')}`, dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  });
});

describeIfPostgres('on PostgreSQL', () => {
  describeLinks(async () => {
    const db = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'daybook-erasure-links-'));
    return { url: db.url, dir, drop: async () => { await db.drop(); rmSync(dir, { recursive: true, force: true }); } };
  });
});
