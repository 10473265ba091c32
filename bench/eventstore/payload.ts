/**
 * The payload every event store workload writes, Daybook and raw alike, so
 * that rows are the same size: a ledger-like event of about 150 bytes of data
 * JSON and 80 bytes of metadata JSON.
 */
import type { NewEvent } from '../../src/index.ts';

export const EVENT_TYPE = 'FundsDeposited';
export const CATEGORY = 'acct';

export function eventData(sequence: number): Record<string, unknown> {
  return {
    accountId: `acc_${sequence.toString(36).padStart(12, '0')}`,
    amountMinor: String(1000 + (sequence % 900_000)),
    currency: 'USD',
    reference: `dep_${(sequence * 2654435761 >>> 0).toString(16).padStart(8, '0')}`,
    memo: 'card settlement',
  };
}

export function eventMetadata(sequence: number): Record<string, unknown> {
  return {
    correlationId: `cor_${sequence.toString(36).padStart(12, '0')}`,
    actor: 'bench',
    tenant: 'tenant_1',
  };
}

let sequence = 0;

/** `count` new events with fresh payloads (ids are left to the store). */
export function newEvents(count: number): NewEvent[] {
  const events: NewEvent[] = [];
  for (let i = 0; i < count; i++) {
    sequence += 1;
    events.push({ type: EVENT_TYPE, data: eventData(sequence), metadata: eventMetadata(sequence) });
  }
  return events;
}

/** "1M" for 1,000,000, "100K" for 100,000: for workload names. */
export function formatCount(count: number): string {
  if (count >= 1e6 && count % 1e6 === 0) return `${count / 1e6}M`;
  if (count >= 1e3 && count % 1e3 === 0) return `${count / 1e3}K`;
  return String(count);
}
