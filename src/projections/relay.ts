/**
 * Relays: external effects (webhooks, other systems) driven by the log itself,
 * with no second queue. A relay is a projection that delivers each
 * event, in global order, and whose "read model" is one row saying how far it
 * delivered. The projection engine commits the checkpoint only after the
 * deliveries of a batch returned, so:
 *
 * - the checkpoint passes an event only once its delivery succeeded; a crash
 *   after a delivery and before that commit delivers it again on restart
 *   (at-least-once, never a gap). Receivers deduplicate by the idempotency
 *   key, which is the event id (the global position is passed along too);
 * - a delivery that throws is retried with the engine's bounded exponential
 *   backoff, then parked in the dead-letter table like any poison event
 *   (`daybook dlq list | retry | skip`), and the relay goes on: a parked
 *   event reaches the receiver only when the letter is retried, after later
 *   ones. With `onPoison: 'stop'` the relay waits on it instead, for
 *   receivers that must see every event in order;
 * - when a delivery fails in the middle of a batch, the engine replays that
 *   batch one event at a time: the events the receiver already acknowledged in
 *   this process are not sent again (an in-memory memo of acknowledged ids,
 *   bounded by RELAY_ACKNOWLEDGED_MEMO_MAX; losing it only means a duplicate).
 *   After a crash, what may arrive twice is what was delivered since the last
 *   commit: at most one batch (the runner's `batchSize`).
 *
 * Generations: bumping a relay's version does not re-deliver the history.
 * While the new generation is being built (a blue-green rebuild), the events
 * the active generation already passed are skipped, except those it parked,
 * which the new generation tries again; the rest is delivered as usual.
 *
 * Deliveries run in the definition's `beforeBatch`, before the batch
 * transaction opens, so no lock is held while a receiver answers (on SQLite
 * the read-model transaction holds the file's write lock, which appends need
 * too); the transaction that follows only records them and moves the
 * checkpoint.
 *
 * Unlike other projections, a relay's handler is not deterministic (it has
 * effects outside the database): `replayProjection` of a relay delivers again
 * the events it replays (it cannot tell its scratch database from a live
 * one), so do not replay relays.
 *
 * Fewer events per batch (the runner's `batchSize`) mean fewer duplicates
 * after a crash, at the cost of one commit per batch.
 *
 * @example
 * const webhooks = defineRelay({
 *   name: 'partner_webhooks', version: 1, handles: { categories: ['payment'] },
 *   deliver: createHttpDeliverer({ url: 'https://partner.example/daybook', secret: process.env.PARTNER_SECRET!, timeoutMs: 2_000 }),
 * });
 * const engine = createProjectionEngine({ store, readModels, projections: [webhooks] });
 * await engine.start();
 * // The receiver checks the signature and deduplicates by Idempotency-Key:
 * // if (!verifyDaybookSignature(req.headers['daybook-signature'], rawBody, secret)) return reply.code(400).send();
 */
import type { RecordedEvent } from '../eventstore/index.ts';
import { DaybookError, RELAY_ACKNOWLEDGED_MEMO_MAX } from '../kernel/index.ts';
import { readActive, readCheckpoint } from './catalog.ts';
import { errorText } from './deadLetters.ts';
import { defineProjection, type PoisonPolicy, type ProjectionDefinition, type ProjectionFilter, type ProjectionTx } from './projection.ts';

/** What a deliverer gets besides the event: the key the receiver deduplicates by. */
export interface RelayDelivery {
  /** The event id: the same on every delivery of this event, whatever the process or the attempt. */
  readonly idempotencyKey: string;
  /** The event's global position: increases along the log (a retried dead letter arrives after events with higher positions). */
  readonly position: bigint;
}

/**
 * Delivers one event to the outside world. Resolves once the receiver
 * acknowledged it; throws (or rejects) when it did not, and the engine retries.
 */
export type RelayDeliverer = (event: RecordedEvent, delivery: RelayDelivery) => Promise<void>;

export interface RelayOptions {
  /** As a projection's name: lowercase letters, digits and `_`, at most 40 characters. */
  readonly name: string;
  /** Bumping it builds a new generation, which takes over where the old one stopped (no re-delivery of the history). */
  readonly version: number;
  /** Which events to deliver (categories, types; empty: all). */
  readonly handles: ProjectionFilter;
  readonly deliver: RelayDeliverer;
  /** `park` (default): a delivery that keeps failing is parked and the relay goes on. `stop`: the relay waits until an operator retries or skips it. */
  readonly onPoison?: PoisonPolicy;
}

/** A relay's projection definition: what `defineRelay` returns, for the engine or a runner. */
export interface RelayDefinition extends ProjectionDefinition {
  readonly relay: true;
}

/**
 * The one table of a relay's read model: `<name>_sent`, one row: how many
 * deliveries were acknowledged, and the furthest position delivered (a dead
 * letter retried later counts, but does not move it back).
 */
export function relayTable(name: string): string {
  return `${name}_sent`;
}

/** Builds the projection definition of a relay: see the module's comment for what it promises. */
export function defineRelay(options: RelayOptions): RelayDefinition {
  if (typeof options !== 'object' || options === null || typeof options.deliver !== 'function') {
    throw new DaybookError('validation_failed', `relay ${JSON.stringify(options?.name)}: deliver must be a function`, {}, 'deliver');
  }
  const { name, deliver } = options;
  const table = relayTable(name);
  const acknowledged = new AcknowledgedMemo(RELAY_ACKNOWLEDGED_MEMO_MAX);
  const definition: RelayDefinition = {
    relay: true,
    name,
    version: options.version,
    tables: [table],
    handles: options.handles,
    onPoison: options.onPoison,
    async migrate(tx) {
      await tx.execute(`CREATE TABLE ${tx.table(table)} (relay text PRIMARY KEY, delivered bigint NOT NULL, last_position bigint NOT NULL, last_event_id text NOT NULL)`);
    },
    // Deliveries run before the batch transaction, holding no write lock while the receiver answers (on SQLite a
    // lock held that long would stall every append); the handler then only records them with the checkpoint.
    async beforeBatch(events, read, { projection }) {
      const handover = await read((tx) => handedOver(tx, events));
      for (const event of events) {
        if (event.position <= handover.through && !handover.parked.has(event.position)) continue;
        const key = `${projection}:${event.eventId}`;
        if (acknowledged.has(key)) continue;
        await deliverOne(projection, deliver, event);
        acknowledged.add(key);
      }
    },
    async handle(events, tx) {
      const handover = await handedOver(tx, events);
      let delivered = 0;
      let last: RecordedEvent | null = null;
      for (const event of events) {
        if (event.position <= handover.through && !handover.parked.has(event.position)) continue;
        const key = `${tx.projection}:${event.eventId}`;
        // Delivered by beforeBatch; only an acknowledgement forgotten since (a batch larger than the memo) is delivered here.
        if (!acknowledged.has(key)) {
          await deliverOne(tx.projection, deliver, event);
          acknowledged.add(key);
        }
        delivered += 1;
        last = event;
      }
      if (last === null) return;
      await tx.execute(
        `INSERT INTO ${tx.table(table)} (relay, delivered, last_position, last_event_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT (relay) DO UPDATE SET delivered = ${tx.table(table)}.delivered + excluded.delivered,
           last_event_id = CASE WHEN excluded.last_position > ${tx.table(table)}.last_position THEN excluded.last_event_id ELSE ${tx.table(table)}.last_event_id END,
           last_position = CASE WHEN excluded.last_position > ${tx.table(table)}.last_position THEN excluded.last_position ELSE ${tx.table(table)}.last_position END`,
        [tx.projection, delivered, last.position, last.eventId],
      );
    },
  };
  return defineProjection(definition);
}

/** True for a definition made by `defineRelay`: its handler has effects outside the database. */
export function isRelay(definition: ProjectionDefinition): definition is RelayDefinition {
  return (definition as Partial<RelayDefinition>).relay === true;
}

/**
 * Any failure of the deliverer becomes `relay_delivery_failed`: the engine
 * then counts it against the event (retry, then park). A deliverer's own error
 * could otherwise look like the database's (a socket code such as
 * ECONNREFUSED), which the engine waits out forever instead of parking.
 */
async function deliverOne(relay: string, deliver: RelayDeliverer, event: RecordedEvent): Promise<void> {
  try {
    await deliver(event, { idempotencyKey: event.eventId, position: event.position });
  } catch (error) {
    if (error instanceof DaybookError && error.code === 'relay_delivery_failed') throw error;
    throw new DaybookError('relay_delivery_failed', `relay ${relay}: delivering event ${event.eventId} (position ${event.position}) failed: ${errorText(error)}`,
      { relay, eventId: event.eventId, position: event.position.toString() });
  }
}

/**
 * While a rebuild writes a generation other than the active one, the active
 * one has delivered everything up to its checkpoint, except what it parked:
 * those positions are not delivered again. Outside a rebuild (the live
 * generation, the first one): nothing was handed over.
 */
async function handedOver(tx: ProjectionTx, events: readonly RecordedEvent[]): Promise<{ through: bigint; parked: Set<bigint> }> {
  const none = { through: 0n, parked: new Set<bigint>() };
  if (events.length === 0) return none;
  const active = await readActive(tx, tx.projection);
  if (active === null || active.version === tx.version) return none;
  const through = (await readCheckpoint(tx, tx.projection, active.version)) ?? 0n;
  const first = events[0]!.position;
  if (first > through) return { through, parked: new Set() };
  const rows = await tx.query<{ position: bigint }>(
    "SELECT position FROM projection_dead_letters WHERE projection = $1 AND version = $2 AND status = 'parked' AND position >= $3 AND position <= $4",
    [tx.projection, active.version, first, through],
  );
  return { through, parked: new Set(rows.map((row) => BigInt(row.position))) };
}

/** Keys of deliveries acknowledged by the receiver, oldest forgotten first past `max`. */
class AcknowledgedMemo {
  private readonly keys = new Set<string>();

  constructor(private readonly max: number) {}

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    this.keys.add(key);
    if (this.keys.size > this.max) this.keys.delete(this.keys.values().next().value!);
  }
}
