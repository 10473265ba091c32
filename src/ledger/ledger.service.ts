import type { EventMetadata, EventStore, StreamWrite } from '../eventstore/index.ts';
import { type Clock, systemClock } from '../kernel/clock.ts';
import { DaybookError, isDaybookError } from '../kernel/errors.ts';
import { EVENTS_PER_APPEND_MAX, READ_BATCH_MAX, STREAMS_PER_APPEND_MAX } from '../kernel/limits.ts';
import { decideLedgerBatch, type LedgerBatchDecision } from './ledger.batch.ts';
import { decodeLedgerEvent, encodeLedgerEvent } from './ledger.codec.ts';
import type { LedgerCommand } from './ledger.commands.ts';
import type { LedgerEvent } from './ledger.events.ts';
import { applyLedgerEvent } from './ledger.evolve.ts';
import type { LedgerOutcome } from './ledger.results.ts';
import type { LeaseClaim } from './ledger.leases.ts';
import { PartitionFollower } from './ledger.follower.ts';
import { PartitionOwnership } from './ledger.ownership.ts';
import { LedgerSnapshotKeeper, type LedgerOpenedFrom } from './ledger.snapshot.ts';
import { metadataByRecord, recordKeyOfEvent } from './ledger.metadata.ts';
import { createLedgerState, FallbackView, type LedgerCacheBounds, type LedgerMaps, type LedgerView } from './ledger.state.ts';
import {
  LEDGER_ENTRY_CACHE_MAX, LEDGER_SNAPSHOT_EVERY_EVENTS, LEDGER_SNAPSHOT_ON_CLOSE_MIN_EVENTS, LEDGER_TRANSFER_CACHE_MAX, type LedgerEngineOptions, type LedgerRequest,
} from './ledger.engineOptions.ts';
import { countMarkers, indexMarkers, keyOfLedgerEvent, ledgerEventId, lookUpRecords, missingKeys, nothingLookedUp, transferRecordOf, type LookedUp } from './ledger.lookup.ts';
import type { EntryRecord, TransferRecord } from './ledger.types.ts';

export { LEDGER_SNAPSHOT_EVERY_EVENTS, LEDGER_SNAPSHOT_ON_CLOSE_MIN_EVENTS, type LedgerEngineOptions, type LedgerRequest } from './ledger.engineOptions.ts';

/** Events a command's attachment is assumed to add when a batch is taken (see takeBatch); more is still handled, by splitting. */
const ATTACHED_EVENTS_ALLOWANCE = 2;

/**
 * A write that commits in the same append as a command's events (the API's
 * idempotency record of the answer, say), made from the command's outcome and
 * the partition's state right after its batch. Called again if the batch is
 * decided again, so it must be a pure function of its arguments. Its stream
 * must not be a ledger stream. It may expect an exact version: when the
 * store refuses the batch for a version conflict on an attached stream, the
 * command that attached it, and every command queued with it by the same
 * `executeAll`, is refused with that conflict (nothing of them is written),
 * and the other commands of the batch are decided again without it.
 */
export type LedgerAttachment = (outcome: LedgerOutcome, state: LedgerView) => StreamWrite | readonly StreamWrite[] | undefined;

interface Waiting {
  command: LedgerCommand;
  metadata: EventMetadata | undefined;
  attach?: LedgerAttachment;
  attempts?: number;
  /** Order of arrival: the queue is kept in it, whatever goes back to it (a retried batch, a batch whose lookups met a failure). */
  seq: number;
  /** The commands of one `executeAll`: refused together when one's attachment meets a version conflict. */
  group?: WaitingGroup;
  resolve(outcome: LedgerOutcome): void;
  reject(error: unknown): void;
}

interface WaitingGroup {
  /** Set once a member's attachment met a version conflict: every member still waiting is refused with it. */
  refused?: unknown;
}

/** A batch decided and on its way to the store. */
interface Flight {
  batch: Waiting[];
  /** The command each attached write came from, by stream id. */
  attachedBy: Map<string, Waiting>;
  decision: LedgerBatchDecision;
  /** Records read from the log for this batch (the view it was decided on falls back to them). */
  lookedUp: FallbackView;
  /** Partition version once this flight is durable. */
  versionAfter: bigint;
  /** Decided on top of a flight that then failed: its decision no longer holds. */
  invalid?: boolean;
  settled: Promise<void>;
}

/** The metadata of every event the engine appends; a caller's metadata is added to it. */
const ENGINE_METADATA: EventMetadata = Object.freeze({ actor: 'ledger-engine' });

/** Batches in flight at once: one committing, one being decided on top of it. */
const FLIGHTS_MAX = 2;

/**
 * The engines open on each store, by partition stream. A second flight is
 * decided on top of the first's staged state and appended with the version
 * the first will leave; should the first fail because another writer added
 * as many events to the partition, the second's expected version would match
 * those and it would commit a decision made on money that never arrived.
 * So flights overlap only where no one else can write the partition: SQLite
 * (one writing process, the lock file) with one engine per partition. On
 * PostgreSQL every process may write (a lease lapses, a paused holder wakes),
 * and each batch waits for the one before it.
 */
const OPEN_ENGINES = new WeakMap<EventStore, Map<string, number>>();

function registerEngine(store: EventStore, streamId: string, change: 1 | -1): void {
  let partitions = OPEN_ENGINES.get(store);
  if (partitions === undefined) OPEN_ENGINES.set(store, partitions = new Map());
  const count = (partitions.get(streamId) ?? 0) + change;
  if (count > 0) partitions.set(streamId, count);
  else partitions.delete(streamId);
}

/**
 * The ledger's application layer, TigerBeetle style: one engine per ledger
 * partition holds the partition's accounts and transfers in memory, decides a
 * whole batch of queued commands one after another against that state (so a
 * hot account costs nothing extra: no optimistic retries, no row locks), and
 * appends the batch's events to the partition stream in one call, with the
 * exact expected version. State changes only after the append is durable.
 *
 * Invariants come from the partition's own events: on open the engine loads
 * the latest snapshot (ledger.snapshot.ts) and replays the stream after it;
 * if another process appended meanwhile (a version conflict), it catches up
 * from the stream and decides the batch again. On PostgreSQL it also follows
 * the stream (ledger.follower.ts), so other processes' events reach its
 * state without a write of its own; `catchUp()` is a read barrier on either
 * backend. With a lease (ledger.leases.ts) only the holder writes; the
 * expected version, not the lease, is what keeps two writers from both
 * succeeding.
 *
 * @example
 * const ledger = await LedgerEngine.open(store, { partition: 'usd' });
 * const outcome = await ledger.execute({ type: 'CreateTransfer', data: { transferId: 't1', debitAccountId: 'a', creditAccountId: 'b', amountMinor: 100n, ledger: 'usd' } });
 */
export class LedgerEngine {
  private readonly queue: Waiting[] = [];
  private flights: Flight[] = [];
  private requeued: Waiting[] = [];
  private needsCatchUp = false;
  /** True while catching up from the stream: nothing is decided meanwhile. */
  private busy = false;
  private scheduled = false;
  private closed = false;
  /** Highest partition version the store announced (or a read barrier saw): above `version`, a catch-up is due. */
  private announcedVersion = 0n;
  /** Read barriers waiting for the state to reach a version. */
  private versionWaiters: Array<{ version: bigint; resolve(): void; reject(error: unknown): void }> = [];
  private follower: PartitionFollower | null = null;
  /** The partition's lease and its heartbeat (null: no lease, the engine always writes). */
  private ownership: PartitionOwnership | null = null;
  private readonly snapshots: LedgerSnapshotKeeper;
  /** Id of the partition event at `version` (what a snapshot names), when known. */
  private lastEventId: string | null = null;
  private opened: LedgerOpenedFrom = { snapshotVersion: null, snapshotIgnored: null, replayedEvents: 0n };
  /** A batch whose records are being looked up in the log; it is launched next. */
  private preparing = false;
  private arrivals = 0;

  private constructor(
    private readonly store: EventStore,
    readonly streamId: string,
    private root: LedgerMaps,
    private version: bigint,
    private readonly clock: Clock,
    private readonly batchCommandsMax: number,
    private readonly conflictRetriesMax: number,
    snapshotEveryEvents: number,
    snapshotOnCloseMinEvents: number,
    private readonly bounds: LedgerCacheBounds,
  ) {
    this.snapshots = new LedgerSnapshotKeeper(store, streamId, snapshotEveryEvents, snapshotOnCloseMinEvents, bounds);
  }

  static async open(store: EventStore, options: LedgerEngineOptions = {}): Promise<LedgerEngine> {
    const streamId = `ledger-${options.partition ?? 'main'}`;
    const batchCommandsMax = Math.min(options.batchCommandsMax ?? 1000, EVENTS_PER_APPEND_MAX);
    // A cache smaller than two batches could drop a record between its batch's decision and the answer read from it.
    const bounds: LedgerCacheBounds = {
      transferCacheMax: Math.max(options.transferCacheMax ?? LEDGER_TRANSFER_CACHE_MAX, 2 * batchCommandsMax),
      entryCacheMax: Math.max(options.entryCacheMax ?? LEDGER_ENTRY_CACHE_MAX, 2 * batchCommandsMax),
    };
    const engine = new LedgerEngine(
      store, streamId, createLedgerState(bounds), 0n, options.clock ?? systemClock, batchCommandsMax, options.conflictRetriesMax ?? 5,
      options.snapshotEveryEvents ?? LEDGER_SNAPSHOT_EVERY_EVENTS, options.snapshotOnCloseMinEvents ?? LEDGER_SNAPSHOT_ON_CLOSE_MIN_EVENTS, bounds,
    );
    // Counted from here (an open that fails later leaves it counted: its partition only loses the overlap of flights).
    registerEngine(store, streamId, 1);
    if (options.lease) {
      engine.ownership = new PartitionOwnership(options.lease, engine.streamId, {
        // Taken (over): whatever the last holder wrote is read before anything is decided.
        taken: () => { engine.needsCatchUp = true; engine.pump(); },
        lost: () => engine.pump(),
      });
      await engine.ownership.claim(options.standby === true);
    }
    // The head before the replay: the live subscription starts there, so nothing appended meanwhile is missed.
    const head = options.follow ?? store.backend === 'postgres' ? await store.headPosition() : null;
    if (options.useSnapshots !== false) await engine.loadSnapshot();
    const before = engine.version;
    await engine.readTail();
    engine.opened.replayedEvents = engine.version - before;
    // A long replay is saved at once, so the next open starts from here.
    engine.saveSnapshotIfDue();
    if (head !== null) engine.follower = PartitionFollower.start(store, streamId, head, (version) => engine.announce(version));
    engine.ownership?.startHeartbeat();
    return engine;
  }

  /** The partition's state as of the last durable batch (read-only use: queries, balances). */
  get state(): LedgerView {
    return this.root;
  }

  /** Where the state came from on open: a snapshot (which version), and how many events were replayed. */
  get openedFrom(): LedgerOpenedFrom {
    return this.opened;
  }

  private async loadSnapshot(): Promise<void> {
    const loaded = await this.snapshots.load();
    if (loaded === null) return;
    if ('ignored' in loaded) {
      this.opened.snapshotIgnored = loaded.ignored;
      return;
    }
    this.root = loaded.maps;
    this.version = loaded.version;
    this.lastEventId = loaded.lastEventId;
    this.opened.snapshotVersion = loaded.version;
  }

  /** The owner saves (a standby would only repeat the owner's work). */
  private saveSnapshotIfDue(): void {
    if (this.ownsPartition) this.snapshots.maybeSave(this.root, this.version, this.lastEventId);
  }

  /**
   * A transfer by id: from memory (open pending transfers, the cache of
   * recent ones) or else from the log. Reflects the state as of the last
   * durable batch; `catchUp()` first to see other processes' writes.
   */
  async lookupTransfer(transferId: string): Promise<TransferRecord | undefined> {
    const held = this.root.transfer(transferId);
    if (held !== undefined || !this.root.bounded) return held;
    const keys = new Set<string>();
    missingKeys(this.root, { type: 'CreateTransfer', data: { transferId } } as LedgerCommand, keys, nothingLookedUp());
    return (await lookUpRecords(this.store, this.streamId, keys, this.root)).transfers.get(transferId) ?? this.root.transfer(transferId);
  }

  /**
   * The partition stream version of the event that first recorded a
   * transfer (its place in the partition's order), or undefined when the
   * transfer does not exist. One index lookup; on a partition written before
   * looked-up ids (wholeHistory), a walk of the stream.
   */
  async transferVersion(transferId: string): Promise<bigint | undefined> {
    if (typeof transferId !== 'string' || transferId.length === 0) return undefined;
    const [found] = (await this.store.readEventsById([ledgerEventId(this.streamId, `t:${transferId}`)])).filter((event) => event.streamId === this.streamId);
    // A partition kept whole holds every transfer: one it does not hold does not exist, and the walk below is only for those it holds.
    if (found !== undefined || !this.root.wholeHistory || this.root.transfer(transferId) === undefined) return found?.version;
    for (let from = 1n; ;) {
      const page = await this.store.readStream(this.streamId, { fromVersion: from, limit: READ_BATCH_MAX });
      for (const event of page) if ((event.data as { transferId?: unknown }).transferId === transferId && event.type !== 'PendingTransferExpired') return event.version;
      if (page.length < READ_BATCH_MAX) return undefined;
      from = page[page.length - 1]!.version + 1n;
    }
  }

  /**
   * Transfers in the order the partition first recorded them, read from the
   * log: the records the events after (backwards: before) `fromVersion`
   * (exclusive; null for the start, or the end) make, examining at most
   * `maxEvents` events. Records are as first recorded: a pending transfer
   * shows `pending` (ask `lookupTransfer` for where it stands now).
   * `lastVersion` is the last event examined (null when there was none);
   * fewer than `maxEvents` examined means the log ended.
   */
  async readTransfers(fromVersion: bigint | null, backwards: boolean, maxEvents: number): Promise<{ transfers: Array<{ version: bigint; record: TransferRecord }>; lastVersion: bigint | null; examined: number }> {
    const transfers: Array<{ version: bigint; record: TransferRecord }> = [];
    let next = fromVersion === null ? (backwards ? null : 1n) : backwards ? fromVersion - 1n : fromVersion + 1n;
    let lastVersion: bigint | null = null;
    let left = maxEvents;
    while (left > 0 && (next === null || next >= 1n)) {
      const limit = Math.min(left, READ_BATCH_MAX);
      const page = await this.store.readStream(this.streamId, { direction: backwards ? 'backwards' : 'forwards', ...(next === null ? {} : { fromVersion: next }), limit });
      for (const event of page) {
        lastVersion = event.version;
        const record = transferRecordOf(decodeLedgerEvent({ type: event.type, data: event.data, schemaVersion: event.schemaVersion }));
        if (record !== undefined) transfers.push({ version: event.version, record });
      }
      left -= page.length;
      if (page.length < limit) break;
      next = backwards ? page[page.length - 1]!.version - 1n : page[page.length - 1]!.version + 1n;
    }
    return { transfers, lastVersion, examined: maxEvents - left };
  }

  /** A journal entry by id, from memory or else from the log (see `lookupTransfer`). */
  async lookupEntry(entryId: string): Promise<EntryRecord | undefined> {
    const held = this.root.entry(entryId);
    if (held !== undefined || !this.root.bounded) return held;
    const keys = new Set<string>();
    missingKeys(this.root, { type: 'RecordJournalEntry', data: { entryId } } as LedgerCommand, keys, nothingLookedUp());
    return (await lookUpRecords(this.store, this.streamId, keys, this.root)).entries.get(entryId) ?? this.root.entry(entryId);
  }

  /** Version of the partition stream the state reflects. */
  get streamVersion(): bigint {
    return this.version;
  }

  /**
   * Decides and durably records one command; resolves with its outcome (a
   * refusal is an outcome, not an error). `metadata` (the caller's
   * correlation id, actor, …) goes on every event the command causes;
   * `attach` adds a write that commits atomically with them.
   */
  execute(request: LedgerRequest, metadata?: EventMetadata, attach?: LedgerAttachment): Promise<LedgerOutcome> {
    if (this.closed) return Promise.reject(new DaybookError('store_closed', 'the ledger engine is closed'));
    if (!this.ownsPartition) return Promise.reject(this.notOwned());
    return new Promise<LedgerOutcome>((resolve, reject) => {
      this.queue.push({ command: request as LedgerCommand, metadata, attach, seq: this.arrivals++, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Executes several commands in order, as one batch when they fit: linked
   * chains need this. A chain is decided and appended whole, never split
   * across appends; one of more members than an append holds is refused with
   * `limit_exceeded` before any command of the call is queued. `attach`
   * goes with the first command (see `execute`); with a chain, which commits
   * whole, that is with every member's events. Given as a list, it is one
   * attachment per command (by index; undefined for none).
   */
  executeAll(requests: readonly LedgerRequest[], metadata?: EventMetadata, attach?: LedgerAttachment | ReadonlyArray<LedgerAttachment | undefined>): Promise<LedgerOutcome[]> {
    if (this.closed) return Promise.reject(new DaybookError('store_closed', 'the ledger engine is closed'));
    if (!this.ownsPartition) return Promise.reject(this.notOwned());
    const longest = longestChain(requests.map((request) => request as LedgerCommand));
    if (longest > EVENTS_PER_APPEND_MAX) return Promise.reject(chainTooLarge(`${longest} members`, EVENTS_PER_APPEND_MAX, 'events'));
    // Queued together before draining starts: an idle engine would otherwise take the first command of a linked chain alone.
    const group: WaitingGroup = {};
    const outcomes = requests.map((request, index) => new Promise<LedgerOutcome>((resolve, reject) => {
      const own = typeof attach === 'function' ? (index === 0 ? attach : undefined) : attach?.[index];
      this.queue.push({ command: request as LedgerCommand, metadata, attach: own, seq: this.arrivals++, group, resolve, reject });
    }));
    this.schedule();
    return Promise.all(outcomes);
  }

  /**
   * Read barrier: reads the partition stream's version in the store and
   * resolves once the state reflects at least that version, so a read made
   * after it sees every event durable before the call, whichever process
   * appended it.
   *
   * @example
   * await ledger.catchUp();
   * const balances = ledger.state.account('merchant')?.balances;
   */
  async catchUp(): Promise<void> {
    if (this.closed) throw new DaybookError('store_closed', 'the ledger engine is closed');
    const target = await this.store.streamVersion(this.streamId);
    if (target <= this.version) return;
    const reached = new Promise<void>((resolve, reject) => this.versionWaiters.push({ version: target, resolve, reject }));
    this.announce(target);
    await reached;
  }

  async close(): Promise<void> {
    if (!this.closed) registerEngine(this.store, this.streamId, -1);
    this.closed = true;
    this.follower?.close();
    while (this.busy || this.preparing || this.queue.length > 0 || this.flights.length > 0) await new Promise((resolve) => setTimeout(resolve, 1));
    for (const waiter of this.versionWaiters.splice(0)) waiter.reject(new DaybookError('store_closed', 'the ledger engine is closed'));
    await this.snapshots.settled();
    // A clean stop leaves a snapshot of the final state (a store already closed under us only costs that snapshot).
    if (this.ownsPartition) await this.snapshots.saveOnClose(this.root, this.version, this.lastEventId);
    await this.ownership?.stop();
  }

  /** Flights in the air at once: two only while this engine is certainly its partition's only writer (see OPEN_ENGINES). */
  private flightsMax(): number {
    return this.store.backend === 'sqlite' && OPEN_ENGINES.get(this.store)?.get(this.streamId) === 1 ? FLIGHTS_MAX : 1;
  }

  /** True when this engine may write its partition: it holds the lease (or needs none). */
  get ownsPartition(): boolean {
    return this.ownership === null || this.ownership.owns;
  }

  /** Who holds the partition's lease, as last seen (null without a lease). */
  get leaseHolder(): LeaseClaim | null {
    return this.ownership?.lastClaim ?? null;
  }

  private notOwned(): DaybookError {
    return this.ownership!.notOwned();
  }

  private announce(version: bigint): void {
    if (version > this.announcedVersion) this.announcedVersion = version;
    this.followUp();
  }

  /** Catches up to an announced version when idle (no batch in flight, no catch-up running). */
  private followUp(): void {
    if (this.closed || this.busy || this.flights.length > 0 || this.announcedVersion <= this.version) return;
    void this.resync();
  }

  private settleWaiters(error?: unknown): void {
    if (this.versionWaiters.length === 0) return;
    const waiting: typeof this.versionWaiters = [];
    for (const waiter of this.versionWaiters) {
      if (waiter.version <= this.version) waiter.resolve();
      else if (error !== undefined) waiter.reject(error);
      else waiting.push(waiter);
    }
    this.versionWaiters = waiting;
  }

  /** Commands arriving in the same turn of the event loop are decided together. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /**
   * Starts batches while fewer than two are in flight. The second is decided
   * on top of the first's staged (not yet durable) state and appended with the
   * version the first will leave, so deciding batch N+1 overlaps the commit of
   * batch N. Flights complete strictly in order.
   */
  private pump(): void {
    if (!this.ownsPartition) {
      for (const waiting of this.queue.splice(0)) waiting.reject(this.notOwned());
      return;
    }
    while (this.flights.length < this.flightsMax() && this.queue.length > 0 && !this.busy && !this.preparing) {
      if (this.needsCatchUp) {
        if (this.flights.length === 0) void this.resync();
        return;
      }
      const batch = this.takeBatch().filter((waiting) => !refusedWithGroup(waiting));
      if (batch.length > 0) this.prepare(batch);
    }
  }

  /**
   * Looks up, in the log, the records the batch's commands name that memory
   * no longer holds (every new transfer id is such a name: the log says it
   * is new), then launches the batch. One lookup per batch, while the
   * flight before it commits. Records found there are the batch's only (a
   * fallback under its view), never put into the root: on PostgreSQL the
   * log may hold another process's records that the root has not reached,
   * and the root takes records in log order only (commits and the tail). A
   * decision that writes on top of such a record meets a version conflict;
   * a replay of it writes nothing and answers the durable record.
   */
  private prepare(batch: Waiting[]): void {
    const keys = new Set<string>();
    const found = nothingLookedUp();
    const view = this.flights.at(-1)?.decision.staged ?? this.root;
    if (this.root.bounded) for (const { command } of batch) missingKeys(view, command, keys, found);
    if (keys.size === 0) {
      this.launch(batch, found);
      return;
    }
    this.preparing = true;
    lookUpRecords(this.store, this.streamId, keys, view, found).then(
      () => {
        this.preparing = false;
        if (this.needsCatchUp || this.busy) this.requeue(batch);
        else this.launch(batch, found);
        this.pump();
      },
      (error: unknown) => {
        this.preparing = false;
        for (const waiting of batch) waiting.reject(error);
        this.pump();
      },
    );
  }

  private launch(batch: Waiting[], found: LookedUp): void {
    // Only a lone chain gets past batchCommandsMax (takeBatch); one longer than an append holds events is refused by its length, before it is decided, as executeAll does.
    if (batch.length > EVENTS_PER_APPEND_MAX && this.splitOrRefuse(batch, found, chainTooLarge(`${batch.length} members`, EVENTS_PER_APPEND_MAX, 'events'))) return;
    const previous = this.flights.at(-1);
    const lookedUp = new FallbackView(previous?.decision.staged ?? this.root, found.transfers, found.entries);
    const base: LedgerView = lookedUp;
    const expectedVersion = previous ? previous.versionAfter : this.version;
    const commands = batch.map(({ command }) => stamp(command, this.clock.nowMs()));
    const decision = decideLedgerBatch(base, commands);
    const { writes: attached, attachedBy } = attachedWrites(batch, decision);
    const markers = countMarkers(decision.events);
    const eventCount = attached.reduce((count, write) => count + write.events.length, decision.events.length + markers);
    // The partition stream, its index stream when markers are written, and each attached write.
    const streamCount = 1 + (markers > 0 ? 1 : 0) + attached.length;
    if (eventCount > EVENTS_PER_APPEND_MAX && this.splitOrRefuse(batch, found, chainTooLarge(`${eventCount} events`, EVENTS_PER_APPEND_MAX, 'events'))) return;
    if (streamCount > STREAMS_PER_APPEND_MAX && this.splitOrRefuse(batch, found, chainTooLarge(`${streamCount} streams`, STREAMS_PER_APPEND_MAX, 'streams'))) return;
    const written = decision.events.length > 0 || attached.length > 0
      ? this.appendEvents(decision.events, metadataByRecord(batch), expectedVersion, attached)
      : Promise.resolve(null);
    const flight: Flight = { batch, attachedBy, decision, lookedUp, versionAfter: expectedVersion + BigInt(decision.events.length), settled: Promise.resolve() };
    // Settle in order: a flight is judged only after the one before it.
    flight.settled = Promise.allSettled([previous?.settled, written]).then(([, outcome]) => this.complete(flight, outcome!));
    this.flights.push(flight);
  }

  /**
   * A batch too large for one append (its decision is dropped, nothing of it
   * was kept): the part after the chain boundary nearest its middle goes back
   * to the head of the queue and the rest is launched again. A linked chain
   * is all or nothing, so it is never cut: a batch that is one chain is
   * refused whole with `tooLarge`. Returns false when the batch is a single
   * command, which always fits.
   */
  private splitOrRefuse(batch: Waiting[], found: LookedUp, tooLarge: DaybookError): boolean {
    if (batch.length === 1) return false;
    const cut = chainBoundaryNearMiddle(batch);
    if (cut === null) {
      for (const waiting of batch) waiting.reject(tooLarge);
      return true;
    }
    this.queue.unshift(...batch.slice(cut));
    this.launch(batch.slice(0, cut), found);
    return true;
  }

  /**
   * Puts commands back at the head of the queue in their order of arrival:
   * a batch that waited for its lookups while the flight before it failed goes
   * back behind that flight's commands, which arrived first.
   */
  private requeue(waiting: readonly Waiting[]): void {
    this.queue.unshift(...waiting);
    this.queue.sort((a, b) => a.seq - b.seq);
  }

  private complete(flight: Flight, outcome: PromiseSettledResult<unknown>): void {
    const index = this.flights.indexOf(flight);
    this.flights.splice(index, 1);
    if (outcome.status === 'fulfilled' && !flight.invalid) {
      flight.decision.staged.commitTo(this.root);
      if (flight.versionAfter !== this.version) this.lastEventId = outcome.value as string | null;
      this.version = flight.versionAfter;
      // The next flight read through this one's overlay: it may now read the root (and its own lookups) directly.
      const next = this.flights[0];
      next?.decision.staged.rebase(next.lookedUp = next.lookedUp.over(this.root));
      flight.batch.forEach((waiting, i) => waiting.resolve(flight.decision.outcomes[i]!));
      this.settleWaiters();
      this.saveSnapshotIfDue();
      // Commands of a failed flight below this one wait for the last flight to settle (see fail).
      if (this.flights.length === 0 && this.requeued.length > 0) {
        this.requeue(this.requeued);
        this.requeued = [];
      }
    } else {
      this.fail(flight, outcome.status === 'rejected' ? outcome.reason : undefined);
    }
    this.pump();
    this.followUp();
  }

  /**
   * A failed flight poisons the ones decided on top of it. A version conflict
   * (another process appended, or a flight before failed) sends the commands
   * back to be decided again after catching up; anything else fails them.
   */
  private fail(flight: Flight, reason: unknown): void {
    // A flight that appends no partition event (replays with attachments only) leaves the state and the partition version as they
    // were: the flights decided on top of it stand. Poisoning them would decide again commands whose append commits (then as replays
    // whose attached records, expecting no stream, conflict with the ones just written: refused although durable).
    if (flight.invalid || flight.decision.events.length > 0) for (const later of this.flights) later.invalid = true;
    this.needsCatchUp = true;
    // An event id taken meanwhile is a transfer or entry another process recorded: catch up and decide again, like a version conflict.
    const retry = flight.invalid || isDaybookError(reason, 'stream_version_conflict') || isDaybookError(reason, 'event_id_conflict');
    const culprit = flight.invalid ? undefined : attachmentInConflict(flight, reason);
    if (culprit !== undefined) {
      if (culprit.group !== undefined) culprit.group.refused = reason;
      else culprit.group = { refused: reason };
    }
    const again: Waiting[] = [];
    for (const waiting of flight.batch) {
      if (refusedWithGroup(waiting)) continue;
      // The others of a batch refused for one command's attachment were not at fault: decided again, their attempts not counted.
      if (culprit !== undefined) {
        again.push(waiting);
        continue;
      }
      waiting.attempts = (waiting.attempts ?? 0) + 1;
      if (retry && waiting.attempts < this.conflictRetriesMax) again.push(waiting);
      // An id another process took is a conflict with concurrent writers, not an id the caller reused: it leaves as a version conflict (retryable, never recorded as an answer).
      else waiting.reject(reason !== undefined && !isDaybookError(reason, 'event_id_conflict') ? reason
        : new DaybookError('stream_version_conflict', `ledger partition ${this.streamId} changed underneath a batch too often`, { streamId: this.streamId }));
    }
    // Flights settle in order, so requeued batches land in front of later ones in their original order.
    this.requeued.push(...again);
    if (this.flights.length === 0) {
      this.requeue(this.requeued);
      this.requeued = [];
    }
  }

  /** Reads the stream's tail into the state; nothing is decided meanwhile. */
  private async resync(): Promise<void> {
    this.busy = true;
    try {
      await this.readTail();
      this.needsCatchUp = false;
      this.settleWaiters();
      this.saveSnapshotIfDue();
    } catch (error) {
      // Commands decided now would meet a version conflict anyway: they fail with the read's error.
      if (this.needsCatchUp) for (const waiting of this.queue.splice(0)) waiting.reject(error);
      this.settleWaiters(error);
    } finally {
      this.busy = false;
    }
    this.pump();
  }

  /**
   * Takes whole linked chains only: a chain never straddles two batches. A
   * first chain longer than `batchCommandsMax` is taken alone and whole
   * (launch refuses it if it cannot fit one append).
   */
  private takeBatch(): Waiting[] {
    let end = Math.min(this.queue.length, this.batchCommandsMax);
    // A command with an attachment may add writes of its own (an answer's record, a verdict): room for them is kept, so that a full
    // queue is taken as a batch that fits one append, not decided whole, found too large and split again (splitOrRefuse).
    let room = EVENTS_PER_APPEND_MAX - 1;
    for (let i = 0; i < end; i += 1) {
      room -= this.queue[i]!.attach === undefined ? 1 : 1 + ATTACHED_EVENTS_ALLOWANCE;
      if (room < 0) {
        end = Math.max(i, 1);
        break;
      }
    }
    while (end < this.queue.length && end > 0 && isLinkedCommand(this.queue[end - 1]!.command)) end -= 1;
    if (end === 0) end = chainEnd(this.queue, 0);
    return this.queue.splice(0, end);
  }

  /** Appends a batch's events (then the writes attached to its commands, in the same append); resolves with the id of the batch's last ledger event. */
  private async appendEvents(
    events: ReturnType<typeof decideLedgerBatch>['events'], metadata: Map<string, EventMetadata>, expectedVersion: bigint, attached: readonly StreamWrite[],
  ): Promise<string | null> {
    if (events.length > EVENTS_PER_APPEND_MAX) {
      throw new DaybookError('limit_exceeded', `a ledger batch produced ${events.length} events; at most ${EVENTS_PER_APPEND_MAX} fit one append`, { limit: EVENTS_PER_APPEND_MAX });
    }
    if (events.length === 0) {
      await this.store.append(attached);
      return null;
    }
    const markers = indexMarkers(this.streamId, events, ENGINE_METADATA);
    const result = await this.store.append([{
      streamId: this.streamId,
      expectedVersion: expectedVersion === 0n ? 'no_stream' : expectedVersion,
      events: events.map((event) => {
        const encoded = encodeLedgerEvent(event);
        const caller = metadata.size === 0 ? undefined : metadata.get(recordKeyOfEvent(event));
        const key = keyOfLedgerEvent(event);
        // Without caller metadata every event shares one object: the store only reads it.
        return { id: key === undefined ? undefined : ledgerEventId(this.streamId, key), type: encoded.type, schemaVersion: encoded.schemaVersion, data: encoded.data, metadata: caller === undefined ? ENGINE_METADATA : { ...ENGINE_METADATA, ...caller } };
      }),
    }, ...(markers === undefined ? [] : [markers]), ...attached]);
    // Ids derived from the records make a batch another process already wrote (same transfer, same millisecond, same balances) an
    // idempotent re-append: the store answers the first write's result. The log then holds that process's events, not this decision
    // at this version: catch up and decide again, as for a version conflict.
    const written = result.streams.find((stream) => stream.streamId === this.streamId)?.version;
    if (result.duplicate === true || written !== expectedVersion + BigInt(events.length)) {
      throw new DaybookError('stream_version_conflict', `ledger partition ${this.streamId}: the batch was already written by another process`, {
        streamId: this.streamId, expected: expectedVersion.toString(), actual: String(written),
      });
    }
    let last: string | null = null;
    for (const appended of result.events) if (appended.streamId === this.streamId) last = appended.eventId;
    return last;
  }

  /** Applies every partition event after the current version. */
  private async readTail(): Promise<void> {
    for (;;) {
      const page = await this.store.readStream(this.streamId, { fromVersion: this.version + 1n, limit: READ_BATCH_MAX });
      for (const event of page) {
        const decoded = decodeLedgerEvent({ type: event.type, data: event.data, schemaVersion: event.schemaVersion });
        const key = keyOfLedgerEvent(decoded);
        // Written before ids were derived from the record: the log cannot be asked for it, so memory keeps the whole partition.
        if (key !== undefined && !this.root.wholeHistory && event.eventId !== ledgerEventId(this.streamId, key)) this.root.keepEverything();
        applyLedgerEvent(this.root, decoded);
        this.version = event.version;
        this.lastEventId = event.eventId;
      }
      if (page.length < READ_BATCH_MAX) return;
    }
  }
}

/** The writes the batch's commands attach, from their outcomes and the state after the batch, and the command each came from. */
function attachedWrites(batch: readonly Waiting[], decision: LedgerBatchDecision): { writes: StreamWrite[]; attachedBy: Map<string, Waiting> } {
  const writes: StreamWrite[] = [];
  const attachedBy = new Map<string, Waiting>();
  batch.forEach((waiting, index) => {
    const write = waiting.attach?.(decision.outcomes[index]!, decision.staged);
    if (write === undefined) return;
    for (const one of isWriteList(write) ? write : [write]) {
      writes.push(one);
      attachedBy.set(one.streamId, waiting);
    }
  });
  return { writes, attachedBy };
}

/** The command whose attached write the store refused for its expected version, if that is why the flight failed. */
function attachmentInConflict(flight: Flight, reason: unknown): Waiting | undefined {
  if (!isDaybookError(reason, 'stream_version_conflict')) return undefined;
  const streamId = (reason.details as { streamId?: unknown } | undefined)?.streamId;
  return typeof streamId === 'string' ? flight.attachedBy.get(streamId) : undefined;
}

/** Refuses a command whose group was refused (see WaitingGroup); true when it was. */
function refusedWithGroup(waiting: Waiting): boolean {
  if (waiting.group?.refused === undefined) return false;
  waiting.reject(waiting.group.refused);
  return true;
}

function isWriteList(write: StreamWrite | readonly StreamWrite[]): write is readonly StreamWrite[] {
  return Array.isArray(write);
}

function isLinkedCommand(command: LedgerCommand): boolean {
  return (command.type === 'CreateTransfer' || command.type === 'PostPendingTransfer' || command.type === 'VoidPendingTransfer')
    && command.data.flags?.linked === true;
}

/** Index after the chain starting at `start`: past its first unlinked member, or the end of the list (a chain left open). */
function chainEnd(batch: readonly Waiting[], start: number): number {
  let end = start;
  while (end < batch.length && isLinkedCommand(batch[end]!.command)) end += 1;
  return Math.min(end + 1, batch.length);
}

/** Where to cut a batch in two without cutting a chain: the chain boundary nearest its middle, or null when it is one chain. */
function chainBoundaryNearMiddle(batch: readonly Waiting[]): number | null {
  const middle = batch.length / 2;
  let best: number | null = null;
  for (let start = 0, end = chainEnd(batch, 0); end < batch.length; start = end, end = chainEnd(batch, start)) {
    if (best === null || Math.abs(end - middle) < Math.abs(best - middle)) best = end;
  }
  return best;
}

/** Members of the longest linked chain in a list of commands (a chain left open at the end counts to the end). */
function longestChain(commands: readonly LedgerCommand[]): number {
  let longest = 0;
  let current = 0;
  for (const command of commands) {
    current += 1;
    if (!isLinkedCommand(command)) {
      longest = Math.max(longest, current);
      current = 0;
    }
  }
  return Math.max(longest, current);
}

function chainTooLarge(size: string, limit: number, unit: 'events' | 'streams'): DaybookError {
  const name = unit === 'events' ? 'EVENTS_PER_APPEND_MAX' : 'STREAMS_PER_APPEND_MAX';
  return new DaybookError('limit_exceeded', `a linked chain of ${size} cannot fit one append: at most ${limit} ${unit} (${name}); a chain is never split`, { limit });
}

function stamp(command: LedgerCommand, atMs: number): LedgerCommand {
  if (command.data.atMs !== undefined) return command;
  return { ...command, data: { ...command.data, atMs } } as LedgerCommand;
}
