import { createHash, type Hash, type KeyObject, verify } from 'node:crypto';
import { z } from 'zod';
import type { KeyProvider } from './keyProvider.ts';
import { publicKeyFingerprint } from './keyProvider.ts';

/**
 * A seal vouches for a range of the global log: positions `fromPosition` to
 * `toPosition`, every event of it, by a digest over their stored hashes, and
 * signs that with Ed25519. Seals chain: each range starts right after the
 * previous one and its digest starts from the previous seal's digest, so
 * dropping, reordering or rewriting any sealed event (even with every hash
 * chain recomputed) breaks a seal that no one without the key can remake.
 * A seal is itself an event (stream `audit.seals`, type `LogSealed`) and so
 * falls in the range of the next seal.
 *
 * Digest: hex SHA-256 of `daybook.seal-digest.v1\n<previousDigest>\n`
 * followed by `<position> <hash>\n` for each event of the range in position
 * order. Signature: Ed25519 over `canonicalSealText`, base64.
 */
export const SEAL_STREAM = 'audit.seals';
export const SEAL_EVENT_TYPE = 'LogSealed';
export const SEAL_FORMAT = 'daybook.seal.v1';
/** The previous digest of the first seal. */
export const GENESIS_DIGEST = '0'.repeat(64);

export interface SealFields {
  /** 1 for the first seal: its version in the seal stream. */
  sequence: number;
  fromPosition: bigint;
  toPosition: bigint;
  eventCount: bigint;
  previousDigest: string;
  digest: string;
  keyId: string;
  /** Hex SHA-256 of the signing key's SPKI DER. */
  publicKeyFingerprint: string;
  sealedAtMs: number;
}

export interface Seal extends SealFields {
  /** Base64 Ed25519 signature of `canonicalSealText(fields)`. */
  signature: string;
}

/** The signed text: one field a line, fixed order. */
export function canonicalSealText(fields: SealFields): string {
  return [
    SEAL_FORMAT, fields.sequence, fields.fromPosition, fields.toPosition, fields.eventCount,
    fields.previousDigest, fields.digest, fields.keyId, fields.publicKeyFingerprint, fields.sealedAtMs,
  ].join('\n');
}

/** The running digest of one seal's range: feed every event in position order, then `finish`. */
export class RangeDigest {
  private readonly hash: Hash;
  count = 0n;

  constructor(previousDigest: string) {
    this.hash = createHash('sha256').update(`daybook.seal-digest.v1\n${previousDigest}\n`);
  }

  add(position: bigint, eventHash: string): void {
    this.hash.update(`${position} ${eventHash}\n`);
    this.count += 1n;
  }

  finish(): string {
    return this.hash.digest('hex');
  }
}

export function signSeal(fields: Omit<SealFields, 'keyId' | 'publicKeyFingerprint'>, keys: KeyProvider, publicKey: KeyObject): Seal {
  const complete: SealFields = { ...fields, keyId: keys.keyId, publicKeyFingerprint: publicKeyFingerprint(publicKey) };
  return { ...complete, signature: keys.sign(Buffer.from(canonicalSealText(complete), 'utf8')).toString('base64') };
}

export function sealSignatureValid(seal: Seal, key: KeyObject): boolean {
  const signature = Buffer.from(seal.signature, 'base64');
  if (signature.length !== 64) return false;
  return verify(null, Buffer.from(canonicalSealText(seal), 'utf8'), key, signature);
}

/** The event data of a seal: positions and counts as decimal strings (JSON has no bigint). */
export function sealToData(seal: Seal): Record<string, unknown> {
  return {
    format: SEAL_FORMAT,
    sequence: seal.sequence,
    fromPosition: seal.fromPosition.toString(),
    toPosition: seal.toPosition.toString(),
    eventCount: seal.eventCount.toString(),
    previousDigest: seal.previousDigest,
    digest: seal.digest,
    keyId: seal.keyId,
    publicKeyFingerprint: seal.publicKeyFingerprint,
    sealedAtMs: seal.sealedAtMs,
    signature: seal.signature,
  };
}

const decimal = z.string().regex(/^[0-9]{1,19}$/).transform((value) => BigInt(value));
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const sealDataSchema = z.object({
  format: z.literal(SEAL_FORMAT),
  sequence: z.number().int().positive(),
  fromPosition: decimal,
  toPosition: decimal,
  eventCount: decimal,
  previousDigest: hex64,
  digest: hex64,
  keyId: z.string().min(1).max(200),
  publicKeyFingerprint: hex64,
  sealedAtMs: z.number().int().nonnegative(),
  signature: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/).max(200),
}).strict();

/** Reads a seal from its event data; a string says what is wrong with it. */
export function sealFromData(data: unknown): Seal | string {
  const parsed = sealDataSchema.safeParse(data);
  if (parsed.success) {
    const { format: _format, ...seal } = parsed.data;
    return seal;
  }
  const issue = parsed.error.issues[0]!;
  return `${issue.path.join('.') || 'data'}: ${issue.message}`;
}
