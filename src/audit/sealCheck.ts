import { publicKeyFingerprint, type TrustedKeys } from './keyProvider.ts';
import { GENESIS_DIGEST, RangeDigest, type Seal, SEAL_EVENT_TYPE, sealFromData, sealSignatureValid } from './seal.ts';

export type SealBreakReason =
  | 'seal_malformed' | 'seal_sequence_gap' | 'seal_range_gap' | 'seal_previous_digest_mismatch' | 'seal_range_invalid'
  | 'seal_key_unknown' | 'seal_key_revoked' | 'seal_fingerprint_mismatch' | 'seal_signature_invalid'
  | 'seal_event_missing' | 'seal_count_mismatch' | 'seal_digest_mismatch';

/** Where the seal check broke: the seal (its number and its own event's position), and the log position at fault. */
export interface SealBreak {
  reason: SealBreakReason;
  sequence: number;
  sealPosition: bigint;
  /** The log position at fault: the missing or unexpected event, else the seal's own. */
  position: bigint;
  expected: string;
  actual: string;
}

export interface SealReport {
  sealsChecked: number;
  /** The last position covered by a seal that checked out (0n when none). */
  sealedThrough: bigint;
  /** The first position covered by the checked seals (0n when none). */
  sealedFrom: bigint;
  keyIds: string[];
  firstBreak: SealBreak | null;
}

/** A seal as an event of the log: its data parsed (undefined when it is not JSON). */
export interface SealEvent {
  version: bigint;
  position: bigint;
  type: string;
  data: unknown;
}

/** The log in position order, one event at a time: the store paged underneath, or a bundle's lines. */
export interface LogCursor {
  next(): Promise<{ position: bigint; hash: string } | null>;
}

export interface SealCheckOptions {
  /** The store's whole log: the first seal must start at position 1 from the genesis digest. A bundle's range: seals may start anywhere. */
  fromGenesis: boolean;
}

/**
 * Checks each seal in turn against the log: the seals chain (numbers, ranges
 * and digests follow on), each is signed by a trusted, unrevoked key, and the
 * digest recomputed over its range matches. One pass over the log, in order:
 * seal ranges are contiguous. Stops at the first break.
 */
export async function checkSeals(seals: AsyncIterable<SealEvent>, log: LogCursor, keys: TrustedKeys, options: SealCheckOptions): Promise<SealReport> {
  const report: SealReport = { sealsChecked: 0, sealedThrough: 0n, sealedFrom: 0n, keyIds: [], firstBreak: null };
  let previous: Seal | null = null;
  const reader = new PeekingCursor(log);
  for await (const event of seals) {
    const parsed = parseSealEvent(event);
    const at = { sequence: typeof parsed === 'string' ? Number(event.version) : parsed.sequence, sealPosition: event.position, position: event.position };
    if (typeof parsed === 'string') {
      report.firstBreak = { ...at, reason: 'seal_malformed', expected: `a ${SEAL_EVENT_TYPE} event`, actual: parsed };
      break;
    }
    const fault = checkLinks(parsed, event, previous, options) ?? checkKey(parsed, keys) ?? await checkRange(parsed, reader);
    if (fault !== null) {
      report.firstBreak = { ...at, ...fault };
      break;
    }
    if (report.sealsChecked === 0) report.sealedFrom = parsed.fromPosition;
    report.sealsChecked += 1;
    report.sealedThrough = parsed.toPosition;
    if (!report.keyIds.includes(parsed.keyId)) report.keyIds.push(parsed.keyId);
    previous = parsed;
  }
  return report;
}

type Fault = Pick<SealBreak, 'reason' | 'expected' | 'actual'> & Partial<Pick<SealBreak, 'position'>>;

function parseSealEvent(event: SealEvent): Seal | string {
  if (event.type !== SEAL_EVENT_TYPE) return `type ${event.type}`;
  if (event.data === undefined) return 'data is not JSON';
  return sealFromData(event.data);
}

function checkLinks(seal: Seal, event: SealEvent, previous: Seal | null, options: SealCheckOptions): Fault | null {
  if (seal.sequence !== Number(event.version)) return { reason: 'seal_sequence_gap', expected: `seal ${event.version}`, actual: `seal ${seal.sequence}` };
  if (previous !== null && seal.sequence !== previous.sequence + 1) {
    return { reason: 'seal_sequence_gap', expected: `seal ${previous.sequence + 1}`, actual: `seal ${seal.sequence}` };
  }
  const expectedFrom = previous !== null ? previous.toPosition + 1n : options.fromGenesis ? 1n : seal.fromPosition;
  if (seal.fromPosition !== expectedFrom) return { reason: 'seal_range_gap', expected: `from position ${expectedFrom}`, actual: `from position ${seal.fromPosition}` };
  const expectedPrevious = previous !== null ? previous.digest : options.fromGenesis ? GENESIS_DIGEST : seal.previousDigest;
  if (seal.previousDigest !== expectedPrevious) return { reason: 'seal_previous_digest_mismatch', expected: expectedPrevious, actual: seal.previousDigest };
  if (seal.toPosition < seal.fromPosition || seal.toPosition >= event.position) {
    return { reason: 'seal_range_invalid', expected: `${seal.fromPosition} <= to < ${event.position} (the seal's own position)`, actual: `to position ${seal.toPosition}` };
  }
  const span = seal.toPosition - seal.fromPosition + 1n;
  if (seal.eventCount !== span) return { reason: 'seal_count_mismatch', expected: `${span} events`, actual: `${seal.eventCount} events` };
  return null;
}

function checkKey(seal: Seal, keys: TrustedKeys): Fault | null {
  const key = keys.publicKeys.get(seal.keyId);
  if (key === undefined) return { reason: 'seal_key_unknown', expected: `a public key for ${seal.keyId} (from ${keys.source})`, actual: `none of ${[...keys.publicKeys.keys()].join(', ') || 'no keys'}` };
  const revoked = keys.revoked.get(seal.keyId);
  if (revoked !== undefined && (revoked.sinceMs === null || seal.sealedAtMs >= revoked.sinceMs)) {
    const since = revoked.sinceMs === null ? '' : ` since ${new Date(revoked.sinceMs).toISOString()}`;
    return { reason: 'seal_key_revoked', expected: 'a key in good standing', actual: `${seal.keyId} revoked${since}${revoked.reason ? ` (${revoked.reason})` : ''}, sealed at ${new Date(seal.sealedAtMs).toISOString()}` };
  }
  const fingerprint = publicKeyFingerprint(key);
  if (seal.publicKeyFingerprint !== fingerprint) return { reason: 'seal_fingerprint_mismatch', expected: fingerprint, actual: seal.publicKeyFingerprint };
  if (!sealSignatureValid(seal, key)) return { reason: 'seal_signature_invalid', expected: `a signature by ${seal.keyId}`, actual: 'a signature that does not verify' };
  return null;
}

async function checkRange(seal: Seal, reader: PeekingCursor): Promise<Fault | null> {
  // A bundle may start before the first seal it holds: events before it are simply not covered.
  while ((await reader.peek()) !== null && (await reader.peek())!.position < seal.fromPosition) await reader.next();
  const digest = new RangeDigest(seal.previousDigest);
  for (let position = seal.fromPosition; position <= seal.toPosition; position += 1n) {
    const event = await reader.next();
    if (event === null) return { reason: 'seal_event_missing', position, expected: `event at position ${position}`, actual: 'the log ends' };
    if (event.position !== position) return { reason: 'seal_event_missing', position, expected: `event at position ${position}`, actual: `event at position ${event.position}` };
    digest.add(event.position, event.hash);
  }
  const recomputed = digest.finish();
  if (recomputed !== seal.digest) {
    return { reason: 'seal_digest_mismatch', expected: `${seal.digest} (signed)`, actual: `${recomputed} (recomputed over positions ${seal.fromPosition}..${seal.toPosition})` };
  }
  return null;
}

class PeekingCursor {
  private peeked: { position: bigint; hash: string } | null | undefined;

  constructor(private readonly cursor: LogCursor) {}

  async peek(): Promise<{ position: bigint; hash: string } | null> {
    if (this.peeked === undefined) this.peeked = await this.cursor.next();
    return this.peeked;
  }

  async next(): Promise<{ position: bigint; hash: string } | null> {
    const value = await this.peek();
    this.peeked = undefined;
    return value;
  }
}
