import type { FastifyRequest } from 'fastify';
import type { ApiKeyMode } from '../auth/index.ts';
import {
  type AccountBalanceView, type BankingReadModel, BankingService, type HistoryItem, InMemoryBankingReadModel, type OpenedAccountState, type OperationContext,
  type SqlBankingReadModel, type TransactionResult,
} from '../banking/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import { type Clock, DaybookError, isDaybookError, uuidv7 } from '../kernel/index.ts';
import { idFor } from './idempotency.hooks.ts';
import { authOf } from './security.ts';
import { isoTime, wireParam, withWireFieldNames } from './wire.ts';

/**
 * The banking routes' view of the banking module. Test and live data stay
 * apart as in the ledger: one `BankingService` per mode, each on its own
 * ledger partition (`banking-test`, `banking-live`), and every id the API
 * hands the service carries the mode as a prefix (`test.cus_1`), so the
 * customer, account and transaction streams of the two modes never meet.
 * Callers never see the prefix.
 *
 * TODO(issue 7): the banking module's `OperationContext` has no mode field; the
 * prefix doubles as the mode marker for the live feed's filtering.
 */
export interface BankingApi {
  store: EventStore;
  services: Readonly<Record<ApiKeyMode, BankingService>>;
  /**
   * The in-memory read model, built from the log on first use and only when
   * no projected one is set (a library or test without the projection
   * engine): a server never holds banking history in its heap.
   */
  readModel: InMemoryBankingReadModel | null;
  /**
   * The banking projection's read model, when the server runs the projection
   * engine (see `useProjectedReadModel`): queries then read its tables
   * instead of the in-memory model.
   */
  projected?: SqlBankingReadModel;
}

/** How long a query waits for the banking projection to reach the head it saw before answering `projection_wait_timeout` (503). */
export const READ_YOUR_WRITES_TIMEOUT_MS = 5_000;

const MODE_PREFIX = /^(test|live)\./;
/** Banking ids are at most 100 characters; the mode prefix takes 5. */
export const BANKING_WIRE_ID_LENGTH_MAX = 95;

export async function openBankingApi(store: EventStore, clock: Clock, ledgerCache?: { transferCacheMax?: number; entryCacheMax?: number }): Promise<BankingApi> {
  const open = (mode: ApiKeyMode) => BankingService.open(store, { clock, ledgerPartition: `banking-${mode}`, ids: { next: () => `${mode}.${uuidv7()}` }, ledgerCache });
  const test = await open('test');
  const live = await open('live');
  return { store, services: { test, live }, readModel: null };
}

export async function closeBankingApi(banking: BankingApi): Promise<void> {
  await Promise.all([banking.services.test.ledger.close(), banking.services.live.ledger.close()]);
}

export function internalId(request: FastifyRequest, wireId: string): string {
  return `${authOf(request).mode}.${wireId}`;
}

export function wireId(id: string): string;
export function wireId(id: string | null): string | null;
export function wireId(id: string | null): string | null {
  return id === null ? null : id.replace(MODE_PREFIX, '');
}

/** True when an internal id belongs to the caller's mode. */
export function ofMode(request: FastifyRequest, id: string | null): boolean {
  return id !== null && id.startsWith(`${authOf(request).mode}.`);
}

export function bankingOf(banking: BankingApi, request: FastifyRequest): BankingService {
  return banking.services[authOf(request).mode];
}

/** The correlation id and the key, for the banking events' metadata. */
export function operationContext(request: FastifyRequest): OperationContext {
  return { correlationId: request.correlationId, causationId: request.id, actor: authOf(request).keyId };
}

/** The banking idempotency key of a movement: derived from the HTTP one, so a retry after a crash finds its transaction. */
export function movementKey(request: FastifyRequest): string | undefined {
  return request.idempotency === null ? undefined : idFor(request, 'idem');
}

/** Runs a banking call; its errors leave with wire parameter names and without mode prefixes. */
export async function runBanking<T>(call: () => Promise<T>, wireNames: Readonly<Record<string, string>> = {}): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!isDaybookError(error)) throw error;
    const wireName = (field: string | undefined): string | undefined => (field === undefined ? undefined : wireNames[field] ?? wireParam(field));
    // "exists with different accountType, initialBalance": the fields as the caller sent them.
    const message = withWireFieldNames(error.message.replaceAll(/\b(test|live)\./g, ''), error.details.fields, (field) => wireName(field)!);
    throw new DaybookError(error.code, message, { ...error.details }, wireName(error.param));
  }
}

/** Reads go to the projection's tables from now on (the composition root calls it once the engine runs the banking projection). */
export function useProjectedReadModel(banking: BankingApi, model: SqlBankingReadModel): void {
  banking.projected = model;
}

/**
 * The read model, up to date with every write acknowledged before the call:
 * balances and history answer with the caller's own writes. The projection is
 * waited for up to the head read now (a stopped projection answers
 * `projection_stopped`, 503, rather than stale data); the in-memory model
 * reads what was appended since its last call.
 */
export async function freshReadModel(banking: BankingApi): Promise<BankingReadModel> {
  if (banking.projected !== undefined) {
    await banking.projected.waitFor(await banking.store.headPosition(), READ_YOUR_WRITES_TIMEOUT_MS);
    return banking.projected;
  }
  banking.readModel ??= new InMemoryBankingReadModel();
  await banking.readModel.catchUp(banking.store);
  return banking.readModel;
}

export function bankAccountToWire(account: OpenedAccountState, balance: AccountBalanceView | undefined, mode: ApiKeyMode) {
  const opened = account.opened;
  return {
    object: 'bank_account' as const,
    id: wireId(opened.accountId),
    livemode: mode === 'live',
    customer_id: wireId(opened.customerId),
    type: opened.accountType,
    currency: opened.currency,
    regulatory_tier: opened.regulatoryTier,
    compliance_flags: {
      kyc_verified: opened.complianceFlags.kycVerified,
      sanctions_screened: opened.complianceFlags.sanctionsScreened,
      politically_exposed: opened.complianceFlags.politicallyExposed,
      enhanced_due_diligence: opened.complianceFlags.enhancedDueDiligence,
    },
    status: account.status === 'closed' ? 'closed' as const : account.frozen ? 'frozen' as const : 'open' as const,
    created: opened.openedAt,
    balance: balance === undefined ? null : balanceToWire(balance),
  };
}

export function balanceToWire(balance: AccountBalanceView) {
  return { posted: balance.postedMinor.toString(), pending: balance.pendingMinor.toString(), available: balance.availableMinor.toString() };
}

export function transactionToWire(result: TransactionResult, mode: ApiKeyMode) {
  const { initiated, completed, failed } = result;
  return {
    object: 'bank_transaction' as const,
    id: wireId(result.transactionId),
    livemode: mode === 'live',
    type: initiated.type,
    status: result.status,
    from_account_id: wireId(initiated.fromAccountId),
    to_account_id: wireId(initiated.toAccountId),
    beneficiary: initiated.beneficiary,
    amount: initiated.amount,
    currency: initiated.currency,
    to_currency: initiated.toCurrency,
    exchange_rate: initiated.exchangeRate,
    fee: initiated.fee,
    reference: initiated.reference,
    final_amount: completed?.finalAmount ?? null,
    debited_amount: completed?.debitedAmount ?? null,
    failure_code: failed?.reason ?? null,
    failure_message: failed === null ? null : failed.message.replaceAll(/\b(test|live)\./g, ''),
    created: initiated.initiatedAt,
    settled: completed?.completedAt ?? failed?.failedAt ?? null,
  };
}

export function historyItemToWire(item: HistoryItem) {
  return {
    transaction_id: wireId(item.transactionId),
    type: item.type,
    status: item.status,
    direction: item.direction,
    amount: item.amountMinor.toString(),
    currency: item.currency,
    fee: item.feeMinor.toString(),
    counterparty_account_id: wireId(item.counterpartyAccountId),
    beneficiary: item.beneficiary,
    exchange_rate: item.exchangeRate,
    reference: item.reference,
    created: item.initiatedAt,
    settled: item.settledAt,
    failure_code: item.failureReason,
  };
}

export { isoTime };
