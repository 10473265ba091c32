/**
 * The payments invariants, as property tests on a real store (SQLite; a
 * smaller run on PostgreSQL). Random sequences of payment intents
 * (automatic and manual capture, partial captures, declines through the
 * test cards, cancels, test and live mode, three currencies), refunds
 * (partial, several on one charge, some above what is refundable) and
 * settlement sweeps run through the PaymentsService, with a random fee
 * schedule and settlement delay, against a tiny reference model
 * (payments.referenceModel.ts). After every step:
 *
 * - the service answers what the model answers (ok, or the same refusal);
 * - per mode and currency, the ledger's merchant accounts hold the model's
 *   available and pending balance, the fees account its fees, the card
 *   network the captured minus refunded amount, and the open holds; every
 *   ledger sums to zero, posted and pending;
 * - the read model indexes exactly the model's objects, its balance
 *   transactions carry the model's nets and settlement, and their nets sum
 *   to the ledger's merchant balance (available + pending);
 * - the intent touched has the model's status, amount_received,
 *   amount_capturable and refunded amounts; no charge has more refunded
 *   than captured; the amounts fit the status machine.
 *
 * At the end of a run, after every transaction is due: the balance read
 * settles all of it (pending 0, available = sum of nets); a rebuild of the
 * payments projection from the log gives the same read model; the
 * ledger_balances read model equals the ledger; and a service reopened
 * from the log has the same ledger balances and intents. The outcomes worth
 * reaching (each decline code, partial capture below the fee, a second
 * refund, refusals, sweeps) are counted and must all have been reached.
 *
 * Fixed seed; DAYBOOK_FC_SEED explores another, DAYBOOK_FC_RUNS sets the
 * runs (default 40 on SQLite, 5 on PostgreSQL; each run is a fresh store),
 * DAYBOOK_FC_STATS=1 prints how often each outcome was reached.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { propertyParameters } from '../../../test/support/fastCheck.ts';
import { describeIfPostgres, resettableTestDatabase } from '../../../test/support/postgres.ts';
import type { EventStore } from '../../eventstore/index.ts';
import { openEventStore } from '../../eventstore/open.ts';
import { fixedClock } from '../../kernel/clock.ts';
import { isDaybookError } from '../../kernel/errors.ts';
import { createProjectionEngine, dumpReadModel, openReadModelStore, type ProjectionEngine, type ReadModelStore } from '../../projections/index.ts';
import { LEDGER_BALANCES_PROJECTION_NAME, LEDGER_BALANCES_TABLE, ledgerBalancesProjection } from '../../projections/builtin/index.ts';
import { amountCapturable, amountReceived, type ExistingPaymentIntent } from '../domain/paymentIntent.state.ts';
import type { PaymentCurrency } from '../domain/payments.rules.ts';
import { aPaymentStep, amountOf, type PaymentStep, someTerms } from './payments.arbitraries.ts';
import { PAYMENTS_LEDGER_ACCOUNT_KINDS, paymentsLedgerAccountId, paymentsLedgerPartition } from './payments.ledgerPlan.ts';
import { PAYMENTS_OBJECTS_TABLE, PAYMENTS_PROJECTION_NAME, paymentsProjection } from './payments.projection.ts';
import { PaymentsReadModel } from './payments.readModel.ts';
import { type ModelAnswer, type ModelTerms, PaymentsModel } from './payments.referenceModel.ts';
import { PAYMENT_MODES, type PaymentMode, PaymentsService, type PaymentsOptions } from './payments.service.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const CURRENCIES: readonly PaymentCurrency[] = ['usd', 'eur', 'jpy'];
const WAIT_MS = 30_000;
const PROJECTIONS = [paymentsProjection, ledgerBalancesProjection];

/** Outcomes a run of the default size must reach (the model names them). */
const WANTED = [
  'created (test)', 'created (live)', 'create below the minimum refused', 'captured automatically', 'captured automatically, bypassing pending',
  'authorized for manual capture', 'captured in full', 'captured partially', 'captured partially below the fee', 'capture above capturable refused',
  'declined: generic_decline', 'declined: insufficient_funds', 'captured after a decline', 'confirm without a payment method refused',
  'canceled, hold voided', 'canceled before authorization', 'cancel refused (succeeded)', 'refunded partially', 'refunded the rest',
  'refunded the rest, after an earlier refund', 'refund above the refundable amount refused', 'refund of a refunded charge refused',
  'refund of an uncaptured intent refused', 'settled by a sweep',
];

type World = {
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

const ctxOf = (mode: PaymentMode) => ({ mode, metadata: { actor: 'payments-property' } });

async function openWorld(url: string, terms: ModelTerms): Promise<World> {
  const store = await openEventStore(url, { subscriptionPollMs: 20 });
  const readModels = await openReadModelStore(url);
  const engine = createProjectionEngine({ store, readModels, projections: PROJECTIONS, maxAttempts: 2, initialBackoffMs: 1, maxBackoffMs: 2 });
  await engine.start();
  const clock = fixedClock(T0);
  const options: PaymentsOptions = { clock, fees: { percentBps: terms.percentBps, fixedMinor: terms.fixedMinor }, settlementDelayMs: terms.settlementDelayMs };
  const payments = await PaymentsService.open(store, options);
  return { url, store, readModels, engine, payments, readModel: new PaymentsReadModel(store, readModels, engine), clock, options, model: new PaymentsModel(terms), nextId: 0 };
}

async function closeWorld(world: World): Promise<void> {
  await world.payments.close();
  await world.engine.stop();
  await world.readModels.close();
  await world.store.close();
}

/** Ids with one counter for every prefix: balance transaction ids (`txn_` + the source's suffix) never collide. */
function newId(world: World, prefix: string): string {
  world.nextId += 1;
  return `${prefix}_${world.nextId}`;
}

async function answerOf(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    if (isDaybookError(error)) return error.code;
    throw error;
  }
}

function expectAnswer(reached: Map<string, number>, step: PaymentStep, actual: string, expected: ModelAnswer): void {
  expect(actual, `${JSON.stringify(step, (_, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value))}: ${expected.outcome}`).toBe(expected.code);
  reached.set(expected.outcome, (reached.get(expected.outcome) ?? 0) + 1);
}

/** A test PaymentMethod (`pm_card_<name>`) made into a PaymentMethod of its own, as the HTTP routes do. */
async function methodOf(world: World, mode: PaymentMode, card: string) {
  const paymentMethodId = newId(world, 'pm');
  world.model.objectIds.add(paymentMethodId);
  return world.payments.resolvePaymentMethod(ctxOf(mode), `pm_card_${card}`, paymentMethodId);
}

/** The intent a step aims at, or undefined when there is none yet. */
function targetOf(world: World, step: Extract<PaymentStep, { pick: number }>) {
  const aimed = step.aimed ? world.model.candidates(step.kind) : [];
  const pool = aimed.length > 0 ? aimed : [...world.model.intents.values()];
  return pool.length === 0 ? undefined : pool[step.pick % pool.length];
}

/** Runs one step through the service and the model; returns the intent it touched. */
async function runStep(world: World, step: PaymentStep, reached: Map<string, number>): Promise<string | undefined> {
  const { payments, model, clock } = world;
  if (step.kind === 'advance') {
    clock.advance(step.ms);
    for (const mode of PAYMENT_MODES) await checkBalanceRead(world, mode, reached);
    return undefined;
  }
  if (step.kind === 'create') return runCreate(world, step, reached);
  const intent = targetOf(world, step);
  if (intent === undefined) return undefined;
  const { paymentIntentId, mode } = intent;
  const ctx = ctxOf(mode);
  switch (step.kind) {
    case 'confirm': {
      const method = step.card === null ? undefined : await methodOf(world, mode, step.card);
      const chargeId = newId(world, 'ch');
      const actual = await answerOf(() => payments.confirmPaymentIntent(ctx, paymentIntentId, { paymentMethod: method, chargeId }));
      expectAnswer(reached, step, actual, model.confirm(paymentIntentId, chargeId, step.card, clock.nowMs()));
      break;
    }
    case 'capture': {
      const capturable = intent.status === 'requires_capture' ? intent.charges.at(-1)!.authorized : intent.amount;
      const amount = amountOf(step.amount, capturable);
      const actual = await answerOf(() => payments.capturePaymentIntent(ctx, paymentIntentId, amount));
      expectAnswer(reached, step, actual, model.capture(paymentIntentId, amount, clock.nowMs()));
      break;
    }
    case 'cancel': {
      const actual = await answerOf(() => payments.cancelPaymentIntent(ctx, paymentIntentId, 'requested_by_customer'));
      expectAnswer(reached, step, actual, model.cancel(paymentIntentId));
      break;
    }
    case 'refund': {
      const charge = [...intent.charges].reverse().find((item) => item.isCaptured);
      const amount = amountOf(step.amount, charge === undefined ? intent.amount : charge.captured - charge.refunded);
      const refundId = newId(world, 're');
      const actual = await answerOf(() => payments.createRefund(ctx, { paymentIntentId, chargeId: null, refundId, amount, reason: null }));
      expectAnswer(reached, step, actual, model.refund(paymentIntentId, refundId, amount, clock.nowMs()));
      break;
    }
  }
  return paymentIntentId;
}

/** Create, then confirm when asked (as `confirm=true` does over HTTP). */
async function runCreate(world: World, step: Extract<PaymentStep, { kind: 'create' }>, reached: Map<string, number>): Promise<string | undefined> {
  const { payments, model, clock } = world;
  const ctx = ctxOf(step.mode);
  const method = step.card === null ? null : await methodOf(world, step.mode, step.card);
  const paymentIntentId = newId(world, 'pi');
  const created = await answerOf(() => payments.createPaymentIntent(ctx, {
    paymentIntentId, amount: step.amount, currency: step.currency, customerId: null, paymentMethodId: method?.paymentMethodId ?? null,
    captureMethod: step.captureMethod, description: null,
  }));
  expectAnswer(reached, step, created, model.create({ paymentIntentId, mode: step.mode, currency: step.currency, amount: step.amount, captureMethod: step.captureMethod, card: step.card }));
  if (created !== 'ok') return undefined;
  if (step.confirm) {
    const chargeId = newId(world, 'ch');
    const confirmed = await answerOf(() => payments.confirmPaymentIntent(ctx, paymentIntentId, { chargeId }));
    expectAnswer(reached, step, confirmed, model.confirm(paymentIntentId, chargeId, null, clock.nowMs()));
  }
  return paymentIntentId;
}

/** GET /v1/balance's path: settles what is due, then reads the ledger; it must be the model's after the same sweep. */
async function checkBalanceRead(world: World, mode: PaymentMode, reached: Map<string, number>): Promise<void> {
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
function checkLedger(world: World): void {
  for (const mode of PAYMENT_MODES) {
    for (const currency of CURRENCIES) {
      const balances = (kind: (typeof PAYMENTS_LEDGER_ACCOUNT_KINDS)[number]) => world.payments.ledgers[mode].state.account(paymentsLedgerAccountId(kind, currency))!.balances;
      const posted = (kind: (typeof PAYMENTS_LEDGER_ACCOUNT_KINDS)[number]) => balances(kind).creditsPosted - balances(kind).debitsPosted;
      const pendingNet = (kind: (typeof PAYMENTS_LEDGER_ACCOUNT_KINDS)[number]) => balances(kind).creditsPending - balances(kind).debitsPending;
      const expected = world.model.balance(mode, currency);
      expect({
        mode, currency, available: posted('merchant_available'), pending: posted('merchant_pending'), fees: posted('fees'), cardNetwork: posted('card_network'),
        holdsOnCardNetwork: balances('card_network').debitsPending, holdsOnMerchant: balances('merchant_pending').creditsPending,
        postedSum: PAYMENTS_LEDGER_ACCOUNT_KINDS.reduce((sum, kind) => sum + posted(kind), 0n),
        pendingSum: PAYMENTS_LEDGER_ACCOUNT_KINDS.reduce((sum, kind) => sum + pendingNet(kind), 0n),
      }).toEqual({
        mode, currency, available: expected.available, pending: expected.pending, fees: expected.fees, cardNetwork: expected.cardNetwork,
        holdsOnCardNetwork: expected.holds, holdsOnMerchant: expected.holds, postedSum: 0n, pendingSum: 0n,
      });
    }
  }
}

type ObjectRow = { mode: string; id: string; object: string; currency: string | null; net_minor: bigint | number | null; settled: bigint | number };

/** The read model: exactly the model's objects; its balance transactions' nets sum to the ledger's merchant balance. */
async function checkReadModel(world: World): Promise<void> {
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
async function checkIntent(world: World, paymentIntentId: string): Promise<ExistingPaymentIntent> {
  const expected = world.model.intent(paymentIntentId);
  const state = await world.payments.paymentIntent(expected.mode, paymentIntentId);
  if (state.status === 'none') throw new Error(`intent ${paymentIntentId} is not in the store`);
  const capturable = amountCapturable(state);
  const received = amountReceived(state);
  expect({
    status: state.status, received, capturable,
    charges: state.charges.map((charge) => ({ chargeId: charge.chargeId, captured: charge.amountCaptured, refunded: charge.amountRefunded, declined: charge.failure?.declineCode ?? null })),
  }).toEqual({
    status: expected.status, received: expected.charges.reduce((sum, charge) => sum + charge.captured, 0n),
    capturable: expected.status === 'requires_capture' ? expected.amount : 0n,
    charges: expected.charges.map((charge) => ({ chargeId: charge.chargeId, captured: charge.captured, refunded: charge.refunded, declined: charge.declineCode })),
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

/** Everything due: the sweep empties pending; a rebuild and a reopened service agree with what was there. */
async function checkAtEnd(world: World, reached: Map<string, number>): Promise<World> {
  const intents = new Map<string, ExistingPaymentIntent>();
  for (const id of world.model.intents.keys()) intents.set(id, await checkIntent(world, id));
  world.clock.advance(world.model.terms.settlementDelayMs + 1);
  for (const mode of PAYMENT_MODES) await checkBalanceRead(world, mode, reached);
  for (const mode of PAYMENT_MODES) for (const currency of CURRENCIES) expect(world.model.balance(mode, currency).pending, `${mode} ${currency} pending`).toBe(0n);
  checkLedger(world);
  await checkReadModel(world);

  const head = await world.store.headPosition();
  await world.engine.waitForPosition(LEDGER_BALANCES_PROJECTION_NAME, head, WAIT_MS);
  await checkLedgerBalancesReadModel(world);
  const before = await dumpReadModel(world.readModels, paymentsProjection);
  const rebuilt = await world.engine.rebuild(PAYMENTS_PROJECTION_NAME);
  expect(rebuilt.version).toBe(rebuilt.previousVersion! + 1);
  expect(await dumpReadModel(world.readModels, paymentsProjection)).toBe(before);

  const accounts = (payments: PaymentsService) => PAYMENT_MODES.flatMap((mode) => CURRENCIES.flatMap((currency) =>
    PAYMENTS_LEDGER_ACCOUNT_KINDS.map((kind) => payments.ledgers[mode].state.account(paymentsLedgerAccountId(kind, currency))!.balances)));
  const held = accounts(world.payments);
  await world.payments.close();
  world.payments = await PaymentsService.open(world.store, world.options);
  world.readModel = new PaymentsReadModel(world.store, world.readModels, world.engine);
  expect(accounts(world.payments)).toEqual(held);
  for (const [id, state] of intents) expect(await world.payments.paymentIntent(world.model.intent(id).mode, id)).toEqual(state);
  return world;
}

/** ledger_balances holds, for every payments account, what the ledger engine holds. */
async function checkLedgerBalancesReadModel(world: World): Promise<void> {
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

async function runSequence(url: string, terms: ModelTerms, steps: PaymentStep[], reached: Map<string, number>): Promise<void> {
  let world = await openWorld(url, terms);
  try {
    for (const step of steps) {
      const touched = await runStep(world, step, reached);
      checkLedger(world);
      await checkReadModel(world);
      if (touched !== undefined) await checkIntent(world, touched);
    }
    world = await checkAtEnd(world, reached);
  } finally {
    await closeWorld(world);
  }
}

function describePaymentsProperties(backend: string, runs: number, wanted: readonly string[], freshUrl: () => Promise<string>): void {
  const reached = new Map<string, number>();
  it(`keeps the balance, the ledger and the read model in step with the model over random payments, refunds and sweeps (${backend})`, async () => {
    await fc.assert(fc.asyncProperty(someTerms, fc.array(aPaymentStep, { minLength: 8, maxLength: 40 }), async (terms, steps) => {
      await runSequence(await freshUrl(), terms, steps, reached);
    }), { ...propertyParameters(20_261_211, runs), endOnFailure: true });
  }, 300_000);

  it(`reached every wanted outcome (${backend}): each decline code, partial captures below the fee, second refunds, refusals, sweeps`, () => {
    if (process.env.DAYBOOK_FC_STATS === '1') console.log([...reached].sort().map(([outcome, count]) => `${outcome}: ${count}`).join('\n'));
    expect(wanted.filter((outcome) => !reached.has(outcome))).toEqual([]);
  });
}

describe('payments invariants on sqlite', () => {
  const dirs: string[] = [];
  afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });
  describePaymentsProperties('sqlite', 40, WANTED, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daybook-payments-property-'));
    dirs.push(dir);
    return `sqlite:${join(dir, 'daybook.db')}`;
  });
});

describeIfPostgres('payments invariants on postgres', () => {
  const database = resettableTestDatabase();
  afterAll(() => database.drop());
  // A smaller run: what it must reach is what every run of a few sequences does.
  describePaymentsProperties('postgres', 5, ['captured automatically', 'refunded partially', 'settled by a sweep'], () => database.emptied());
});
