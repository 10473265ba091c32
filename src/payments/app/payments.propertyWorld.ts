/**
 * The world a payments property test runs in (payments.property.int.test.ts)
 * and the invariants it checks after every step: a real store with the
 * payments and ledger_balances projections, the PaymentsService under test
 * with the run's terms, and the reference model beside it. Each check
 * compares what the service, its ledger and its read model hold with what
 * the model says, and asserts the invariants that hold whatever the model
 * says (every ledger sums to zero; no charge refunded beyond its capture;
 * the balance transactions' nets are the merchant balance).
 */
import { expect } from 'vitest';
import type { EventStore } from '../../eventstore/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { createProjectionEngine, openReadModelStore, type ProjectionEngine, type ReadModelStore } from '../../projections/index.ts';
import { LEDGER_BALANCES_TABLE, LEDGER_BALANCES_PROJECTION_NAME, ledgerBalancesProjection } from '../../projections/builtin/index.ts';
import { amountCapturable, amountReceived, type ExistingPaymentIntent } from '../domain/paymentIntent.state.ts';
import type { PaymentCurrency } from '../domain/payments.rules.ts';
import { PAYMENTS_LEDGER_ACCOUNT_KINDS, paymentsLedgerAccountId, paymentsLedgerPartition } from './payments.ledgerPlan.ts';
import { PAYMENTS_OBJECTS_TABLE, PAYMENTS_PROJECTION_NAME, paymentsProjection } from './payments.projection.ts';
import { PaymentsReadModel } from './payments.readModel.ts';
import { type ModelTerms, PaymentsModel } from './payments.referenceModel.ts';
import { PAYMENT_MODES, type PaymentMode, PaymentsService, type PaymentsOptions } from './payments.service.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
export const CURRENCIES: readonly PaymentCurrency[] = ['usd', 'eur', 'jpy'];
export const WAIT_MS = 30_000;
const PROJECTIONS = [paymentsProjection, ledgerBalancesProjection];

export type World = {
  url: string;
  store: EventStore;
  readModels: ReadModelStore;
  engine: ProjectionEngine;
  payments: PaymentsService;
  readModel: PaymentsReadModel;
  clock: ReturnType<typeof fixedClock>;
  options: PaymentsOptions;
  model: PaymentsModel;
  nextId: number;
};

export const ctxOf = (mode: PaymentMode) => ({ mode, metadata: { actor: 'payments-property' } });

export async function openWorld(url: string, terms: ModelTerms): Promise<World> {
  const store = await openEventStore(url, { subscriptionPollMs: 20 });
  const readModels = await openReadModelStore(url);
  const engine = createProjectionEngine({ store, readModels, projections: PROJECTIONS, maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 2 });
  await engine.start();
  const clock = fixedClock(T0);
  const options: PaymentsOptions = {
    clock, fees: { percentBps: terms.percentBps, fixedMinor: terms.fixedMinor }, settlementDelayMs: terms.settlementDelayMs, disputeFeeMinor: terms.disputeFeeMinor,
  };
  const payments = await PaymentsService.open(store, options);
  return { url, store, readModels, engine, payments, readModel: new PaymentsReadModel(store, readModels, engine), clock, options, model: new PaymentsModel(terms), nextId: 0 };
}

export async function closeWorld(world: World): Promise<void> {
  await world.payments.close();
  await world.engine.stop();
  await world.readModels.close();
  await world.store.close();
}

/** Ids with one counter for every prefix: balance transaction ids (`txn_` + the source's suffix) never collide. */
export function newId(world: World, prefix: string): string {
  world.nextId += 1;
  return `${prefix}_${world.nextId}`;
}

/** One payout as the service holds it: the model's status and amount. */
export async function checkPayout(world: World, payoutId: string): Promise<void> {
  const expected = world.model.payout(payoutId);
  const state = await world.payments.payout(expected.mode, payoutId);
  if (state.status === 'none') throw new Error(`payout ${payoutId} is not in the store`);
  expect({ payoutId, status: state.status, amount: state.amount, currency: state.currency }).toEqual({ payoutId, status: expected.status, amount: expected.amount, currency: expected.currency });
}

/** GET /v1/balance's path: settles what is due, then reads the ledger; it must be the model's after the same sweep. */
export async function checkBalanceRead(world: World, mode: PaymentMode, reached: Map<string, number>): Promise<void> {
  const balances = await world.payments.balance(mode, world.readModel);
  const settled = world.model.settle(mode, world.clock.nowMs());
  if (settled > 0) reached.set('settled by a sweep', (reached.get('settled by a sweep') ?? 0) + settled);
  for (const currency of CURRENCIES) {
    const expected = world.model.balance(mode, currency);
    const actual = balances.find((item) => item.currency === currency)!;
    expect({ mode, currency, available: actual.availableMinor, pending: actual.pendingMinor }).toEqual({ mode, currency, available: expected.available, pending: expected.pending });
  }
}

/** The ledger behind the balance: merchant accounts, fees, card network and holds as the model says; every ledger sums to zero. */
export function checkLedger(world: World): void {
  for (const mode of PAYMENT_MODES) {
    for (const currency of CURRENCIES) {
      const balances = (kind: (typeof PAYMENTS_LEDGER_ACCOUNT_KINDS)[number]) => world.payments.ledgers[mode].state.account(paymentsLedgerAccountId(kind, currency))!.balances;
      const posted = (kind: (typeof PAYMENTS_LEDGER_ACCOUNT_KINDS)[number]) => balances(kind).creditsPosted - balances(kind).debitsPosted;
      const pendingNet = (kind: (typeof PAYMENTS_LEDGER_ACCOUNT_KINDS)[number]) => balances(kind).creditsPending - balances(kind).debitsPending;
      const expected = world.model.balance(mode, currency);
      expect({
        mode, currency, available: posted('merchant_available'), pending: posted('merchant_pending'), fees: posted('fees'), cardNetwork: posted('card_network'),
        payoutInTransit: posted('payout_in_transit'), bank: posted('bank'),
        holdsOnCardNetwork: balances('card_network').debitsPending, holdsOnMerchant: balances('merchant_pending').creditsPending,
        postedSum: PAYMENTS_LEDGER_ACCOUNT_KINDS.reduce((sum, kind) => sum + posted(kind), 0n),
        pendingSum: PAYMENTS_LEDGER_ACCOUNT_KINDS.reduce((sum, kind) => sum + pendingNet(kind), 0n),
      }).toEqual({
        mode, currency, available: expected.available, pending: expected.pending, fees: expected.fees, cardNetwork: expected.cardNetwork,
        payoutInTransit: expected.payoutInTransit, bank: expected.bank,
        holdsOnCardNetwork: expected.holds, holdsOnMerchant: expected.holds, postedSum: 0n, pendingSum: 0n,
      });
    }
  }
}

type ObjectRow = { mode: string; id: string; object: string; currency: string | null; net_minor: bigint | number | null; settled: bigint | number };

/** The read model: exactly the model's objects; its balance transactions' nets sum to the ledger's merchant balance. */
export async function checkReadModel(world: World): Promise<void> {
  await world.readModel.fresh();
  const rows = await world.engine.query(PAYMENTS_PROJECTION_NAME, (q) =>
    q.query<ObjectRow>(`SELECT mode, id, object, currency, net_minor, settled FROM ${q.table(PAYMENTS_OBJECTS_TABLE)}`));
  expect(rows.map((row) => row.id).sort()).toEqual([...world.model.objectIds].sort());
  const transactions = rows.filter((row) => row.object === 'balance_transaction')
    .map((row) => ({ id: row.id, mode: row.mode, currency: row.currency, net: BigInt(row.net_minor!), settled: BigInt(row.settled) === 1n }));
  const expected = world.model.transactions.map((txn) => ({ id: txn.balanceTransactionId, mode: txn.mode, currency: txn.currency, net: txn.net, settled: txn.settled }));
  const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  expect(transactions.sort(byId)).toEqual(expected.sort(byId));
  for (const mode of PAYMENT_MODES) {
    for (const currency of CURRENCIES) {
      const nets = transactions.filter((txn) => txn.mode === mode && txn.currency === currency).reduce((sum, txn) => sum + txn.net, 0n);
      const ledger = world.payments.ledgers[mode].state;
      const merchant = (['merchant_available', 'merchant_pending'] as const).reduce((sum, kind) => {
        const balances = ledger.account(paymentsLedgerAccountId(kind, currency))!.balances;
        return sum + balances.creditsPosted - balances.debitsPosted;
      }, 0n);
      expect({ mode, currency, sumOfNets: nets }).toEqual({ mode, currency, sumOfNets: merchant });
    }
  }
}

/** One intent as the service holds it: the model's figures, and amounts that fit its status. */
export async function checkIntent(world: World, paymentIntentId: string): Promise<ExistingPaymentIntent> {
  const expected = world.model.intent(paymentIntentId);
  const state = await world.payments.paymentIntent(expected.mode, paymentIntentId);
  if (state.status === 'none') throw new Error(`intent ${paymentIntentId} is not in the store`);
  const capturable = amountCapturable(state);
  const received = amountReceived(state);
  expect({
    status: state.status, received, capturable,
    charges: state.charges.map((charge) => ({ chargeId: charge.chargeId, captured: charge.amountCaptured, refunded: charge.amountRefunded, declined: charge.failure?.declineCode ?? null })),
    disputes: state.disputes.map((dispute) => ({ disputeId: dispute.disputeId, chargeId: dispute.chargeId, status: dispute.status, amount: dispute.amount, fee: dispute.fee })),
  }).toEqual({
    status: expected.status, received: expected.charges.reduce((sum, charge) => sum + charge.captured, 0n),
    capturable: expected.status === 'requires_capture' ? expected.amount : 0n,
    charges: expected.charges.map((charge) => ({ chargeId: charge.chargeId, captured: charge.captured, refunded: charge.refunded, declined: charge.declineCode })),
    disputes: [...world.model.disputes.values()].filter((dispute) => dispute.paymentIntentId === paymentIntentId)
      .map((dispute) => ({ disputeId: dispute.disputeId, chargeId: dispute.chargeId, status: dispute.status, amount: dispute.amount, fee: dispute.fee })),
  });
  // Stripe's status machine, independently of the model.
  expect(capturable > 0n).toBe(state.status === 'requires_capture');
  expect(received > 0n).toBe(state.status === 'succeeded');
  expect(received <= state.amount).toBe(true);
  for (const charge of state.charges) {
    expect(charge.amountRefunded <= charge.amountCaptured, `${charge.chargeId} refunded ${charge.amountRefunded} of ${charge.amountCaptured}`).toBe(true);
    expect(state.refunds.filter((refund) => refund.chargeId === charge.chargeId).reduce((sum, refund) => sum + refund.amount, 0n)).toBe(charge.amountRefunded);
  }
  if (state.status === 'requires_payment_method' && state.charges.length > 0) expect(state.lastPaymentError?.chargeId).toBe(state.charges.at(-1)!.chargeId);
  return state;
}

/** ledger_balances holds, for every payments account, what the ledger engine holds. */
export async function checkLedgerBalancesReadModel(world: World): Promise<void> {
  for (const mode of PAYMENT_MODES) {
    const rows = await world.engine.query(LEDGER_BALANCES_PROJECTION_NAME, (q) => q.query<{ account_id: string; debits_pending: bigint; debits_posted: bigint; credits_pending: bigint; credits_posted: bigint }>(
      `SELECT account_id, debits_pending, debits_posted, credits_pending, credits_posted FROM ${q.table(LEDGER_BALANCES_TABLE)} WHERE partition = $1`, [paymentsLedgerPartition(mode)]));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const record = world.payments.ledgers[mode].state.account(row.account_id)!;
      expect({ id: row.account_id, debitsPending: BigInt(row.debits_pending), debitsPosted: BigInt(row.debits_posted), creditsPending: BigInt(row.credits_pending), creditsPosted: BigInt(row.credits_posted) })
        .toEqual({ id: row.account_id, ...record.balances });
    }
  }
}
