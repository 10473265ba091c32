/**
 * `npm run bench -- erasure`: what crypto-shredding costs on the write path.
 * Bank customers are registered (BankingService.registerCustomer: decide,
 * append one `CustomerRegistered` with five personal-data fields) by 16
 * concurrent callers, each on a new customer, on the same backend in the
 * same run:
 *
 * - `customer create plaintext c16` (baseline): the store as it is.
 * - `customer create encrypted c16`: through the shredding store: a new
 *   data key per customer (random, wrapped by the master key, inserted in
 *   the key store) and each field sealed (AES-256-GCM) before the append.
 *
 * The ratio column is encrypted / plaintext. Latency is per registration.
 */
import { join } from 'node:path';
import { BankingService } from '../../src/banking/index.ts';
import type { EventStore } from '../../src/eventstore/index.ts';
import { openEventStore } from '../../src/eventstore/open.ts';
import { openShreddingStore } from '../../src/privacy/index.ts';
import type { Backend, BenchArea, BenchContext, BenchRow, TargetCheck } from '../support/bench.ts';
import { Budget, measure, runConcurrently } from '../support/measure.ts';
import { findRow } from '../support/results.ts';

const PLAIN = 'customer create plaintext c16';
const SEALED = 'customer create encrypted c16';
const CONCURRENCY = 16;

async function workload(ctx: BenchContext, backend: Backend, name: string, encrypted: boolean): Promise<void> {
  const dir = await ctx.tempDir('erasure');
  const database = backend === 'postgres' ? await ctx.postgres.database() : null;
  const storeUrl = database?.url ?? `sqlite:${join(dir.path, 'daybook.db')}`;
  const raw = await openEventStore(storeUrl);
  let store: EventStore = raw;
  try {
    if (encrypted) store = await openShreddingStore(raw, { storeUrl, keysDir: join(dir.path, 'keys') });
    const bank = await BankingService.open(store, { ledgerPartition: 'bench' });
    const budget = new Budget(ctx.quick ? 2_000 : 50_000, ctx.quick ? 2_000 : 10_000);
    let next = 0;
    const row: BenchRow = await measure({ workload: name, backend, baseline: encrypted ? PLAIN : null }, async ({ latency }) => {
      await runConcurrently(CONCURRENCY, async () => {
        while (budget.take(1)) {
          const id = `c${next++}`;
          const started = performance.now();
          await bank.registerCustomer({ customerId: id, pii: { fullName: `Customer ${id}`, email: `${id}@example.com`, phone: '+1 555 0100', dateOfBirth: '1990-01-01', address: '1 Main St' } });
          latency.record(performance.now() - started);
        }
      });
      return { count: next, extra: { latency_unit: 'registration', concurrency: CONCURRENCY } };
    });
    ctx.record(row);
    await bank.ledger.close();
  } finally {
    await store.close();
    await database?.drop();
    await dir.remove();
  }
}

async function run(ctx: BenchContext): Promise<void> {
  ctx.log(`erasure: customer registrations, c${CONCURRENCY}, ${ctx.quick ? 'quick (2 s or 2K)' : '10 s or 50K'} per workload`);
  for (const backend of ctx.backends) {
    if (ctx.wants(PLAIN)) await ctx.step(`${PLAIN} ${backend}`, () => workload(ctx, backend, PLAIN, false));
    if (ctx.wants(SEALED)) await ctx.step(`${SEALED} ${backend}`, () => workload(ctx, backend, SEALED, true));
  }
}

function targets(rows: readonly BenchRow[], ctx: BenchContext): TargetCheck[] {
  return ctx.backends.flatMap((backend) => {
    const sealed = findRow(rows, backend, SEALED);
    if (!sealed) return [];
    return [{ label: `${backend}: encrypted / plaintext customer creations`, pass: null, info: true, actual: `${sealed.events_per_s}/s, ratio ${sealed.ratio}` }];
  });
}

const area: BenchArea = { run, targets };
export default area;
