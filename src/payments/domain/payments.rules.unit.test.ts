/** Fee rounding, test cards and metadata patches: the pure rules the deciders use. */
import { describe, expect, it } from 'vitest';
import { cardOfDigits, testCardOfToken } from './cards.rules.ts';
import { DEFAULT_FEE_SCHEDULE, processingFeeMinor } from './fees.rules.ts';
import { applyMetadataPatch } from './payments.rules.ts';

describe('the processing fee', () => {
  it('is 2.9% rounded half up, plus 30', () => {
    expect(processingFeeMinor(2000n, DEFAULT_FEE_SCHEDULE)).toBe(88n);
    expect(processingFeeMinor(1050n, DEFAULT_FEE_SCHEDULE)).toBe(60n); // 30.45 → 30
    expect(processingFeeMinor(1500n, DEFAULT_FEE_SCHEDULE)).toBe(74n); // 43.5 → 44
    expect(processingFeeMinor(0n, DEFAULT_FEE_SCHEDULE)).toBe(0n);
  });
});

describe('test cards', () => {
  it('knows the magic ids, tokens and numbers Stripe documents', () => {
    expect(testCardOfToken('pm_card_visa', 2030)).toMatchObject({ card: { brand: 'visa', last4: '4242' }, behavior: { kind: 'approve' } });
    expect(testCardOfToken('tok_mastercard', 2030)?.card.brand).toBe('mastercard');
    expect(testCardOfToken('pm_card_chargeDeclined', 2030)?.behavior).toEqual({ kind: 'decline', declineCode: 'generic_decline' });
    expect(cardOfDigits('4000000000009995', 1, 2030).behavior).toEqual({ kind: 'decline', declineCode: 'insufficient_funds' });
    expect(cardOfDigits('4000000000000259', 1, 2030).behavior.kind).toBe('dispute');
    expect(cardOfDigits('4000000000000077', 1, 2030).behavior.kind).toBe('bypass_pending');
    expect(testCardOfToken('pm_card_nope', 2030)).toBeUndefined();
  });
  it('refuses numbers failing the Luhn check as incorrect_number', () => expect(() => cardOfDigits('4242424242424241', 1, 2030)).toThrow(expect.objectContaining({ code: 'incorrect_number' })));
});

describe('metadata patches', () => {
  it('sets, unsets with an empty value, and clears with null', () => {
    expect(applyMetadataPatch({ a: '1', b: '2' }, { a: '', c: '3' })).toEqual({ b: '2', c: '3' });
    expect(applyMetadataPatch({ a: '1' }, null)).toEqual({});
    expect(applyMetadataPatch({ a: '1' }, undefined)).toEqual({ a: '1' });
  });
  it('holds at most 50 keys', () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`k${index}`, 'v']));
    expect(() => applyMetadataPatch({}, many)).toThrow(expect.objectContaining({ code: 'limit_exceeded' }));
  });
});
