import { type EventStore, eventHash } from '../eventstore/index.ts';
import { type Clock, DaybookError, isDaybookError, READ_BATCH_MAX, SEAL_RANGE_EVENTS_MAX } from '../kernel/index.ts';
import { type KeyProvider, parsePublicKey } from './keyProvider.ts';
import { GENESIS_DIGEST, RangeDigest, type Seal, SEAL_EVENT_TYPE, SEAL_STREAM, sealFromData, sealToData, signSeal } from './seal.ts';

export const SEAL_EVERY_EVENTS_DEFAULT = 10_000;
export const SEAL_EVERY_MS_DEFAULT = 60_000;

export interface SealerOptions {
  store: EventStore;
  keys: KeyProvider;
  clock: Clock;
  /** Seal once this many events are unsealed (default 10,000; 0: never by count). */
  everyEvents?: number;
  /** Seal when this long has passed since the last seal and something new was appended (default 60 s; 0: never by time). */
  everyMs?: number;
  /** How often the background loop looks (default: a second, or `everyMs` when shorter). */
  checkIntervalMs?: number;
  /** Events one seal covers at most (default SEAL_RANGE_EVENTS_MAX); a larger backlog takes several seals. */
  rangeEventsMax?: number;
  /** Failures of the background loop (it goes on); the server logs them. */
  onError?: (error: unknown) => void;
  onSealed?: (seal: Seal, position: bigint) => void;
}

export interface SealerHealth {
  ok: boolean;
  /** When the last round ended (null before the first). */
  atMs: number | null;
  /** Why it failed. */
  error: string | null;
}

/** The newest seal in the store and its position, or null when the log was never sealed. */
export async function readLastSeal(store: EventStore): Promise<{ seal: Seal; position: bigint } | null> {
  const [last] = await store.readStream(SEAL_STREAM, { direction: 'backwards', limit: 1 });
  return last === undefined ? null : { seal: readSeal(last.data, last.position), position: last.position };
}

export type SealOutcome =
  | { sealed: true; seal: Seal; position: bigint }
  | { sealed: false; reason: 'nothing_new' | 'not_due' | 'lost_race' };

/**
 * Appends seals (see `seal.ts`) to the stream `audit.seals`: on demand
 * (`sealNow`), or from a background loop when `everyEvents` events are
 * unsealed, or `everyMs` has passed and something other than the last seal
 * was appended. Several processes may each run one: the append expects the
 * seal stream's version read before the range was digested, so of two
 * racing sealers one appends and the other's append fails cleanly
 * (`lost_race`), leaving nothing half-written.
 *
 * @example
 * const sealer = new Sealer({ store, keys: openLocalKeyProvider({ dir }), clock: systemClock });
 * sealer.start();           // background sealing
 * await sealer.sealNow();   // or seal now: { sealed: true, seal, position }
 * await sealer.stop();
 */
export class Sealer {
  private readonly everyEvents: number;
  private readonly everyMs: number;
  private readonly startedAtMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private health: SealerHealth = { ok: true, atMs: null, error: null };

  constructor(private readonly options: SealerOptions) {
    this.everyEvents = options.everyEvents ?? SEAL_EVERY_EVENTS_DEFAULT;
    this.everyMs = options.everyMs ?? SEAL_EVERY_MS_DEFAULT;
    this.startedAtMs = options.clock.nowMs();
  }

  /** Seals every unsealed event now (the last seal included), unless there is none. */
  sealNow(): Promise<SealOutcome> {
    return this.serial(() => this.seal(false));
  }

  /** Seals when a threshold is reached; what the background loop calls. */
  sealIfDue(): Promise<SealOutcome> {
    return this.serial(() => this.seal(true));
  }

  start(): void {
    if (this.timer !== null || (this.everyEvents === 0 && this.everyMs === 0)) return;
    this.stopped = false;
    const intervalMs = this.options.checkIntervalMs ?? Math.min(1000, this.everyMs === 0 ? 1000 : this.everyMs);
    const tick = (): void => {
      this.sealIfDue().then(() => {
        this.health = { ok: true, atMs: this.options.clock.nowMs(), error: null };
      }, (error: unknown) => {
        this.health = { ok: false, atMs: this.options.clock.nowMs(), error: error instanceof Error ? error.message : String(error) };
        this.options.onError?.(error);
      }).finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, intervalMs);
      });
    };
    this.timer = setTimeout(tick, intervalMs);
  }

  /**
   * How the background loop's last round went: `ok` false when it failed
   * (an event failing its hash or a missing position is an
   * `integrity_violation`; the store not answering fails it too), true before
   * the first round. `/metrics` shows it as `daybook_audit_last_seal_ok`.
   */
  lastRound(): SealerHealth {
    return this.health;
  }

  /** Stops the loop; a seal in flight completes first. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running.catch(() => {});
  }

  private serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.running.catch(() => {}).then(run);
    this.running = next;
    return next;
  }

  private async seal(onlyIfDue: boolean): Promise<SealOutcome> {
    const { store } = this.options;
    const [last] = await store.readStream(SEAL_STREAM, { direction: 'backwards', limit: 1 });
    const previous = last === undefined ? null : readSeal(last.data, last.position);
    const head = await store.headPosition();
    const fromPosition = previous === null ? 1n : previous.toPosition + 1n;
    if (head < fromPosition) return { sealed: false, reason: 'nothing_new' };
    if (onlyIfDue) {
      // The last seal alone is not news: sealing it would seal seals forever.
      if (last !== undefined && head <= last.position) return { sealed: false, reason: 'nothing_new' };
      const unsealed = head - fromPosition + 1n;
      const byCount = this.everyEvents > 0 && unsealed >= BigInt(this.everyEvents);
      const byTime = this.everyMs > 0 && this.options.clock.nowMs() - (previous?.sealedAtMs ?? this.startedAtMs) >= this.everyMs;
      if (!byCount && !byTime) return { sealed: false, reason: 'not_due' };
    }
    const rangeMax = BigInt(this.options.rangeEventsMax ?? SEAL_RANGE_EVENTS_MAX);
    const limit = head - fromPosition + 1n > rangeMax ? fromPosition + rangeMax - 1n : head;
    const previousDigest = previous?.digest ?? GENESIS_DIGEST;
    const { digest, count } = await digestRange(store, fromPosition, limit, previousDigest);
    const version = last?.version ?? 0n;
    const seal = signSeal({
      sequence: Number(version) + 1, fromPosition, toPosition: limit, eventCount: count, previousDigest, digest, sealedAtMs: this.options.clock.nowMs(),
    }, this.options.keys, parsePublicKey(this.options.keys.publicKey(), 'the key provider\'s public key'));
    try {
      const result = await store.append({ streamId: SEAL_STREAM, expectedVersion: version === 0n ? 'no_stream' : version, events: [{ type: SEAL_EVENT_TYPE, data: sealToData(seal) }] });
      this.options.onSealed?.(seal, result.position);
      return { sealed: true, seal, position: result.position };
    } catch (error) {
      if (isDaybookError(error, 'stream_version_conflict')) return { sealed: false, reason: 'lost_race' };
      throw error;
    }
  }
}

function readSeal(data: unknown, position: bigint): Seal {
  const seal = sealFromData(data);
  if (typeof seal === 'string') throw new DaybookError('integrity_violation', `the last seal (position ${position}) is malformed: ${seal}; run daybook verify`, { position: position.toString() });
  return seal;
}

/**
 * The digest of positions `from`..`to`, checking on the way that each
 * event's stored hash is its own (a seal must never bless an edited row) and
 * that no position is missing.
 */
async function digestRange(store: EventStore, from: bigint, to: bigint, previousDigest: string): Promise<{ digest: string; count: bigint }> {
  const digest = new RangeDigest(previousDigest);
  let expected = from;
  while (expected <= to) {
    const page = await store.readRawLog({ after: expected - 1n, asOfPosition: to, limit: READ_BATCH_MAX });
    if (page.length === 0) break;
    for (const event of page) {
      if (event.position !== expected) throw new DaybookError('integrity_violation', `cannot seal: position ${expected} is missing from the log (found ${event.position}); run daybook verify`, { position: expected.toString() });
      if (eventHash(event) !== event.hash) throw new DaybookError('integrity_violation', `cannot seal: the event at position ${event.position} (stream ${event.streamId}) fails its hash; run daybook verify`, { position: event.position.toString() });
      digest.add(event.position, event.hash);
      expected += 1n;
    }
  }
  if (expected <= to) throw new DaybookError('integrity_violation', `cannot seal: the log ends at ${expected - 1n}, before position ${to}`, {});
  return { digest: digest.finish(), count: digest.count };
}
