/**
 * How the payments service commits what its deciders decide: one stream's
 * events with the exact version they were decided on, attached to the
 * ledger batch when they move money (so money and events commit together
 * or not at all), or the events of new objects with the movements they
 * imply and the caller's record of its answer. Writes to one stream are
 * serialized here (`locks`); across processes the expected versions decide.
 */
import type { EventMetadata, EventStore, StreamWrite } from '../../eventstore/index.ts';
import { DaybookError, KeyedLocks } from '../../kernel/index.ts';
import { type LedgerEngine, type LedgerOutcome, type LedgerRequest, toDaybookError } from '../../ledger/index.ts';
import { AggregateRepository, type Decided, type PaymentsDomainEvent, type StagedWrite } from './payments.repository.ts';

export type PaymentMode = 'test' | 'live';

/** Who asks, in which mode; the metadata goes on every event the call appends. */
export type PaymentsContext = { readonly mode: PaymentMode; readonly metadata: EventMetadata };

export class PaymentsRunner {
  readonly locks = new KeyedLocks();

  constructor(private readonly store: EventStore, private readonly ledgers: Readonly<Record<PaymentMode, LedgerEngine>>) {}

  /**
   * Decides on one stream and commits the events with the exact version they
   * were decided on. When they move money (`movements`), they are attached to
   * the ledger batch with that exact version: the movements and the events
   * commit in one append or not at all, so a request that loses a race with
   * another process (the stream changed since it was loaded) moves no money
   * and is refused with `stream_version_conflict` (409, retried by Stripe's
   * clients). `extra` commits with them (a payout's balance check).
   */
  run<C, E extends { type: string; data: unknown }, S>(
    repo: AggregateRepository<C, E, S>, ctx: PaymentsContext, id: string, command: (state: S) => C | Promise<C>,
    movements?: (events: readonly E[]) => LedgerRequest[], extra?: StreamWrite,
  ): Promise<Decided<S, E>> {
    const streamId = repo.streamId(ctx.mode, id);
    return this.locks.run(streamId, async () => {
      const loaded = await repo.load(streamId);
      const events = repo.decider.decide(await command(loaded.state), loaded.state);
      const requests = events.length === 0 || movements === undefined ? [] : movements(events);
      if (requests.length === 0) return repo.append(streamId, loaded, events, eventMetadata(ctx));
      const staged = repo.staged(streamId, loaded, events, eventMetadata(ctx));
      let attached = false;
      try {
        const outcomes = await this.ledgers[ctx.mode].executeAll(requests, eventMetadata(ctx), (outcome) => {
          attached = outcome.ok && !outcome.replayed;
          return attached ? [staged.write('exact'), ...(extra === undefined ? [] : [extra])] : undefined;
        });
        outcomes.forEach(requireOk);
      } catch (error) {
        staged.failed();
        throw error;
      }
      if (attached) return staged.committed(null);
      // The movements were already in the ledger: an earlier attempt committed them with its events, which this load had not seen.
      staged.failed();
      throw new DaybookError('stream_version_conflict', `stream ${streamId} changed while the request was decided; retry it`, { streamId });
    });
  }

  /**
   * Commits the decided events of new objects (streams whose ids no other
   * request names: derived from this request's Idempotency-Key, or random)
   * and `extra`, in one durable append. With ledger movements, they are
   * attached to the ledger batch (expected version `any`, as attachments
   * must be): nothing else writes these streams, in this process (the
   * locks) or another, except a retry of this same request, whose transfer
   * ids are these ones: the ledger then answers it as a replay, and a
   * replay attaches nothing. Returns false for a replay: these events were
   * not written (the first attempt's are in their streams), nor `extra`.
   * Without movements, one plain append with the exact versions.
   */
  async commitNew(ctx: PaymentsContext, staged: readonly StagedWrite<unknown, PaymentsDomainEvent>[], requests: LedgerRequest[], extra?: StreamWrite): Promise<boolean> {
    const extras = extra === undefined ? [] : [extra];
    try {
      if (requests.length === 0) {
        await this.store.append([...staged.map((item) => item.write('exact')), ...extras]);
        return true;
      }
      let attached = false;
      const outcomes = await this.ledgers[ctx.mode].executeAll(requests, eventMetadata(ctx), (outcome) => {
        attached = outcome.ok && !outcome.replayed;
        return attached ? [...staged.map((item) => item.write('any')), ...extras] : undefined;
      });
      outcomes.forEach(requireOk);
      if (!attached) staged.forEach((item) => item.failed());
      return attached;
    } catch (error) {
      staged.forEach((item) => item.failed());
      throw error;
    }
  }

}

export function eventMetadata(ctx: PaymentsContext): EventMetadata {
  return { ...ctx.metadata, mode: ctx.mode };
}

/** The payment ledger plan never breaks a ledger rule: a refusal is a bug, not an answer. */
export function requireOk(outcome: LedgerOutcome): void {
  if (!outcome.ok) {
    const error = toDaybookError(outcome.rejection);
    throw new Error(`payments ledger refused a movement: ${error.code}: ${error.message}`);
  }
}
