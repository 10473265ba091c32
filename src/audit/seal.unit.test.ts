/** The seal's parts without a store: the signed text, the range digest, signatures, and reading seal data strictly. */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalSealText, GENESIS_DIGEST, RangeDigest, type Seal, type SealFields, sealFromData, sealSignatureValid, sealToData } from './seal.ts';
import { keyIdOf, publicKeyFingerprint } from './keyProvider.ts';
import { sign } from 'node:crypto';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const fields: SealFields = {
  sequence: 2, fromPosition: 11n, toPosition: 20n, eventCount: 10n, previousDigest: GENESIS_DIGEST, digest: 'ab'.repeat(32),
  keyId: keyIdOf(publicKey), publicKeyFingerprint: publicKeyFingerprint(publicKey), sealedAtMs: 1_700_000_000_000,
};
const seal: Seal = { ...fields, signature: sign(null, Buffer.from(canonicalSealText(fields)), privateKey).toString('base64') };

describe('the signed text', () => {
  it('is one field a line, in a fixed order, after the format', () => {
    expect(canonicalSealText(fields).split('\n')).toEqual(['daybook.seal.v1', '2', '11', '20', '10', GENESIS_DIGEST, 'ab'.repeat(32), fields.keyId, fields.publicKeyFingerprint, '1700000000000']);
  });

  it('verifies under its key, and not once any field changed', () => {
    expect(sealSignatureValid(seal, publicKey)).toBe(true);
    expect(sealSignatureValid({ ...seal, toPosition: 21n }, publicKey)).toBe(false);
    expect(sealSignatureValid({ ...seal, signature: seal.signature.slice(4) }, publicKey)).toBe(false);
    expect(sealSignatureValid(seal, generateKeyPairSync('ed25519').publicKey)).toBe(false);
  });
});

describe('the range digest', () => {
  const digestOf = (previous: string, events: Array<[bigint, string]>): string => {
    const digest = new RangeDigest(previous);
    for (const [position, hash] of events) digest.add(position, hash);
    return digest.finish();
  };
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);

  it('depends on the previous digest, the order, and every position and hash', () => {
    const base = digestOf(GENESIS_DIGEST, [[1n, a], [2n, b]]);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(digestOf(GENESIS_DIGEST, [[1n, a], [2n, b]])).toBe(base);
    expect(digestOf(b, [[1n, a], [2n, b]])).not.toBe(base);
    expect(digestOf(GENESIS_DIGEST, [[2n, b], [1n, a]])).not.toBe(base);
    expect(digestOf(GENESIS_DIGEST, [[1n, a], [3n, b]])).not.toBe(base);
    expect(digestOf(GENESIS_DIGEST, [[1n, a]])).not.toBe(base);
  });
});

describe('seal data', () => {
  it('round-trips through event data', () => {
    expect(sealFromData(JSON.parse(JSON.stringify(sealToData(seal))))).toEqual(seal);
  });

  it('refuses what is not exactly a seal, naming the field', () => {
    const data = sealToData(seal);
    expect(sealFromData({ ...data, extra: 1 })).toMatch(/unrecognized/i);
    expect(sealFromData({ ...data, digest: 'AB'.repeat(32) })).toMatch(/^digest:/);
    expect(sealFromData({ ...data, toPosition: 20 })).toMatch(/^toPosition:/);
    expect(sealFromData({ ...data, format: 'daybook.seal.v2' })).toMatch(/^format:/);
    expect(sealFromData(null)).toMatch(/^data:/);
  });
});
