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
import { createLedgerState, type LedgerMaps, type LedgerView } from './ledger.state.ts';

/** A command as callers hand it in: the engine stamps the time when it decides. */
export type LedgerRequest = LedgerCommand extends infer C
  ? C extends { type: infer T; data: infer D } ? { type: T; data: Omit<D, 'atMs'> & { atMs?: number } } : never
  : never;

export interface LedgerEngineOptions {
  /** Partition name: the engine owns the stream `ledger-<partition>` (default `main`). */
  partition?: string;
  clock?: Clock;
  /** Most commands decided into one append (bounded by the store's events-per-append limit). */
  batchCommandsMax?: number;
  /** Attempts at a batch when another process appended to the partition meanwhile. */
  conflictRetriesMax?: number;
}

/**
 * A write that commits in the same append as a command's events (the API's
 * idempotency record of the answer, say), made from the command's outcome and
 * the partition's state right after its batch. Called again if the batch is
 * decided again, so it must be a pure function of its arguments. Its stream
 * must not be a ledger stream, and its expected version `any`: a conflict
 * would fail the whole batch.
 */
export type LedgerAttachment = (outcome: LedgerOutcome, state: LedgerView) => StreamWrite | undefined;

interface Waiting {
  command: LedgerCommand;
  metadata: EventMetadata | undefined;
  attach?: LedgerAttachment;
  attempts?: number;
  resolve(outcome: LedgerOutcome): void;
  reject(error: unknown): void;
}

/** A batch decided and on its way to the store. */
interface Flight {
  batch: Waiting[];
  decision: LedgerBatchDecision;
  /** Partition version once this flight is durable. */
  versionAfter: bigint;
  /** Decided on top of a flight that then failed: its decision no longer holds. */
  invalid?: boolean;
  settled: Promise<void>;
}

/** Batches in flight at once: one committing, one being decided on top of it. */
const FLIGHTS_MAX = 2;

/**
 * The ledger's application layer, TigerBeetle style: one engine per ledger
 * partition holds the partition's accounts and transfers in memory, decides a
 * whole batch of queued commands one after another against that state (so a
 * hot account costs nothing extra: no optimistic retries, no row locks), and
 * appends the batch's events to the partition stream in one call, with the
 * exact expected version. State changes only after the append is durable.
 *
 * Invariants come from the partition's own events: on open the engine replays
 * its stream; if another process appended meanwhile (a version conflict), it
 * catches up from the stream and decides the batch again.
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

  private constructor(
    private readonly store: EventStore,
    readonly streamId: string,
    private readonly root: LedgerMaps,
    private version: bigint,
    private readonly clock: Clock,
    private readonly batchCommandsMax: number,
    private readonly conflictRetriesMax: number,
  ) {}

  static async open(store: EventStore, options: LedgerEngineOptions = {}): Promise<LedgerEngine> {
    const streamId = `ledger-${options.partition ?? 'main'}`;
    const root = createLedgerState();
    const engine = new LedgerEngine(
      store, streamId, root, 0n, options.clock ?? systemClock,
      Math.min(options.batchCommandsMax ?? 1000, EVENTS_PER_APPEND_MAX), options.conflictRetriesMax ?? 5,
    );
    await engine.catchUp();
    return engine;
  }

  /** The partition's state as of the last durable batch (read-only use: queries, balances). */
  get state(): LedgerView {
    return this.root;
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
    return new Promise<LedgerOutcome>((resolve, reject) => {
      this.queue.push({ command: request as LedgerCommand, metadata, attach, resolve, reject });
      this.schedule();
    });
  }

  /** Executes several commands in order, as one batch when they fit: linked chains need this. */
  executeAll(requests: readonly LedgerRequest[], metadata?: EventMetadata): Promise<LedgerOutcome[]> {
    if (this.closed) return Promise.reject(new DaybookError('store_closed', 'the ledger engine is closed'));
    // Queued together before draining starts: an idle engine would otherwise take the first command of a linked chain alone.
    const outcomes = requests.map((request) => new Promise<LedgerOutcome>((resolve, reject) => {
      this.queue.push({ command: request as LedgerCommand, metadata, resolve, reject });
    }));
    this.schedule();
    return Promise.all(outcomes);
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.busy || this.queue.length > 0 || this.flights.length > 0) await new Promise((resolve) => setTimeout(resolve, 1));
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
    while (this.flights.length < FLIGHTS_MAX && this.queue.length > 0 && !this.busy) {
      if (this.needsCatchUp) {
        if (this.flights.length === 0) void this.resync();
        return;
      }
      this.launch(this.takeBatch());
    }
  }

  private launch(batch: Waiting[]): void {
    const previous = this.flights.at(-1);
    const base: LedgerView = previous?.decision.staged ?? this.root;
    const expectedVersion = previous ? previous.versionAfter : this.version;
    const commands = batch.map(({ command }) => stamp(command, this.clock.nowMs()));
    const decision = decideLedgerBatch(base, commands);
    const attached = attachedWrites(batch, decision);
    const eventCount = attached.reduce((count, write) => count + write.events.length, decision.events.length);
    if ((eventCount > EVENTS_PER_APPEND_MAX || attached.length >= STREAMS_PER_APPEND_MAX) && batch.length > 1) {
      // Too many events for one append: the second half goes back to the head of the queue.
      const half = Math.ceil(batch.length / 2);
      this.queue.unshift(...batch.slice(half));
      this.launch(batch.slice(0, half));
      return;
    }
    const written = decision.events.length > 0 || attached.length > 0
      ? this.appendEvents(decision.events, metadataByRecord(batch), expectedVersion, attached)
      : Promise.resolve();
    const flight: Flight = { batch, decision, versionAfter: expectedVersion + BigInt(decision.events.length), settled: Promise.resolve() };
    // Settle in order: a flight is judged only after the one before it.
    flight.settled = Promise.allSettled([previous?.settled, written]).then(([, outcome]) => this.complete(flight, outcome!));
    this.flights.push(flight);
  }

  private complete(flight: Flight, outcome: PromiseSettledResult<unknown>): void {
    const index = this.flights.indexOf(flight);
    this.flights.splice(index, 1);
    if (outcome.status === 'fulfilled' && !flight.invalid) {
      flight.decision.staged.commitTo(this.root);
      this.version = flight.versionAfter;
      // The next flight read through this one's overlay: it may now read the root directly.
      this.flights[0]?.decision.staged.rebase(this.root);
      flight.batch.forEach((waiting, i) => waiting.resolve(flight.decision.outcomes[i]!));
    } else {
      this.fail(flight, outcome.status === 'rejected' ? outcome.reason : undefined);
    }
    this.pump();
  }

  /**
   * A failed flight poisons the ones decided on top of it. A version conflict
   * (another process appended, or a flight before failed) sends the commands
   * back to be decided again after catching up; anything else fails them.
   */
  private fail(flight: Flight, reason: unknown): void {
    for (const later of this.flights) later.invalid = true;
    this.needsCatchUp = true;
    const retry = flight.invalid || isDaybookError(reason, 'stream_version_conflict');
    const again: Waiting[] = [];
    for (const waiting of flight.batch) {
      waiting.attempts = (waiting.attempts ?? 0) + 1;
      if (retry && waiting.attempts < this.conflictRetriesMax) again.push(waiting);
      else waiting.reject(reason ?? new DaybookError('stream_version_conflict', `ledger partition ${this.streamId} changed underneath a batch too often`));
    }
    // Flights settle in order, so requeued batches land in front of later ones in their original order.
    this.requeued.push(...again);
    if (this.flights.length === 0) {
      this.queue.unshift(...this.requeued);
      this.requeued = [];
    }
  }

  private async resync(): Promise<void> {
    this.busy = true;
    try {
      await this.catchUp();
      this.needsCatchUp = false;
    } catch (error) {
      for (const waiting of this.queue.splice(0)) waiting.reject(error);
    } finally {
      this.busy = false;
    }
    this.pump();
  }

  /** Takes whole linked chains only: a chain never straddles two batches. */
  private takeBatch(): Waiting[] {
    let end = Math.min(this.queue.length, this.batchCommandsMax);
    while (end < this.queue.length && end > 0 && isLinkedCommand(this.queue[end - 1]!.command)) end -= 1;
    if (end === 0) end = Math.min(this.queue.length, this.batchCommandsMax);
    return this.queue.splice(0, end);
  }

  private async appendEvents(
    events: ReturnType<typeof decideLedgerBatch>['events'], metadata: Map<string, EventMetadata>, expectedVersion: bigint, attached: readonly StreamWrite[],
  ): Promise<void> {
    if (events.length > EVENTS_PER_APPEND_MAX) {
      throw new DaybookError('limit_exceeded', `a ledger batch produced ${events.length} events; at most ${EVENTS_PER_APPEND_MAX} fit one append`, { limit: EVENTS_PER_APPEND_MAX });
    }
    if (events.length === 0) {
      await this.store.append(attached);
      return;
    }
    await this.store.append([{
      streamId: this.streamId,
      expectedVersion: expectedVersion === 0n ? 'no_stream' : expectedVersion,
      events: events.map((event) => {
        const encoded = encodeLedgerEvent(event);
        const caller = metadata.size === 0 ? undefined : metadata.get(recordKeyOfEvent(event));
        return { type: encoded.type, schemaVersion: encoded.schemaVersion, data: encoded.data, metadata: { actor: 'ledger-engine', ...caller } };
      }),
    }, ...attached]);
  }

  /** Applies every partition event after the current version. */
  private async catchUp(): Promise<void> {
    for (;;) {
      const page = await this.store.readStream(this.streamId, { fromVersion: this.version + 1n, limit: READ_BATCH_MAX });
      for (const event of page) {
        applyLedgerEvent(this.root, decodeLedgerEvent({ type: event.type, data: event.data, schemaVersion: event.schemaVersion }));
        this.version = event.version;
      }
      if (page.length < READ_BATCH_MAX) return;
    }
  }
}

/** The writes the batch's commands attach, from their outcomes and the state after the batch. */
function attachedWrites(batch: readonly Waiting[], decision: LedgerBatchDecision): StreamWrite[] {
  const writes: StreamWrite[] = [];
  batch.forEach((waiting, index) => {
    const write = waiting.attach?.(decision.outcomes[index]!, decision.staged);
    if (write !== undefined) writes.push(write);
  });
  return writes;
}

function isLinkedCommand(command: LedgerCommand): boolean {
  return (command.type === 'CreateTransfer' || command.type === 'PostPendingTransfer' || command.type === 'VoidPendingTransfer')
    && command.data.flags?.linked === true;
}

/**
 * Events do not say which command of the batch caused them, but each names
 * the record it is about (account, transfer or entry id), as its command
 * does: that key carries the caller's metadata over to the events.
 */
function metadataByRecord(batch: readonly Waiting[]): Map<string, EventMetadata> {
  const byKey = new Map<string, EventMetadata>();
  for (const { command, metadata } of batch) {
    const key = metadata === undefined ? undefined : recordKeyOfCommand(command);
    if (key !== undefined && !byKey.has(key)) byKey.set(key, metadata!);
  }
  return byKey;
}

function recordKeyOfCommand(command: LedgerCommand): string | undefined {
  const data = command.data as unknown as Record<string, unknown>;
  switch (command.type) {
    case 'OpenAccount': case 'CloseAccount': case 'ReopenAccount': return `account:${String(data.accountId)}`;
    case 'CreateTransfer': case 'PostPendingTransfer': case 'VoidPendingTransfer': return `transfer:${String(data.transferId)}`;
    case 'ExpirePendingTransfer': return `expiry:${String(data.pendingId)}`;
    case 'RecordJournalEntry': return `entry:${String(data.entryId)}`;
    case 'ReverseJournalEntry': return `entry:${String(data.reversalId)}`;
    default: return undefined;
  }
}

function recordKeyOfEvent(event: LedgerEvent): string {
  switch (event.type) {
    case 'AccountOpened': case 'AccountClosed': case 'AccountReopened': return `account:${event.data.accountId}`;
    case 'PendingTransferExpired': return `expiry:${event.data.pendingId}`;
    case 'JournalEntryRecorded': case 'JournalEntryFailed': return `entry:${event.data.entryId}`;
    case 'JournalEntryReversed': return `entry:${event.data.reversalId}`;
    default: return `transfer:${event.data.transferId}`;
  }
}

function stamp(command: LedgerCommand, atMs: number): LedgerCommand {
  if (command.data.atMs !== undefined) return command;
  return { ...command, data: { ...command.data, atMs } } as LedgerCommand;
}
