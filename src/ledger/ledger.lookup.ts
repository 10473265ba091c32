import { hash } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import type { EventStore, NewEvent, RecordedEvent, StreamWrite } from '../eventstore/index.ts';
import { READ_BATCH_MAX } from '../kernel/limits.ts';
import { decodeLedgerEvent } from './ledger.codec.ts';
import type { LedgerCommand } from './ledger.commands.ts';
import type { LedgerEvent } from './ledger.events.ts';
import { LEDGER_ID_LENGTH_MAX } from './ledger.limits.ts';
import type { LedgerView } from './ledger.state.ts';
import type { AppliedTransfer, EntryId, EntryRecord, PendingState, TransferId, TransferRecord } from './ledger.types.ts';

/**
 * History on disk, not in the heap: how a ledger partition finds a transfer
 * or journal entry that its bounded in-memory cache no longer holds.
 *
 * Every event that records a transfer or an entry gets an event id derived
 * from the partition and the record's id (a name-based UUIDv5), so the
 * store's unique event-id index answers "was transfer T recorded, and how"
 * in one lookup, forever, with no map of all ids in memory. A record has
 * one more fact that a later event sets: a pending transfer's resolution
 * and an entry's reversal. Expiry events are keyed by the pending id; a
 * post or void, and a reversal, also write a small marker event keyed by
 * the target's id into `ledgerindex-<partition>`, in the same atomic
 * append. Keys:
 *
 * | key | event |
 * |---|---|
 * | `t:<transferId>` | TransferPosted, PendingTransferCreated, PendingTransferPosted, PendingTransferVoided, TransferFailed |
 * | `r:<pendingId>` | PendingTransferExpired, or the PendingTransferResolved marker of a post or void |
 * | `e:<entryId>` | JournalEntryRecorded, JournalEntryFailed, JournalEntryReversed (by the reversal's id) |
 * | `v:<entryId>` | the JournalEntryReversalMarked marker of the entry's reversal |
 */
const NAMESPACE = '6f1d7c1e-3b0a-5d6e-9a51-d4b1c0a7e2f3';

export const PENDING_RESOLVED_MARKER = 'PendingTransferResolved';
export const ENTRY_REVERSED_MARKER = 'JournalEntryReversalMarked';

const NAMESPACE_BYTES = Buffer.from(NAMESPACE.replaceAll('-', ''), 'hex');
/** The namespace, then the name: what the id's SHA-1 is taken of (reused: one id per transfer on the hot path). */
const NAME_SCRATCH = Buffer.alloc(4096);
NAMESPACE_BYTES.copy(NAME_SCRATCH, 0);

/** The RFC 9562 version-5 UUID of `<partition stream>\n<key>` in Daybook's ledger namespace (as `uuid`'s v5 makes it, about 3x faster). */
export function ledgerEventId(partitionStreamId: string, key: string): string {
  const name = `${partitionStreamId}\n${key}`;
  // Ids are at most a few hundred characters (stream id and record id limits); a longer name takes the library's path.
  if (Buffer.byteLength(name, 'utf8') > NAME_SCRATCH.length - 16) return uuidv5(name, NAMESPACE);
  const length = 16 + NAME_SCRATCH.write(name, 16, 'utf8');
  const digest = hash('sha1', NAME_SCRATCH.subarray(0, length), 'buffer');
  digest[6] = (digest[6]! & 0x0f) | 0x50;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const hex = digest.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function indexStreamOf(partitionStreamId: string): string {
  return partitionStreamId.replace(/^ledger-/, 'ledgerindex-');
}

/** The lookup key of the event that records a transfer or entry; undefined for account events. */
export function keyOfLedgerEvent(event: LedgerEvent): string | undefined {
  switch (event.type) {
    case 'TransferPosted':
    case 'PendingTransferCreated':
    case 'PendingTransferPosted':
    case 'PendingTransferVoided':
    case 'TransferFailed':
      return `t:${event.data.transferId}`;
    case 'PendingTransferExpired': return `r:${event.data.pendingId}`;
    case 'JournalEntryRecorded':
    case 'JournalEntryFailed':
      return `e:${event.data.entryId}`;
    case 'JournalEntryReversed': return `e:${event.data.reversalId}`;
    default: return undefined;
  }
}

/** How many markers `indexMarkers` writes for these events. */
export function countMarkers(events: readonly LedgerEvent[]): number {
  let count = 0;
  for (const event of events) if (event.type === 'PendingTransferPosted' || event.type === 'PendingTransferVoided' || event.type === 'JournalEntryReversed') count += 1;
  return count;
}

/** The markers a batch's events need (posts, voids, reversals), as one write to the index stream, or undefined. */
export function indexMarkers(partitionStreamId: string, events: readonly LedgerEvent[], metadata: NewEvent['metadata']): StreamWrite | undefined {
  const markers: NewEvent[] = [];
  for (const event of events) {
    if (event.type === 'PendingTransferPosted' || event.type === 'PendingTransferVoided') {
      const { pendingId, transferId } = event.data;
      const to = event.type === 'PendingTransferPosted' ? 'posted' : 'voided';
      markers.push({ id: ledgerEventId(partitionStreamId, `r:${pendingId}`), type: PENDING_RESOLVED_MARKER, data: { pendingId, transferId, to }, metadata });
    } else if (event.type === 'JournalEntryReversed') {
      const { entryId, reversalId } = event.data;
      markers.push({ id: ledgerEventId(partitionStreamId, `v:${entryId}`), type: ENTRY_REVERSED_MARKER, data: { entryId, reversalId }, metadata });
    }
  }
  return markers.length === 0 ? undefined : { streamId: indexStreamOf(partitionStreamId), expectedVersion: 'any', events: markers };
}

/** Records read from the log for one batch. */
export type LookedUp = { transfers: Map<TransferId, TransferRecord>; entries: Map<EntryId, EntryRecord> };

const isId = (id: unknown): id is string => typeof id === 'string' && id.length > 0 && id.length <= LEDGER_ID_LENGTH_MAX;

/**
 * The keys a command's decision may read that `view` does not hold; the
 * records it does hold are pinned into `pinned`, so that the cache dropping
 * one before the batch is decided cannot hide it.
 */
export function missingKeys(view: LedgerView, command: LedgerCommand, into: Set<string>, pinned: LookedUp): void {
  const transfer = (id: unknown, pending: boolean): void => {
    if (!isId(id)) return;
    const held = view.transfer(id);
    if (held !== undefined) {
      pinned.transfers.set(id, held);
      return;
    }
    into.add(`t:${id}`);
    if (pending) into.add(`r:${id}`);
  };
  const entry = (id: unknown): void => {
    if (!isId(id)) return;
    const held = view.entry(id);
    if (held !== undefined) {
      pinned.entries.set(id, held);
      if (held.status === 'recorded' && held.reversedBy !== null) entry(held.reversedBy);
      return;
    }
    into.add(`e:${id}`);
    into.add(`v:${id}`);
  };
  switch (command.type) {
    case 'CreateTransfer': transfer(command.data.transferId, true); return;
    case 'PostPendingTransfer':
    case 'VoidPendingTransfer':
      transfer(command.data.transferId, false);
      transfer(command.data.pendingId, true);
      return;
    case 'ExpirePendingTransfer': transfer(command.data.pendingId, true); return;
    case 'RecordJournalEntry': entry(command.data.entryId); return;
    case 'ReverseJournalEntry':
      entry(command.data.reversalId);
      entry(command.data.entryId);
      return;
    default:
  }
}

export function nothingLookedUp(): LookedUp {
  return { transfers: new Map(), entries: new Map() };
}

/**
 * Reads the events behind `keys` and rebuilds their records. Then, once:
 * the first reversal of an entry found reversed, when `view` lacks it.
 */
export async function lookUpRecords(
  store: EventStore, partitionStreamId: string, keys: Iterable<string>, view: LedgerView, found: LookedUp = nothingLookedUp(),
): Promise<LookedUp> {
  await lookUpRound(store, partitionStreamId, [...keys], found);
  const reversals = new Set<string>();
  for (const entry of found.entries.values()) {
    if (entry.status === 'recorded' && entry.reversedBy !== null && view.entry(entry.reversedBy) === undefined && !found.entries.has(entry.reversedBy)) {
      reversals.add(`e:${entry.reversedBy}`);
    }
  }
  if (reversals.size > 0) await lookUpRound(store, partitionStreamId, [...reversals], found);
  return found;
}

async function lookUpRound(store: EventStore, partitionStreamId: string, keys: readonly string[], found: LookedUp): Promise<void> {
  const byId = new Map(keys.map((key) => [ledgerEventId(partitionStreamId, key), key]));
  const ids = [...byId.keys()];
  const events: Array<{ key: string; event: RecordedEvent }> = [];
  for (let start = 0; start < ids.length; start += READ_BATCH_MAX) {
    for (const event of await store.readEventsById(ids.slice(start, start + READ_BATCH_MAX))) {
      const key = byId.get(event.eventId);
      // Only events of this partition (or its index stream) count: another stream cannot forge a key.
      if (key !== undefined && (event.streamId === partitionStreamId || event.streamId === indexStreamOf(partitionStreamId))) events.push({ key, event });
    }
  }
  const resolutions = new Map<TransferId, PendingState>();
  const reversedBy = new Map<EntryId, EntryId>();
  for (const { key, event } of events) {
    if (key.startsWith('r:')) resolutions.set(key.slice(2), resolutionOf(event));
    else if (key.startsWith('v:')) reversedBy.set(key.slice(2), (event.data as { reversalId: string }).reversalId);
    else addRecord(decodeLedgerEvent(event), found);
  }
  for (const [pendingId, state] of resolutions) {
    const pending = found.transfers.get(pendingId);
    if (pending?.status === 'applied' && pending.kind === 'pending') found.transfers.set(pendingId, { ...pending, pendingState: state });
  }
  for (const [entryId, reversal] of reversedBy) {
    const entry = found.entries.get(entryId);
    if (entry?.status === 'recorded') found.entries.set(entryId, { ...entry, reversedBy: reversal });
  }
}

function resolutionOf(event: RecordedEvent): PendingState {
  if (event.type === 'PendingTransferExpired') return 'expired';
  const to = (event.data as { to?: unknown }).to;
  return to === 'posted' ? 'posted' : 'voided';
}

function addRecord(event: LedgerEvent, found: LookedUp): void {
  switch (event.type) {
    case 'TransferPosted':
    case 'PendingTransferCreated':
    case 'PendingTransferPosted':
    case 'PendingTransferVoided': {
      const record = appliedTransferOf(event);
      found.transfers.set(record.transferId, record);
      return;
    }
    case 'TransferFailed': {
      const { transferId, request, code, atMs } = event.data;
      found.transfers.set(transferId, { status: 'failed', transferId, request, code, atMs });
      return;
    }
    case 'JournalEntryRecorded':
    case 'JournalEntryReversed': {
      const { data } = event;
      const entryId = event.type === 'JournalEntryRecorded' ? event.data.entryId : event.data.reversalId;
      found.entries.set(entryId, { status: 'recorded', entryId, request: data.request, legs: data.legs, balances: data.balances, atMs: data.atMs, reversedBy: null });
      return;
    }
    case 'JournalEntryFailed': {
      const { entryId, request, code, atMs } = event.data;
      found.entries.set(entryId, { status: 'failed', entryId, request, code, atMs });
      return;
    }
    default:
  }
}

/** The record an event of the partition first records a transfer with (a pending one as still pending), or undefined. */
export function transferRecordOf(event: LedgerEvent): TransferRecord | undefined {
  const found = nothingLookedUp();
  if (event.type === 'PendingTransferExpired') return undefined;
  addRecord(event, found);
  return found.transfers.values().next().value;
}

type TransferEvent = Extract<LedgerEvent, { type: 'TransferPosted' | 'PendingTransferCreated' | 'PendingTransferPosted' | 'PendingTransferVoided' }>;

/** The record a transfer event makes, as `applyLedgerEvent` makes it (a pending one as still pending). */
export function appliedTransferOf(event: TransferEvent): AppliedTransfer {
  const { data } = event;
  const kind = event.type === 'TransferPosted' ? 'single' : event.type === 'PendingTransferCreated' ? 'pending' : event.type === 'PendingTransferPosted' ? 'post' : 'void';
  const amountMinor = event.type === 'PendingTransferVoided' ? event.data.pendingAmountMinor : event.data.amountMinor;
  return {
    status: 'applied', transferId: data.transferId, kind, request: data.request, debitAccountId: data.debitAccountId, creditAccountId: data.creditAccountId,
    ledger: data.ledger, currency: data.currency, amountMinor, debitBalances: data.debitBalances, creditBalances: data.creditBalances, atMs: data.atMs,
    pendingState: kind === 'pending' ? 'pending' : null,
    expiresAtMs: event.type === 'PendingTransferCreated' ? event.data.expiresAtMs : null,
  };
}
