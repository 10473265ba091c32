/**
 * A tiny reference model of the ledger, for the property tests: a few plain
 * maps and the rules written as directly as possible, without the engine's
 * overlays, events or validation. It predicts each command's answer and
 * keeps balances of its own, to compare with the engine's after every step.
 * It knows only what the property test generates (well-formed commands, no
 * FX), so it is not a second implementation to maintain.
 */
import { canonicalJson } from '../kernel/index.ts';
import type { Currency } from '../kernel/money.ts';
import type { LedgerCommand } from './ledger.commands.ts';
import { RECORDED_FAILURE_CODES, type LedgerErrorCode } from './ledger.errors.ts';
import type { Posting } from './ledger.types.ts';

export type ModelAccount = {
  currency: Currency;
  /** Overdraft allowed with debits ≤ credits, or null without that flag. */
  debitLimit: bigint | null;
  creditLimit: bigint | null;
  closed: boolean;
  dp: bigint; dP: bigint; cp: bigint; cP: bigint;
};
type Pending = { debit: string; credit: string; amount: bigint; expiresAt: number | null; state: 'pending' | 'posted' | 'voided' | 'expired' };
type ModelTransfer = { body: string; outcome: 'ok' | LedgerErrorCode; pending: Pending | null };
type ModelEntry = { body: string; outcome: 'ok' | LedgerErrorCode; legs: Posting[]; reversedBy: string | null };

/** `conflict` stands for any `transfer_exists_with_different_*` code. */
export type Prediction = { code: 'ok' | 'conflict' | LedgerErrorCode; replay: boolean; events: number };

const ok = (events = 1): Prediction => ({ code: 'ok', replay: false, events });
const no = (code: LedgerErrorCode): Prediction => ({ code, replay: false, events: 0 });

export class LedgerModel {
  accounts = new Map<string, ModelAccount>();
  transfers = new Map<string, ModelTransfer>();
  entries = new Map<string, ModelEntry>();

  clone(): LedgerModel {
    const copy = new LedgerModel();
    for (const [id, account] of this.accounts) copy.accounts.set(id, { ...account });
    for (const [id, transfer] of this.transfers) copy.transfers.set(id, { ...transfer, pending: transfer.pending && { ...transfer.pending } });
    for (const [id, entry] of this.entries) copy.entries.set(id, { ...entry });
    return copy;
  }

  /** Predicts the answer to one command at time `now`, updating the model as the engine should. */
  predict(command: LedgerCommand): Prediction {
    switch (command.type) {
      case 'CreateTransfer': return this.create(command.data);
      case 'PostPendingTransfer': return this.settle(command.data.transferId, command.data.pendingId, command.data.amountMinor ?? null, 'post', command.data.atMs, command);
      case 'VoidPendingTransfer': return this.settle(command.data.transferId, command.data.pendingId, null, 'void', command.data.atMs, command);
      case 'ExpirePendingTransfer': return this.expire(command.data.pendingId, command.data.atMs);
      case 'CloseAccount':
      case 'ReopenAccount': return this.lifecycle(command.data.accountId, command.type === 'CloseAccount');
      case 'RecordJournalEntry': return this.entry(command.data.entryId, [...(command.data.postings ?? [])], bodyOf(command));
      case 'ReverseJournalEntry': return this.reverse(command.data.reversalId, command.data.entryId);
      default: throw new Error(`the model does not know ${command.type}`);
    }
  }

  private create(data: Extract<LedgerCommand, { type: 'CreateTransfer' }>['data']): Prediction {
    if (data.debitAccountId === data.creditAccountId) return no('accounts_must_be_different');
    const body = bodyOf({ type: 'CreateTransfer', data });
    const seen = this.seenTransfer(data.transferId, body);
    if (seen) return seen;
    const fail = (code: LedgerErrorCode) => this.failTransfer(data.transferId, body, code);
    const debit = this.accounts.get(data.debitAccountId);
    if (!debit) return fail('debit_account_not_found');
    const credit = this.accounts.get(data.creditAccountId);
    if (!credit) return fail('credit_account_not_found');
    if (debit.currency !== credit.currency) return fail('accounts_must_have_the_same_ledger');
    if (debit.closed) return fail('debit_account_closed');
    if (credit.closed) return fail('credit_account_closed');
    const debitRoom = debit.debitLimit === null ? null : max0(debit.cP + debit.debitLimit - debit.dP - debit.dp);
    const creditRoom = credit.creditLimit === null ? null : max0(credit.dP + credit.creditLimit - credit.cP - credit.cp);
    let amount = data.amountMinor;
    if (data.flags?.balancingDebit && debitRoom !== null && debitRoom < amount) amount = debitRoom;
    if (data.flags?.balancingCredit && creditRoom !== null && creditRoom < amount) amount = creditRoom;
    if (amount === 0n) return fail(data.flags?.balancingDebit && debitRoom === 0n ? 'exceeds_credits' : 'exceeds_debits');
    if (debitRoom !== null && amount > debitRoom) return fail('exceeds_credits');
    if (creditRoom !== null && amount > creditRoom) return fail('exceeds_debits');
    const pending = data.flags?.pending === true;
    if (pending) {
      debit.dp += amount;
      credit.cp += amount;
    } else {
      debit.dP += amount;
      credit.cP += amount;
    }
    const expiresAt = pending && data.timeoutMs ? data.atMs + data.timeoutMs : null;
    this.transfers.set(data.transferId, {
      body, outcome: 'ok', pending: pending ? { debit: data.debitAccountId, credit: data.creditAccountId, amount, expiresAt, state: 'pending' } : null,
    });
    return ok();
  }

  private settle(transferId: string, pendingId: string, amountMinor: bigint | null, kind: 'post' | 'void', now: number, command: LedgerCommand): Prediction {
    const body = bodyOf(command);
    const seen = this.seenTransfer(transferId, body);
    if (seen) return seen;
    const fail = (code: LedgerErrorCode) => this.failTransfer(transferId, body, code);
    const found = this.transfers.get(pendingId);
    if (!found || found.outcome !== 'ok') return fail('pending_transfer_not_found');
    const pending = found.pending;
    if (!pending) return fail('pending_transfer_not_pending');
    const resolved = resolvedCode(pending);
    if (resolved) return fail(resolved);
    if (pending.expiresAt !== null && now >= pending.expiresAt) return fail('pending_transfer_expired');
    const amount = kind === 'post' ? (amountMinor ?? pending.amount) : 0n;
    if (amount > pending.amount) return fail('exceeds_pending_transfer_amount');
    const debit = this.accounts.get(pending.debit)!;
    const credit = this.accounts.get(pending.credit)!;
    if (kind === 'post' && debit.closed) return fail('debit_account_closed');
    if (kind === 'post' && credit.closed) return fail('credit_account_closed');
    debit.dp -= pending.amount;
    debit.dP += amount;
    credit.cp -= pending.amount;
    credit.cP += amount;
    pending.state = kind === 'post' ? 'posted' : 'voided';
    this.transfers.set(transferId, { body, outcome: 'ok', pending: null });
    return ok();
  }

  private expire(pendingId: string, now: number): Prediction {
    const found = this.transfers.get(pendingId);
    if (!found || found.outcome !== 'ok') return no('pending_transfer_not_found');
    const pending = found.pending;
    if (!pending) return no('pending_transfer_not_pending');
    if (pending.state === 'expired') return { code: 'ok', replay: true, events: 0 };
    const resolved = resolvedCode(pending);
    if (resolved) return no(resolved);
    if (pending.expiresAt === null || now < pending.expiresAt) return no('pending_transfer_not_expired');
    const debit = this.accounts.get(pending.debit)!;
    const credit = this.accounts.get(pending.credit)!;
    debit.dp -= pending.amount;
    credit.cp -= pending.amount;
    pending.state = 'expired';
    return ok();
  }

  private lifecycle(accountId: string, closing: boolean): Prediction {
    const account = this.accounts.get(accountId);
    if (!account) return no('account_not_found');
    if (account.closed === closing) return no(closing ? 'account_already_closed' : 'account_not_closed');
    account.closed = closing;
    return ok();
  }

  private entry(entryId: string, legs: Posting[], body: string): Prediction {
    const seen = this.entries.get(entryId);
    if (seen) return seen.body === body ? replayOf(seen.outcome) : no('entry_exists_with_different_fields');
    const code = this.checkLegs(legs);
    if (code !== undefined) return this.failEntry(entryId, body, code);
    this.applyLegs(legs);
    this.entries.set(entryId, { body, outcome: 'ok', legs, reversedBy: null });
    return ok();
  }

  private reverse(reversalId: string, entryId: string): Prediction {
    const body = `reversal:${entryId}`;
    const seen = this.entries.get(reversalId);
    if (seen) return seen.body === body ? replayOf(seen.outcome) : no('entry_exists_with_different_fields');
    const target = this.entries.get(entryId);
    if (!target || target.outcome !== 'ok') return this.failEntry(reversalId, body, 'entry_not_found');
    if (target.reversedBy !== null) return { code: 'ok', replay: true, events: 0 };
    const legs = target.legs.map((leg): Posting => ({ ...leg, side: leg.side === 'debit' ? 'credit' : 'debit' }));
    const code = this.checkLegs(legs);
    if (code !== undefined) return this.failEntry(reversalId, body, code);
    this.applyLegs(legs);
    target.reversedBy = reversalId;
    this.entries.set(reversalId, { body, outcome: 'ok', legs, reversedBy: null });
    return ok();
  }

  private checkLegs(legs: readonly Posting[]): LedgerErrorCode | undefined {
    if (legs.some((leg) => !this.accounts.has(leg.accountId))) return 'account_not_found';
    if (legs.some((leg) => this.accounts.get(leg.accountId)?.currency !== leg.currency)) return 'posting_currency_mismatch';
    if (legs.some((leg) => this.accounts.get(leg.accountId)?.closed)) return 'account_closed';
    const after = new Map<string, ModelAccount>();
    for (const leg of legs) {
      const account = after.get(leg.accountId) ?? { ...this.accounts.get(leg.accountId)! };
      if (leg.side === 'debit') account.dP += leg.amountMinor;
      else account.cP += leg.amountMinor;
      after.set(leg.accountId, account);
    }
    for (const account of after.values()) {
      if (account.debitLimit !== null && account.dp + account.dP > account.cP + account.debitLimit) return 'exceeds_credits';
      if (account.creditLimit !== null && account.cp + account.cP > account.dP + account.creditLimit) return 'exceeds_debits';
    }
    return undefined;
  }

  private applyLegs(legs: readonly Posting[]): void {
    for (const leg of legs) {
      const account = this.accounts.get(leg.accountId)!;
      if (leg.side === 'debit') account.dP += leg.amountMinor;
      else account.cP += leg.amountMinor;
    }
  }

  private seenTransfer(transferId: string, body: string): Prediction | undefined {
    const seen = this.transfers.get(transferId);
    if (!seen) return undefined;
    return seen.body === body ? replayOf(seen.outcome) : { code: 'conflict', replay: false, events: 0 };
  }

  private failTransfer(transferId: string, body: string, code: LedgerErrorCode): Prediction {
    if (!RECORDED_FAILURE_CODES.has(code)) return no(code);
    this.transfers.set(transferId, { body, outcome: code, pending: null });
    return { code, replay: false, events: 1 };
  }

  private failEntry(entryId: string, body: string, code: LedgerErrorCode): Prediction {
    if (!RECORDED_FAILURE_CODES.has(code)) return no(code);
    this.entries.set(entryId, { body, outcome: code, legs: [], reversedBy: null });
    return { code, replay: false, events: 1 };
  }
}

function replayOf(outcome: 'ok' | LedgerErrorCode): Prediction {
  return { code: outcome, replay: true, events: 0 };
}

function resolvedCode(pending: Pending): LedgerErrorCode | undefined {
  if (pending.state === 'posted') return 'pending_transfer_already_posted';
  if (pending.state === 'voided') return 'pending_transfer_already_voided';
  if (pending.state === 'expired') return 'pending_transfer_expired';
  return undefined;
}

function max0(value: bigint): bigint {
  return value > 0n ? value : 0n;
}

/** What idempotency compares: the command without its time (bigints as strings). */
function bodyOf(command: LedgerCommand): string {
  const { atMs: _ignored, ...rest } = command.data as { atMs: number };
  return `${command.type}:${canonicalJson(JSON.parse(JSON.stringify(rest, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))))}`;
}
