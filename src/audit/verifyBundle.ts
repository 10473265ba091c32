import type { KeyObject } from 'node:crypto';
import { isDaybookError } from '../kernel/index.ts';
import { BundleFault, type BundleBreak, BundleReader } from './bundleReader.ts';
import { keyIdOf, parsePublicKey, type RevokedKey, type TrustedKeys } from './keyProvider.ts';
import { checkSeals, type SealEvent, type SealReport } from './sealCheck.ts';
import { parseJson } from './verifyStore.ts';

export interface BundleReport {
  ok: boolean;
  fromPosition: bigint | null;
  toPosition: bigint | null;
  eventsChecked: number;
  streamsChecked: number;
  firstBreak: BundleBreak | null;
  seals: SealReport & {
    /** Events of the bundle no checked seal covers: not a failure, only not vouched for. */
    unsealed: bigint;
    keysSource: string;
  };
}

export interface VerifyBundleOptions {
  /** Keys to trust (`--public-key`); without them, the keys in the bundle's own header (which proves less: say so). */
  keys?: TrustedKeys;
  /** Revocations to apply to the header's keys (pinned keys carry their own). */
  revoked?: ReadonlyMap<string, RevokedKey>;
}

/**
 * Verifies an audit bundle with no database: every line's shape, every
 * event's hash, the chains and positions within it, the seals whose ranges
 * it holds (digest and signature), the counts and the checksum. A cut-off or
 * edited file is a break with its line, never an exception.
 *
 * @example
 * const report = await verifyBundle('audit.jsonl', { keys: trustedKeysFromFiles(['daybook-seal.pub.pem']) });
 */
export async function verifyBundle(file: string, options: VerifyBundleOptions = {}): Promise<BundleReport> {
  const reader = new BundleReader(file);
  const report: BundleReport = {
    ok: false, fromPosition: null, toPosition: null, eventsChecked: 0, streamsChecked: 0, firstBreak: null,
    seals: { sealsChecked: 0, sealedFrom: 0n, sealedThrough: 0n, keyIds: [], firstBreak: null, unsealed: 0n, keysSource: options.keys?.source ?? "the bundle's own header" },
  };
  try {
    await reader.open();
    report.fromPosition = reader.header.fromPosition;
    report.toPosition = reader.header.toPosition;
    const keys = options.keys ?? headerKeys(reader, options.revoked ?? new Map());
    const seals = await checkSeals(sealEvents(reader), reader, keys, { fromGenesis: false });
    const covered = seals.sealsChecked === 0 ? 0n : seals.sealedThrough - seals.sealedFrom + 1n;
    report.seals = { ...seals, unsealed: reader.header.eventCount - covered, keysSource: keys.source };
    if (seals.firstBreak === null) await reader.finish();
  } catch (error) {
    if (!(error instanceof BundleFault)) throw error;
    report.firstBreak = error.fault;
  }
  report.eventsChecked = reader.eventsChecked;
  report.streamsChecked = reader.streamsChecked;
  report.ok = report.firstBreak === null && report.seals.firstBreak === null;
  return report;
}

async function* sealEvents(reader: BundleReader): AsyncGenerator<SealEvent> {
  for (const seal of reader.seals) yield { version: seal.version, position: seal.position, type: seal.type, data: parseJson(seal.dataJson) };
}

/** The header's keys, each checked to be the key its id names. */
function headerKeys(reader: BundleReader, revoked: ReadonlyMap<string, RevokedKey>): TrustedKeys {
  const publicKeys = new Map<string, KeyObject>();
  for (const { keyId, pem } of reader.header.publicKeys) {
    let key: KeyObject;
    try {
      key = parsePublicKey(pem, `the header's key ${keyId}`);
    } catch (error) {
      if (!isDaybookError(error)) throw error;
      throw new BundleFault({ reason: 'bundle_malformed', line: 1, position: null, streamId: '', expected: 'Ed25519 public keys in the header', actual: error.message });
    }
    if (keyIdOf(key) !== keyId) throw new BundleFault({ reason: 'bundle_malformed', line: 1, position: null, streamId: '', expected: `key id ${keyIdOf(key)} for its key`, actual: keyId });
    publicKeys.set(keyId, key);
  }
  return { publicKeys, revoked, source: "the bundle's own header (pass --public-key to pin the key)" };
}
