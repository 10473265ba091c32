import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import type { EventStore } from '../eventstore/index.ts';
import { type Clock, DaybookError, READ_BATCH_MAX, READ_PAGE_SIZE } from '../kernel/index.ts';
import { BUNDLE_FORMAT, rawEventToJson } from './bundleFormat.ts';
import type { TrustedKeys } from './keyProvider.ts';
import { SEAL_STREAM, sealFromData } from './seal.ts';
import { parseJson } from './verifyStore.ts';

export interface ExportBundleOptions {
  /** First position (default 1). */
  fromPosition?: bigint;
  /** Last position (default: the head). */
  toPosition?: bigint;
  /** Public keys written into the header, so the bundle checks itself; a verifier should pin its own (`--public-key`). */
  keys: TrustedKeys;
  clock: Clock;
}

export interface ExportSummary {
  fromPosition: bigint;
  toPosition: bigint;
  eventCount: bigint;
  sealCount: number;
}

/**
 * Writes an audit bundle (see `bundleFormat.ts`) of positions from..to. The
 * file appears whole or not at all: it is written beside, then renamed; an
 * existing file is never overwritten.
 *
 * @example
 * await exportBundle(store, 'audit-2025-q1.jsonl', { fromPosition: 1n, keys, clock: systemClock });
 */
export async function exportBundle(store: EventStore, file: string, options: ExportBundleOptions): Promise<ExportSummary> {
  const head = await store.headPosition();
  const from = options.fromPosition ?? 1n;
  const to = options.toPosition ?? head;
  if (head === 0n) throw new DaybookError('validation_failed', 'the log is empty: there is nothing to export', {});
  if (from < 1n || from > to) throw new DaybookError('validation_failed', `the range must start at 1 or later and not after its end (got ${from}..${to})`, {}, 'fromPosition');
  if (to > head) throw new DaybookError('validation_failed', `the range ends at ${to}, past the head of the log (${head})`, {}, 'toPosition');
  const seals = await sealsWithin(store, from, to, head);
  const partial = `${file}.partial-${process.pid}`;
  const out = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
  const digest = createHash('sha256');
  const write = async (value: unknown, hashed = true): Promise<void> => {
    const line = `${JSON.stringify(value)}\n`;
    if (hashed) digest.update(line);
    if (!out.write(line)) await once(out, 'drain');
  };
  try {
    await once(out, 'open');
    const publicKeys = [...options.keys.publicKeys].map(([keyId, key]) => ({ keyId, pem: key.export({ type: 'spki', format: 'pem' }).toString() }));
    const eventCount = to - from + 1n;
    await write({ format: BUNDLE_FORMAT, fromPosition: from.toString(), toPosition: to.toString(), eventCount: eventCount.toString(), sealCount: seals.length, exportedAtMs: options.clock.nowMs(), publicKeys });
    for (const seal of seals) await write({ kind: 'seal', event: seal });
    await writeEvents(store, from, to, write);
    await write({ kind: 'end', eventCount: eventCount.toString(), sealCount: seals.length, sha256: digest.digest('hex') }, false);
    out.end();
    await once(out, 'finish');
    renameSync(partial, file);
    return { fromPosition: from, toPosition: to, eventCount, sealCount: seals.length };
  } catch (error) {
    out.destroy();
    rmSync(partial, { force: true });
    throw error;
  }
}

async function writeEvents(store: EventStore, from: bigint, to: bigint, write: (value: unknown) => Promise<void>): Promise<void> {
  let expected = from;
  while (expected <= to) {
    const page = await store.readRawLog({ after: expected - 1n, asOfPosition: to, limit: READ_BATCH_MAX });
    if (page.length === 0) break;
    for (const event of page) {
      // A hole is written as it is: the bundle's verifier reports it, as `daybook verify` would.
      await write({ kind: 'event', event: rawEventToJson(event) });
      expected = event.position + 1n;
    }
  }
}

/** The seal events (as stored) whose whole range lies in from..to, wherever the seal event itself lies. */
async function sealsWithin(store: EventStore, from: bigint, to: bigint, head: bigint): Promise<Array<Record<string, unknown>>> {
  const found: Array<Record<string, unknown>> = [];
  let after = 0n;
  for (;;) {
    const page = await store.readRawLog({ after, asOfPosition: head, category: SEAL_STREAM, limit: READ_PAGE_SIZE });
    for (const event of page) {
      const seal = event.streamId === SEAL_STREAM ? sealFromData(parseJson(event.dataJson)) : 'not a seal';
      if (typeof seal !== 'string' && seal.fromPosition >= from && seal.toPosition <= to) found.push(rawEventToJson(event));
    }
    if (page.length < READ_PAGE_SIZE) return found;
    after = page[page.length - 1]!.position;
  }
}
