import { deepEqual } from '../decider/index.ts';
import { RECORDED_FAILURE_CODES, rejection, type LedgerErrorCode, type LedgerRejection } from './ledger.errors.ts';
import { accepted, entryResult, refused, transferResult, type LedgerDecision } from './ledger.results.ts';
import type { EntryId, EntryRecord, EntryRequest, TransferId, TransferRecord, TransferRequest } from './ledger.types.ts';

/**
 * Ids are idempotent. The same id with the same body (the time aside) gets
 * the first result again, success or recorded failure, and writes nothing.
 * The same id with another body is a conflict, named after the first
 * difference in the order flags (including the kind: create, post, void),
 * accounts, amount, other fields.
 */
export function transferConflict(stored: TransferRequest, incoming: TransferRequest): LedgerErrorCode | undefined {
  if (stored.kind !== incoming.kind) return 'transfer_exists_with_different_flags';
  if (stored.kind === 'create' && incoming.kind === 'create') {
    if (!deepEqual(stored.flags, incoming.flags)) return 'transfer_exists_with_different_flags';
    if (stored.debitAccountId !== incoming.debitAccountId || stored.creditAccountId !== incoming.creditAccountId) {
      return 'transfer_exists_with_different_accounts';
    }
    if (stored.amountMinor !== incoming.amountMinor) return 'transfer_exists_with_different_amount';
  } else if (stored.kind !== 'create' && incoming.kind !== 'create') {
    if (stored.linked !== incoming.linked) return 'transfer_exists_with_different_flags';
    const storedAmount = stored.kind === 'post' ? stored.amountMinor : null;
    const incomingAmount = incoming.kind === 'post' ? incoming.amountMinor : null;
    if (storedAmount !== incomingAmount) return 'transfer_exists_with_different_amount';
  }
  return deepEqual(stored, incoming) ? undefined : 'transfer_exists_with_different_fields';
}

/** The answer to a transfer id seen before: its first result, or a conflict. */
export function replayTransfer(record: TransferRecord, incoming: TransferRequest): LedgerDecision {
  const conflict = transferConflict(record.request, incoming);
  if (conflict !== undefined) {
    return refused(rejection(conflict, `transfer ${record.transferId} exists with a different body (${conflict})`, { transferId: record.transferId }, 'transferId'));
  }
  if (record.status === 'failed') return refused(recordedFailure('transfer', record.transferId, record.code, record.atMs), [], true);
  return accepted([], transferResult(record), true);
}

/** Refuses a transfer; a failure that could change later is recorded, so the id stays failed. */
export function failTransfer(transferId: TransferId, request: TransferRequest, atMs: number, rejected: LedgerRejection): LedgerDecision {
  if (!RECORDED_FAILURE_CODES.has(rejected.code)) return refused(rejected);
  return refused(rejected, [{ type: 'TransferFailed', data: { transferId, request, code: rejected.code, atMs } }]);
}

export function replayEntry(record: EntryRecord, incoming: EntryRequest): LedgerDecision {
  if (!deepEqual(record.request, incoming)) {
    return refused(rejection('entry_exists_with_different_fields', `entry ${record.entryId} exists with a different body`, { entryId: record.entryId }, 'entryId'));
  }
  if (record.status === 'failed') return refused(recordedFailure('entry', record.entryId, record.code, record.atMs), [], true);
  return accepted([], entryResult(record), true);
}

export function failEntry(entryId: EntryId, request: EntryRequest, atMs: number, rejected: LedgerRejection): LedgerDecision {
  if (!RECORDED_FAILURE_CODES.has(rejected.code)) return refused(rejected);
  return refused(rejected, [{ type: 'JournalEntryFailed', data: { entryId, request, code: rejected.code, atMs } }]);
}

function recordedFailure(what: 'transfer' | 'entry', id: string, code: LedgerErrorCode, atMs: number): LedgerRejection {
  return rejection(
    code,
    `${what} ${id} failed with ${code} at ${atMs}; a failed id stays failed, retry with a new id`,
    { [what === 'transfer' ? 'transferId' : 'entryId']: id, failedAtMs: atMs, recordedFailure: true },
  );
}
