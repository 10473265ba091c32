/** The cipher envelope of one personal-data value, and the field walker that seals and opens the PII groups of events. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ERASED_TEXT, openValue, sealValue } from './piiEnvelope.ts';
import { eraseFields, hasSealedFields, openFields, piiTarget, sealFields } from './piiFields.ts';
import { parseSubject, personalDataSubjectOfStream, subjectOfStream } from './subjects.ts';

const KEY = randomBytes(32);
const SUBJECT = 'bankcustomer:test.c1';

function failureCode(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('the cipher envelope', () => {
  it('gives back each value it sealed, with its type', () => {
    for (const value of ['Ada Lovelace', '', 'ünïcødé ✓', 1815, 0, true, false]) expect(openValue(KEY, SUBJECT, sealValue(KEY, SUBJECT, value))).toEqual(value);
  });

  it('seals the same value differently each time (random nonce) and shows none of it', () => {
    const first = sealValue(KEY, SUBJECT, 'ada@example.com');
    const second = sealValue(KEY, SUBJECT, 'ada@example.com');
    expect(first.n).not.toBe(second.n);
    expect(first.c).not.toBe(second.c);
    expect(JSON.stringify(first)).not.toContain('ada');
    expect(Buffer.from(first.n, 'base64url')).toHaveLength(12);
  });

  it('refuses another subject as associated data, even with a forged subject field', () => {
    const sealed = sealValue(KEY, SUBJECT, 'Ada');
    expect(failureCode(() => openValue(KEY, 'bankcustomer:test.c2', sealed))).toBe('integrity_violation');
    expect(failureCode(() => openValue(KEY, 'bankcustomer:test.c2', { ...sealed, s: 'bankcustomer:test.c2' }))).toBe('integrity_violation');
  });

  it('refuses a tampered ciphertext, nonce or type, and another key', () => {
    const sealed = sealValue(KEY, SUBJECT, 'Ada Lovelace');
    const body = Buffer.from(sealed.c, 'base64url');
    body[0] = body[0]! ^ 1;
    expect(failureCode(() => openValue(KEY, SUBJECT, { ...sealed, c: body.toString('base64url') }))).toBe('integrity_violation');
    const nonce = Buffer.from(sealed.n, 'base64url');
    nonce[11] = nonce[11]! ^ 1;
    expect(failureCode(() => openValue(KEY, SUBJECT, { ...sealed, n: nonce.toString('base64url') }))).toBe('integrity_violation');
    expect(failureCode(() => openValue(KEY, SUBJECT, { ...sealed, t: 'n' }))).toBe('integrity_violation');
    expect(failureCode(() => openValue(randomBytes(32), SUBJECT, sealed))).toBe('integrity_violation');
    expect(failureCode(() => openValue(KEY, SUBJECT, { ...sealed, c: 'AAAA' }))).toBe('integrity_violation');
  });
});

describe('sealing the fields of an event', () => {
  const data = {
    customerId: 'test.c1', kind: 'individual',
    pii: { fullName: 'Ada Lovelace', email: 'ada@example.com', phone: null, dateOfBirth: '1815-12-10', address: null },
  };

  it('seals every value of the group, leaves nulls and other fields, and opens it back', () => {
    const sealed = sealFields(data, ['pii'], SUBJECT, KEY) as typeof data;
    expect(sealed.customerId).toBe('test.c1');
    expect(sealed.pii.phone).toBeNull();
    expect(JSON.stringify(sealed)).not.toMatch(/Ada|ada@|1815/);
    expect(hasSealedFields(sealed, ['pii'])).toBe(true);
    expect(hasSealedFields(data, ['pii'])).toBe(false);
    expect(openFields(sealed, ['pii'], SUBJECT, KEY)).toEqual(data);
  });

  it('seals a caller\'s object that only looks like an envelope (a metadata key named $enc), and an envelope made for another subject', () => {
    const metadata = { $enc: 'x', note: 'Pietro Varga, 12 Elm St' };
    const sealed = sealFields({ metadata }, ['metadata'], SUBJECT, KEY) as { metadata: Record<string, unknown> };
    expect(JSON.stringify(sealed)).not.toMatch(/Pietro|Elm/);
    expect(openFields(sealed, ['metadata'], SUBJECT, KEY)).toEqual({ metadata });
    const forged = sealValue(KEY, 'bankcustomer:test.other', 'someone else');
    const resealed = sealFields({ pii: { fullName: forged } }, ['pii'], SUBJECT, KEY) as { pii: { fullName: { s: string } } };
    expect(resealed.pii.fullName.s).toBe(SUBJECT);
    expect(openFields(resealed, ['pii'], SUBJECT, KEY)).toEqual({ pii: { fullName: JSON.stringify(forged) } });
    expect(failureCode(() => openFields(resealed, ['pii'], SUBJECT, KEY))).toBeUndefined();
  });

  it('reads an erased group as placeholders of the same shape: strings "[erased]", numbers null, nulls null', () => {
    const account = { pii: { email: 'a@b.c', individual: { firstName: 'Ada', lastName: null, dob: { day: 10, month: 12, year: 1815 } } }, profile: { tosAcceptance: { ip: '10.0.0.1', dateS: 5 } } };
    const sealed = sealFields(account, ['pii', 'profile.tosAcceptance.ip'], 'paccount:test:acct_1', KEY);
    expect(openFields(sealed, ['pii', 'profile.tosAcceptance.ip'], 'paccount:test:acct_1', null)).toEqual({
      pii: { email: ERASED_TEXT, individual: { firstName: ERASED_TEXT, lastName: null, dob: { day: null, month: null, year: null } } },
      profile: { tosAcceptance: { ip: ERASED_TEXT, dateS: 5 } },
    });
  });

  it('seals a path through an array in each element, and leaves the elements\' other fields', () => {
    const hit = { caseId: 'test.customer.c1@0badcafe', screenedName: 'Ada Lovelace', hits: [{ entNum: 9, name: 'LOVELACE, Ada', score: 1 }, { entNum: 10, name: 'LOVELACE, A.', score: 0.9 }] };
    const paths = ['screenedName', 'hits.name'];
    const sealed = sealFields(hit, paths, SUBJECT, KEY) as typeof hit;
    expect(JSON.stringify(sealed)).not.toMatch(/Lovelace|LOVELACE/);
    expect(sealed.hits.map((item) => [item.entNum, item.score])).toEqual([[9, 1], [10, 0.9]]);
    expect(openFields(sealed, paths, SUBJECT, KEY)).toEqual(hit);
    expect(openFields(sealed, paths, SUBJECT, null)).toEqual({ ...hit, screenedName: ERASED_TEXT, hits: hit.hits.map((item) => ({ ...item, name: ERASED_TEXT })) });
  });

  it('writes a group as its erased placeholders, plain or sealed', () => {
    const decision = { caseId: 'x', note: 'met her in Minsk', score: 3, flag: null };
    expect(eraseFields(decision, ['note', 'score', 'flag'])).toEqual({ caseId: 'x', note: ERASED_TEXT, score: null, flag: null });
    expect(eraseFields(sealFields(decision, ['note'], SUBJECT, KEY), ['note'])).toEqual({ ...decision, note: ERASED_TEXT });
  });

  it('reads plaintext written before encryption as it is', () => {
    expect(openFields(data, ['pii'], SUBJECT, null)).toEqual(data);
  });
});

describe('subjects', () => {
  it('names the subject of each stream that holds personal data, and no other', () => {
    expect(subjectOfStream('customer-test.0190')).toBe('bankcustomer:test.0190');
    expect(subjectOfStream('pcustomer-live.cus_9')).toBe('pcustomer:live:cus_9');
    expect(subjectOfStream('paccount-test.acct_1')).toBe('paccount:test:acct_1');
    expect(subjectOfStream('bankaccount-test.a1')).toBeNull();
    expect(piiTarget('customer-test.c1', 'CustomerRegistered')?.subject).toBe('bankcustomer:test.c1');
    expect(piiTarget('customer-test.c1', 'Other')).toBeNull();
  });

  it('names the screened customer of a screening case, and no subject for a screening of anything else', () => {
    expect(personalDataSubjectOfStream('screening-test.customer.boris@9b77de95')).toBe('bankcustomer:test.boris');
    expect(personalDataSubjectOfStream('screening-live.customer.a@b@00000000')).toBe('bankcustomer:live.a@b');
    expect(personalDataSubjectOfStream('screening-test.stripe_customer.cus_9@c1670013')).toBe('pcustomer:test:cus_9');
    expect(personalDataSubjectOfStream('customer-test.c1')).toBe('bankcustomer:test.c1');
    for (const other of ['screening-test.payment.pi_1@00000000', 'screening-test.customer.boris', 'screening-prod.customer.b@00000000', 'screening-test.stripe_customer.cus-9@00000000']) {
      expect(personalDataSubjectOfStream(other)).toBeNull();
    }
    expect(piiTarget('screening-test.customer.c1@00000000', 'SanctionsHitRecorded')?.subject).toBe('bankcustomer:test.c1');
    // A screening stream is not the customer's own: retention and erasure by stream leave it to the customer's.
    expect(subjectOfStream('screening-test.customer.c1@00000000')).toBeNull();
  });

  it('parses subject ids back to their streams and refuses anything else', () => {
    expect(parseSubject('pcustomer:test:cus_9').streamId).toBe('pcustomer-test.cus_9');
    expect(parseSubject('bankcustomer:live.c1')).toMatchObject({ streamId: 'customer-live.c1', mode: 'live' });
    for (const bad of ['', 'cus_9', 'pcustomer:prod:cus_9', 'pcustomer:test:cus-9', 'bankcustomer:', 42]) expect(failureCode(() => parseSubject(bad))).toBe('validation_failed');
  });
});
