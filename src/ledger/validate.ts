import type {
  AccountLifecycleData, CreateTransferData, ExpirePendingTransferData, OpenAccountData, PostPendingTransferData,
  ReverseJournalEntryData, VoidPendingTransferData,
} from './ledger.commands.ts';
import { rejection } from './ledger.errors.ts';
import { PENDING_TIMEOUT_MS_MAX } from './ledger.limits.ts';
import type {
  AccountId, AccountSpec, CreateTransferRequest, EntryId, PostPendingRequest, ReversalRequest, TransferId, VoidPendingRequest,
} from './ledger.types.ts';
import {
  Checks, checkAmount, checkCode, checkCurrency, checkFlags, checkId, checkMetadata, checkTime, checkUserData, isPlainObject,
  type Validated,
} from './checks.ts';

/**
 * Validation of account and transfer command bodies, in the precedence
 * `validation_failed`, then the body's own rules (`flags_are_mutually_exclusive`,
 * `accounts_must_be_different`), then `limit_exceeded`. Journal entries are
 * validated in journal.validate.ts.
 */
export function notAnObject<T>(data: unknown): Validated<T> | undefined {
  return isPlainObject(data) ? undefined : { ok: false, rejection: rejection('validation_failed', 'command data must be an object', {}, 'data') };
}

export function validateOpenAccount(data: OpenAccountData): Validated<AccountSpec & { atMs: number }> {
  const bad = notAnObject<AccountSpec & { atMs: number }>(data);
  if (bad) return bad;
  const checks = new Checks();
  const accountId = checkId(checks, data.accountId, 'accountId');
  const ledger = checkId(checks, data.ledger, 'ledger');
  const currency = checkCurrency(checks, data.currency, 'currency');
  const code = checkCode(checks, data.code);
  const flags = checkFlags(checks, data.flags, ['debitsMustNotExceedCredits', 'creditsMustNotExceedDebits', 'history'] as const);
  const overdraftLimitMinor = data.overdraftLimitMinor === undefined ? 0n : checkAmount(checks, data.overdraftLimitMinor, 'overdraftLimitMinor', 0n);
  const creditLimitMinor = data.creditLimitMinor === undefined ? 0n : checkAmount(checks, data.creditLimitMinor, 'creditLimitMinor', 0n);
  const userData = checkUserData(checks, data.userData);
  const metadata = checkMetadata(checks, data.metadata);
  const atMs = checkTime(checks, data.atMs);
  if (overdraftLimitMinor > 0n && !flags.debitsMustNotExceedCredits) {
    checks.invalidField('overdraftLimitMinor', 'needs the debitsMustNotExceedCredits flag');
  }
  if (creditLimitMinor > 0n && !flags.creditsMustNotExceedDebits) {
    checks.invalidField('creditLimitMinor', 'needs the creditsMustNotExceedDebits flag');
  }
  if (checks.valid && flags.debitsMustNotExceedCredits && flags.creditsMustNotExceedDebits) {
    checks.fail('flags_are_mutually_exclusive', 'an account may limit its debits or its credits, not both', 'flags');
  }
  return checks.result(() => ({
    accountId, ledger, currency, code, flags, overdraftLimitMinor, creditLimitMinor, userData, metadata, atMs,
  }));
}

export function validateLifecycle(data: AccountLifecycleData): Validated<{ accountId: AccountId; atMs: number }> {
  const bad = notAnObject<{ accountId: AccountId; atMs: number }>(data);
  if (bad) return bad;
  const checks = new Checks();
  const accountId = checkId(checks, data.accountId, 'accountId');
  const atMs = checkTime(checks, data.atMs);
  return checks.result(() => ({ accountId, atMs }));
}

export type ValidTransfer<Request> = { transferId: TransferId; request: Request; atMs: number };

export function validateCreateTransfer(data: CreateTransferData): Validated<ValidTransfer<CreateTransferRequest>> {
  const bad = notAnObject<ValidTransfer<CreateTransferRequest>>(data);
  if (bad) return bad;
  const checks = new Checks();
  const transferId = checkId(checks, data.transferId, 'transferId');
  const debitAccountId = checkId(checks, data.debitAccountId, 'debitAccountId');
  const creditAccountId = checkId(checks, data.creditAccountId, 'creditAccountId');
  const amountMinor = checkAmount(checks, data.amountMinor, 'amountMinor');
  const ledger = checkId(checks, data.ledger, 'ledger');
  const code = checkCode(checks, data.code);
  const flags = checkFlags(checks, data.flags, ['pending', 'linked', 'balancingDebit', 'balancingCredit'] as const);
  const timeoutMs = checkTimeout(checks, data.timeoutMs, flags.pending);
  const userData = checkUserData(checks, data.userData);
  const metadata = checkMetadata(checks, data.metadata);
  const atMs = checkTime(checks, data.atMs);
  if (checks.valid && debitAccountId === creditAccountId) {
    checks.fail('accounts_must_be_different', `transfer ${transferId} debits and credits the same account ${debitAccountId}`, 'creditAccountId');
  }
  return checks.result(() => ({
    transferId,
    request: { kind: 'create' as const, debitAccountId, creditAccountId, amountMinor, ledger, code, flags, timeoutMs, userData, metadata },
    atMs,
  }));
}

function checkTimeout(checks: Checks, value: unknown, pending: boolean): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    checks.invalidField('timeoutMs', 'must be a non-negative integer of milliseconds');
    return 0;
  }
  if (value > 0 && !pending) checks.invalidField('timeoutMs', 'is only for pending transfers');
  if (value > PENDING_TIMEOUT_MS_MAX) checks.tooLarge('timeoutMs', `is longer than ${PENDING_TIMEOUT_MS_MAX} ms`, PENDING_TIMEOUT_MS_MAX);
  return value;
}

export function validatePostPending(data: PostPendingTransferData): Validated<ValidTransfer<PostPendingRequest>> {
  const bad = notAnObject<ValidTransfer<PostPendingRequest>>(data);
  if (bad) return bad;
  const checks = new Checks();
  const transferId = checkId(checks, data.transferId, 'transferId');
  const pendingId = checkId(checks, data.pendingId, 'pendingId');
  const amountMinor = data.amountMinor === undefined ? null : checkAmount(checks, data.amountMinor, 'amountMinor');
  const { linked } = checkFlags(checks, data.flags, ['linked'] as const);
  const userData = checkUserData(checks, data.userData);
  const metadata = checkMetadata(checks, data.metadata);
  const atMs = checkTime(checks, data.atMs);
  if (checks.valid && transferId === pendingId) checks.invalidField('transferId', 'must differ from pendingId');
  return checks.result(() => ({
    transferId,
    request: { kind: 'post' as const, pendingId, amountMinor, linked, userData, metadata },
    atMs,
  }));
}

export function validateVoidPending(data: VoidPendingTransferData): Validated<ValidTransfer<VoidPendingRequest>> {
  const bad = notAnObject<ValidTransfer<VoidPendingRequest>>(data);
  if (bad) return bad;
  const checks = new Checks();
  const transferId = checkId(checks, data.transferId, 'transferId');
  const pendingId = checkId(checks, data.pendingId, 'pendingId');
  const { linked } = checkFlags(checks, data.flags, ['linked'] as const);
  const userData = checkUserData(checks, data.userData);
  const metadata = checkMetadata(checks, data.metadata);
  const atMs = checkTime(checks, data.atMs);
  if (checks.valid && transferId === pendingId) checks.invalidField('transferId', 'must differ from pendingId');
  return checks.result(() => ({ transferId, request: { kind: 'void' as const, pendingId, linked, userData, metadata }, atMs }));
}

export function validateExpire(data: ExpirePendingTransferData): Validated<{ pendingId: TransferId; atMs: number }> {
  const bad = notAnObject<{ pendingId: TransferId; atMs: number }>(data);
  if (bad) return bad;
  const checks = new Checks();
  const pendingId = checkId(checks, data.pendingId, 'pendingId');
  const atMs = checkTime(checks, data.atMs);
  return checks.result(() => ({ pendingId, atMs }));
}

export function validateReversal(data: ReverseJournalEntryData): Validated<{ reversalId: EntryId; request: ReversalRequest; atMs: number }> {
  const bad = notAnObject<{ reversalId: EntryId; request: ReversalRequest; atMs: number }>(data);
  if (bad) return bad;
  const checks = new Checks();
  const reversalId = checkId(checks, data.reversalId, 'reversalId');
  const entryId = checkId(checks, data.entryId, 'entryId');
  const metadata = checkMetadata(checks, data.metadata);
  const atMs = checkTime(checks, data.atMs);
  if (checks.valid && reversalId === entryId) checks.invalidField('reversalId', 'must differ from entryId');
  return checks.result(() => ({ reversalId, request: { kind: 'reversal' as const, entryId, metadata }, atMs }));
}
