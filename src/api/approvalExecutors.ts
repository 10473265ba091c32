/**
 * What runs when an approval request is approved: the maker's action, as
 * the guarded route would have run it, under the ids fixed when the request
 * was made (so running it again answers its first result). A refusal of the
 * domain is the request's outcome (`failed`, recorded); anything a retry may
 * change (an unavailable store, a conflict) is thrown, and the request stays
 * approved until the checker's approve, retried, runs it.
 */
import type { ComplianceApi, FraudCheck } from './complianceApi.ts';
import { type ApprovalAction, type ApprovalExecutor, type ApprovalOutcome, approvalStreamId } from '../compliance/approvals/index.ts';
import type { EventMetadata } from '../eventstore/index.ts';
import { type DaybookError, isDaybookError } from '../kernel/index.ts';
import type { LedgerOutcome, LedgerRequest } from '../ledger/index.ts';
import { type BankingApi, runBanking } from './bankingApi.ts';
import { recordable } from './idempotency.hooks.ts';
import type { LedgerApi } from './ledgerApi.ts';
import { type CreateTransferBody, transferCommandOf } from './routes/transfers.routes.ts';
import { journalEntryCommandOf, type RecordEntryBody } from './routes/journalEntries.routes.ts';
import { ERROR_TABLE } from '../edge/index.ts';

type Requested = Parameters<ApprovalExecutor>[0];

const succeeded = (object: string, id: string): ApprovalOutcome => ({ outcome: 'succeeded', result: { object, id }, failure: null });
const failed = (code: string, message: string): ApprovalOutcome => ({ outcome: 'failed', result: null, failure: { code, message } });

/** The metadata of the action's events: the approver acts, the request is the cause, and the maker is named. */
function metadataOf(request: Requested, approverKeyId: string): EventMetadata {
  return { correlationId: request.approvalId, causationId: approvalStreamId(request.approvalId), actor: approverKeyId, mode: request.mode, approvalId: request.approvalId, requestedBy: request.requestedBy.keyId };
}

/** A domain refusal becomes the outcome; anything else goes up (see the file's comment). */
function refusalOrThrow(error: unknown): ApprovalOutcome {
  const daybook = error as DaybookError;
  if (isDaybookError(error) && ERROR_TABLE[daybook.code].http < 500 && recordable(ERROR_TABLE[daybook.code].http, daybook.code)) return failed(daybook.code, daybook.message);
  throw error;
}

async function runLedger(ledger: LedgerApi, request: Requested, approverKeyId: string, command: LedgerRequest, object: string, id: string): Promise<ApprovalOutcome> {
  let outcome: LedgerOutcome;
  try {
    outcome = await ledger.engines[request.mode].execute(command, metadataOf(request, approverKeyId));
  } catch (error) {
    return refusalOrThrow(error);
  }
  if (!outcome.ok) return failed(outcome.rejection.code, outcome.rejection.message);
  // A reversal of an entry reversed already answers its first reversal.
  const answered = outcome.result.kind === 'entry' ? outcome.result.entryId : id;
  return succeeded(object, answered);
}

export function approvalExecutors(ledger: LedgerApi, banking: BankingApi, compliance: Pick<ComplianceApi, 'checkFraud'>): Record<ApprovalAction, ApprovalExecutor> {
  return {
    transfer: async (request, approver) => {
      const payload = request.payload as CreateTransferBody & { id: string; ledger: string };
      const command = transferCommandOf(payload, payload.id, payload.ledger, false);
      // Scored when it is about to execute, as any transfer is (not when asked for: the verdict is the one of the moment it moves); a repeat is not scored again.
      let fraud: FraudCheck | null = null;
      if ((await ledger.engines[request.mode].lookupTransfer(payload.id)) === undefined) {
        try {
          fraud = await compliance.checkFraud({ ref: `ledger.${request.mode}.${payload.id}`, amountMinor: BigInt(command.data.amountMinor), currency: null, mode: request.mode, actor: approver.keyId });
        } catch (error) {
          if (isDaybookError(error, 'fraud_blocked')) return failed('fraud_blocked', error.message);
          throw error;
        }
      }
      const outcome = await runLedger(ledger, request, approver.keyId, command, 'transfer', payload.id);
      if (outcome.outcome === 'succeeded') await fraud?.record();
      return outcome;
    },
    journal_entry: async (request, approver) => {
      const payload = request.payload as RecordEntryBody & { id: string };
      return runLedger(ledger, request, approver.keyId, journalEntryCommandOf(payload, payload.id), 'journal_entry', payload.id);
    },
    journal_entry_reversal: async (request, approver) => {
      const payload = request.payload as { id: string; entry_id: string; metadata?: Record<string, string> };
      const command: LedgerRequest = { type: 'ReverseJournalEntry', data: { reversalId: payload.id, entryId: payload.entry_id, metadata: payload.metadata } };
      return runLedger(ledger, request, approver.keyId, command, 'journal_entry', payload.id);
    },
    bank_account_unfreeze: async (request, approver) => unfreeze(banking, request, approver.keyId),
  };
}

/**
 * An unfreeze is not keyed by an id of its own: run again after it went
 * through, it meets `account_not_frozen`. Then the account's stream says
 * whether this request unfroze it (its last `AccountUnfrozen` has the
 * request as cause): if so, that is the result; if not, the refusal is.
 */
async function unfreeze(banking: BankingApi, request: Requested, approverKeyId: string): Promise<ApprovalOutcome> {
  const wireId = String((request.payload as { account_id: string }).account_id);
  const accountId = `${request.mode}.${wireId}`;
  const metadata = metadataOf(request, approverKeyId);
  try {
    await runBanking(() => banking.services[request.mode].unfreeze({ accountId }, { correlationId: String(metadata.correlationId), causationId: String(metadata.causationId), actor: approverKeyId }));
    return succeeded('bank_account', wireId);
  } catch (error) {
    if (isDaybookError(error, 'account_not_frozen')) {
      const [last] = (await banking.store.readStream(`bankaccount-${accountId}`, { direction: 'backwards', limit: 100 })).filter((event) => event.type === 'AccountUnfrozen');
      if (last?.metadata.causationId === metadata.causationId) return succeeded('bank_account', wireId);
    }
    return refusalOrThrow(error);
  }
}
