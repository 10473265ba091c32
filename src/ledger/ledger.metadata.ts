import type { EventMetadata } from '../eventstore/index.ts';
import type { LedgerCommand } from './ledger.commands.ts';
import type { LedgerEvent } from './ledger.events.ts';

/**
 * Events do not say which command of the batch caused them, but each names
 * the record it is about (account, transfer or entry id), as its command
 * does: that key carries the caller's metadata over to the events.
 */
export function metadataByRecord(batch: ReadonlyArray<{ command: LedgerCommand; metadata: EventMetadata | undefined }>): Map<string, EventMetadata> {
  const byKey = new Map<string, EventMetadata>();
  for (const { command, metadata } of batch) {
    const key = metadata === undefined ? undefined : recordKeyOfCommand(command);
    if (key !== undefined && !byKey.has(key)) byKey.set(key, metadata!);
  }
  return byKey;
}

function recordKeyOfCommand(command: LedgerCommand): string | undefined {
  const data = command.data as unknown as Record<string, unknown>;
  switch (command.type) {
    case 'OpenAccount': case 'CloseAccount': case 'ReopenAccount': return `account:${String(data.accountId)}`;
    case 'CreateTransfer': case 'PostPendingTransfer': case 'VoidPendingTransfer': return `transfer:${String(data.transferId)}`;
    case 'ExpirePendingTransfer': return `expiry:${String(data.pendingId)}`;
    case 'RecordJournalEntry': return `entry:${String(data.entryId)}`;
    case 'ReverseJournalEntry': return `entry:${String(data.reversalId)}`;
    default: return undefined;
  }
}

export function recordKeyOfEvent(event: LedgerEvent): string {
  switch (event.type) {
    case 'AccountOpened': case 'AccountClosed': case 'AccountReopened': return `account:${event.data.accountId}`;
    case 'PendingTransferExpired': return `expiry:${event.data.pendingId}`;
    case 'JournalEntryRecorded': case 'JournalEntryFailed': return `entry:${event.data.entryId}`;
    case 'JournalEntryReversed': return `entry:${event.data.reversalId}`;
    default: return `transfer:${event.data.transferId}`;
  }
}

