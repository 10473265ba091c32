/**
 * Payment objects as data subjects: their streams' subjects and ids, which
 * of their events' fields are sealed (card details stay plain), which
 * events link them to a customer, and when a payment object needs a key.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hasPlainFields, linkedCustomerSubject, openFields, PII_FIELDS, piiTarget, sealFields } from './piiFields.ts';
import { parseSubject, subjectOfStream } from './subjects.ts';

describe('payment objects as subjects', () => {
  it('names each payment method, intent and payout its own subject, and parses those ids back', () => {
    expect(subjectOfStream('pmethod-test.pm_1')).toBe('pmethod:test:pm_1');
    expect(subjectOfStream('pintent-live.pi_2')).toBe('pintent:live:pi_2');
    expect(subjectOfStream('ppayout-test.po_3')).toBe('ppayout:test:po_3');
    expect(subjectOfStream('pwebhook-test.we_1')).toBeNull();
    expect(parseSubject('pintent:test:pi_2')).toMatchObject({ kind: 'pintent', mode: 'test', streamId: 'pintent-test.pi_2' });
    expect(parseSubject('pmethod:live:pm_1').streamId).toBe('pmethod-live.pm_1');
    for (const bad of ['pintent:prod:pi_1', 'pintent:test:pi-1', 'pintent:test', 'pwebhook:test:we_1']) expect(() => parseSubject(bad)).toThrow(/not a data subject/);
  });

  it('seals billing details, descriptions, metadata, receipt emails, shipping, refund metadata and dispute evidence; leaves cards and amounts plain', () => {
    const key = randomBytes(32);
    const target = piiTarget('pmethod-test.pm_1', 'PaymentMethodCreated')!;
    expect(target.subject).toBe('pmethod:test:pm_1');
    const data = {
      paymentMethodId: 'pm_1', card: { brand: 'visa', last4: '4242', fingerprint: 'fp' }, customerId: null, metadata: { note: 'Ada' },
      billingDetails: { name: 'Ada', email: null, phone: null, address: { line1: '1 Road', line2: null } }, atMs: 1,
    };
    const sealed = sealFields(data, target.paths, target.subject, key) as typeof data;
    expect(JSON.stringify(sealed)).not.toContain('Ada');
    expect(JSON.stringify(sealed)).not.toContain('1 Road');
    expect(sealed.card).toEqual(data.card);
    expect(sealed.billingDetails.email).toBeNull();
    expect(openFields(sealed, target.paths, target.subject, key)).toEqual(data);
    expect(openFields(sealed, target.paths, target.subject, null)).toMatchObject({ metadata: { note: '[erased]' }, billingDetails: { name: '[erased]', email: null, address: { line1: '[erased]', line2: null } } });
    expect(PII_FIELDS.PaymentIntentCreated).toEqual(['description', 'metadata', 'receiptEmail', 'shipping']);
    expect(piiTarget('pintent-test.pi_1', 'RefundCreated')?.subject).toBe('pintent:test:pi_1');
    expect(piiTarget('pintent-test.pi_1', 'DisputeEvidenceSubmitted')?.paths).toEqual(['evidence', 'metadata']);
    expect(piiTarget('pintent-test.pi_1', 'ChargeRequested')).toBeNull();
    expect(piiTarget('ppayout-test.po_1', 'PayoutCreated')?.paths).toEqual(['description', 'metadata']);
  });

  it('needs a key only when a value is there to seal', () => {
    const paths = PII_FIELDS.PaymentIntentCreated!;
    expect(hasPlainFields({ description: null, metadata: {}, receiptEmail: null, shipping: null }, paths)).toBe(false);
    expect(hasPlainFields({ description: null, metadata: { a: 'b' } }, paths)).toBe(true);
    expect(hasPlainFields({ description: { $enc: 'v1', s: 'x', t: 's', n: '', c: '' } }, paths)).toBe(false);
  });

  it('names the customer an event links a payment method or intent to, in its mode', () => {
    expect(linkedCustomerSubject('pmethod-test.pm_1', 'PaymentMethodAttached', { customerId: 'cus_1' })).toBe('pcustomer:test:cus_1');
    expect(linkedCustomerSubject('pintent-live.pi_1', 'PaymentIntentCreated', { customerId: 'cus_2' })).toBe('pcustomer:live:cus_2');
    expect(linkedCustomerSubject('pintent-test.pi_1', 'PaymentIntentUpdated', { customerId: null })).toBeNull();
    expect(linkedCustomerSubject('pintent-test.pi_1', 'ChargeRequested', { customerId: 'cus_1' })).toBeNull();
    expect(linkedCustomerSubject('pcustomer-test.cus_1', 'PaymentIntentCreated', { customerId: 'cus_1' })).toBeNull();
  });
});
