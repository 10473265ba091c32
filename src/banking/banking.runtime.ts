import { createHash } from 'node:crypto';
import type { EventMetadata, EventStore } from '../eventstore/index.ts';
import type { Clock } from '../kernel/clock.ts';
import { DaybookError, isDaybookError } from '../kernel/errors.ts';
import type { IdGenerator } from '../kernel/ids.ts';
import { canonicalJson } from '../kernel/json.ts';
import { KeyedLocks } from '../kernel/keyedLocks.ts';
import { COMMAND_RETRIES_MAX } from '../kernel/limits.ts';
import type { LedgerEngine } from '../ledger/ledger.service.ts';
import type { OperationContext } from './banking.types.ts';
import { StreamRepository, type BankingDomainEvent, type Loaded } from './banking.repository.ts';
import type { BankAccountCommand } from './bankAccount.commands.ts';
import { bankAccountDecider, type BankAccountState } from './bankAccount.decider.ts';
import { BANK_ACCOUNT_EVENT_TYPES, type BankAccountEvent } from './bankAccount.events.ts';
import type { CustomerCommand } from './customer.commands.ts';
import { customerDecider, type CustomerState } from './customer.decider.ts';
import { CUSTOMER_EVENT_TYPES, type CustomerEvent } from './customer.events.ts';
import type { TransactionCommand } from './transaction.commands.ts';
import { transactionDecider, type TransactionState } from './transaction.decider.ts';
import { TRANSACTION_EVENT_TYPES, type TransactionEvent } from './transaction.events.ts';

/** Stream prefixes (the store's categories) of the banking aggregates. */
export const BANKING_STREAM_PREFIXES = { customer: 'customer', account: 'bankaccount', transaction: 'banktxn' } as const;

/** What the service's operations share: the store, the ledger, time, ids and the three repositories. */
export type BankingRuntime = {
  readonly store: EventStore;
  readonly ledger: LedgerEngine;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly customers: StreamRepository<CustomerCommand, CustomerEvent, CustomerState>;
  readonly accounts: StreamRepository<BankAccountCommand, BankAccountEvent, BankAccountState>;
  readonly transactions: StreamRepository<TransactionCommand, TransactionEvent, TransactionState>;
  /** Operations in flight per key (transaction id, account lane): a second caller with the same key waits for the first. */
  readonly inFlight: KeyedLocks;
};

export function createRuntime(store: EventStore, ledger: LedgerEngine, clock: Clock, ids: IdGenerator): BankingRuntime {
  return {
    store, ledger, clock, ids,
    customers: new StreamRepository(store, customerDecider, BANKING_STREAM_PREFIXES.customer, CUSTOMER_EVENT_TYPES),
    accounts: new StreamRepository(store, bankAccountDecider, BANKING_STREAM_PREFIXES.account, BANK_ACCOUNT_EVENT_TYPES),
    transactions: new StreamRepository(store, transactionDecider, BANKING_STREAM_PREFIXES.transaction, TRANSACTION_EVENT_TYPES),
    inFlight: new KeyedLocks(),
  };
}

/** An operation's context with its correlation id settled (generated once per operation when absent). */
export type ResolvedContext = OperationContext & { readonly correlationId: string };

export function resolveContext(runtime: BankingRuntime, context: OperationContext = {}): ResolvedContext {
  return { ...context, correlationId: context.correlationId ?? runtime.ids.next() };
}

/** Event metadata: the correlation id always; the causation id (the caller's, or the event that led here) and actor when known. */
export function metadataFor(context: ResolvedContext, causationId?: string): EventMetadata {
  const metadata: EventMetadata = { correlationId: context.correlationId };
  const cause = causationId ?? context.causationId;
  if (cause !== undefined) metadata.causationId = cause;
  if (context.actor !== undefined) metadata.actor = context.actor;
  return metadata;
}

export function isVersionConflict(error: unknown): error is DaybookError {
  return isDaybookError(error, 'stream_version_conflict');
}

export function retriesExhausted(what: string, error: unknown): DaybookError {
  const details = isDaybookError(error) ? error.details : {};
  return new DaybookError('stream_version_conflict', `${what}: still conflicting after ${COMMAND_RETRIES_MAX} attempts`, { ...details });
}

/**
 * Loads one stream, decides `build(state)` on it and appends the events with
 * the exact expected version; on a version conflict, loads again and decides
 * again, at most `COMMAND_RETRIES_MAX` times. No events (the command was a
 * repeat) appends nothing.
 */
export async function decideAndAppend<Command, Event extends BankingDomainEvent, State>(
  repository: StreamRepository<Command, Event, State>,
  id: string,
  build: (state: State) => Command,
  metadata: EventMetadata,
): Promise<{ loaded: Loaded<State>; events: readonly Event[]; firstEventId: string | null }> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= COMMAND_RETRIES_MAX; attempt += 1) {
    const loaded = await repository.load(id);
    const events = repository.decider.decide(build(loaded.state), loaded.state);
    if (events.length === 0) return { loaded, events, firstEventId: null };
    try {
      const result = await repository.append(repository.write(id, loaded, events, metadata));
      return { loaded: repository.applied(id, loaded, events), events, firstEventId: result.events[0]?.eventId ?? null };
    } catch (error) {
      if (!isVersionConflict(error)) throw error;
      repository.forget(id);
      lastError = error;
    }
  }
  throw retriesExhausted(`${repository.streamId(id)}`, lastError);
}

/**
 * The transaction id an idempotency key names: a hash of the key in its
 * namespace (`user` for callers' keys, `system` for the keys the service
 * makes, such as an opening deposit's), so the key itself never has to fit a
 * stream name and callers' keys cannot collide with the service's.
 */
export function transactionIdForKey(namespace: 'user' | 'system', key: string): string {
  return `tx${createHash('sha256').update(`${namespace}\u0000${key}`).digest('hex').slice(0, 32)}`;
}

/** SHA-256 of a request body, canonical JSON with bigints as strings: what idempotency compares. */
export function requestHash(body: Record<string, unknown>): string {
  const plain = JSON.parse(JSON.stringify(body, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)));
  return createHash('sha256').update(canonicalJson(plain)).digest('hex');
}
