import { assert, assertNever } from '../kernel/index.ts';
import { flagViolation, moveBalance, overflows, sameBalances, settlePending, withBalances, ZERO_BALANCES, type Side } from './balances.ts';
import type { LedgerEvent } from './ledger.events.ts';
import type { LedgerState, LedgerView } from './ledger.state.ts';
import type { AccountBalance, AccountId, AccountRecord, AppliedTransfer, Balances, Posting, TransferKind } from './ledger.types.ts';

/**
 * Evolve: folds one event into the state, through its writer. Balances are
 * recomputed from the amounts and asserted equal to the balances the event
 * carries (a balance is checked when built and when applied), and no
 * account may end up past its flags. A failed assertion is a bug or a
 * corrupted log, never a business answer.
 */
export function applyLedgerEvent(state: LedgerState, event: LedgerEvent): void {
  switch (event.type) {
    case 'AccountOpened': {
      const { atMs, ...spec } = event.data;
      assert(state.account(spec.accountId) === undefined, `account ${spec.accountId} opened twice`);
      const known = state.ledgerCurrency(spec.ledger);
      assert(known === undefined || known === spec.currency, `ledger ${spec.ledger} holds ${known}, not ${spec.currency}`);
      if (known === undefined) state.setLedgerCurrency(spec.ledger, spec.currency);
      state.setAccount({ ...spec, closed: false, openedAtMs: atMs, balances: ZERO_BALANCES, history: null });
      return;
    }
    case 'AccountClosed':
    case 'AccountReopened': {
      const account = mustGetAccount(state, event.data.accountId);
      const closing = event.type === 'AccountClosed';
      assert(account.closed !== closing, `account ${account.accountId} is already ${closing ? 'closed' : 'open'}`);
      state.setAccount({ ...account, closed: closing });
      return;
    }
    case 'TransferPosted':
    case 'PendingTransferCreated': {
      const pending = event.type === 'PendingTransferCreated';
      const { data } = event;
      applyMovement(state, data, data.transferId, (side, balances) => moveBalance(balances, side, pending ? 'pending' : 'posted', data.amountMinor));
      setTransfer(state, event, pending ? 'pending' : 'single', data.amountMinor);
      return;
    }
    case 'PendingTransferPosted':
    case 'PendingTransferVoided': {
      const { data } = event;
      const posted = event.type === 'PendingTransferPosted' ? event.data.amountMinor : 0n;
      assert(posted <= data.pendingAmountMinor, `post of ${data.transferId} exceeds its pending amount`);
      applyMovement(state, data, data.transferId, (side, balances) => settlePending(balances, side, data.pendingAmountMinor, posted));
      resolvePending(state, data.pendingId, event.type === 'PendingTransferPosted' ? 'posted' : 'voided');
      setTransfer(state, event, event.type === 'PendingTransferPosted' ? 'post' : 'void', event.type === 'PendingTransferPosted' ? posted : data.pendingAmountMinor);
      return;
    }
    case 'PendingTransferExpired': {
      const { data } = event;
      applyMovement(state, data, data.pendingId, (side, balances) => settlePending(balances, side, data.pendingAmountMinor, 0n));
      resolvePending(state, data.pendingId, 'expired');
      return;
    }
    case 'TransferFailed': {
      const { transferId, request, code, atMs } = event.data;
      assert(state.transfer(transferId) === undefined, `transfer ${transferId} recorded twice`);
      state.setTransfer({ status: 'failed', transferId, request, code, atMs });
      return;
    }
    case 'JournalEntryRecorded':
    case 'JournalEntryReversed':
      applyEntry(state, event);
      return;
    case 'JournalEntryFailed': {
      const { entryId, request, code, atMs } = event.data;
      assert(state.entry(entryId) === undefined, `entry ${entryId} recorded twice`);
      state.setEntry({ status: 'failed', entryId, request, code, atMs });
      return;
    }
    default:
      assertNever(event);
  }
}

function mustGetAccount(view: LedgerView, accountId: AccountId): AccountRecord {
  const account = view.account(accountId);
  assert(account !== undefined, `event names unknown account ${accountId}`);
  return account;
}

type MovementData = { debitAccountId: AccountId; creditAccountId: AccountId; debitBalances: Balances; creditBalances: Balances; atMs: number };

function applyMovement(state: LedgerState, data: MovementData, sourceId: string, move: (side: Side, balances: Balances) => Balances): void {
  // Two calls rather than a loop over a list of sides: this runs for every transfer, in decide and in replay.
  applySide(state, data, sourceId, move, 'debit', data.debitAccountId, data.debitBalances);
  applySide(state, data, sourceId, move, 'credit', data.creditAccountId, data.creditBalances);
}

function applySide(
  state: LedgerState, data: MovementData, sourceId: string, move: (side: Side, balances: Balances) => Balances,
  side: Side, accountId: AccountId, expected: Balances,
): void {
  const account = mustGetAccount(state, accountId);
  const balances = move(side, account.balances);
  // The event's own balances object is kept when it matches: one object fewer per side, shared with the transfer record.
  assert(sameBalances(balances, expected), `${sourceId}: ${side} account ${accountId} balances differ from the event's`);
  assertWithinRules(account, expected, sourceId);
  state.setAccount(withBalances(account, expected, data.atMs, sourceId));
}

function assertWithinRules(account: AccountRecord, balances: Balances, sourceId: string): void {
  const negative = balances.debitsPending < 0n || balances.debitsPosted < 0n || balances.creditsPending < 0n || balances.creditsPosted < 0n;
  assert(!negative, `${sourceId}: account ${account.accountId} would have a negative total`);
  assert(!overflows(balances), `${sourceId}: account ${account.accountId} would overflow`);
  const broken = flagViolation(account, balances);
  assert(broken === undefined, `${sourceId}: account ${account.accountId} would break its flags (${broken})`);
}

type TransferEvent = Extract<LedgerEvent, { type: 'TransferPosted' | 'PendingTransferCreated' | 'PendingTransferPosted' | 'PendingTransferVoided' }>;

function setTransfer(state: LedgerState, event: TransferEvent, kind: TransferKind, amountMinor: bigint): void {
  const { data } = event;
  assert(state.transfer(data.transferId) === undefined, `transfer ${data.transferId} recorded twice`);
  const record: AppliedTransfer = {
    status: 'applied',
    transferId: data.transferId,
    kind,
    request: data.request,
    debitAccountId: data.debitAccountId,
    creditAccountId: data.creditAccountId,
    ledger: data.ledger,
    currency: data.currency,
    amountMinor,
    debitBalances: data.debitBalances,
    creditBalances: data.creditBalances,
    atMs: data.atMs,
    pendingState: kind === 'pending' ? 'pending' : null,
    expiresAtMs: event.type === 'PendingTransferCreated' ? event.data.expiresAtMs : null,
  };
  state.setTransfer(record);
}

function resolvePending(state: LedgerState, pendingId: string, to: 'posted' | 'voided' | 'expired'): void {
  const pending = state.transfer(pendingId);
  assert(pending?.status === 'applied' && pending.kind === 'pending', `${pendingId} is not a pending transfer`);
  assert(pending.pendingState === 'pending', `${pendingId} is already ${pending.pendingState}`);
  state.setTransfer({ ...pending, pendingState: to });
}

/** Sums legs per account, in order of first appearance. */
export function legBalances(view: LedgerView, legs: readonly Posting[]): AccountBalance[] {
  const balances = new Map<AccountId, Balances>();
  for (const leg of legs) {
    const current = balances.get(leg.accountId) ?? view.account(leg.accountId)?.balances ?? ZERO_BALANCES;
    balances.set(leg.accountId, moveBalance(current, leg.side, 'posted', leg.amountMinor));
  }
  return [...balances].map(([accountId, after]) => ({ accountId, balances: after }));
}

function applyEntry(state: LedgerState, event: Extract<LedgerEvent, { type: 'JournalEntryRecorded' | 'JournalEntryReversed' }>): void {
  const { data } = event;
  const entryId = event.type === 'JournalEntryRecorded' ? event.data.entryId : event.data.reversalId;
  assert(state.entry(entryId) === undefined, `entry ${entryId} recorded twice`);
  const computed = legBalances(state, data.legs);
  assert(computed.length === data.balances.length, `entry ${entryId}: accounts differ from the event's`);
  computed.forEach(({ accountId, balances }, index) => {
    const expected = data.balances[index];
    assert(expected?.accountId === accountId && sameBalances(balances, expected.balances), `entry ${entryId}: balances of ${accountId} differ from the event's`);
    const account = mustGetAccount(state, accountId);
    assertWithinRules(account, balances, entryId);
    state.setAccount(withBalances(account, balances, data.atMs, entryId));
  });
  state.setEntry({ status: 'recorded', entryId, request: data.request, legs: data.legs, balances: data.balances, atMs: data.atMs, reversedBy: null });
  if (event.type === 'JournalEntryReversed') {
    const target = state.entry(event.data.entryId);
    // A bounded state may have dropped the reversed entry: the log keeps it, and the reversal names it.
    if (target === undefined && state.bounded) return;
    assert(target?.status === 'recorded' && target.reversedBy === null, `entry ${event.data.entryId} cannot be reversed again`);
    state.setEntry({ ...target, reversedBy: entryId });
  }
}

