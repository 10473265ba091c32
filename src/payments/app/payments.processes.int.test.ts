/**
 * Two PaymentsService instances on one store, as two server processes on one
 * database would be (each its own locks, caches and ledger engines): requests
 * on the same object racing each other move money once. Two full refunds of
 * one charge refund it once, two payouts of the whole available balance pay
 * it out once; the loser is refused (a version conflict its client retries,
 * or the decider's refusal when it came second), and the ledger never holds
 * a movement without the payment event it belongs to. SQLite and PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, describeIfPostgres } from '../../../test/support/postgres.ts';
import { isDaybookError } from '../../kernel/errors.ts';
import { payoutDestinationOf } from '../domain/payout.rules.ts';
import { paymentsLedgerAccountId } from './payments.ledgerPlan.ts';
import { closeWorld, ctxOf, openWorld, type World } from './payments.propertyWorld.ts';
import { PaymentsService } from './payments.service.ts';

const TERMS = { percentBps: 0n, fixedMinor: 0n, settlementDelayMs: 0, disputeFeeMinor: 1500n };
const ctx = ctxOf('test');
const ROUNDS = 6;

type Factory = () => Promise<{ url: string; cleanup(): Promise<void> }>;

function describeTwoProcesses(name: string, factory: Factory): void {
  describe(`payments in two processes on one ${name} store`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    afterEach(async () => { for (const cleanup of cleanups.splice(0).reverse()) await cleanup(); });

    async function open(): Promise<{ world: World; a: PaymentsService; b: PaymentsService }> {
      const { url, cleanup } = await factory();
      cleanups.push(cleanup);
      const world = await openWorld(url, TERMS);
      cleanups.push(() => closeWorld(world));
      const b = await PaymentsService.open(world.store, world.options);
      cleanups.push(() => b.close());
      return { world, a: world.payments, b };
    }

    /** A captured payment of `amount` on a card whose money is available at once. */
    async function paid(payments: PaymentsService, id: string, amount: bigint): Promise<string> {
      const method = await payments.createPaymentMethod(ctx, { paymentMethodId: `pm_${id}`, card: payments.cardOf('4000000000000077', 12, 2040) });
      const paymentIntentId = `pi_${id}`;
      await payments.createPaymentIntent(ctx, { paymentIntentId, amount, currency: 'usd', customerId: null, paymentMethodId: method.state.status === 'none' ? null : `pm_${id}`, captureMethod: 'automatic', description: null });
      await payments.confirmPaymentIntent(ctx, paymentIntentId, { chargeId: `ch_${id}` });
      return paymentIntentId;
    }

    function netOf(payments: PaymentsService, kind: 'merchant_available' | 'card_network' | 'payout_in_transit'): bigint {
      const balances = payments.ledgers.test.state.account(paymentsLedgerAccountId(kind, 'usd'))!.balances;
      return balances.creditsPosted - balances.debitsPosted;
    }

    it('refunds a charge once when two processes refund all of it at the same time', async () => {
      const { world, a, b } = await open();
      const conflicts: unknown[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        const paymentIntentId = await paid(a, `r${round}`, 1000n);
        const results = await Promise.allSettled([
          a.createRefund(ctx, { paymentIntentId, chargeId: null, refundId: `re_a${round}`, amount: null, reason: null }),
          b.createRefund(ctx, { paymentIntentId, chargeId: null, refundId: `re_b${round}`, amount: null, reason: null }),
        ]);
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        const lost = (results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason;
        expect(isDaybookError(lost, 'stream_version_conflict') || isDaybookError(lost, 'charge_already_refunded'), String(lost)).toBe(true);
        if (isDaybookError(lost, 'stream_version_conflict')) conflicts.push(lost);
        const intent = await a.paymentIntent('test', paymentIntentId);
        expect(intent.status === "none" ? [] : intent.refunds).toHaveLength(1);
      }
      // Every refund the ledger holds is one a PaymentIntent records: each round's 1000 went out once.
      await a.ledgers.test.catchUp();
      expect(netOf(a, 'merchant_available')).toBe(0n);
      expect(netOf(a, 'card_network')).toBe(0n);
      // The race was real: some rounds decided both refunds on the same version.
      expect(conflicts.length).toBeGreaterThan(0);
    });

    it('pays the available balance out once when two processes pay all of it out at the same time', async () => {
      const { world, a, b } = await open();
      const destination = payoutDestinationOf(undefined);
      let conflicts = 0;
      for (let round = 0; round < ROUNDS; round += 1) {
        await paid(a, `p${round}`, 700n);
        const payout = (payments: PaymentsService, id: string) => payments.createPayout(ctx, world.readModel, {
          payoutId: id, amount: 700n, currency: 'usd', destination, description: null, statementDescriptor: null,
        });
        const results = await Promise.allSettled([payout(a, `po_a${round}`), payout(b, `po_b${round}`)]);
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        const lost = (results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason;
        expect(isDaybookError(lost, 'stream_version_conflict') || isDaybookError(lost, 'balance_insufficient'), String(lost)).toBe(true);
        if (isDaybookError(lost, 'stream_version_conflict')) conflicts += 1;
        await a.ledgers.test.catchUp();
        expect(netOf(a, 'merchant_available')).toBe(0n);
      }
      expect(netOf(a, 'payout_in_transit')).toBe(700n * BigInt(ROUNDS));
      expect(conflicts).toBeGreaterThan(0);
    });
  });
}

describeTwoProcesses('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'daybook-pay-procs-'));
  return { url: `sqlite:${join(dir, 'daybook.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

describeIfPostgres('payments in two processes (PostgreSQL)', () => {
  describeTwoProcesses('PostgreSQL', async () => {
    const db = await createTestDatabase();
    return { url: db.url, cleanup: () => db.drop() };
  });
});
