import { createHash } from 'node:crypto';
import type { EventStore } from '../eventstore/index.ts';
import { DaybookError } from '../kernel/errors.ts';
import type { Json } from '../kernel/json.ts';
import { CURRENCY_EXPONENT, type Currency } from '../kernel/money.ts';
import { decodeLedgerValue, encodeLedgerValue } from './ledger.codec.ts';
import { createLedgerState, type LedgerCacheBounds, type LedgerMaps } from './ledger.state.ts';
import type { AccountRecord, AppliedTransfer, Balances, BalanceHistoryNode, EntryRecord, TransferRecord } from './ledger.types.ts';

/**
 * A ledger partition's state as a snapshot: every account (with its balance
 * history as an array, newest first), the transfers held (open pending ones,
 * then the cache of recent ones; older ones stay findable in the log, see
 * ledger.lookup.ts), the cached journal entries and the ledger currencies, in the maps'
 * order, amounts as integer strings (exact, like events). Kept in the
 * store's snapshot table under `LEDGER_SNAPSHOT_SCHEMA_VERSION`; a snapshot
 * is a cache, never the source of truth: on load it must name the event it
 * was taken at (checked against the stream) and its balances must sum to
 * zero per ledger, or it is ignored and the stream replayed in full.
 *
 * @example
 * const state = encodeLedgerSnapshot(engineState, lastEventId);
 * const { maps } = decodeLedgerSnapshot(JSON.parse(JSON.stringify(state)));
 */
export const LEDGER_SNAPSHOT_SCHEMA_VERSION = 2;

const FORMAT = 'daybook.ledger-partition';

type SnapshotAccount = Omit<AccountRecord, 'history'> & { history: Array<Omit<BalanceHistoryNode, 'previous'>> | null };

export type LedgerSnapshotState = {
  format: typeof FORMAT;
  formatVersion: typeof LEDGER_SNAPSHOT_SCHEMA_VERSION;
  /** Id of the partition event the snapshot reflects (its stream version is the snapshot's version). */
  lastEventId: string;
  /** The partition's log predates looked-up ids: the state holds every record and must keep doing so. */
  wholeHistory: boolean;
  ledgers: Array<[string, Currency]>;
  accounts: Json[];
  transfers: Json[];
  entries: Json[];
};

/** Records encoded between two yields to the event loop while a snapshot is written out. */
const ENCODE_SLICE_RECORDS = 2_000;

/** The records of a state at one instant: records are never changed in place (a change sets a new record), so these arrays stay that instant's. */
export interface LedgerStateCopy {
  wholeHistory: boolean;
  ledgers: Array<[string, Currency]>;
  accounts: AccountRecord[];
  transfers: TransferRecord[];
  entries: EntryRecord[];
}

export function copyLedgerState(state: LedgerMaps): LedgerStateCopy {
  return {
    wholeHistory: state.wholeHistory, ledgers: [...state.ledgers], accounts: [...state.accounts.values()], transfers: [...state.allTransfers()], entries: [...state.entries.values()],
  };
}

/**
 * The snapshot's JSON text, the same text as
 * `JSON.stringify(encodeLedgerSnapshot(state, lastEventId))`, encoded
 * `ENCODE_SLICE_RECORDS` records at a time with a turn of the event loop
 * between slices, so that a partition of millions of records does not stall
 * the commands being decided meanwhile (they change the live state, not
 * the copy).
 */
export async function encodeLedgerSnapshotText(copy: LedgerStateCopy, lastEventId: string, slice = ENCODE_SLICE_RECORDS): Promise<string> {
  return (await encodeLedgerSnapshotWithDigest(copy, lastEventId, slice)).text;
}

/** The snapshot's text and its SHA-256 (hex), hashed a piece at a time as the text is made. */
async function encodeLedgerSnapshotWithDigest(copy: LedgerStateCopy, lastEventId: string, slice = ENCODE_SLICE_RECORDS): Promise<{ text: string; sha256: string }> {
  const parts: string[] = [];
  const digest = createHash('sha256');
  const emit = (piece: string): void => {
    parts.push(piece);
    digest.update(piece, 'utf8');
  };
  const list = async <T>(name: string, records: readonly T[], encode: (record: T) => Json, last: boolean): Promise<void> => {
    emit(`,"${name}":[`);
    for (let start = 0; start < records.length; start += slice) {
      const encoded = records.slice(start, start + slice).map(encode);
      emit(`${start === 0 ? '' : ','}${JSON.stringify(encoded).slice(1, -1)}`);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    emit(last ? ']}' : ']');
  };
  const head = JSON.stringify({ format: FORMAT, formatVersion: LEDGER_SNAPSHOT_SCHEMA_VERSION, lastEventId, wholeHistory: copy.wholeHistory, ledgers: copy.ledgers });
  emit(head.slice(0, -1));
  await list('accounts', copy.accounts, (account) => encodeLedgerValue(flattenHistory(account)), false);
  await list('transfers', copy.transfers, encodeTransfer, false);
  await list('entries', copy.entries, (entry) => encodeLedgerValue(entry), true);
  return { text: parts.join(''), sha256: digest.digest('hex') };
}

/** The event that records a snapshot's digest in the log, in the partition's `ledgersnapshot-<partition>` stream. */
export const LEDGER_SNAPSHOT_DIGEST_EVENT = 'LedgerSnapshotSaved';
/** Digest events read back, newest first, to find the one of the snapshot being loaded. */
const DIGESTS_SEARCHED = 20;

function digestStreamOf(partitionStreamId: string): string {
  return partitionStreamId.replace(/^ledger-/, 'ledgersnapshot-');
}

/**
 * Saves a snapshot's text, then logs its digest. A snapshot is loaded only if
 * the log holds its digest: whoever edits the snapshot row (so that it still
 * balances, say) must also rewrite the hash-chained log, which `daybook
 * verify` catches. A crash between the two leaves a snapshot without a
 * digest: it is not loaded, the stream is replayed.
 */
export async function recordLedgerSnapshot(store: EventStore, partitionStreamId: string, version: bigint, text: string, sha256: string): Promise<void> {
  await store.saveSnapshot({ streamId: partitionStreamId, version, schemaVersion: LEDGER_SNAPSHOT_SCHEMA_VERSION, stateJson: text });
  await store.append({
    streamId: digestStreamOf(partitionStreamId),
    expectedVersion: 'any',
    events: [{ type: LEDGER_SNAPSHOT_DIGEST_EVENT, data: { streamId: partitionStreamId, version: version.toString(), sha256, bytes: Buffer.byteLength(text) }, metadata: { actor: 'ledger-engine' } }],
  });
}

/** Why the logged digests do not vouch for this snapshot text, or null when one does. */
async function digestMismatch(store: EventStore, partitionStreamId: string, version: bigint, text: string): Promise<string | null> {
  const logged = await store.readStream(digestStreamOf(partitionStreamId), { direction: 'backwards', limit: DIGESTS_SEARCHED });
  const mine = logged.find((event) => {
    const data = event.data as { streamId?: unknown; version?: unknown } | null;
    return event.type === LEDGER_SNAPSHOT_DIGEST_EVENT && data?.streamId === partitionStreamId && data.version === version.toString();
  });
  if (mine === undefined) return `no digest of the snapshot at version ${version} in the log`;
  const actual = createHash('sha256').update(text, 'utf8').digest('hex');
  return (mine.data as { sha256: unknown }).sha256 === actual ? null : `its digest is not the one logged when it was saved: it was changed (${actual})`;
}

export function encodeLedgerSnapshot(state: LedgerMaps, lastEventId: string): LedgerSnapshotState {
  const accounts: Json[] = [];
  for (const account of state.accounts.values()) accounts.push(encodeLedgerValue(flattenHistory(account)));
  const transfers: Json[] = [];
  for (const transfer of state.allTransfers()) transfers.push(encodeTransfer(transfer));
  const entries: Json[] = [];
  for (const entry of state.entries.values()) entries.push(encodeLedgerValue(entry));
  return { format: FORMAT, formatVersion: LEDGER_SNAPSHOT_SCHEMA_VERSION, lastEventId, wholeHistory: state.wholeHistory, ledgers: [...state.ledgers], accounts, transfers, entries };
}

/** Reads a snapshot back into fresh maps; anything malformed or unbalanced is an `integrity_violation`. */
export function decodeLedgerSnapshot(raw: unknown, bounds?: LedgerCacheBounds): { maps: LedgerMaps; lastEventId: string } {
  const snapshot = raw as Partial<LedgerSnapshotState> | null;
  if (snapshot === null || typeof snapshot !== 'object' || snapshot.format !== FORMAT || snapshot.formatVersion !== LEDGER_SNAPSHOT_SCHEMA_VERSION) {
    throw corrupt('not a ledger snapshot of this format version');
  }
  const { lastEventId, ledgers, accounts, transfers, entries, wholeHistory } = snapshot;
  if (typeof lastEventId !== 'string' || !Array.isArray(ledgers) || !Array.isArray(accounts) || !Array.isArray(transfers) || !Array.isArray(entries)) {
    throw corrupt('a part is missing');
  }
  const maps = createLedgerState(bounds);
  if (wholeHistory === true) maps.keepEverything();
  for (const pair of ledgers) {
    if (!Array.isArray(pair) || typeof pair[0] !== 'string' || !(pair[1] in CURRENCY_EXPONENT)) throw corrupt('a ledger is malformed');
    maps.setLedgerCurrency(pair[0], pair[1]);
  }
  for (const item of accounts) maps.setAccount(linkHistory(record<SnapshotAccount>(item, 'accountId')));
  for (const item of transfers) maps.setTransfer(Array.isArray(item) ? decodeTransferTuple(item) : record<TransferRecord>(item, 'transferId'));
  for (const item of entries) maps.setEntry(record<EntryRecord>(item, 'entryId'));
  checkBalanced(maps);
  return { maps, lastEventId };
}

function record<T>(item: unknown, idKey: string): T {
  if (item === null || typeof item !== 'object' || typeof (item as Record<string, unknown>)[idKey] !== 'string') throw corrupt(`a record has no ${idKey}`);
  return decodeLedgerValue(item, 'snapshot') as T;
}

/**
 * Transfers are most of a long partition's state, and most are created
 * ones whose request names the same accounts and ledger as the record: those
 * are written as one array each (balances as one `dp,dP,cp,cP` string), a
 * fifth of the object form's size and several times faster to read back.
 * Any other transfer keeps the object form.
 */
type TransferTuple = [
  0, string, string, string, string, string, string, string, string, string, number, string | null, number | null,
  string, number, number, number, string, Json,
];

function encodeTransfer(transfer: TransferRecord): Json {
  if (transfer.status !== 'applied' || transfer.request.kind !== 'create') return encodeLedgerValue(transfer);
  const { request } = transfer;
  if (request.debitAccountId !== transfer.debitAccountId || request.creditAccountId !== transfer.creditAccountId || request.ledger !== transfer.ledger) {
    return encodeLedgerValue(transfer);
  }
  const { flags } = request;
  const flagBits = (flags.pending ? 1 : 0) | (flags.linked ? 2 : 0) | (flags.balancingDebit ? 4 : 0) | (flags.balancingCredit ? 8 : 0);
  const tuple: TransferTuple = [
    0, transfer.transferId, transfer.kind, transfer.debitAccountId, transfer.creditAccountId, transfer.ledger, transfer.currency,
    transfer.amountMinor.toString(), balancesText(transfer.debitBalances), balancesText(transfer.creditBalances), transfer.atMs,
    transfer.pendingState, transfer.expiresAtMs, request.amountMinor.toString(), request.code, flagBits, request.timeoutMs, request.userData,
    { ...request.metadata },
  ];
  return tuple;
}

function decodeTransferTuple(item: unknown[]): TransferRecord {
  if (item.length !== 19 || item[0] !== 0) throw corrupt('a transfer is malformed');
  const [, transferId, kind, debitAccountId, creditAccountId, ledger, currency, amount, debitBalances, creditBalances, atMs, pendingState, expiresAtMs,
    requestAmount, code, flagBits, timeoutMs, userData, metadata] = item as TransferTuple;
  for (const text of [transferId, kind, debitAccountId, creditAccountId, ledger, currency, userData]) if (typeof text !== 'string') throw corrupt('a transfer is malformed');
  for (const value of [atMs, code, flagBits, timeoutMs]) if (typeof value !== 'number') throw corrupt('a transfer is malformed');
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) throw corrupt('a transfer is malformed');
  return {
    status: 'applied', transferId, kind: kind as AppliedTransfer['kind'], debitAccountId, creditAccountId, ledger, currency: currency as Currency,
    amountMinor: exactInteger(amount), debitBalances: balancesOf(debitBalances), creditBalances: balancesOf(creditBalances), atMs,
    pendingState: pendingState as AppliedTransfer['pendingState'], expiresAtMs,
    request: {
      kind: 'create', debitAccountId, creditAccountId, amountMinor: exactInteger(requestAmount), ledger, code,
      flags: { pending: (flagBits & 1) !== 0, linked: (flagBits & 2) !== 0, balancingDebit: (flagBits & 4) !== 0, balancingCredit: (flagBits & 8) !== 0 },
      timeoutMs, userData, metadata: metadata as Record<string, string>,
    },
  };
}

const INTEGER_TEXT = /^-?(0|[1-9][0-9]*)$/;

function exactInteger(text: unknown): bigint {
  if (typeof text !== 'string' || !INTEGER_TEXT.test(text)) throw corrupt('an amount is not an integer string');
  return BigInt(text);
}

function balancesText(balances: Balances): string {
  return `${balances.debitsPending},${balances.debitsPosted},${balances.creditsPending},${balances.creditsPosted}`;
}

function balancesOf(text: unknown): Balances {
  const parts = typeof text === 'string' ? text.split(',') : [];
  if (parts.length !== 4) throw corrupt('balances are malformed');
  return { debitsPending: exactInteger(parts[0]), debitsPosted: exactInteger(parts[1]), creditsPending: exactInteger(parts[2]), creditsPosted: exactInteger(parts[3]) };
}

function flattenHistory(account: AccountRecord): SnapshotAccount {
  if (account.history === null) return { ...account, history: null };
  const nodes: Array<Omit<BalanceHistoryNode, 'previous'>> = [];
  for (let node: BalanceHistoryNode | null = account.history; node !== null; node = node.previous) {
    nodes.push({ atMs: node.atMs, sourceId: node.sourceId, balances: node.balances });
  }
  return { ...account, history: nodes };
}

function linkHistory(account: SnapshotAccount): AccountRecord {
  if (account.history === null) return { ...account, history: null };
  if (!Array.isArray(account.history)) throw corrupt(`account ${account.accountId} has a malformed history`);
  let node: BalanceHistoryNode | null = null;
  for (let i = account.history.length - 1; i >= 0; i -= 1) node = { ...account.history[i]!, previous: node };
  return { ...account, history: node };
}

/** Every ledger's debits equal its credits, posted and pending: what the log guarantees, asserted of the copy. */
function checkBalanced(maps: LedgerMaps): void {
  const sums = new Map<string, bigint[]>();
  for (const account of maps.accounts.values()) {
    const { balances } = account;
    if (typeof balances?.debitsPosted !== 'bigint') throw corrupt(`account ${account.accountId} has no balances`);
    const sum = sums.get(account.ledger) ?? [0n, 0n, 0n, 0n];
    sum[0]! += balances.debitsPosted;
    sum[1]! += balances.creditsPosted;
    sum[2]! += balances.debitsPending;
    sum[3]! += balances.creditsPending;
    sums.set(account.ledger, sum);
  }
  for (const [ledger, [debits, credits, debitsPending, creditsPending]] of sums) {
    if (debits !== credits || debitsPending !== creditsPending) throw corrupt(`ledger ${ledger} does not balance`);
  }
}

function corrupt(why: string): DaybookError {
  return new DaybookError('integrity_violation', `ledger snapshot ignored: ${why}`);
}

/** Where a ledger engine's state came from when it opened. */
export type LedgerOpenedFrom = {
  /** Version of the snapshot loaded, or null (none, or ignored: see `snapshotIgnored`). */
  snapshotVersion: bigint | null;
  /** Why a snapshot found was not used, or null. */
  snapshotIgnored: string | null;
  /** Events replayed from the stream on open (after the snapshot, if any). */
  replayedEvents: bigint;
};

/**
 * Saves a partition's state every `everyEvents` events (one save at a time;
 * a failed save is remembered, not thrown: the log is the truth) and loads
 * the latest on open, checked against the stream.
 */
export class LedgerSnapshotKeeper {
  /** Version of the newest snapshot loaded or saved (or attempted). */
  private savedVersion = 0n;
  private saving: Promise<void> | null = null;
  /** The last save's error, if it failed. */
  lastError: unknown = null;

  constructor(
    private readonly store: EventStore,
    private readonly streamId: string,
    private readonly everyEvents: number,
    private readonly onCloseMinEvents = 0,
    private readonly bounds: LedgerCacheBounds = {},
  ) {}

  /** The latest snapshot, or why it cannot be used (its event is not the stream's event at its version, or it does not decode). */
  async load(): Promise<{ maps: LedgerMaps; version: bigint; lastEventId: string } | { ignored: string } | null> {
    try {
      const snapshot = await this.store.loadSnapshotText(this.streamId, LEDGER_SNAPSHOT_SCHEMA_VERSION);
      if (snapshot === null) return null;
      const mismatch = await digestMismatch(this.store, this.streamId, snapshot.version, snapshot.stateJson);
      if (mismatch !== null) return { ignored: mismatch };
      const { maps, lastEventId } = decodeLedgerSnapshot(JSON.parse(snapshot.stateJson), this.bounds);
      const [event] = await this.store.readStream(this.streamId, { fromVersion: snapshot.version, limit: 1 });
      if (event?.version !== snapshot.version || event.eventId !== lastEventId) return { ignored: `its event ${lastEventId} is not the stream's event at version ${snapshot.version}` };
      this.savedVersion = snapshot.version;
      return { maps, version: snapshot.version, lastEventId };
    } catch (error) {
      return { ignored: (error as Error).message };
    }
  }

  /**
   * Starts a save when `everyEvents` passed since the last one. The records
   * are copied now, synchronously, so the snapshot is the state at
   * `version`; they are encoded a slice at a time afterwards, while the
   * engine goes on deciding.
   */
  maybeSave(state: LedgerMaps, version: bigint, lastEventId: string | null): void {
    if (this.everyEvents <= 0 || this.saving !== null || lastEventId === null || version - this.savedVersion < BigInt(this.everyEvents)) return;
    this.savedVersion = version;
    this.saving = this.save(copyLedgerState(state), version, lastEventId).finally(() => { this.saving = null; });
  }

  /** Encodes and saves a copy; a failure (a text too large for one string, say) is remembered: the engine runs on and replays more on its next open. */
  private async save(copy: LedgerStateCopy, version: bigint, lastEventId: string): Promise<void> {
    try {
      const { text, sha256 } = await encodeLedgerSnapshotWithDigest(copy, lastEventId);
      await recordLedgerSnapshot(this.store, this.streamId, version, text, sha256);
      this.lastError = null;
    } catch (error) {
      this.lastError = error;
    }
  }

  /** At a graceful close: saves the final state when enough events passed since the last snapshot; never throws. */
  async saveOnClose(state: LedgerMaps, version: bigint, lastEventId: string | null): Promise<void> {
    if (this.everyEvents <= 0 || this.onCloseMinEvents <= 0 || lastEventId === null || version - this.savedVersion < BigInt(this.onCloseMinEvents)) return;
    const copy = copyLedgerState(state);
    await this.settled();
    this.savedVersion = version;
    await this.save(copy, version, lastEventId);
  }

  /** Waits for a save in progress. */
  async settled(): Promise<void> {
    await this.saving;
  }
}
