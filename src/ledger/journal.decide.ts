import { flagViolation, overflows } from './balances.ts';
import type { RecordJournalEntryData, ReverseJournalEntryData } from './ledger.commands.ts';
import { rejection, type LedgerRejection } from './ledger.errors.ts';
import { legBalances } from './ledger.evolve.ts';
import { accepted, entryResult, refused, type LedgerDecision } from './ledger.results.ts';
import type { LedgerView } from './ledger.state.ts';
import type { AccountBalance, Posting } from './ledger.types.ts';
import { assertBalanced } from './fx.ts';
import { failEntry, replayEntry } from './idempotency.ts';
import { validateJournalEntry } from './journal.validate.ts';
import { validateReversal } from './validate.ts';
import { exceedsRejection } from './transfer.decide.ts';

/**
 * Journal entries: several legs, balanced per currency, applied together or
 * not at all; and their reversal, which is idempotent per entry.
 */
export function decideRecordJournalEntry(view: LedgerView, data: RecordJournalEntryData): LedgerDecision {
  const validated = validateJournalEntry(data);
  if (!validated.ok) return refused(validated.rejection);
  const { entryId, request, conversions, legs, atMs } = validated.value;
  const existing = view.entry(entryId);
  if (existing !== undefined) return replayEntry(existing, request);
  const checked = checkLegs(view, legs);
  if (!Array.isArray(checked)) return failEntry(entryId, request, atMs, checked);
  return accepted(
    [{ type: 'JournalEntryRecorded', data: { entryId, request, conversions, legs, balances: checked, atMs } }],
    { kind: 'entry', entryId, balances: checked },
  );
}

/**
 * Reverses a recorded entry with a new entry of the opposite legs. Reversing
 * an entry that is already reversed answers the first reversal's result,
 * whatever reversal id is given; it is never an error.
 */
export function decideReverseJournalEntry(view: LedgerView, data: ReverseJournalEntryData): LedgerDecision {
  const validated = validateReversal(data);
  if (!validated.ok) return refused(validated.rejection);
  const { reversalId, request, atMs } = validated.value;
  const existing = view.entry(reversalId);
  if (existing !== undefined) return replayEntry(existing, request);
  const target = view.entry(request.entryId);
  if (target?.status !== 'recorded') {
    return failEntry(reversalId, request, atMs, rejection('entry_not_found', `journal entry ${request.entryId} does not exist`, { entryId: request.entryId }, 'entryId'));
  }
  if (target.reversedBy !== null) {
    const first = view.entry(target.reversedBy);
    if (first?.status === 'recorded') return accepted([], entryResult(first), true);
  }
  const legs: Posting[] = target.legs.map((leg) => ({ ...leg, side: leg.side === 'debit' ? 'credit' : 'debit' }));
  assertBalanced(legs, `reversal ${reversalId}`);
  const checked = checkLegs(view, legs);
  if (!Array.isArray(checked)) return failEntry(reversalId, request, atMs, checked);
  return accepted(
    [{ type: 'JournalEntryReversed', data: { reversalId, entryId: request.entryId, request, legs, balances: checked, atMs } }],
    { kind: 'entry', entryId: reversalId, balances: checked },
  );
}

/**
 * Checks the legs against the accounts, each rule over all legs in order
 * before the next rule: account_not_found, posting_currency_mismatch,
 * account_closed, balance_overflow, exceeds_credits / exceeds_debits.
 */
function checkLegs(view: LedgerView, legs: readonly Posting[]): AccountBalance[] | LedgerRejection {
  for (const leg of legs) {
    if (view.account(leg.accountId) === undefined) {
      return rejection('account_not_found', `account ${leg.accountId} does not exist`, { accountId: leg.accountId }, 'postings');
    }
  }
  for (const leg of legs) {
    const account = view.account(leg.accountId);
    if (account !== undefined && account.currency !== leg.currency) {
      return rejection('posting_currency_mismatch', `account ${leg.accountId} holds ${account.currency}, not ${leg.currency}`, {
        accountId: leg.accountId, accountCurrency: account.currency, currency: leg.currency,
      }, 'postings');
    }
  }
  for (const leg of legs) {
    if (view.account(leg.accountId)?.closed === true) {
      return rejection('account_closed', `account ${leg.accountId} is closed`, { accountId: leg.accountId }, 'postings');
    }
  }
  const balances = legBalances(view, legs);
  const overflowing = balances.find((item) => overflows(item.balances));
  if (overflowing !== undefined) {
    return rejection('balance_overflow', `account ${overflowing.accountId} would pass the largest amount`, { accountId: overflowing.accountId }, 'postings');
  }
  for (const { accountId, balances: after } of balances) {
    const account = view.account(accountId);
    const broken = account === undefined ? undefined : flagViolation(account, after);
    if (account !== undefined && broken !== undefined) return exceedsRejection(broken, account, undefined, 'postings');
  }
  return balances;
}
