/**
 * The payments invariants, as property tests on a real store (SQLite; a
 * smaller run on PostgreSQL). Random sequences of payment intents
 * (automatic and manual capture, partial captures, declines through the
 * test cards, cancels, test and live mode, three currencies), refunds
 * (partial, several on one charge, some above what is refundable, some of
 * disputed charges), disputes (the dispute test card, evidence saved and
 * submitted with winning_evidence / losing_evidence / other, closed),
 * payouts (within and above the available balance, to a test account that
 * is paid or one that fails, processed by the test helper's service call,
 * canceled while pending) and settlement sweeps run through the
 * PaymentsService, with a random fee schedule, settlement delay and dispute
 * fee, against a tiny reference model (payments.referenceModel.ts). After
 * every step:
 *
 * - the service answers what the model answers (ok, or the same refusal);
 * - per mode and currency, the ledger's merchant accounts hold the model's
 *   available and pending balance, the fees account its fees (processing
 *   and dispute fees), the card network the captured minus refunded amount
 *   plus what disputes not won took back, the payouts in transit and at the
 *   bank, and the open holds; every ledger (all six account kinds) sums to
 *   zero, posted and pending;
 * - a payout that was created left the available balance at zero or more
 *   (no payout exceeds the available balance);
 * - the read model indexes exactly the model's objects, its balance
 *   transactions carry the model's nets and settlement, and their nets sum
 *   to the ledger's merchant balance (available + pending);
 * - the intent touched has the model's status, amount_received,
 *   amount_capturable, refunded amounts and disputes; no charge has more
 *   refunded than captured; the amounts fit the status machine; the payout
 *   touched has the model's status.
 *
 * At the end of a run, after every transaction is due: the balance read
 * settles all of it (pending 0, available = sum of nets); a rebuild of the
 * payments projection from the log gives the same read model; the
 * ledger_balances read model equals the ledger; and a service reopened
 * from the log has the same ledger balances, intents and payouts. The
 * outcomes worth reaching (each decline code, partial capture below the
 * fee, a second refund, refusals, sweeps, disputes won, lost and accepted,
 * a refund refused on a disputed charge, payouts paid, failed, canceled and
 * refused for insufficient balance) are counted and must all have been
 * reached.
 *
 * Fixed seed; DAYBOOK_FC_SEED explores another, DAYBOOK_FC_RUNS sets the
 * runs (default 80 on SQLite, 5 on PostgreSQL; each run is a fresh store),
 * DAYBOOK_FC_STATS=1 prints how often each outcome was reached.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { propertyParameters } from '../../../test/support/fastCheck.ts';
import { describeIfPostgres, resettableTestDatabase } from '../../../test/support/postgres.ts';
import { isDaybookError } from '../../kernel/errors.ts';
import { dumpReadModel } from '../../projections/index.ts';
import { LEDGER_BALANCES_PROJECTION_NAME } from '../../projections/builtin/index.ts';
import type { ExistingPaymentIntent } from '../domain/paymentIntent.state.ts';
import { DEFAULT_PAYOUT_ACCOUNT_NUMBER, payoutDestinationOf } from '../domain/payout.rules.ts';
import { aPaymentStep, amountOf, type PaymentStep, payoutAmountOf, someTerms } from './payments.arbitraries.ts';
import { PAYMENTS_LEDGER_ACCOUNT_KINDS, paymentsLedgerAccountId } from './payments.ledgerPlan.ts';
import { PAYMENTS_PROJECTION_NAME, paymentsProjection } from './payments.projection.ts';
import {
  checkBalanceRead, checkIntent, checkLedger, checkLedgerBalancesReadModel, checkPayout, checkReadModel, closeWorld, CURRENCIES, ctxOf, newId, openWorld,
  WAIT_MS, type World,
} from './payments.propertyWorld.ts';
import { PaymentsReadModel } from './payments.readModel.ts';
import type { ModelAnswer, ModelTerms } from './payments.referenceModel.ts';
import { PAYMENT_MODES, type PaymentMode, PaymentsService } from './payments.service.ts';

/** Outcomes a run of the default size must reach (the model names them). */
const WANTED = [
  'created (test)', 'created (live)', 'create below the minimum refused', 'captured automatically', 'captured automatically, bypassing pending',
  'authorized for manual capture', 'captured in full', 'captured partially', 'captured partially below the fee', 'capture above capturable refused',
  'declined: generic_decline', 'declined: insufficient_funds', 'captured after a decline', 'confirm without a payment method refused',
  'canceled, hold voided', 'canceled before authorization', 'cancel refused (succeeded)', 'refunded partially', 'refunded the rest',
  'refunded the rest, after an earlier refund', 'refund above the refundable amount refused', 'refund of a refunded charge refused',
  'refund of an uncaptured intent refused', 'settled by a sweep',
  'dispute opened', 'dispute evidence saved', 'dispute won', 'dispute lost', 'dispute under review', 'dispute accepted', 'evidence after submission refused',
  'update of a closed dispute refused', 'refund of a disputed charge refused', 'payout created', 'payout paid', 'payout failed', 'payout canceled',
  'payout above the available balance refused', 'process refused (paid)', 'refunded after a won dispute',
];
/** Test bank account numbers: paid, and failing with no_account. */
const PAYOUT_ACCOUNTS = { paid: DEFAULT_PAYOUT_ACCOUNT_NUMBER, fails: '000111111116' } as const;

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

type IntentStep = Extract<PaymentStep, { kind: 'confirm' | 'capture' | 'cancel' | 'refund' }>;
type MoneyOutStep = Extract<PaymentStep, { kind: 'disputeUpdate' | 'disputeClose' | 'payoutCreate' | 'payoutProcess' | 'payoutCancel' }>;

/** The intent a step aims at, or undefined when there is none yet. */
function targetOf(world: World, step: IntentStep) {
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
  if (isMoneyOut(step)) return runMoneyOut(world, step, reached);
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

function isMoneyOut(step: PaymentStep): step is MoneyOutStep {
  return ['disputeUpdate', 'disputeClose', 'payoutCreate', 'payoutProcess', 'payoutCancel'].includes(step.kind);
}

/** One of a pool by the step's number (open disputes or pending payouts when aimed and there are some), or undefined when there is none. */
function pickOf<T>(step: { pick: number; aimed: boolean }, aimed: T[], all: T[]): T | undefined {
  const pool = step.aimed && aimed.length > 0 ? aimed : all;
  return pool.length === 0 ? undefined : pool[step.pick % pool.length];
}

/** Disputes and payouts; returns the intent a dispute step touched (payouts are checked here). */
async function runMoneyOut(world: World, step: MoneyOutStep, reached: Map<string, number>): Promise<string | undefined> {
  const { payments, model, clock } = world;
  if (step.kind === 'payoutCreate') {
    await runPayoutCreate(world, step, reached);
    return undefined;
  }
  if (step.kind === 'disputeUpdate' || step.kind === 'disputeClose') {
    const dispute = pickOf(step, model.openDisputes(), [...model.disputes.values()]);
    if (dispute === undefined) return undefined;
    const ctx = ctxOf(dispute.mode);
    const { disputeId, paymentIntentId } = dispute;
    if (step.kind === 'disputeClose') {
      const actual = await answerOf(() => payments.closeDispute(ctx, paymentIntentId, disputeId));
      expectAnswer(reached, step, actual, model.closeDispute(disputeId, clock.nowMs()));
    } else {
      const evidence = { winning: { uncategorized_text: 'winning_evidence' }, losing: { uncategorized_text: 'losing_evidence' }, other: { product_description: 'a book' }, none: undefined }[step.evidence];
      const actual = await answerOf(() => payments.updateDispute(ctx, { paymentIntentId, disputeId, evidence, metadata: { step: String(world.nextId) }, submit: step.submit }));
      expectAnswer(reached, step, actual, model.updateDispute(disputeId, step.evidence, step.submit, clock.nowMs()));
    }
    return paymentIntentId;
  }
  const payout = pickOf(step, model.pendingPayouts(), [...model.payouts.values()]);
  if (payout === undefined) return undefined;
  const ctx = ctxOf(payout.mode);
  if (step.kind === 'payoutProcess') {
    const actual = await answerOf(() => payments.processPayout(ctx, payout.payoutId));
    expectAnswer(reached, step, actual, model.processPayout(payout.payoutId, clock.nowMs()));
  } else {
    const actual = await answerOf(() => payments.cancelPayout(ctx, payout.payoutId));
    expectAnswer(reached, step, actual, model.cancelPayout(payout.payoutId, clock.nowMs()));
  }
  await checkPayout(world, payout.payoutId);
  return undefined;
}

/** A payout of part of what the model says is available after the sweep (or more); a payout made leaves the ledger's available balance at zero or more. */
async function runPayoutCreate(world: World, step: Extract<PaymentStep, { kind: 'payoutCreate' }>, reached: Map<string, number>): Promise<void> {
  const { payments, model, clock } = world;
  const accounts = PAYMENT_MODES.flatMap((mode) => CURRENCIES.map((currency) => ({ mode, currency })));
  const { mode, currency } = pickOf(step, accounts.filter((item) => model.availableAfterSweep(item.mode, item.currency, clock.nowMs()) > 0n), accounts)!;
  model.settle(mode, clock.nowMs());
  const amount = payoutAmountOf(step.amount, model.balance(mode, currency).available);
  const payoutId = newId(world, 'po');
  const destination = payoutDestinationOf(step.fails ? PAYOUT_ACCOUNTS.fails : PAYOUT_ACCOUNTS.paid);
  const actual = await answerOf(() => payments.createPayout(ctxOf(mode), world.readModel, {
    payoutId, amount, currency, destination, description: null, statementDescriptor: null,
  }));
  expectAnswer(reached, step, actual, model.createPayout({ payoutId, mode, currency, amount, fails: step.fails }, clock.nowMs()));
  if (actual !== 'ok') return;
  const available = payments.ledgers[mode].state.account(paymentsLedgerAccountId('merchant_available', currency))!.balances;
  expect(available.creditsPosted - available.debitsPosted >= 0n, `${payoutId} of ${amount} ${currency} overdrew the available balance`).toBe(true);
  await checkPayout(world, payoutId);
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
  for (const id of world.model.payouts.keys()) await checkPayout(world, id);
  return world;
}

async function runSequence(url: string, terms: ModelTerms, steps: PaymentStep[], reached: Map<string, number>): Promise<void> {
  let world = await openWorld(url, terms);
  try {
    for (const step of steps) {
      const touched = await runStep(world, step, reached);
      for (const outcome of world.model.sideOutcomes.splice(0)) reached.set(outcome, (reached.get(outcome) ?? 0) + 1);
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
  it(`keeps the balance, the ledger and the read model in step with the model over random payments, refunds, disputes, payouts and sweeps (${backend})`, async () => {
    await fc.assert(fc.asyncProperty(someTerms, fc.array(aPaymentStep, { minLength: 8, maxLength: 60, size: 'medium' }), async (terms, steps) => {
      await runSequence(await freshUrl(), terms, steps, reached);
    }), { ...propertyParameters(20_261_211, runs), endOnFailure: true });
  }, 300_000);

  it(`reached every wanted outcome (${backend}): each decline code, partial captures below the fee, second refunds, refusals, sweeps, disputes, payouts`, () => {
    if (process.env.DAYBOOK_FC_STATS === '1') console.log([...reached].sort().map(([outcome, count]) => `${outcome}: ${count}`).join('\n'));
    expect(wanted.filter((outcome) => !reached.has(outcome))).toEqual([]);
  });
}

describe('payments invariants on sqlite', () => {
  const dirs: string[] = [];
  afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });
  describePaymentsProperties('sqlite', 80, WANTED, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'daybook-payments-property-'));
    dirs.push(dir);
    return `sqlite:${join(dir, 'daybook.db')}`;
  });
});

describeIfPostgres('payments invariants on postgres', () => {
  const database = resettableTestDatabase();
  afterAll(() => database.drop());
  // A smaller run: what it must reach is what every run of a few sequences does.
  describePaymentsProperties('postgres', 5, ['captured automatically', 'refunded partially', 'settled by a sweep', 'dispute opened', 'payout created'], () => database.emptied());
});
