/**
 * From the log to the monitor's activities: a completed banking transaction
 * (`banktxn-*`, `TransactionCompleted`) or a captured payment (`pintent-*`,
 * `PaymentCaptured`) becomes one activity per customer side. What those
 * events do not carry (the transaction's accounts, an account's customer, a
 * payment's customer) is read from the earlier events of their streams,
 * which never change: so the same event always gives the same activities,
 * however often it is read. Lookups are cached, bounded.
 */
import {
  BANKING_STREAM_PREFIXES, type AccountOpened, type TransactionCompleted, type TransactionInitiated,
} from '../../banking/index.ts';
import type { EventStore, RecordedEvent } from '../../eventstore/index.ts';
import { assert, READ_BATCH_MAX } from '../../kernel/index.ts';
import type { PaymentCaptured, PaymentIntentEvent } from '../../payments/index.ts';
import type { Activity, ActivityKind } from './aml.rules.ts';

export const AML_SOURCE_CATEGORIES = [BANKING_STREAM_PREFIXES.transaction, 'pintent'] as const;
export const AML_SOURCE_TYPES = ['TransactionCompleted', 'PaymentCaptured'] as const;

/** Entries each lookup cache holds; past it, it starts afresh (the values are immutable, so a miss only costs a read). */
const LOOKUP_CACHE_MAX = 50_000;
const MODE_PREFIX = /^(test|live)\./;

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= LOOKUP_CACHE_MAX) cache.clear();
  cache.set(key, value);
  return value;
}

export class ActivitySource {
  private readonly customersOfAccounts = new Map<string, string | null>();
  private readonly initiated = new Map<string, TransactionInitiated['data'] | null>();
  private readonly payers = new Map<string, string | null>();

  constructor(private readonly store: EventStore) {}

  /** The activities an event stands for (none for an event of another type, or a payment without a customer). */
  async activitiesOf(event: RecordedEvent): Promise<Activity[]> {
    if (event.type === 'TransactionCompleted') return this.ofTransaction(event);
    if (event.type === 'PaymentCaptured') return this.ofCapture(event);
    return [];
  }

  private async ofTransaction(event: RecordedEvent): Promise<Activity[]> {
    const completed = event.data as TransactionCompleted['data'];
    const initiated = await this.initiatedOf(completed.transactionId);
    assert(initiated !== null, `AML: ${event.streamId} completed without TransactionInitiated`);
    const atMs = Date.parse(completed.completedAt);
    const sides: Array<{ accountId: string; kind: ActivityKind; amountMinor: bigint; currency: string }> = [];
    const { fromAccountId, toAccountId } = initiated;
    const outKind: ActivityKind = initiated.type === 'withdrawal' ? 'cash_out' : initiated.type === 'payment' ? 'payment_out' : 'transfer_out';
    if (fromAccountId !== null) sides.push({ accountId: fromAccountId, kind: outKind, amountMinor: BigInt(initiated.amount), currency: initiated.currency });
    if (toAccountId !== null) {
      const inKind: ActivityKind = initiated.type === 'deposit' ? 'cash_in' : 'transfer_in';
      sides.push({ accountId: toAccountId, kind: inKind, amountMinor: BigInt(completed.finalAmount), currency: completed.finalCurrency });
    }
    const activities: Activity[] = [];
    for (const side of sides) {
      const customerId = await this.customerOfAccount(side.accountId);
      if (customerId === null) continue;
      activities.push({
        position: event.position, atMs, subject: `bank:${customerId}`, subjectKind: 'bank_customer', customerId,
        mode: MODE_PREFIX.exec(customerId)?.[1] ?? null, sourceId: completed.transactionId, ...side,
      });
    }
    return activities;
  }

  private async ofCapture(event: RecordedEvent): Promise<Activity[]> {
    const captured = event.data as PaymentCaptured['data'];
    const customerId = await this.payerOf(event, captured.chargeId);
    if (customerId === null) return [];
    // `pintent-<mode>.<pi_id>`
    const rest = event.streamId.slice(event.streamId.indexOf('-') + 1);
    const mode = rest.slice(0, rest.indexOf('.'));
    return [{
      position: event.position, atMs: captured.atMs, subject: `pay:${mode}:${customerId}`, subjectKind: 'payments_customer', customerId,
      mode: mode === 'test' || mode === 'live' ? mode : null, accountId: null, kind: 'card_payment',
      amountMinor: BigInt(captured.amount), currency: captured.currency.toUpperCase(), sourceId: captured.paymentIntentId,
    }];
  }

  private async initiatedOf(transactionId: string): Promise<TransactionInitiated['data'] | null> {
    const cached = this.initiated.get(transactionId);
    if (cached !== undefined) return cached;
    const [first] = await this.store.readStream(`${BANKING_STREAM_PREFIXES.transaction}-${transactionId}`, { limit: 1 });
    return remember(this.initiated, transactionId, first?.type === 'TransactionInitiated' ? (first.data as TransactionInitiated['data']) : null);
  }

  private async customerOfAccount(accountId: string): Promise<string | null> {
    const cached = this.customersOfAccounts.get(accountId);
    if (cached !== undefined) return cached;
    const [first] = await this.store.readStream(`${BANKING_STREAM_PREFIXES.account}-${accountId}`, { limit: 1 });
    return remember(this.customersOfAccounts, accountId, first?.type === 'AccountOpened' ? (first.data as AccountOpened['data']).customerId : null);
  }

  /** The customer of a capture: the charge's, else the intent's as it was before the capture. */
  private async payerOf(event: RecordedEvent, chargeId: string): Promise<string | null> {
    const cached = this.payers.get(event.eventId);
    if (cached !== undefined) return cached;
    let customerId: string | null = null;
    let fromVersion = 1n;
    while (fromVersion < event.version) {
      const page = await this.store.readStream(event.streamId, { fromVersion, limit: Math.min(READ_BATCH_MAX, Number(event.version - fromVersion)) });
      if (page.length === 0) break;
      for (const earlier of page) {
        const domain = earlier as unknown as PaymentIntentEvent;
        if (domain.type === 'PaymentIntentCreated' || domain.type === 'PaymentIntentUpdated') customerId = domain.data.customerId ?? customerId;
        if (domain.type === 'ChargeRequested' && domain.data.chargeId === chargeId) customerId = domain.data.customerId ?? customerId;
      }
      fromVersion = page.at(-1)!.version + 1n;
    }
    return remember(this.payers, event.eventId, customerId);
  }
}
