import type { EventStore } from '../eventstore/index.ts';
import { systemClock, type Clock } from '../kernel/clock.ts';
import { DaybookError } from '../kernel/errors.ts';
import { uuidV7Generator, type IdGenerator } from '../kernel/ids.ts';
import { toDaybookError, type LedgerOutcome } from '../ledger/index.ts';
import { LedgerEngine } from '../ledger/ledger.service.ts';
import { checkId, FieldChecks } from './banking.checks.ts';
import { freezeAccount, inBankingTerms, unfreezeAccount } from './banking.freezing.ts';
import { closeAccount, ledgerBalanceMinor } from './banking.closing.ts';
import { openCustomerLedgerAccount, systemLedgerAccounts } from './banking.ledgerPlan.ts';
import { resultOf, runMovement, type MovementRequest } from './banking.movements.ts';
import { createRuntime, decideAndAppend, metadataFor, resolveContext, type BankingRuntime } from './banking.runtime.ts';
import type {
  CloseAccountInput, CloseAccountResult, CrossCurrencyTransferInput, CustomerResult, DepositInput, FreezeInput, MovementOptions,
  OpenAccountInput, OpenAccountResult, PaymentInput, RegisterCustomerInput, TransactionResult, TransferInput, UnfreezeInput, WithdrawalInput,
} from './banking.service.types.ts';
import { NO_COMPLIANCE_FLAGS, type OperationContext } from './banking.types.ts';
import type { BankAccountState, OpenedAccountState } from './bankAccount.decider.ts';
import type { CustomerState } from './customer.decider.ts';
import type { CustomerPii } from './customer.events.ts';

export interface BankingServiceOptions {
  clock?: Clock;
  ids?: IdGenerator;
  /** The ledger engine holding the money; opened on `ledgerPartition` when absent. */
  ledger?: LedgerEngine;
  /** Default `banking`: the engine owns the stream `ledger-banking`. */
  ledgerPartition?: string;
  /** The cache sizes of the ledger engine opened here (LedgerEngineOptions `transferCacheMax`, `entryCacheMax`). */
  ledgerCache?: { transferCacheMax?: number; entryCacheMax?: number };
}

/**
 * The bank's account and transaction service. Customers, accounts and
 * transactions are event-sourced streams (`customer-<id>`,
 * `bankaccount-<id>`, `banktxn-<id>`); the money is in the ledger (see
 * banking.ledgerPlan.ts for the chart of accounts). Each operation validates,
 * checks idempotency, existence and the deciders' rules in that order
 * (STYLE §5), and writes with exact expected versions. Money movements
 * follow banking.movements.ts; closing, banking.closing.ts.
 *
 * Every event carries the operation's correlation id (the caller's or a new
 * one) in its metadata; the caller's causation id goes on the first events,
 * and the `TransactionInitiated` event's id is the causation of the
 * transaction's settlement.
 *
 * @example
 * const bank = await BankingService.open(store);
 * const { customerId } = await bank.registerCustomer({ pii: { fullName: 'Ada Lovelace', email: 'ada@example.com' } });
 * const { accountId } = await bank.openAccount({ customerId, accountType: 'checking', currency: 'USD', regulatoryTier: 'retail', initialBalanceMinor: 10_000n });
 * await bank.withdraw({ accountId, amountMinor: 2_500n, idempotencyKey: 'atm-7781' });
 */
export class BankingService {
  private constructor(private readonly runtime: BankingRuntime) {}

  static async open(store: EventStore, options: BankingServiceOptions = {}): Promise<BankingService> {
    const clock = options.clock ?? systemClock;
    const ledger = options.ledger ?? await LedgerEngine.open(store, { partition: options.ledgerPartition ?? 'banking', clock, ...options.ledgerCache });
    const service = new BankingService(createRuntime(store, ledger, clock, options.ids ?? uuidV7Generator));
    const outcomes = await ledger.executeAll(systemLedgerAccounts(clock.nowMs()));
    outcomes.forEach(requireOk);
    return service;
  }

  get ledger(): LedgerEngine {
    return this.runtime.ledger;
  }

  /** Registers a customer; the same id with the same details again answers the first registration. */
  async registerCustomer(input: RegisterCustomerInput, context?: OperationContext): Promise<CustomerResult> {
    const customerId = input.customerId ?? this.runtime.ids.next();
    requireIds({ customerId });
    const ctx = resolveContext(this.runtime, context);
    const pii = piiOf(input.pii);
    const { loaded, events } = await decideAndAppend(this.runtime.customers, customerId, () => ({
      type: 'RegisterCustomer' as const, data: { customerId, kind: input.kind ?? 'individual', pii, atMs: this.runtime.clock.nowMs() },
    }), metadataFor(ctx));
    return customerResult(loaded.state, events.length === 0);
  }

  /** Replaces a customer's personal data as a whole. */
  async updateCustomerPii(customerId: string, pii: RegisterCustomerInput['pii'], context?: OperationContext): Promise<CustomerResult> {
    requireIds({ customerId });
    const ctx = resolveContext(this.runtime, context);
    const full = piiOf(pii);
    const { loaded, events } = await decideAndAppend(this.runtime.customers, customerId, () => ({
      type: 'UpdateCustomerPii' as const, data: { customerId, pii: full, atMs: this.runtime.clock.nowMs() },
    }), metadataFor(ctx));
    return customerResult(loaded.state, events.length === 0);
  }

  /**
   * Opens an account for a registered customer, with its ledger account,
   * and pays the initial balance in as a `deposit` (idempotency key
   * `open:<accountId>`). Opening the same id with the same body again
   * finishes what an earlier attempt left undone and answers the account.
   */
  async openAccount(input: OpenAccountInput, context?: OperationContext): Promise<OpenAccountResult> {
    const accountId = input.accountId ?? this.runtime.ids.next();
    requireIds({ accountId, customerId: input.customerId });
    const ctx = resolveContext(this.runtime, context);
    const { runtime } = this;
    const customer = await runtime.customers.load(input.customerId);
    const initialBalanceMinor = input.initialBalanceMinor ?? 0n;
    const command = (atMs: number) => ({
      type: 'OpenBankAccount' as const,
      data: {
        accountId, customerId: input.customerId, customerRegistered: customer.state.status === 'registered', accountType: input.accountType,
        currency: input.currency, regulatoryTier: input.regulatoryTier, complianceFlags: { ...NO_COMPLIANCE_FLAGS, ...input.complianceFlags },
        initialBalanceMinor, atMs,
      },
    });
    // Decided once before the ledger account is opened, so a refused opening leaves nothing behind.
    const before = await runtime.accounts.load(accountId);
    runtime.accounts.decider.decide(command(runtime.clock.nowMs()), before.state);
    requireOk(await runtime.ledger.execute(openCustomerLedgerAccount(accountId, input.accountType, input.currency, runtime.clock.nowMs()), metadataFor(ctx)));
    const { loaded, events, firstEventId } = await decideAndAppend(runtime.accounts, accountId, () => command(runtime.clock.nowMs()), metadataFor(ctx));
    const initialDeposit = initialBalanceMinor === 0n ? null : await runMovement(runtime, {
      ...movement({ idempotencyKey: `open:${accountId}`, reference: 'initial deposit' }, 'deposit'),
      toAccountId: accountId, amountMinor: initialBalanceMinor, keyNamespace: 'system',
    }, { ...ctx, causationId: firstEventId ?? ctx.causationId });
    return { accountId, account: loaded.state as OpenedAccountState, initialDeposit, replayed: events.length === 0 };
  }

  /** Pays money in from the settlement (cash) account. */
  deposit(input: DepositInput, context?: OperationContext): Promise<TransactionResult> {
    return runMovement(this.runtime, { ...movement(input, 'deposit'), toAccountId: input.accountId, amountMinor: input.amountMinor }, context);
  }

  /** Pays money out to the settlement (cash) account; limits apply. */
  withdraw(input: WithdrawalInput, context?: OperationContext): Promise<TransactionResult> {
    return runMovement(this.runtime, {
      ...movement(input, 'withdrawal'), fromAccountId: input.accountId, amountMinor: input.amountMinor, feeMinor: input.feeMinor ?? 0n,
    }, context);
  }

  /** Moves money between two accounts of one currency; limits apply to the paying account. */
  transfer(input: TransferInput, context?: OperationContext): Promise<TransactionResult> {
    return runMovement(this.runtime, {
      ...movement(input, 'transfer'), fromAccountId: input.fromAccountId, toAccountId: input.toAccountId, amountMinor: input.amountMinor, feeMinor: input.feeMinor ?? 0n,
    }, context);
  }

  /**
   * Moves money between accounts of different currencies at `exchangeRate`:
   * the receiving account gets the exact converted amount rounded half even
   * to its minor unit; rounding is booked to the FX-rounding account.
   */
  transferCrossCurrency(input: CrossCurrencyTransferInput, context?: OperationContext): Promise<TransactionResult> {
    return runMovement(this.runtime, {
      ...movement(input, 'transfer'), fromAccountId: input.fromAccountId, toAccountId: input.toAccountId, amountMinor: input.amountMinor,
      feeMinor: input.feeMinor ?? 0n, exchangeRate: input.exchangeRate,
    }, context);
  }

  /** Pays an external account (`beneficiary`) through the clearing account; limits apply. */
  pay(input: PaymentInput, context?: OperationContext): Promise<TransactionResult> {
    return runMovement(this.runtime, {
      ...movement(input, 'payment'), fromAccountId: input.fromAccountId, beneficiary: input.beneficiary, amountMinor: input.amountMinor, feeMinor: input.feeMinor ?? 0n,
    }, context);
  }

  /**
   * Freezes an account: it neither sends nor receives until unfrozen (closing
   * still sweeps it). Once this resolves, no movement of the account
   * succeeds, not even one already under way (see banking.freezing.ts).
   */
  freeze(input: FreezeInput, context?: OperationContext): Promise<OpenedAccountState> {
    requireIds({ accountId: input.accountId });
    return freezeAccount(this.runtime, input, context);
  }

  unfreeze(input: UnfreezeInput, context?: OperationContext): Promise<OpenedAccountState> {
    requireIds({ accountId: input.accountId });
    return unfreezeAccount(this.runtime, input, context);
  }

  /** Closes an account, moving any balance to `sweepToAccountId` (required when the balance is not zero). */
  close(input: CloseAccountInput, context?: OperationContext): Promise<CloseAccountResult> {
    return closeAccount(this.runtime, input, context);
  }

  /** An account's state from its own stream (`status: 'none'` when it does not exist). */
  async account(accountId: string): Promise<BankAccountState> {
    requireIds({ accountId });
    return (await this.runtime.accounts.load(accountId)).state;
  }

  async customer(customerId: string): Promise<CustomerState> {
    requireIds({ customerId });
    return (await this.runtime.customers.load(customerId)).state;
  }

  /** A transaction as recorded on its stream, or `transaction_not_found`. */
  async transaction(transactionId: string): Promise<TransactionResult> {
    requireIds({ transactionId });
    const { state } = await this.runtime.transactions.load(transactionId);
    if (state.status === 'none') throw new DaybookError('transaction_not_found', `transaction ${transactionId} does not exist`, { transactionId }, 'transactionId');
    return resultOf(state, true);
  }

  /** The account's balance in the ledger (credits less debits posted), minor units; 0 for an unknown account. */
  ledgerBalanceMinor(accountId: string): bigint {
    return ledgerBalanceMinor(this.runtime, accountId);
  }
}

/** The fields every movement shares, with their defaults. */
function movement(input: MovementOptions, type: MovementRequest['type']): MovementRequest {
  return {
    type, fromAccountId: null, toAccountId: null, beneficiary: null, amountMinor: 0n, currency: input.currency ?? null, exchangeRate: null,
    feeMinor: 0n, reference: input.reference ?? '', complianceScore: input.complianceScore ?? 0,
    idempotencyKey: input.idempotencyKey ?? null, keyNamespace: 'user',
  };
}

/** Ids are checked before any stream is named after them. */
function requireIds(ids: Record<string, unknown>): void {
  const checks = new FieldChecks();
  for (const [param, value] of Object.entries(ids)) checkId(checks, value, param);
  checks.throwFirst();
}

/** Every personal-data field present, optional ones null; the customer decider checks the values. */
function piiOf(pii: RegisterCustomerInput['pii'] | undefined): CustomerPii {
  if (typeof pii !== 'object' || pii === null) return pii as unknown as CustomerPii;
  return { fullName: pii.fullName, email: pii.email, phone: pii.phone ?? null, dateOfBirth: pii.dateOfBirth ?? null, address: pii.address ?? null };
}

function requireOk(outcome: LedgerOutcome): void {
  if (!outcome.ok) throw toDaybookError(inBankingTerms(outcome.rejection));
}

function customerResult(state: CustomerState, replayed: boolean): CustomerResult {
  if (state.status !== 'registered') throw new DaybookError('customer_not_found', 'customer does not exist');
  return { customerId: state.customerId, kind: state.kind, pii: state.pii, replayed };
}
