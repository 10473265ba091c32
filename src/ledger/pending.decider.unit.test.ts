/**
 * Covers two-phase transfers: reserving, posting in full or in part, voiding,
 * expiring against the command's time, idempotent post and void ids, and
 * the precedence of their rejections.
 */
import { describe, expect, it } from 'vitest';
import { PENDING_TIMEOUT_MS_MAX } from './ledger.limits.ts';
import {
  balances, close, eventsOf, expire, historyOf, ledgerSpec, MINUTE, open, openCustomer, pendingTransfer, post, T0, transfer, voidPending,
} from './ledger.testkit.ts';
import type { LedgerCommand } from './ledger.commands.ts';

const setup: LedgerCommand[] = [
  open('bank'), openCustomer('cust'), open('merch'), transfer('fund', 'bank', 'cust', 10_000n),
];
const withPending: LedgerCommand[] = [...setup, pendingTransfer('p1', 'cust', 'merch', 3_000n, { timeoutMs: MINUTE })];
const EXPIRY = T0 + MINUTE;

describe('given a funded customer', () => {
  const given = ledgerSpec.given(historyOf(...setup));
  it('reserves a pending transfer, with its expiry', () => {
    const [event] = given.when(pendingTransfer('p1', 'cust', 'merch', 3_000n, { timeoutMs: MINUTE })).events();
    expect(event).toMatchObject({
      type: 'PendingTransferCreated',
      data: { amountMinor: 3_000n, expiresAtMs: EXPIRY, debitBalances: balances(3_000n, 0n, 0n, 10_000n), creditBalances: balances(0n, 0n, 3_000n, 0n) },
    });
  });
  it('reserves without expiry when there is no timeout', () => {
    const [event] = given.when(pendingTransfer('p1', 'cust', 'merch', 3_000n)).events();
    expect(event).toMatchObject({ data: { expiresAtMs: null } });
  });
  it('refuses a timeout past its bound', () =>
    given.when(pendingTransfer('p1', 'cust', 'merch', 1n, { timeoutMs: PENDING_TIMEOUT_MS_MAX + 1 })).thenRejects('limit_exceeded'));
  it('refuses to post or void an unknown pending transfer, and records it', () => {
    given.when(post('x1', 'nope')).thenRejects('pending_transfer_not_found');
    given.when(voidPending('x1', 'nope')).thenRejects('pending_transfer_not_found');
  });
  it('refuses to post a transfer that is not pending', () => given.when(post('x1', 'fund')).thenRejects('pending_transfer_not_pending'));
  it('refuses to expire a transfer that is not pending', () => given.when(expire('fund', EXPIRY)).thenRejects('pending_transfer_not_pending'));
  it('refuses to expire an unknown transfer', () => given.when(expire('nope', EXPIRY)).thenRejects('pending_transfer_not_found'));
  it('refuses a post that names itself', () => given.when(post('fund', 'fund')).thenRejects('validation_failed'));
  it('refuses a post amount of zero', () => given.when(post('x1', 'fund', { amountMinor: 0n })).thenRejects('validation_failed'));
});

describe('given a pending transfer of 30.00 expiring in a minute', () => {
  const given = ledgerSpec.given(historyOf(...withPending));
  it('counts the reservation against the customer\'s funds', () => {
    // `.events()` alone would also pass a refusal (recorded as TransferFailed): name the event and its amounts.
    expect(given.when(transfer('t2', 'cust', 'merch', 7_000n)).events()).toMatchObject([{
      type: 'TransferPosted', data: { amountMinor: 7_000n, debitBalances: balances(3_000n, 7_000n, 0n, 10_000n) },
    }]);
    given.when(transfer('t2', 'cust', 'merch', 7_001n)).thenRejects('exceeds_credits');
  });
  it('posts it in full', () =>
    given.when(post('p1-post', 'p1', { atMs: T0 + 1 })).then([{
      type: 'PendingTransferPosted',
      data: {
        transferId: 'p1-post', pendingId: 'p1', debitAccountId: 'cust', creditAccountId: 'merch', ledger: 'usd', currency: 'USD',
        request: { kind: 'post', pendingId: 'p1', amountMinor: null, linked: false, userData: '', metadata: {} },
        amountMinor: 3_000n, pendingAmountMinor: 3_000n,
        debitBalances: balances(0n, 3_000n, 0n, 10_000n), creditBalances: balances(0n, 0n, 0n, 3_000n), atMs: T0 + 1,
      },
    }]));
  it('posts it in part, releasing the rest', () => {
    const [event] = given.when(post('p1-post', 'p1', { amountMinor: 1_000n })).events();
    expect(event).toMatchObject({ data: { amountMinor: 1_000n, debitBalances: balances(0n, 1_000n, 0n, 10_000n), creditBalances: balances(0n, 0n, 0n, 1_000n) } });
  });
  it('refuses to post more than is pending', () => given.when(post('p1-post', 'p1', { amountMinor: 3_001n })).thenRejects('exceeds_pending_transfer_amount'));
  it('voids it', () => {
    const [event] = given.when(voidPending('p1-void', 'p1')).events();
    expect(event).toMatchObject({ type: 'PendingTransferVoided', data: { pendingAmountMinor: 3_000n, debitBalances: balances(0n, 0n, 0n, 10_000n) } });
  });
  it('refuses to post it from its expiry on, judged by the command\'s time', () => {
    expect(given.when(post('p1-post', 'p1', { atMs: EXPIRY - 1 })).events())
      .toMatchObject([{ type: 'PendingTransferPosted', data: { amountMinor: 3_000n, debitBalances: balances(0n, 3_000n, 0n, 10_000n) } }]);
    given.when(post('p1-post', 'p1', { atMs: EXPIRY })).thenRejects('pending_transfer_expired');
    given.when(voidPending('p1-void', 'p1', { atMs: EXPIRY })).thenRejects('pending_transfer_expired');
  });
  it('refuses to expire it before its time', () => given.when(expire('p1', EXPIRY - 1)).thenRejects('pending_transfer_not_expired'));
  it('expires it at its time', () =>
    given.when(expire('p1', EXPIRY)).then([{
      type: 'PendingTransferExpired',
      data: {
        pendingId: 'p1', debitAccountId: 'cust', creditAccountId: 'merch', ledger: 'usd', currency: 'USD', pendingAmountMinor: 3_000n,
        expiresAtMs: EXPIRY, debitBalances: balances(0n, 0n, 0n, 10_000n), creditBalances: balances(0n, 0n, 0n, 0n), atMs: EXPIRY,
      },
    }]));
  it('answers validation before existence', () => given.when(post('bad id', 'nope')).thenRejects('validation_failed'));
  it('answers a partial amount too large after expiry: expired wins', () =>
    given.when(post('p1-post', 'p1', { amountMinor: 9_999n, atMs: EXPIRY })).thenRejects('pending_transfer_expired'));
});

describe('given a pending transfer whose accounts were closed', () => {
  const given = ledgerSpec.given(historyOf(...withPending, close('merch')));
  it('refuses to post into a closed account', () => given.when(post('p1-post', 'p1')).thenRejects('credit_account_closed'));
  it('voids it anyway: releasing a reservation never hurts', () =>
    expect(given.when(voidPending('p1-void', 'p1')).events()).toMatchObject([{
      type: 'PendingTransferVoided', data: { pendingAmountMinor: 3_000n, debitBalances: balances(0n, 0n, 0n, 10_000n), creditBalances: balances(0n, 0n, 0n, 0n) },
    }]));
  it('answers an amount too large before a closed account', () =>
    given.when(post('p1-post', 'p1', { amountMinor: 3_001n })).thenRejects('exceeds_pending_transfer_amount'));
});

describe('given a pending transfer whose debit account was closed', () => {
  const given = ledgerSpec.given(historyOf(...withPending, close('cust')));
  it('refuses to post from a closed account', () => given.when(post('p1-post', 'p1')).thenRejects('debit_account_closed'));
});

describe('given a posted pending transfer', () => {
  const given = ledgerSpec.given(historyOf(...withPending, post('p1-post', 'p1', { amountMinor: 1_000n })));
  it('answers the same post again with the first result', () => given.when(post('p1-post', 'p1', { amountMinor: 1_000n })).then([]));
  it('refuses the same post id with another amount', () =>
    given.when(post('p1-post', 'p1', { amountMinor: 2_000n })).thenRejects('transfer_exists_with_different_amount'));
  it('refuses the post id reused for a void', () => given.when(voidPending('p1-post', 'p1')).thenRejects('transfer_exists_with_different_flags'));
  it('refuses the post id with another pending transfer', () =>
    given.when(post('p1-post', 'p9', { amountMinor: 1_000n })).thenRejects('transfer_exists_with_different_fields'));
  it('refuses to post it twice', () => given.when(post('p1-post-2', 'p1')).thenRejects('pending_transfer_already_posted'));
  it('refuses to void it', () => given.when(voidPending('p1-void', 'p1')).thenRejects('pending_transfer_already_posted'));
  it('refuses to expire it', () => given.when(expire('p1', EXPIRY)).thenRejects('pending_transfer_already_posted'));
  it('answers already-posted before an amount too large', () =>
    given.when(post('p1-post-2', 'p1', { amountMinor: 9_999n })).thenRejects('pending_transfer_already_posted'));
});

describe('given a voided pending transfer', () => {
  const given = ledgerSpec.given(historyOf(...withPending, voidPending('p1-void', 'p1')));
  it('answers the same void again with the first result', () => given.when(voidPending('p1-void', 'p1', { atMs: EXPIRY + 5 })).then([]));
  it('refuses to void it twice', () => given.when(voidPending('p1-void-2', 'p1')).thenRejects('pending_transfer_already_voided'));
  it('refuses to post it', () => given.when(post('p1-post', 'p1')).thenRejects('pending_transfer_already_voided'));
  it('refuses to expire it', () => given.when(expire('p1', EXPIRY)).thenRejects('pending_transfer_already_voided'));
});

describe('given an expired pending transfer', () => {
  const given = ledgerSpec.given(historyOf(...withPending, expire('p1', EXPIRY)));
  it('refuses to post it', () => given.when(post('p1-post', 'p1', { atMs: EXPIRY - 10 })).thenRejects('pending_transfer_expired'));
  it('answers a second expiry with the first result', () => given.when(expire('p1', EXPIRY + 1)).then([]));
  it('has released the reservation', () => expect(given.state().account('cust')?.balances).toEqual(balances(0n, 0n, 0n, 10_000n)));
});

describe('given a pending transfer without timeout', () => {
  const given = ledgerSpec.given(historyOf(...setup, pendingTransfer('p1', 'cust', 'merch', 3_000n)));
  it('refuses a command time past the latest time', () => given.when(expire('p1', Number.MAX_SAFE_INTEGER - 1)).thenRejects('limit_exceeded'));
  it('refuses an expiry', () => given.when(expire('p1', EXPIRY * 2)).thenRejects('pending_transfer_not_expired'));
});

describe('given a post that failed because its pending transfer did not exist yet', () => {
  const given = ledgerSpec.given(eventsOf(...setup, post('early', 'p1'), pendingTransfer('p1', 'cust', 'merch', 3_000n)));
  it('keeps the post id failed', () => given.when(post('early', 'p1')).thenRejects('pending_transfer_not_found'));
});
