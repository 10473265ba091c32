import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { eventHash, type RawEvent } from '../eventstore/index.ts';
import { type BundleHeader, bundleHeaderSchema, bundleLineSchema, describeIssue } from './bundleFormat.ts';
import { SEAL_STREAM } from './seal.ts';
import type { LogCursor } from './sealCheck.ts';

export type BundleBreakReason =
  | 'bundle_unreadable' | 'bundle_malformed' | 'bundle_truncated' | 'bundle_checksum_mismatch' | 'bundle_count_mismatch'
  | 'hash_mismatch' | 'previous_hash_mismatch' | 'version_gap' | 'position_gap' | 'seal_event_mismatch';

/** Where a bundle broke: its line (1-based), and the event's position and stream when the line is one. */
export interface BundleBreak {
  reason: BundleBreakReason;
  line: number;
  position: bigint | null;
  streamId: string;
  expected: string;
  actual: string;
}

/** Thrown inside the reader, caught by `verifyBundle`, which reports it: a bad bundle is a finding, not a crash. */
export class BundleFault extends Error {
  constructor(readonly fault: BundleBreak) {
    super(`${fault.reason} at line ${fault.line}`);
    this.name = 'BundleFault';
  }
}

/**
 * Reads a bundle line by line (memory: one line, the seals, and each
 * stream's last hash), checking as it goes every event's hash, the chains
 * within the bundle, the positions' order, the counts and the trailer's
 * checksum. As a LogCursor it feeds the seal check in the same pass.
 */
export class BundleReader implements LogCursor {
  private readonly lines: AsyncIterator<string>;
  private readonly checksum: Hash = createHash('sha256');
  private lineNumber = 0;
  private nextPosition = 0n;
  private ended = false;
  private readonly streams = new Map<string, { version: bigint; hash: string }>();
  private readonly sealsByPosition = new Map<bigint, string>();
  header!: BundleHeader;
  seals: RawEvent[] = [];
  eventsChecked = 0;

  constructor(file: string) {
    const input = createReadStream(file, { encoding: 'utf8' });
    this.lines = createInterface({ input, crlfDelay: Infinity })[Symbol.asyncIterator]();
  }

  get streamsChecked(): number {
    return this.streams.size;
  }

  /** The header, then the seal lines it announces. */
  async open(): Promise<void> {
    const text = await this.readLine();
    if (text === null) this.fail('bundle_truncated', null, '', 'a header line', 'an empty file');
    const parsed = bundleHeaderSchema.safeParse(await this.json(text));
    if (!parsed.success) this.fail('bundle_malformed', null, '', `a ${'daybook.audit-bundle.v1'} header`, describeIssue(parsed.error));
    const header = parsed.data;
    this.checksum.update(`${text}\n`);
    if (header.fromPosition < 1n || header.toPosition < header.fromPosition || header.eventCount !== header.toPosition - header.fromPosition + 1n) {
      this.fail('bundle_malformed', null, '', `a range with as many events as positions`, `${header.fromPosition}..${header.toPosition} with ${header.eventCount} events`);
    }
    this.header = header;
    this.nextPosition = header.fromPosition;
    for (let index = 0; index < header.sealCount; index += 1) this.seals.push(await this.readSeal());
  }

  async next(): Promise<{ position: bigint; hash: string } | null> {
    if (this.ended) return null;
    const text = await this.readLine();
    if (text === null) this.fail('bundle_truncated', this.nextPosition, '', `event at position ${this.nextPosition}, then the end line`, 'the file ends');
    const line = await this.parseLine(text);
    if (line.kind === 'end') {
      this.ended = true;
      this.checkEnd(line.eventCount, line.sealCount, line.sha256);
      return null;
    }
    if (line.kind !== 'event') this.fail('bundle_malformed', null, '', 'an event line', `a ${line.kind} line`);
    const event: RawEvent = line.event;
    this.checksum.update(`${text}\n`);
    this.checkEvent(event);
    return { position: event.position, hash: event.hash };
  }

  /** Reads what the seal check left, through the end line, then makes sure nothing follows it. */
  async finish(): Promise<void> {
    while ((await this.next()) !== null) { /* each line is checked as it is read */ }
    const extra = await this.readLine();
    if (extra !== null) this.fail('bundle_malformed', null, '', 'nothing after the end line', 'more lines');
  }

  private async readSeal(): Promise<RawEvent> {
    const text = await this.readLine();
    if (text === null) this.fail('bundle_truncated', null, '', `${this.header.sealCount} seal lines`, 'the file ends');
    const line = await this.parseLine(text);
    if (line.kind !== 'seal') this.fail('bundle_malformed', null, '', `${this.header.sealCount} seal lines`, `a ${line.kind} line`);
    const seal: RawEvent = line.event;
    this.checksum.update(`${text}\n`);
    const where = { position: seal.position, streamId: seal.streamId };
    if (seal.streamId !== SEAL_STREAM) this.fail('bundle_malformed', where.position, where.streamId, `a seal of stream ${SEAL_STREAM}`, `stream ${seal.streamId}`);
    const recomputed = eventHash(seal);
    if (recomputed !== seal.hash) this.fail('hash_mismatch', where.position, where.streamId, recomputed, seal.hash);
    const previous = this.seals.at(-1);
    if (previous !== undefined && seal.version === previous.version + 1n && seal.previousHash !== previous.hash) {
      this.fail('previous_hash_mismatch', where.position, where.streamId, previous.hash, seal.previousHash);
    }
    this.sealsByPosition.set(seal.position, seal.hash);
    return seal;
  }

  private checkEvent(event: RawEvent): void {
    const where = { position: event.position, streamId: event.streamId };
    if (event.position !== this.nextPosition) this.fail('position_gap', where.position, where.streamId, `position ${this.nextPosition}`, `position ${event.position}`);
    if (event.position > this.header.toPosition) this.fail('bundle_count_mismatch', where.position, where.streamId, `events up to position ${this.header.toPosition}`, `position ${event.position}`);
    const recomputed = eventHash(event);
    if (recomputed !== event.hash) this.fail('hash_mismatch', where.position, where.streamId, recomputed, event.hash);
    const last = this.streams.get(event.streamId);
    // A stream's first event in the bundle may follow one before its range: that link is the seals' to vouch for.
    if (last !== undefined && event.version !== last.version + 1n) this.fail('version_gap', where.position, where.streamId, `version ${last.version + 1n}`, `version ${event.version}`);
    const expectedPrevious = last?.hash ?? (event.version === 1n ? '' : event.previousHash);
    if (event.previousHash !== expectedPrevious) this.fail('previous_hash_mismatch', where.position, where.streamId, expectedPrevious, event.previousHash);
    const sealCopy = this.sealsByPosition.get(event.position);
    if (sealCopy !== undefined && sealCopy !== event.hash) this.fail('seal_event_mismatch', where.position, where.streamId, `the seal line's hash ${sealCopy}`, event.hash);
    this.streams.set(event.streamId, { version: event.version, hash: event.hash });
    this.nextPosition += 1n;
    this.eventsChecked += 1;
  }

  private checkEnd(eventCount: bigint, sealCount: number, sha256: string): void {
    const read = BigInt(this.eventsChecked);
    if (read !== this.header.eventCount || eventCount !== read || sealCount !== this.seals.length) {
      this.fail('bundle_count_mismatch', null, '', `${this.header.eventCount} events and ${this.header.sealCount} seals (header)`, `${read} events read, end line says ${eventCount} events and ${sealCount} seals`);
    }
    const computed = this.checksum.digest('hex');
    if (computed !== sha256) this.fail('bundle_checksum_mismatch', null, '', `sha256 ${sha256} (end line)`, `sha256 ${computed} of the lines before it`);
  }

  private async parseLine(text: string): Promise<ReturnType<typeof bundleLineSchema.parse>> {
    const parsed = bundleLineSchema.safeParse(await this.json(text));
    if (!parsed.success) this.fail('bundle_malformed', null, '', 'a seal, event or end line', describeIssue(parsed.error));
    return parsed.data;
  }

  /** A line that is not JSON: the file was cut inside it when it is the last, else edited. */
  private async json(text: string): Promise<unknown> {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      const line = this.lineNumber;
      const shown = `${JSON.stringify(text.slice(0, 40))}${text.length > 40 ? '…' : ''}`;
      if ((await this.readLine()) === null) this.failAt(line, 'bundle_truncated', 'a whole line, then the end line', `the file ends inside line ${line}: ${shown}`);
      return this.failAt(line, 'bundle_malformed', 'a line of JSON', shown);
    }
  }

  private async readLine(): Promise<string | null> {
    let result: IteratorResult<string>;
    try {
      result = await this.lines.next();
    } catch (error) {
      return this.fail('bundle_unreadable', null, '', 'a readable file', (error as Error).message);
    }
    if (result.done) return null;
    this.lineNumber += 1;
    return result.value;
  }

  private fail(reason: BundleBreakReason, position: bigint | null, streamId: string, expected: string, actual: string): never {
    throw new BundleFault({ reason, line: this.lineNumber, position, streamId, expected, actual });
  }

  private failAt(line: number, reason: BundleBreakReason, expected: string, actual: string): never {
    throw new BundleFault({ reason, line, position: null, streamId: '', expected, actual });
  }
}
