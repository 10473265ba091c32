/**
 * Offline verification of an archive file (`daybook verify --archive`), no
 * database: the manifest's shape and Ed25519 signature, the file's size and
 * SHA-256 against it, gzip integrity, the header against the manifest, every
 * event's hash recomputed, positions contiguous from..to, each stream's chain
 * where its versions follow each other inside the file, and the counts and
 * first/last hashes. A truncated or edited file is a problem in the report,
 * never an exception.
 *
 * @example
 * const report = await verifyArchive('daybook-archive-2025-01.jsonl.gz', { keys: trustedKeysFromFiles(['seal.pub.pem']) });
 */
import { createHash, type KeyObject, verify as verifySignature } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { z } from 'zod';
import { keyIdOf, parsePublicKey, type TrustedKeys } from '../audit/index.ts';
import { eventHash } from '../eventstore/index.ts';
import { isDaybookError } from '../kernel/index.ts';
import {
  type ArchiveHeader, archiveHeaderSchema, type ArchiveManifest, archiveManifestPath, archiveManifestSchema, archivedEventSchema, canonicalManifestText,
} from './archiveFormat.ts';

export interface ArchiveVerifyReport {
  ok: boolean;
  file: string;
  period: string | null;
  fromPosition: string | null;
  toPosition: string | null;
  eventsChecked: number;
  /** Links between consecutive versions of a stream inside the file that were checked. */
  chainLinksChecked: number;
  keyId: string | null;
  keysSource: string;
  /** The first problem found, in words; null when intact. */
  problem: string | null;
}

export interface VerifyArchiveOptions {
  /** Keys to trust (`--public-key`, the key folder); without them, the manifest's own key (which proves less). */
  keys?: TrustedKeys;
}

class ArchiveFault extends Error {}

const fault = (message: string): never => {
  throw new ArchiveFault(message);
};

export async function verifyArchive(file: string, options: VerifyArchiveOptions = {}): Promise<ArchiveVerifyReport> {
  const report: ArchiveVerifyReport = {
    ok: false, file, period: null, fromPosition: null, toPosition: null, eventsChecked: 0, chainLinksChecked: 0, keyId: null,
    keysSource: options.keys?.source ?? "the manifest's own key (pass --public-key to pin the key)", problem: null,
  };
  try {
    const manifest = await readArchiveManifest(file);
    report.period = manifest.period;
    report.fromPosition = manifest.fromPosition;
    report.toPosition = manifest.toPosition;
    report.keyId = manifest.keyId;
    checkSignature(manifest, options.keys);
    const size = (await stat(file)).size;
    if (size !== manifest.bytes) fault(`the file is ${size} bytes, its manifest says ${manifest.bytes}: it was truncated or changed`);
    const sha256 = await checkContent(file, manifest, report);
    if (sha256 !== manifest.sha256) fault(`the file's SHA-256 ${sha256} differs from its manifest's ${manifest.sha256}: it was changed`);
    report.ok = true;
  } catch (error) {
    if (!(error instanceof ArchiveFault)) throw error;
    report.problem = error.message;
  }
  return report;
}

async function readArchiveManifest(file: string): Promise<ArchiveManifest> {
  const path = archiveManifestPath(file);
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    fault(`cannot read the manifest ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    fault(`the manifest ${path} is not JSON: it was damaged`);
  }
  return parseWith(archiveManifestSchema, parsed, `the manifest ${path}`);
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    fault(`${what} is malformed (${issue.path.join('.') || 'value'}: ${issue.message})`);
  }
  return (result as { data: T }).data;
}

function checkSignature(manifest: ArchiveManifest, keys: TrustedKeys | undefined): void {
  let key: KeyObject | undefined;
  if (keys !== undefined) {
    key = keys.publicKeys.get(manifest.keyId);
    if (key === undefined) fault(`the manifest is signed by ${manifest.keyId}, which ${keys.source} does not hold`);
    if (keys.revoked.has(manifest.keyId)) fault(`the manifest is signed by ${manifest.keyId}, which is revoked`);
  } else {
    try {
      key = parsePublicKey(manifest.publicKey, "the manifest's publicKey");
    } catch (error) {
      if (!isDaybookError(error)) throw error;
      fault(error.message);
    }
    if (keyIdOf(key!) !== manifest.keyId) fault(`the manifest's publicKey is ${keyIdOf(key!)}, not the ${manifest.keyId} it names`);
  }
  const { signature, ...fields } = manifest;
  const valid = verifySignature(null, Buffer.from(canonicalManifestText(fields)), key!, Buffer.from(signature, 'base64'));
  if (!valid) fault(`the manifest's signature does not verify with ${manifest.keyId}: the manifest was edited`);
}

/** One read of the file: SHA-256 of its bytes, and every line of its unzipped text checked. Returns the SHA-256. */
async function checkContent(file: string, manifest: ArchiveManifest, report: ArchiveVerifyReport): Promise<string> {
  const digest = createHash('sha256');
  const source = createReadStream(file, { highWaterMark: 1 << 20 });
  const gunzip = createGunzip();
  source.on('data', (chunk) => digest.update(chunk as Buffer));
  source.on('error', (error) => gunzip.destroy(error));
  source.pipe(gunzip);
  // Decoded by the stream, not per chunk: a character's bytes may straddle two chunks.
  gunzip.setEncoding('utf8');
  const checker = new LineChecker(manifest, report);
  let rest = '';
  try {
    for await (const chunk of gunzip) {
      const text = rest + (chunk as string);
      const lines = text.split('\n');
      rest = lines.pop()!;
      for (const line of lines) checker.line(line);
    }
  } catch (error) {
    source.destroy();
    if (error instanceof ArchiveFault) throw error;
    fault(`the file is not intact gzip (${(error as Error).message}): it was truncated or changed`);
  }
  if (rest !== '') fault(`the last line (after event ${report.eventsChecked}) has no end: the file was cut off`);
  checker.finish();
  return digest.digest('hex');
}

/** Checks the header, then each event in order; `finish` checks the totals. */
class LineChecker {
  private header: ArchiveHeader | null = null;
  private expected = 0n;
  private lastHash = '';
  private readonly streams = new Map<string, { version: bigint; hash: string }>();

  constructor(private readonly manifest: ArchiveManifest, private readonly report: ArchiveVerifyReport) {}

  line(text: string): void {
    const lineNo = this.report.eventsChecked + 2;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      fault(`line ${this.header === null ? 1 : lineNo} is not JSON: the file was changed`);
    }
    if (this.header === null) {
      this.header = parseWith(archiveHeaderSchema, value, 'the header (line 1)');
      this.checkHeader(this.header);
      return;
    }
    this.event(parseWith(archivedEventSchema, value, `line ${lineNo}`), lineNo);
  }

  private checkHeader(header: ArchiveHeader): void {
    for (const name of ['period', 'fromPosition', 'toPosition', 'count', 'firstHash', 'lastHash'] as const) {
      if (header[name] !== this.manifest[name]) fault(`the header's ${name} ${header[name]} differs from the manifest's ${this.manifest[name]}`);
    }
    this.expected = BigInt(header.fromPosition);
  }

  private event(event: z.infer<typeof archivedEventSchema>, lineNo: number): void {
    const position = BigInt(event.position);
    const version = BigInt(event.version);
    if (position !== this.expected) fault(`line ${lineNo} holds position ${position} where ${this.expected} was due`);
    if (position > BigInt(this.header!.toPosition)) fault(`line ${lineNo} holds position ${position}, past the header's toPosition ${this.header!.toPosition}`);
    const recomputed = eventHash({
      eventId: event.eventId, streamId: event.streamId, version, position, type: event.type, schemaVersion: event.schemaVersion,
      recordedAtMs: event.recordedAt, dataJson: event.data, metadataJson: event.metadata, previousHash: event.previousHash,
    });
    if (recomputed !== event.hash) fault(`the event at position ${position} (line ${lineNo}) does not match its hash: it was edited`);
    if (version === 1n && event.previousHash !== '') fault(`the event at position ${position} is version 1 of ${event.streamId} but names a previous hash`);
    const previous = this.streams.get(event.streamId);
    if (previous !== undefined && version <= previous.version) fault(`${event.streamId} goes back from version ${previous.version} to ${version} at position ${position}`);
    if (previous !== undefined && version === previous.version + 1n) {
      if (event.previousHash !== previous.hash) fault(`the chain of ${event.streamId} breaks at version ${version} (position ${position}): its previous hash is not version ${previous.version}'s hash`);
      this.report.chainLinksChecked += 1;
    }
    this.streams.set(event.streamId, { version, hash: event.hash });
    if (this.report.eventsChecked === 0 && event.hash !== this.header!.firstHash) fault(`the first event's hash differs from the header's firstHash`);
    this.lastHash = event.hash;
    this.expected = position + 1n;
    this.report.eventsChecked += 1;
  }

  finish(): void {
    if (this.header === null) fault('the file holds no header: it is empty or was cut off');
    const header = this.header!;
    if (this.report.eventsChecked !== header.count) fault(`the file holds ${this.report.eventsChecked} events, its header says ${header.count}: it was cut off or changed`);
    if (this.expected - 1n !== BigInt(header.toPosition)) fault(`the events end at position ${this.expected - 1n}, the header says ${header.toPosition}`);
    if (this.lastHash !== header.lastHash) fault(`the last event's hash differs from the header's lastHash`);
  }
}
