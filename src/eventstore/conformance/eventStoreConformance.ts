/**
 * The one conformance suite every event store backend runs (STYLE.md §3).
 * Each backend has one test file that calls it with a factory opening a fresh,
 * empty store per test; a behaviour that differs between backends is a bug.
 *
 * @example
 * // src/eventstore/sqlite/sqliteEventStore.int.test.ts
 * describeEventStoreConformance('sqlite', async (options) => {
 *   const folder = mkdtempSync(join(tmpdir(), 'daybook-'));
 *   const store = await openEventStore(`sqlite:${join(folder, 'events.db')}`, options);
 *   return { store, tamper: …, teardown: async () => { await store.close(); rmSync(folder, { recursive: true }); } };
 * });
 */
import { describe } from 'vitest';
import { describeAppend } from './appendConformance.ts';
import { describeEnvelope } from './envelopeConformance.ts';
import type { ConformanceFactory } from './harness.ts';
import { describeIdempotency } from './idempotencyConformance.ts';
import { describeIntegrity } from './integrityConformance.ts';
import { describeLimits } from './limitsConformance.ts';
import { describeLocks } from './lockConformance.ts';
import { describeReads } from './readConformance.ts';
import { describeSubscriptions } from './subscriptionConformance.ts';

export type { ConformanceFactory, ConformanceHarness } from './harness.ts';

export function describeEventStoreConformance(name: string, factory: ConformanceFactory): void {
  describe(`event store conformance: ${name}`, () => {
    describeEnvelope(factory);
    describeAppend(factory);
    describeIdempotency(factory);
    describeReads(factory);
    describeSubscriptions(factory);
    describeIntegrity(factory);
    describeLimits(factory);
    describeLocks(factory);
  });
}
