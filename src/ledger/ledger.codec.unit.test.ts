/**
 * Covers the event codec: every ledger event survives JSON (amounts as
 * integer strings) exactly; metadata stays strings whatever its keys; bad
 * stored data is an integrity violation.
 */
import { describe, expect, it } from 'vitest';
import { isDaybookError } from '../kernel/index.ts';
import { decodeLedgerEvent, encodeLedgerEvent, encodeLedgerValue } from './ledger.codec.ts';
import { LEDGER_EVENT_TYPES } from './ledger.events.ts';
import {
  close, creditLeg, debitLeg, entry, eventsOf, expire, MINUTE, open, openCustomer, pendingTransfer, post, reopen, reverse, T0, transfer, voidPending,
} from './ledger.testkit.ts';

const everyKind = eventsOf(
  open('bank', { metadata: { amountMinor: 'not a number' } }), openCustomer('cust', { overdraftLimitMinor: 100n }), open('merch'),
  open('eur', { currency: 'EUR' }), open('fx-eur', { currency: 'EUR' }), open('fx-usd'),
  transfer('fund', 'bank', 'cust', 10_000n), pendingTransfer('p1', 'cust', 'merch', 100n, { timeoutMs: MINUTE }), post('p1-post', 'p1', { amountMinor: 40n }),
  pendingTransfer('p2', 'cust', 'merch', 100n), voidPending('p2-void', 'p2'),
  pendingTransfer('p3', 'cust', 'merch', 100n, { timeoutMs: MINUTE }), expire('p3', T0 + MINUTE),
  transfer('ghost', 'nobody', 'merch', 1n),
  entry('fx', [debitLeg('cust', 5n), creditLeg('bank', 5n)], {
    conversions: [{
      fromAccountId: 'cust', toAccountId: 'eur', amountMinor: 999n, fromCurrency: 'USD', toCurrency: 'EUR', rate: '0.923456',
      liquidityFromAccountId: 'fx-usd', liquidityToAccountId: 'fx-eur', roundingAccountId: 'fx-eur',
    }],
  }),
  reverse('fx-rev', 'fx'), reverse('missing-rev', 'missing'), close('merch'), reopen('merch'),
);

describe('given events of every type', () => {
  it('covers every event type', () => expect(new Set(everyKind.map((e) => e.type))).toEqual(new Set(LEDGER_EVENT_TYPES)));
  it('round-trips each through JSON exactly', () => {
    for (const event of everyKind) {
      const text = JSON.stringify(encodeLedgerEvent(event));
      expect(decodeLedgerEvent(JSON.parse(text))).toEqual(event);
    }
  });
  it('writes amounts as integer strings and leaves metadata alone', () => {
    const encoded = encodeLedgerEvent(everyKind.find((e) => e.type === 'TransferPosted')!);
    expect(encoded).toMatchObject({ schemaVersion: 1, data: { amountMinor: '10000', debitBalances: { debitsPosted: '10000' } } });
    const opened = decodeLedgerEvent(JSON.parse(JSON.stringify(encodeLedgerEvent(everyKind[0]!))));
    expect(opened).toMatchObject({ data: { metadata: { amountMinor: 'not a number' } } });
  });
  it('writes new transfers field by field exactly as the generic encoder would (same JSON text)', () => {
    const movements = [
      ...everyKind,
      ...eventsOf(open('x'), open('y'), transfer('meta', 'x', 'y', 7n, { metadata: { order: 'o-1', amountMinor: 'kept as text' }, userData: 'u', code: 9 })),
    ].filter((e) => e.type === 'TransferPosted' || e.type === 'PendingTransferCreated');
    expect(new Set(movements.map((e) => e.type))).toEqual(new Set(['TransferPosted', 'PendingTransferCreated']));
    for (const event of movements) expect(JSON.stringify(encodeLedgerEvent(event).data)).toBe(JSON.stringify(encodeLedgerValue(event.data)));
  });
});

describe('given bad stored data', () => {
  const codeOf = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return isDaybookError(error) ? error.code : 'other';
    }
    return undefined;
  };
  it('refuses an unknown type, another schema version, missing data and non-integer amounts', () => {
    expect(codeOf(() => decodeLedgerEvent({ type: 'Nope', data: {} }))).toBe('integrity_violation');
    expect(codeOf(() => decodeLedgerEvent({ type: 'AccountClosed', schemaVersion: 2, data: {} }))).toBe('integrity_violation');
    expect(codeOf(() => decodeLedgerEvent({ type: 'AccountClosed', data: null }))).toBe('integrity_violation');
    expect(codeOf(() => decodeLedgerEvent({ type: 'TransferPosted', data: { amountMinor: '1.5' } }))).toBe('integrity_violation');
    expect(codeOf(() => decodeLedgerEvent({ type: 'TransferPosted', data: { amountMinor: 15 } }))).toBe('integrity_violation');
  });
});
