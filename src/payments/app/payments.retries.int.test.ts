/**
 * A request retried after its first attempt committed but its answer was
 * lost (a crash before the Idempotency-Key's record was kept): the Stripe
 * listener derives the new objects' ids from the key and the payload, so
 * the retry names the same objects, and the service answers what the first
 * attempt decided (a decline again as a decline) without moving money again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDaybookError } from '../../kernel/errors.ts';
import { payoutDestinationOf } from '../domain/payout.rules.ts';
import { paymentsLedgerAccountId } from './payments.ledgerPlan.ts';
import { closeWorld, ctxOf, openWorld, type World } from './payments.propertyWorld.ts';

const ctx = ctxOf('test');

describe('payments retried with the same ids', () => {
  let dir: string;
  let world: World;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'daybook-pay-retries-'));
    world = await openWorld(`sqlite:${join(dir, 'daybook.db')}`, { percentBps: 0n, fixedMinor: 0n, settlementDelayMs: 0, disputeFeeMinor: 0n });
  });
  afterAll(async () => {
    await closeWorld(world);
    rmSync(dir, { recursive: true, force: true });
  });

  const available = () => {
    const balances = world.payments.ledgers.test.state.account(paymentsLedgerAccountId('merchant_available', 'usd'))!.balances;
    return balances.creditsPosted - balances.debitsPosted;
  };
  const createAndConfirm = (paymentIntentId: string, paymentMethod: string) => world.payments.createAndConfirmPaymentIntent(ctx, {
    paymentIntentId, amount: 1000n, currency: 'usd', customerId: null, paymentMethodId: null, captureMethod: 'automatic', description: null,
    paymentMethod, newPaymentMethodId: `pm_of_${paymentIntentId}`, chargeId: `ch_of_${paymentIntentId}`,
  });

  it('answers a create+confirm again with the intent it made, charging once', async () => {
    const first = await createAndConfirm('pi_retry', 'pm_card_bypassPending');
    const again = await createAndConfirm('pi_retry', 'pm_card_bypassPending');
    expect(again.events).toEqual([]);
    expect(again.state).toEqual(first.state);
    expect(again.state.status === 'none' ? [] : again.state.charges).toHaveLength(1);
    expect(available()).toBe(1000n);
  });

  it('answers a declined create+confirm again with the same decline, one charge attempt', async () => {
    const attempts = [await createAndConfirm('pi_declined', 'pm_card_chargeDeclined').catch((error: unknown) => error)];
    attempts.push(await createAndConfirm('pi_declined', 'pm_card_chargeDeclined').catch((error: unknown) => error));
    for (const attempt of attempts) {
      expect(isDaybookError(attempt, 'card_declined')).toBe(true);
      expect((attempt as { details: unknown }).details).toMatchObject({ chargeId: 'ch_of_pi_declined', paymentIntentId: 'pi_declined' });
    }
    const intent = await world.payments.paymentIntent('test', 'pi_declined');
    expect(intent.status === 'none' ? [] : intent.charges).toHaveLength(1);
  });

  it('answers a refund again, refunding once', async () => {
    const refund = () => world.payments.createRefund(ctx, { paymentIntentId: 'pi_retry', chargeId: null, refundId: 're_retry', amount: 400n, reason: null });
    await refund();
    const again = await refund();
    expect(again.events).toEqual([]);
    expect(again.state.status === 'none' ? [] : again.state.refunds.map((item) => item.refundId)).toEqual(['re_retry']);
    expect(available()).toBe(600n);
  });

  it('answers a payout and a customer again, paying out once', async () => {
    const payout = () => world.payments.createPayout(ctx, world.readModel, {
      payoutId: 'po_retry', amount: 600n, currency: 'usd', destination: payoutDestinationOf(undefined), description: null, statementDescriptor: null,
    });
    await payout();
    expect((await payout()).events).toEqual([]);
    expect(available()).toBe(0n);
    const customer = () => world.payments.createCustomer(ctx, { customerId: 'cus_retry', pii: { name: 'Ada' } });
    await customer();
    expect((await customer()).events).toEqual([]);
  });
});
