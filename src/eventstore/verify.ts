import type { ChainBreak, VerifyReport } from './eventStore.ts';
import { eventHash } from './hashChain.ts';
import type { StorageEngine } from './storageEngine.ts';
import type { StoredRow } from './storedRow.ts';

const CHAIN_PAGE = 2000;

/**
 * Recomputes every stream's hash chain in (stream id, version) order, then
 * checks that global positions run 1..head without a hole and that the head
 * the store recorded matches the rows. Memory stays flat: one page at a time.
 */
export async function verifyChains(engine: StorageEngine): Promise<VerifyReport> {
  let eventsChecked = 0;
  let streamsChecked = 0;
  let previous: StoredRow | null = null;
  let firstBreak: ChainBreak | null = null;
  let cursor: { streamId: string; version: bigint } | null = null;
  while (firstBreak === null) {
    const rows = await engine.readChainRows(cursor, CHAIN_PAGE);
    for (const row of rows) {
      const sameStream = previous !== null && previous.streamId === row.streamId;
      if (!sameStream) streamsChecked += 1;
      firstBreak = checkRow(row, sameStream ? previous : null);
      eventsChecked += 1;
      if (firstBreak) break;
      previous = row;
    }
    if (rows.length < CHAIN_PAGE) break;
    const last = rows[rows.length - 1]!;
    cursor = { streamId: last.streamId, version: last.version };
  }
  const { maxStored, recorded } = await engine.heads();
  firstBreak ??= await checkPositions(engine, maxStored, recorded);
  return { ok: firstBreak === null, eventsChecked, streamsChecked, headPosition: maxStored, firstBreak };
}

function checkRow(row: StoredRow, previous: StoredRow | null): ChainBreak | null {
  const at = { streamId: row.streamId, version: row.version, position: row.position };
  const expectedVersion = previous ? previous.version + 1n : 1n;
  if (row.version !== expectedVersion) {
    return { ...at, reason: 'version_gap', expected: expectedVersion.toString(), actual: row.version.toString() };
  }
  const expectedPrevious = previous ? previous.hash : '';
  if (row.previousHash !== expectedPrevious) {
    return { ...at, reason: 'previous_hash_mismatch', expected: expectedPrevious, actual: row.previousHash };
  }
  if (previous && row.position <= previous.position) {
    return { ...at, reason: 'position_gap', expected: `> ${previous.position}`, actual: row.position.toString() };
  }
  const recomputed = eventHash(row);
  if (recomputed !== row.hash) return { ...at, reason: 'hash_mismatch', expected: recomputed, actual: row.hash };
  return null;
}

async function checkPositions(engine: StorageEngine, maxStored: bigint, recorded: bigint): Promise<ChainBreak | null> {
  const gap = await engine.findPositionGap();
  if (gap) return { streamId: '', version: 0n, position: gap.missing, reason: 'position_gap', expected: `event at position ${gap.missing}`, actual: 'missing' };
  if (maxStored !== recorded) {
    return { streamId: '', version: 0n, position: maxStored, reason: 'head_mismatch', expected: recorded.toString(), actual: maxStored.toString() };
  }
  return null;
}
