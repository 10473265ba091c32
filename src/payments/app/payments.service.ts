/**
 * The payments application service: runs the deciders against their streams
 * and the money through the ledger. Every write loads the aggregate (state
 * from its own stream), decides, executes the ledger requests the new events
 * imply (ids derived from the payment objects, so a retry replays in the
 * ledger), then appends the events with the exact expected version. Writes
 * to one stream are serialized in this process; across processes the
 * expected version decides (a loser gets `stream_version_conflict`, 409,
 * which Stripe's clients retry).
 *
 * Ids of new objects come from the caller (the HTTP layer derives them from
 * the Idempotency-Key), so a retry after a crash names the same objects.
 *
 * @example
 * const payments = await PaymentsService.open(store, { clock: systemClock });
 * const ctx = { mode: 'test', metadata: { actor: 'key_1' } };
 * await payments.createPaymentIntent(ctx, { paymentIntentId: 'pi_1', amount: 2000n, currency: 'usd', captureMethod: 'automatic', … });
 */
import type { EventStore, StreamWrite } from '../../eventstore/index.ts';
import { type Clock, type KeyedLocks, systemClock } from '../../kernel/index.ts';
import { PAYMENT_SETTLEMENT_BATCH_MAX } from '../../kernel/limits.ts';
import { LedgerEngine, type LedgerRequest } from '../../ledger/index.ts';
import { cardOfDigits, testCardOfToken, type TestCard } from '../domain/cards.rules.ts';
import type { PiiPatch } from '../domain/customer.commands.ts';
import { stripeCustomerDecider, type StripeCustomerState } from '../domain/customer.decider.ts';
import { STRIPE_CUSTOMER_EVENT_TYPES, type StripeCustomerEvent } from '../domain/customer.events.ts';
import type { StripeCustomerCommand } from '../domain/customer.commands.ts';
import { DEFAULT_FEE_SCHEDULE, type FeeSchedule } from '../domain/fees.rules.ts';
import { defaultFraudScorer, type FraudScorer } from '../domain/fraud.rules.ts';
import type { PaymentIntentCommand, ResolvedPaymentMethod, SettlementTerms } from '../domain/paymentIntent.commands.ts';
import { paymentIntentDecider } from '../domain/paymentIntent.decider.ts';
import { PAYMENT_INTENT_EVENT_TYPES, type CaptureMethod, type PaymentIntentEvent, type Shipping } from '../domain/paymentIntent.events.ts';
import type { ExistingPaymentIntent, PaymentIntentState } from '../domain/paymentIntent.state.ts';
import type { PaymentMethodCommand } from '../domain/paymentMethod.commands.ts';
import { paymentMethodDecider, type PaymentMethodState } from '../domain/paymentMethod.decider.ts';
import { type BillingDetailsPatch, PAYMENT_METHOD_EVENT_TYPES, type PaymentMethodEvent } from '../domain/paymentMethod.events.ts';
import { accountDecider, type AccountCommand, type AccountState } from '../domain/account.decider.ts';
import { ACCOUNT_EVENT_TYPES, type AccountEvent } from '../domain/account.events.ts';
import { DISPUTE_FEE_MINOR_DEFAULT, type UpdateDisputeData } from '../domain/dispute.rules.ts';
import { payoutDecider, type PayoutCommand, type PayoutState } from '../domain/payout.decider.ts';
import { PAYOUT_EVENT_TYPES, type PayoutDestination, type PayoutEvent } from '../domain/payout.events.ts';
import { PAYOUT_ARRIVAL_DELAY_MS } from '../domain/payout.rules.ts';
import { type MetadataPatch, PAYMENT_CURRENCIES, type PaymentCurrency } from '../domain/payments.rules.ts';
import {
  paymentIntentLedgerRequests, payoutLedgerRequests, paymentsLedgerAccountId, paymentsLedgerAccounts, paymentsLedgerPartition, settlementRequest,
} from './payments.ledgerPlan.ts';
import { BALANCE_SETTLED_EVENT, PAYMENTS_CATEGORIES } from './payments.projection.ts';
import { balanceTransactionIdOf, createData, latestChargeId, resolved, throwIfDeclined, throwIfReplayedDecline } from './payments.answers.ts';
import { AggregateRepository, type Decided, type PaymentsDomainEvent, type StagedWrite } from './payments.repository.ts';
import { eventMetadata, type PaymentMode, type PaymentsContext, PaymentsRunner, requireOk } from './payments.runner.ts';
import type { PaymentsReadModel } from './payments.readModel.ts';

export const PAYMENT_MODES = ['test', 'live'] as const satisfies readonly PaymentMode[];
export type { PaymentMode, PaymentsContext };
export { balanceTransactionIdOf };

export interface PaymentsOptions {
  clock?: Clock;
  fees?: FeeSchedule;
  /** From capture to available balance (default 2 days, Stripe's usual test-mode schedule). */
  settlementDelayMs?: number;
  scorer?: FraudScorer;
  /** Debited with a dispute's amount, returned when it is won (default DISPUTE_FEE_MINOR_DEFAULT, 1500 minor units). */
  disputeFeeMinor?: bigint;
}

/** Each payout's balance check, one stream per mode (see createPayout). */
export const PAYOUT_CHECK_CATEGORY = 'ppayoutcheck';
export const PAYOUT_CHECKED_EVENT = 'PayoutBalanceChecked';

export const SETTLEMENT_DELAY_MS_DEFAULT = 2 * 24 * 60 * 60 * 1000;

export type BalanceAmounts = { currency: PaymentCurrency; availableMinor: bigint; pendingMinor: bigint };

export type CreateIntentInput = {
  paymentIntentId: string; amount: bigint; currency: string; customerId: string | null; paymentMethodId: string | null;
  captureMethod: CaptureMethod; description: string | null; metadata?: MetadataPatch; receiptEmail?: string | null; shipping?: Shipping | null;
};

/** A caller's write made from the intent as decided, committed with it (the API's idempotency record of its answer). */
export type IntentAnswer = (intent: ExistingPaymentIntent) => StreamWrite | undefined;

type Repos = {
  customers: AggregateRepository<StripeCustomerCommand, StripeCustomerEvent, StripeCustomerState>;
  methods: AggregateRepository<PaymentMethodCommand, PaymentMethodEvent, PaymentMethodState>;
  intents: AggregateRepository<PaymentIntentCommand, PaymentIntentEvent, PaymentIntentState>;
  payouts: AggregateRepository<PayoutCommand, PayoutEvent, PayoutState>;
  accounts: AggregateRepository<AccountCommand, AccountEvent, AccountState>;
};

export class PaymentsService {
  private readonly runner: PaymentsRunner;
  private readonly locks: KeyedLocks;
  readonly terms: SettlementTerms;
  private readonly scorer: FraudScorer;

  private constructor(
    private readonly store: EventStore,
    readonly clock: Clock,
    readonly repos: Repos,
    readonly ledgers: Readonly<Record<PaymentMode, LedgerEngine>>,
    options: PaymentsOptions,
  ) {
    this.terms = {
      fees: options.fees ?? DEFAULT_FEE_SCHEDULE, settlementDelayMs: options.settlementDelayMs ?? SETTLEMENT_DELAY_MS_DEFAULT,
      disputeFeeMinor: options.disputeFeeMinor ?? DISPUTE_FEE_MINOR_DEFAULT,
    };
    this.scorer = options.scorer ?? defaultFraudScorer;
    this.runner = new PaymentsRunner(store, ledgers);
    this.locks = this.runner.locks;
  }

  static async open(store: EventStore, options: PaymentsOptions = {}): Promise<PaymentsService> {
    const clock = options.clock ?? systemClock;
    const opened: LedgerEngine[] = [];
    try {
      for (const mode of PAYMENT_MODES) {
        const engine = await LedgerEngine.open(store, { partition: paymentsLedgerPartition(mode), clock });
        opened.push(engine);
        (await engine.executeAll(paymentsLedgerAccounts())).forEach(requireOk);
      }
    } catch (error) {
      await Promise.all(opened.map((engine) => engine.close()));
      throw error;
    }
    const repos: Repos = {
      customers: new AggregateRepository(store, stripeCustomerDecider, PAYMENTS_CATEGORIES.customer, STRIPE_CUSTOMER_EVENT_TYPES),
      methods: new AggregateRepository(store, paymentMethodDecider, PAYMENTS_CATEGORIES.paymentMethod, PAYMENT_METHOD_EVENT_TYPES),
      intents: new AggregateRepository(store, paymentIntentDecider, PAYMENTS_CATEGORIES.paymentIntent, PAYMENT_INTENT_EVENT_TYPES),
      payouts: new AggregateRepository(store, payoutDecider, PAYMENTS_CATEGORIES.payout, PAYOUT_EVENT_TYPES),
      accounts: new AggregateRepository(store, accountDecider, PAYMENTS_CATEGORIES.account, ACCOUNT_EVENT_TYPES),
    };
    return new PaymentsService(store, clock, repos, { test: opened[0]!, live: opened[1]! }, options);
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.ledgers).map((engine) => engine.close()));
  }

  // Customers ---------------------------------------------------------------

  createCustomer(ctx: PaymentsContext, input: { customerId: string; pii: PiiPatch; description?: string | null; metadata?: MetadataPatch }) {
    return this.runner.run(this.repos.customers, ctx, input.customerId, () => ({ type: 'CreateStripeCustomer' as const, data: { ...input, atMs: this.clock.nowMs() } }));
  }

  updateCustomer(ctx: PaymentsContext, customerId: string, patch: { pii: PiiPatch; description?: string | null; metadata?: MetadataPatch }) {
    return this.runner.run(this.repos.customers, ctx, customerId, () => ({ type: 'UpdateStripeCustomer' as const, data: { customerId, ...patch, atMs: this.clock.nowMs() } }));
  }

  deleteCustomer(ctx: PaymentsContext, customerId: string) {
    return this.runner.run(this.repos.customers, ctx, customerId, () => ({ type: 'DeleteStripeCustomer' as const, data: { customerId, atMs: this.clock.nowMs() } }));
  }

  async customer(mode: PaymentMode, customerId: string): Promise<StripeCustomerState> {
    return (await this.repos.customers.load(this.repos.customers.streamId(mode, customerId))).state;
  }

  // Payment methods -----------------------------------------------------------

  /** A card PaymentMethod from a test token (`tok_visa`, `pm_card_visa`) or a raw number. */
  createPaymentMethod(ctx: PaymentsContext, input: { paymentMethodId: string; card: TestCard; customerId?: string | null; metadata?: MetadataPatch; billingDetails?: BillingDetailsPatch }) {
    const { paymentMethodId, card, customerId, metadata, billingDetails } = input;
    return this.runner.run(this.repos.methods, ctx, paymentMethodId, () => ({
      type: 'CreatePaymentMethod' as const, data: { paymentMethodId, card: card.card, behavior: card.behavior, customerId, metadata, billingDetails, atMs: this.clock.nowMs() },
    }));
  }

  async attachPaymentMethod(ctx: PaymentsContext, paymentMethodId: string, customerId: string) {
    const customer = await this.customer(ctx.mode, customerId);
    return this.runner.run(this.repos.methods, ctx, paymentMethodId, () => ({
      type: 'AttachPaymentMethod' as const, data: { paymentMethodId, customerId, customerExists: customer.status === 'active', atMs: this.clock.nowMs() },
    }));
  }

  detachPaymentMethod(ctx: PaymentsContext, paymentMethodId: string) {
    return this.runner.run(this.repos.methods, ctx, paymentMethodId, () => ({ type: 'DetachPaymentMethod' as const, data: { paymentMethodId, atMs: this.clock.nowMs() } }));
  }

  updatePaymentMethod(ctx: PaymentsContext, paymentMethodId: string, metadata: MetadataPatch | undefined, billingDetails?: BillingDetailsPatch) {
    return this.runner.run(this.repos.methods, ctx, paymentMethodId, () => ({ type: 'UpdatePaymentMethod' as const, data: { paymentMethodId, metadata, billingDetails, atMs: this.clock.nowMs() } }));
  }

  async paymentMethod(mode: PaymentMode, paymentMethodId: string): Promise<PaymentMethodState> {
    return (await this.repos.methods.load(this.repos.methods.streamId(mode, paymentMethodId))).state;
  }

  /**
   * The PaymentMethod an id names: a test token (`pm_card_visa`) makes a new
   * one, with `newId`, as Stripe does; any other id must exist.
   */
  async resolvePaymentMethod(ctx: PaymentsContext, idOrToken: string, newId: string, param = 'payment_method'): Promise<ResolvedPaymentMethod> {
    const test = testCardOfToken(idOrToken, this.defaultExpiryYear());
    if (test !== undefined) {
      const { state } = await this.createPaymentMethod(ctx, { paymentMethodId: newId, card: test });
      return resolved(state, newId, param);
    }
    return resolved(await this.paymentMethod(ctx.mode, idOrToken), idOrToken, param);
  }

  /** A card from raw details, refused with `incorrect_number` when the number is not a card number. */
  cardOf(number: string, expMonth: number, expYear: number): TestCard {
    return cardOfDigits(number, expMonth, expYear);
  }

  cardOfToken(token: string): TestCard | undefined {
    return testCardOfToken(token, this.defaultExpiryYear());
  }

  // Payment intents -----------------------------------------------------------

  createPaymentIntent(ctx: PaymentsContext, input: CreateIntentInput) {
    return this.runIntent(ctx, input.paymentIntentId, () => ({ type: 'CreatePaymentIntent' as const, data: { ...input, atMs: this.clock.nowMs() } }));
  }

  updatePaymentIntent(ctx: PaymentsContext, paymentIntentId: string, patch: Omit<Extract<PaymentIntentCommand, { type: 'UpdatePaymentIntent' }>['data'], 'paymentIntentId' | 'atMs'>) {
    return this.runIntent(ctx, paymentIntentId, () => ({ type: 'UpdatePaymentIntent' as const, data: { paymentIntentId, ...patch, atMs: this.clock.nowMs() } }));
  }

  /**
   * Confirms: resolves the payment method (`paymentMethod` given here, or the
   * intent's), scores the attempt, authorizes (and with automatic capture,
   * captures) it. A decline is recorded, then answered with `card_declined`
   * carrying the decline code, the charge and the intent's id.
   */
  async confirmPaymentIntent(ctx: PaymentsContext, paymentIntentId: string, input: { paymentMethod?: ResolvedPaymentMethod; chargeId: string }) {
    const decided = await this.runIntent(ctx, paymentIntentId, async (state) => this.confirmCommand(ctx, state, input.paymentMethod ?? await this.intentMethod(ctx, state), paymentIntentId, input.chargeId));
    throwIfDeclined(decided.events, paymentIntentId);
    throwIfReplayedDecline(decided, input.chargeId);
    return decided;
  }

  /**
   * `confirm=true` on create: the PaymentMethod a test token makes, the
   * intent and its confirmation are decided together and committed in one
   * append, with the ledger movements they imply and `answer` (the caller's
   * record of its answer, made from the intent as decided; not asked for a
   * decline), so that one durable write holds the whole request (see
   * commitNew). A confirmation refused before any charge (not a decline)
   * still leaves the intent created, as `createPaymentIntent` then
   * `confirmPaymentIntent` would. `answered` says whether `answer`'s write
   * committed. A decline is recorded, then answered with `card_declined`.
   */
  async createAndConfirmPaymentIntent(ctx: PaymentsContext, input: CreateIntentInput & { paymentMethod: string; newPaymentMethodId: string; chargeId: string }, answer?: IntentAnswer) {
    const { paymentIntentId } = input;
    const method = await this.methodToConfirmWith(ctx, input.paymentMethod, input.newPaymentMethodId);
    const streamId = this.repos.intents.streamId(ctx.mode, paymentIntentId);
    const run = () => this.locks.run(streamId, async () => {
      const loaded = await this.repos.intents.load(streamId);
      // The id derives from the Idempotency-Key and payload: an existing intent is this request's, committed before its answer was kept.
      if (loaded.state.status !== 'none') return { ...loaded, events: [], position: null, answered: false };
      const created = this.repos.intents.decider.decide({ type: 'CreatePaymentIntent', data: { ...createData(input), paymentMethodId: method.resolved.paymentMethodId, atMs: this.clock.nowMs() } }, loaded.state);
      const afterCreate = this.repos.intents.fold(loaded.state, created);
      let confirmed: readonly PaymentIntentEvent[];
      try {
        confirmed = this.repos.intents.decider.decide(this.confirmCommand(ctx, afterCreate, method.resolved, paymentIntentId, input.chargeId), afterCreate);
      } catch (error) {
        await this.runner.commitNew(ctx, [...method.staged, this.repos.intents.staged(streamId, loaded, created, eventMetadata(ctx))], []);
        throw error;
      }
      const intent = this.repos.intents.staged(streamId, loaded, [...created, ...confirmed], eventMetadata(ctx));
      const declined = confirmed.some((event) => event.type === 'PaymentFailed');
      const answerWrite = declined || intent.state.status === 'none' ? undefined : answer?.(intent.state);
      const committed = await this.runner.commitNew(ctx, [...method.staged, intent], paymentIntentLedgerRequests(confirmed), answerWrite);
      const decided = committed ? intent.committed(null) : { ...await this.repos.intents.load(streamId), events: [], position: null };
      return { ...decided, answered: committed && answerWrite !== undefined };
    });
    const decided = await (method.lock === undefined ? run() : this.locks.run(method.lock, run));
    throwIfDeclined(decided.events, paymentIntentId);
    throwIfReplayedDecline(decided, input.chargeId);
    return decided;
  }

  /** The confirm command of an attempt with `method` on `state`: the fraud scorer's verdict taken, ids derived from the charge's. */
  private confirmCommand(ctx: PaymentsContext, state: PaymentIntentState, method: ResolvedPaymentMethod | null, paymentIntentId: string, chargeId: string): PaymentIntentCommand {
    const amountMinor = state.status === 'none' ? 0n : state.amount;
    return {
      type: 'ConfirmPaymentIntent',
      data: {
        paymentIntentId, paymentMethod: method, chargeId, balanceTransactionId: balanceTransactionIdOf(chargeId), terms: this.terms,
        fraud: method === null ? { score: 0, riskLevel: 'normal', decision: 'allow' } : this.scorer({
          amountMinor, card: method.card, currency: state.status === 'none' ? undefined : state.currency, mode: ctx.mode, atMs: this.clock.nowMs(), paymentIntentId,
          customerId: state.status === 'none' ? null : state.customerId,
        }),
        atMs: this.clock.nowMs(),
      },
    };
  }

  /** The method a create+confirm charges: a test token's new PaymentMethod, decided but not yet written (its stream then held), or an existing one. */
  private async methodToConfirmWith(ctx: PaymentsContext, idOrToken: string, newId: string): Promise<{ resolved: ResolvedPaymentMethod; staged: StagedWrite<unknown, PaymentsDomainEvent>[]; lock?: string }> {
    const test = testCardOfToken(idOrToken, this.defaultExpiryYear());
    if (test === undefined) return { resolved: resolved(await this.paymentMethod(ctx.mode, idOrToken), idOrToken, 'payment_method'), staged: [] };
    const streamId = this.repos.methods.streamId(ctx.mode, newId);
    const loaded = await this.repos.methods.load(streamId);
    const command: PaymentMethodCommand = { type: 'CreatePaymentMethod', data: { paymentMethodId: newId, card: test.card, behavior: test.behavior, atMs: this.clock.nowMs() } };
    const staged = this.repos.methods.staged(streamId, loaded, this.repos.methods.decider.decide(command, loaded.state), eventMetadata(ctx));
    return { resolved: resolved(staged.state, newId, 'payment_method'), staged: [staged as StagedWrite<unknown, PaymentsDomainEvent>], lock: streamId };
  }

  /** Captures; a charge of a dispute test card (its payment method's behaviour) is disputed right after, as on automatic capture. */
  capturePaymentIntent(ctx: PaymentsContext, paymentIntentId: string, amountToCapture: bigint | null) {
    return this.runIntent(ctx, paymentIntentId, async (state) => {
      const charge = state.status === 'none' ? undefined : state.charges.at(-1);
      const method = charge === undefined ? undefined : await this.paymentMethod(ctx.mode, charge.paymentMethodId);
      return {
        type: 'CapturePaymentIntent',
        data: {
          paymentIntentId, amountToCapture, balanceTransactionId: balanceTransactionIdOf(latestChargeId(state) ?? paymentIntentId), terms: this.terms, atMs: this.clock.nowMs(),
          disputeOnCapture: method?.status === 'created' && method.behavior.kind === 'dispute',
        },
      };
    });
  }

  cancelPaymentIntent(ctx: PaymentsContext, paymentIntentId: string, reason: string | null) {
    return this.runIntent(ctx, paymentIntentId, () => ({ type: 'CancelPaymentIntent', data: { paymentIntentId, reason, atMs: this.clock.nowMs() } }));
  }

  createRefund(ctx: PaymentsContext, input: { paymentIntentId: string; chargeId: string | null; refundId: string; amount: bigint | null; reason: string | null; metadata?: MetadataPatch }) {
    return this.runIntent(ctx, input.paymentIntentId, () => ({
      type: 'CreateRefund' as const, data: { ...input, balanceTransactionId: balanceTransactionIdOf(input.refundId), atMs: this.clock.nowMs() },
    }));
  }

  /** Saves evidence on a dispute (in its charge's PaymentIntent stream); with `submit`, submits it (test mode resolves it, see dispute.rules.ts). */
  updateDispute(ctx: PaymentsContext, input: Omit<UpdateDisputeData, 'atMs'>) {
    return this.runIntent(ctx, input.paymentIntentId, () => ({ type: 'UpdateDispute' as const, data: { ...input, atMs: this.clock.nowMs() } }));
  }

  /** Accepts a dispute: it is lost, the money and the fee stay withdrawn. */
  closeDispute(ctx: PaymentsContext, paymentIntentId: string, disputeId: string) {
    return this.runIntent(ctx, paymentIntentId, () => ({ type: 'CloseDispute' as const, data: { paymentIntentId, disputeId, atMs: this.clock.nowMs() } }));
  }

  async paymentIntent(mode: PaymentMode, paymentIntentId: string): Promise<PaymentIntentState> {
    return (await this.repos.intents.load(this.repos.intents.streamId(mode, paymentIntentId))).state;
  }

  /** The intent a stream id (from the read model) holds. */
  async paymentIntentOfStream(streamId: string): Promise<PaymentIntentState> {
    return (await this.repos.intents.load(streamId)).state;
  }

  // Payouts -----------------------------------------------------------------------

  /**
   * Pays out of the available balance. Payouts of one mode are decided one at
   * a time, each against the ledger's available balance read after settling
   * what is due, so two payouts cannot both spend the same money (refunds and
   * disputes may still take the balance negative, as on Stripe). In this
   * process a lock orders them; across processes, each payout appends its
   * check to the mode's `ppayoutcheck-<mode>` stream with the version read
   * before the balance, in the payout's own append: a payout another process
   * made meanwhile makes this one a `stream_version_conflict` (409), and its
   * retry reads the balance again.
   */
  createPayout(ctx: PaymentsContext, readModel: PaymentsReadModel, input: {
    payoutId: string; amount: bigint; currency: string; destination: PayoutDestination; description: string | null; statementDescriptor: string | null; metadata?: MetadataPatch;
  }) {
    return this.locks.run(`payouts:${ctx.mode}`, async () => {
      const checkStream = `${PAYOUT_CHECK_CATEGORY}-${ctx.mode}`;
      const checkVersion = await this.store.streamVersion(checkStream);
      const balances = await this.balance(ctx.mode, readModel);
      const availableMinor = balances.find((item) => item.currency === input.currency)?.availableMinor ?? 0n;
      const atMs = this.clock.nowMs();
      const check: StreamWrite = {
        streamId: checkStream, expectedVersion: checkVersion === 0n ? 'no_stream' : checkVersion,
        events: [{ type: PAYOUT_CHECKED_EVENT, data: { payoutId: input.payoutId, currency: input.currency, amount: input.amount.toString(), availableMinor: availableMinor.toString() }, metadata: eventMetadata(ctx) }],
      };
      return this.runPayout(ctx, input.payoutId, () => ({
        type: 'CreatePayout',
        data: { ...input, availableMinor, balanceTransactionId: balanceTransactionIdOf(input.payoutId), arrivalDateMs: atMs + PAYOUT_ARRIVAL_DELAY_MS, atMs },
      }), check);
    });
  }

  updatePayout(ctx: PaymentsContext, payoutId: string, metadata: MetadataPatch | undefined) {
    return this.runPayout(ctx, payoutId, () => ({ type: 'UpdatePayout', data: { payoutId, metadata, atMs: this.clock.nowMs() } }));
  }

  /** Test mode: the bank answers now (paid, or failed as the destination's test number says). */
  processPayout(ctx: PaymentsContext, payoutId: string) {
    return this.runPayout(ctx, payoutId, () => ({ type: 'ProcessPayout', data: { payoutId, failureBalanceTransactionId: `${balanceTransactionIdOf(payoutId)}_failure`, atMs: this.clock.nowMs() } }));
  }

  cancelPayout(ctx: PaymentsContext, payoutId: string) {
    return this.runPayout(ctx, payoutId, () => ({ type: 'CancelPayout', data: { payoutId, balanceTransactionId: `${balanceTransactionIdOf(payoutId)}_cancel`, atMs: this.clock.nowMs() } }));
  }

  async payout(mode: PaymentMode, payoutId: string): Promise<PayoutState> {
    return (await this.repos.payouts.load(this.repos.payouts.streamId(mode, payoutId))).state;
  }

  async payoutOfStream(streamId: string): Promise<PayoutState> {
    return (await this.repos.payouts.load(streamId)).state;
  }

  private runPayout(ctx: PaymentsContext, payoutId: string, command: (state: PayoutState) => PayoutCommand, extra?: StreamWrite) {
    return this.runner.run(this.repos.payouts, ctx, payoutId, command, payoutLedgerRequests, extra);
  }

  // Connected accounts ----------------------------------------------------------------

  createAccount(ctx: PaymentsContext, data: Omit<Extract<AccountCommand, { type: 'CreateAccount' }>['data'], 'atMs'>) {
    return this.runner.run(this.repos.accounts, ctx, data.accountId, () => ({ type: 'CreateAccount' as const, data: { ...data, atMs: this.clock.nowMs() } }));
  }

  updateAccount(ctx: PaymentsContext, data: Omit<Extract<AccountCommand, { type: 'UpdateAccount' }>['data'], 'atMs'>) {
    return this.runner.run(this.repos.accounts, ctx, data.accountId, () => ({ type: 'UpdateAccount' as const, data: { ...data, atMs: this.clock.nowMs() } }));
  }

  async account(mode: PaymentMode, accountId: string): Promise<AccountState> {
    return (await this.repos.accounts.load(this.repos.accounts.streamId(mode, accountId))).state;
  }

  // Balance ---------------------------------------------------------------------

  /** Available and pending per currency, read from the ledger's merchant accounts, after settling what is due. */
  async balance(mode: PaymentMode, readModel: PaymentsReadModel): Promise<BalanceAmounts[]> {
    await this.settleDue(mode, readModel);
    const engine = this.ledgers[mode];
    await engine.catchUp();
    const net = (kind: 'merchant_available' | 'merchant_pending', currency: PaymentCurrency): bigint => {
      const balances = engine.state.account(paymentsLedgerAccountId(kind, currency))?.balances;
      return balances === undefined ? 0n : balances.creditsPosted - balances.debitsPosted;
    };
    return PAYMENT_CURRENCIES.map((currency) => ({ currency, availableMinor: net('merchant_available', currency), pendingMinor: net('merchant_pending', currency) }));
  }

  /**
   * Moves every balance transaction whose `available_on` has come from the
   * pending to the available balance (idempotent ledger ids), then records
   * that in `psettlement-<mode>` for the read model. Returns how many moved.
   */
  async settleDue(mode: PaymentMode, readModel: PaymentsReadModel): Promise<number> {
    return this.locks.run(`settle:${mode}`, async () => {
      let moved = 0;
      for (;;) {
        const due = await readModel.dueSettlements(mode, this.clock.nowMs(), PAYMENT_SETTLEMENT_BATCH_MAX);
        if (due.length === 0) return moved;
        const requests = due.map(settlementRequest).filter((request): request is LedgerRequest => request !== null);
        (await this.ledgers[mode].executeAll(requests)).forEach(requireOk);
        await this.store.append({
          streamId: `${PAYMENTS_CATEGORIES.settlement}-${mode}.sweeps`, expectedVersion: 'any',
          events: [{ type: BALANCE_SETTLED_EVENT, data: { balanceTransactionIds: due.map((item) => item.balanceTransactionId), atMs: this.clock.nowMs() }, metadata: { actor: 'payments-settlement', mode } }],
        });
        moved += due.length;
        if (due.length < PAYMENT_SETTLEMENT_BATCH_MAX) return moved;
      }
    });
  }

  // Running commands --------------------------------------------------------------

  private async intentMethod(ctx: PaymentsContext, state: PaymentIntentState): Promise<ResolvedPaymentMethod | null> {
    if (state.status === 'none' || state.paymentMethodId === null) return null;
    return resolved(await this.paymentMethod(ctx.mode, state.paymentMethodId), state.paymentMethodId, 'payment_method');
  }

  /** Decides on a PaymentIntent stream; its events commit with the ledger movements they imply (see run). */
  private runIntent(ctx: PaymentsContext, paymentIntentId: string, command: (state: PaymentIntentState) => PaymentIntentCommand | Promise<PaymentIntentCommand>): Promise<Decided<PaymentIntentState, PaymentIntentEvent>> {
    return this.runner.run(this.repos.intents, ctx, paymentIntentId, command, paymentIntentLedgerRequests);
  }

  private defaultExpiryYear(): number {
    return new Date(this.clock.nowMs()).getUTCFullYear() + 3;
  }
}

