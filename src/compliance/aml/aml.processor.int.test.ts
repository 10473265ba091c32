/**
 * The AML monitor on a real SQLite store and a real PostgreSQL database, fed by the real banking and
 * payments services: each rule's alert is raised once (one event on its own
 * stream), with the evidence's positions; a restart of the processor, a
 * rebuild from the start of the log (the processor replayed) and a second
 * raise of the same alerts append nothing; and the alerts are what one fold
 * of the whole log gives (batches do not change them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfPostgres } from '../../../test/support/postgres.ts';
import { BankingService } from '../../banking/index.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { fixedClock } from '../../kernel/index.ts';
import { PaymentsService } from '../../payments/index.ts';
import { createProjectionEngine, openReadModelStore, type ProjectionEngine, type ReadModelStore } from '../../projections/index.ts';
import { DEFAULT_AML_CONFIG } from './aml.config.ts';
import { AML_ALERT_CATEGORY, type AmlAlertRaised } from './aml.events.ts';
import { AML_PROJECTION_NAME, amlMonitorProjection, evaluateBatch, raiseAlerts } from './aml.processor.ts';
import { ActivitySource, AML_SOURCE_TYPES } from './aml.sources.ts';

const T0 = Date.UTC(2024, 4, 1, 9, 0, 0);
const MINUTE = 60_000;
const WAIT_MS = 30_000;

type Backend = { name: string; fresh(): Promise<{ url: string; cleanup(): Promise<void> }> };

function describeMonitor(backend: Backend): void {
  describe(`the AML monitor on ${backend.name}`, () => {
    let store: EventStore;
    let readModels: ReadModelStore;
    let engine: ProjectionEngine;
    const clock = fixedClock(T0);
    let cleanup: () => Promise<void>;

    function startEngine(): ProjectionEngine {
      return createProjectionEngine({ store, readModels, projections: [amlMonitorProjection(store)], maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 2 });
    }

    async function caughtUp(): Promise<void> {
      await engine.waitForPosition(AML_PROJECTION_NAME, await store.headPosition(), WAIT_MS);
    }

    async function alertEvents(): Promise<RecordedEvent[]> {
      const events: RecordedEvent[] = [];
      for await (const event of store.streamAll({ category: AML_ALERT_CATEGORY })) events.push(event);
      return events;
    }

    const summary = (events: RecordedEvent[]) => events.map((event) => {
      const { rule, customerId, subjectKind, accountId, amountMinor, count } = (event.data as AmlAlertRaised['data']);
      return { rule, customerId, subjectKind, accountId, amountMinor, count };
    }).sort((a, b) => a.rule.localeCompare(b.rule));

    beforeAll(async () => {
      const opened = await backend.fresh();
      cleanup = opened.cleanup;
      const url = opened.url;
      store = await openEventStore(url, { subscriptionPollMs: 20 });
      readModels = await openReadModelStore(url);
      engine = startEngine();
      await engine.start();

      let id = 0;
      const bank = await BankingService.open(store, { clock, ids: { next: () => `id-${(id += 1)}` } });
      for (const customerId of ['cus-1', 'cus-2']) await bank.registerCustomer({ customerId, pii: { fullName: customerId, email: `${customerId}@example.com` } });
      for (const [accountId, customerId] of [['a', 'cus-1'], ['b', 'cus-1'], ['c', 'cus-2']] as const) {
        await bank.openAccount({ accountId, customerId, accountType: 'checking', currency: 'USD', regulatoryTier: 'professional' });
      }
      // cus-1: 10,000.01 of cash in one day (CTR), then 94% of it out of account a within the hour (rapid movement).
      await bank.deposit({ accountId: 'a', amountMinor: 600_000n });
      clock.advance(10 * MINUTE);
      await bank.deposit({ accountId: 'a', amountMinor: 400_001n });
      clock.advance(10 * MINUTE);
      await bank.transfer({ fromAccountId: 'a', toAccountId: 'b', amountMinor: 950_000n });
      // cus-2: eleven deposits within the hour (velocity); a withdrawal the ledger refuses counts for nothing.
      for (let index = 0; index < 11; index += 1) {
        clock.advance(MINUTE);
        await bank.deposit({ accountId: 'c', amountMinor: 100n });
      }
      await bank.withdraw({ accountId: 'c', amountMinor: 5_000_000n });
      await bank.ledger.close();

      // A Stripe customer pays 9,000.00 three times within a day (structuring).
      const payments = await PaymentsService.open(store, { clock, fees: { percentBps: 0n, fixedMinor: 0n } });
      const ctx = { mode: 'test' as const, metadata: { actor: 'aml-test' } };
      await payments.createCustomer(ctx, { customerId: 'cus_big', pii: { name: 'Big Spender' } });
      for (let index = 1; index <= 3; index += 1) {
        clock.advance(3 * 60 * MINUTE);
        await payments.createAndConfirmPaymentIntent(ctx, {
          paymentIntentId: `pi_${index}`, amount: 900_000n, currency: 'usd', customerId: 'cus_big', paymentMethodId: null, captureMethod: 'automatic',
          description: null, paymentMethod: 'pm_card_visa', newPaymentMethodId: `pm_${index}`, chargeId: `ch_${index}`,
        });
      }
      await payments.close();
      await caughtUp();
    });

    afterAll(async () => {
      await engine.stop();
      await readModels.close();
      await store.close();
      await cleanup();
    });

    describe('alerts', () => {
      it('raises each rule\'s alert once, on a stream of its own, naming the customer and the evidence', async () => {
        const alerts = await alertEvents();
        expect(summary(alerts)).toEqual([
          { rule: 'ctr', customerId: 'cus-1', subjectKind: 'bank_customer', accountId: null, amountMinor: '1000001', count: 2 },
          { rule: 'rapid_movement', customerId: 'cus-1', subjectKind: 'bank_customer', accountId: 'a', amountMinor: '950000', count: 3 },
          { rule: 'structuring', customerId: 'cus_big', subjectKind: 'payments_customer', accountId: null, amountMinor: '2700000', count: 3 },
          { rule: 'velocity', customerId: 'cus-2', subjectKind: 'bank_customer', accountId: null, amountMinor: '1100', count: 11 },
        ]);
        expect(new Set(alerts.map((event) => event.streamId)).size).toBe(4);
        for (const event of alerts) {
          const data = event.data as AmlAlertRaised['data'];
          expect(event.streamId).toBe(`${AML_ALERT_CATEGORY}-${data.alertId}`);
          expect(event.metadata.actor).toBe('system:aml_monitor');
          // Evidence points at the very events that recorded the transactions.
          const evidence = (await store.readAll({ after: 0n, limit: 10_000 })).filter((recorded) => data.evidence.some((item) => item.position === recorded.position.toString()));
          expect(evidence.length).toBeGreaterThan(0);
          for (const recorded of evidence) expect(AML_SOURCE_TYPES).toContain(recorded.type);
        }
        const structuring = alerts.find((event) => (event.data as AmlAlertRaised['data']).rule === 'structuring')!;
        expect((structuring.data as AmlAlertRaised['data']).mode).toBe('test');
      });

      it('gives the same alerts as one fold of the whole log, whatever the batches were', async () => {
        const sources: RecordedEvent[] = [];
        for await (const event of store.streamAll({ types: AML_SOURCE_TYPES })) sources.push(event);
        const { alerts } = await evaluateBatch(sources, new ActivitySource(store), DEFAULT_AML_CONFIG, async () => new Map());
        const stored = await alertEvents();
        expect(alerts.map((alert) => alert.eventId).sort()).toEqual(stored.map((event) => event.eventId).sort());
        for (const alert of alerts) expect(stored.find((event) => event.eventId === alert.eventId)!.data).toEqual(alert.event.data);
        expect(await raiseAlerts(store, alerts)).toEqual([]);
      });

      it('raises nothing again after a restart of the processor, and goes on from where it was', async () => {
        const head = await store.headPosition();
        await engine.stop();
        engine = startEngine();
        await engine.start();
        await caughtUp();
        expect(await store.headPosition()).toBe(head);
        expect(await alertEvents()).toHaveLength(4);
      });

      it('raises nothing again when rebuilt from the start of the log (the processor replayed)', async () => {
        const head = await store.headPosition();
        await engine.rebuild(AML_PROJECTION_NAME);
        await caughtUp();
        expect(await store.headPosition()).toBe(head);
        expect(await alertEvents()).toHaveLength(4);
      });
    });
  });
}

describeMonitor({
  name: 'sqlite',
  async fresh() {
    const dir = mkdtempSync(join(tmpdir(), 'daybook-aml-'));
    return { url: `sqlite:${join(dir, 'daybook.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
});

describeIfPostgres('AML monitor', () => {
  describeMonitor({
    name: 'postgres',
    async fresh() {
      const database = await createTestDatabase();
      return { url: database.url, cleanup: () => database.drop() };
    },
  });
});
