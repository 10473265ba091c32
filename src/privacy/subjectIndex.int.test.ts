/**
 * The subject access export finds a subject's objects through the
 * `subject_index` projection (real SQLite store, read models and projection
 * engine): with the index caught up it reads no event of the `bankaccount`,
 * `banktxn`, `pmethod` and `pintent` categories, yet lists every account,
 * transaction, payment method and intent that names the subject (and none
 * of another customer's, or of the other mode's); with the index behind, it
 * reads only the log after the index's checkpoint and still lists it all;
 * without an index it reads the log (the same answer); a rebuilt index
 * answers the same. On SQLite, and on PostgreSQL when available.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfPostgres } from '../../test/support/postgres.ts';
import { categoryOf, type ReadAllOptions, type StreamWrite } from '../eventstore/index.ts';
import { openEventStore } from '../eventstore/open.ts';
import { systemClock } from '../kernel/index.ts';
import { createProjectionEngine, openReadModelStore, type ProjectionEngine, type ReadModelStore } from '../projections/index.ts';
import { openShreddingStore } from './openPrivacy.ts';
import type { ShreddingEventStore } from './shreddingEventStore.ts';
import { exportSubject } from './subjectExport.ts';
import { projectedSubjectIndex, SUBJECT_INDEX_PROJECTION_NAME, subjectIndexProjection } from './subjectIndex.projection.ts';

const LINKED = new Set(['bankaccount', 'banktxn', 'pmethod', 'pintent']);
const NOISE = 150;
const one = (streamId: string, type: string, data: object): StreamWrite => ({ streamId, events: [{ type, data }] });
const account = (accountId: string, customerId: string) => one(`bankaccount-${accountId}`, 'AccountOpened', { accountId, customerId, currency: 'USD' });
const transaction = (transactionId: string, fromAccountId: string | null, toAccountId: string | null) =>
  one(`banktxn-${transactionId}`, 'TransactionInitiated', { transactionId, fromAccountId, toAccountId, amount: '100' });
const method = (mode: string, paymentMethodId: string, customerId: string | null, type = 'PaymentMethodCreated') =>
  one(`pmethod-${mode}.${paymentMethodId}`, type, { paymentMethodId, customerId });
const intent = (mode: string, paymentIntentId: string, customerId: string | null, type = 'PaymentIntentCreated') =>
  one(`pintent-${mode}.${paymentIntentId}`, type, { paymentIntentId, customerId });

/** Where the log and read models are, and a folder for the master key. */
type Database = { url: string; dir: string; drop(): Promise<void> };

function describeExport(openDatabase: () => Promise<Database>): void {
let database: Database;
let store: ShreddingEventStore;
let readModels: ReadModelStore;
let engine: ProjectionEngine;
/** Events of the linked categories that `streamAll` handed out. */
let linkedRead = 0;
let spied: ShreddingEventStore;


async function caughtUp(): Promise<void> {
  await engine.waitForPosition(SUBJECT_INDEX_PROJECTION_NAME, await store.headPosition(), 10_000);
}

beforeAll(async () => {
  database = await openDatabase();
  const { url } = database;
  store = await openShreddingStore(await openEventStore(url), { storeUrl: url, keysDir: join(database.dir, 'keys') });
  readModels = await openReadModelStore(url);
  await store.append([one('customer-test.ada', 'Noted', {}), one('pcustomer-test.cus_1', 'Noted', {})]);
  for (let index = 0; index < NOISE; index += 1) {
    await store.append([account(`test.n${index}`, 'test.other'), transaction(`tn${index}`, `test.n${index}`, null), method('test', `pm_n${index}`, 'cus_other'), intent('test', `pi_n${index}`, null)]);
  }
  await store.append([account('test.acc1', 'test.ada'), transaction('t1', 'test.acc1', 'test.n1'), transaction('t2', null, 'test.acc1')]);
  await store.append([method('test', 'pm_1', 'cus_1'), method('test', 'pm_2', null), method('live', 'pm_live', 'cus_1'), intent('test', 'pi_1', 'cus_1')]);
  await store.append([
    { streamId: 'pmethod-test.pm_2', events: [{ type: 'PaymentMethodAttached', data: { paymentMethodId: 'pm_2', customerId: 'cus_1' } }] },
    { streamId: 'pintent-test.pi_n3', events: [{ type: 'PaymentIntentUpdated', data: { paymentIntentId: 'pi_n3', customerId: 'cus_1' } }] },
  ]);
  engine = createProjectionEngine({ store, readModels, projections: [subjectIndexProjection] });
  await engine.start();
  await caughtUp();
  // Reads through the raw store (`inner`: the payment links of a Stripe customer) are counted too.
  const spy = <T extends object>(target: T): T => new Proxy(target, {
    get(object, key, receiver) {
      if (key === 'inner') return spy(Reflect.get(object, key, receiver) as object);
      if (key !== 'streamAll') return Reflect.get(object, key, receiver);
      const original = (object as unknown as ShreddingEventStore).streamAll.bind(object);
      return async function* streamAll(options?: Omit<ReadAllOptions, 'limit'>) {
        for await (const event of original(options)) {
          if (LINKED.has(categoryOf(event.streamId))) linkedRead += 1;
          yield event;
        }
      };
    },
  });
  spied = spy(store);
}, 60_000);

afterAll(async () => {
  await engine.stop();
  await readModels.close();
  await store.close();
  await database.drop();
});

async function exported(subject: string, withIndex = true) {
  linkedRead = 0;
  const report = await exportSubject(spied, subject, systemClock, withIndex ? projectedSubjectIndex(readModels) : undefined);
  return { related: report.related, linkedRead };
}

describe('the subject export through the subject index', () => {
  it('lists every related object without reading the linked categories', async () => {
    const bank = await exported('bankcustomer:test.ada');
    expect(bank.related).toEqual({ bankAccounts: ['test.acc1'], bankTransactions: ['t1', 't2'] });
    expect(bank.linkedRead).toBe(0);
    const stripe = await exported('pcustomer:test:cus_1');
    expect(stripe.related).toEqual({ paymentMethods: ['pm_1', 'pm_2'], paymentIntents: ['pi_1', 'pi_n3'] });
    expect(stripe.linkedRead).toBe(0);
  });

  it('reads only the log after the index\'s checkpoint when the index is behind', async () => {
    await engine.stop();
    try {
      await store.append([account('test.acc2', 'test.ada'), transaction('t3', 'test.acc2', null), transaction('t4', 'test.n2', 'test.acc1')]);
      await store.append([method('test', 'pm_3', 'cus_1'), intent('test', 'pi_2', 'cus_1', 'PaymentIntentUpdated')]);
      const bank = await exported('bankcustomer:test.ada');
      expect(bank.related).toEqual({ bankAccounts: ['test.acc1', 'test.acc2'], bankTransactions: ['t1', 't2', 't3', 't4'] });
      expect(bank.linkedRead).toBeLessThanOrEqual(5);
      const stripe = await exported('pcustomer:test:cus_1');
      expect(stripe.related).toEqual({ paymentMethods: ['pm_1', 'pm_2', 'pm_3'], paymentIntents: ['pi_1', 'pi_n3', 'pi_2'] });
      expect(stripe.linkedRead).toBeLessThanOrEqual(5);
    } finally {
      await engine.start();
    }
    await caughtUp();
    expect((await exported('bankcustomer:test.ada')).linkedRead).toBe(0);
  });

  it('answers the same without an index (reading the log), and from a rebuilt index', async () => {
    const indexed = await exported('bankcustomer:test.ada');
    const unindexed = await exported('bankcustomer:test.ada', false);
    expect(unindexed.related).toEqual(indexed.related);
    expect(unindexed.linkedRead).toBeGreaterThan(NOISE);
    await engine.rebuild(SUBJECT_INDEX_PROJECTION_NAME);
    await caughtUp();
    expect(await exported('bankcustomer:test.ada')).toEqual(indexed);
    expect((await exported('pcustomer:test:cus_1')).related).toEqual({ paymentMethods: ['pm_1', 'pm_2', 'pm_3'], paymentIntents: ['pi_1', 'pi_n3', 'pi_2'] });
  });
});
}

describe('on SQLite', () => {
  describeExport(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daybook-subject-index-'));
    return { url: `sqlite:${join(dir, 'daybook.db')}`, dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  });
});

describeIfPostgres('on PostgreSQL', () => {
  describeExport(async () => {
    const db = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'daybook-subject-index-'));
    return { url: db.url, dir, drop: async () => { await db.drop(); rmSync(dir, { recursive: true, force: true }); } };
  });
});
