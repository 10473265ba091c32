import type { EventMetadata, EventStore } from '../eventstore/index.ts';
import { type Clock, systemClock } from '../kernel/clock.ts';
import { DaybookError, isDaybookError } from '../kernel/errors.ts';
import { EVENTS_PER_APPEND_MAX, READ_BATCH_MAX } from '../kernel/limits.ts';
import { decideLedgerBatch } from './ledger.batch.ts';
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

interface Waiting {
  command: LedgerCommand;
  metadata: EventMetadata | undefined;
  resolve(outcome: LedgerOutcome): void;
  reject(error: unknown): void;
}

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
  private busy = false;
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
   * correlation id, actor, …) goes on every event the command causes.
   */
  execute(request: LedgerRequest, metadata?: EventMetadata): Promise<LedgerOutcome> {
    if (this.closed) return Promise.reject(new DaybookError('store_closed', 'the ledger engine is closed'));
    return new Promise<LedgerOutcome>((resolve, reject) => {
      this.queue.push({ command: request as LedgerCommand, metadata, resolve, reject });
      if (!this.busy) void this.drain();
    });
  }

  /** Executes several commands in order, as one batch when they fit: linked chains need this. */
  executeAll(requests: readonly LedgerRequest[], metadata?: EventMetadata): Promise<LedgerOutcome[]> {
    if (this.closed) return Promise.reject(new DaybookError('store_closed', 'the ledger engine is closed'));
    // Queued together before draining starts: an idle engine would otherwise take the first command of a linked chain alone.
    const outcomes = requests.map((request) => new Promise<LedgerOutcome>((resolve, reject) => {
      this.queue.push({ command: request as LedgerCommand, metadata, resolve, reject });
    }));
    if (!this.busy) void this.drain();
    return Promise.all(outcomes);
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.busy || this.queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  /** Runs batches until the queue is empty; one batch in flight at a time. */
  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        await this.runBatch(batch);
      }
    } finally {
      this.busy = false;
    }
  }

  /** Takes whole linked chains only: a chain never straddles two batches. */
  private takeBatch(): Waiting[] {
    let end = Math.min(this.queue.length, this.batchCommandsMax);
    while (end < this.queue.length && end > 0 && isLinkedCommand(this.queue[end - 1]!.command)) end -= 1;
    if (end === 0) end = Math.min(this.queue.length, this.batchCommandsMax);
    return this.queue.splice(0, end);
  }

  private async runBatch(batch: Waiting[]): Promise<void> {
    const atMs = this.clock.nowMs();
    const commands = batch.map(({ command }) => stamp(command, atMs));
    for (let attempt = 1; ; attempt += 1) {
      const decision = decideLedgerBatch(this.root, commands);
      if (decision.events.length > EVENTS_PER_APPEND_MAX && batch.length > 1) {
        // Too many events for one append: decide the halves separately, in order.
        const half = Math.ceil(batch.length / 2);
        this.queue.unshift(...batch.slice(half));
        await this.runBatch(batch.slice(0, half));
        return;
      }
      try {
        if (decision.events.length > 0) await this.appendEvents(decision.events, metadataByRecord(batch));
      } catch (error) {
        if (isDaybookError(error, 'stream_version_conflict') && attempt < this.conflictRetriesMax) {
          await this.catchUp();
          continue;
        }
        for (const waiting of batch) waiting.reject(error);
        return;
      }
      decision.staged.commitTo(this.root);
      this.version += BigInt(decision.events.length);
      batch.forEach((waiting, index) => waiting.resolve(decision.outcomes[index]!));
      return;
    }
  }

  private async appendEvents(events: ReturnType<typeof decideLedgerBatch>['events'], metadata: Map<string, EventMetadata>): Promise<void> {
    if (events.length > EVENTS_PER_APPEND_MAX) {
      throw new DaybookError('limit_exceeded', `a ledger batch produced ${events.length} events; at most ${EVENTS_PER_APPEND_MAX} fit one append`, { limit: EVENTS_PER_APPEND_MAX });
    }
    await this.store.append({
      streamId: this.streamId,
      expectedVersion: this.version === 0n ? 'no_stream' : this.version,
      events: events.map((event) => {
        const encoded = encodeLedgerEvent(event);
        const caller = metadata.size === 0 ? undefined : metadata.get(recordKeyOfEvent(event));
        return { type: encoded.type, schemaVersion: encoded.schemaVersion, data: encoded.data, metadata: { actor: 'ledger-engine', ...caller } };
      }),
    });
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
