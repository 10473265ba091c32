/**
 * An Idempotency-Key's record committed in the same append as the effect it
 * answers, for a route whose answer is known before its write commits
 * (presented from the decided state: the native ledger routes through
 * `executeAndAnswer`, the Stripe create+confirm): one durable write holds the
 * effect and the record, so a request killed before it was acknowledged is
 * either wholly there (a retry replays it) or wholly absent (a retry runs it).
 * `attachment` may be called again when the effect is decided again: the last
 * call is the one that commits.
 *
 * @example
 * const record = new AttachedRecord(request);
 * const { answered } = await payments.createAndConfirmPaymentIntent(ctx, input, (intent) => record.attachment(JSON.stringify(present(intent))));
 * if (answered) return record.send(reply);
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StreamWrite } from '../eventstore/index.ts';
import { answerOnceRecorded, recordMetadataOf, recordOf } from './idempotency.hooks.ts';
import { IdempotencyStore } from './idempotencyStore.ts';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export class AttachedRecord {
  private recorded: ReturnType<typeof recordOf> | undefined;
  /** The answer as sent; the record may keep less of it (no personal data, see RecordedAnswer). */
  private answered = '';

  constructor(private readonly request: FastifyRequest) {}

  /** The record of an answer with `body`, to commit with the effect; undefined without a key (or once the key is answered). */
  attachment(body: string, statusCode = 200): StreamWrite | undefined {
    const context = this.request.idempotency;
    if (context === null || context.settled) return undefined;
    this.recorded = recordOf(this.request, context, statusCode, JSON_CONTENT_TYPE, body);
    this.answered = body;
    return context.records.attachment(context.scope, this.recorded, recordMetadataOf(this.request));
  }

  /** The effect was decided again to an answer not worth recording: nothing is attached. */
  clear(): undefined {
    this.recorded = undefined;
    return undefined;
  }

  /** True when the last decision attached a record (`send` answers with it once the effect is durable). */
  get attached(): boolean {
    return this.recorded !== undefined;
  }

  /** The status of the attached answer. */
  get statusCode(): number {
    return this.recorded!.statusCode;
  }

  /** Once the attachment committed (it is the key's first record, see IdempotencyStore.attachment): settles the key and sends the answer. */
  send(reply: FastifyReply): FastifyReply {
    const context = this.request.idempotency!;
    const own = this.recorded!;
    try {
      context.records.recordedWith(context.scope, own);
    } finally {
      context.settled = true;
      context.release();
    }
    return reply.code(own.statusCode).type(JSON_CONTENT_TYPE).send(this.answered);
  }

  /**
   * When `error` refused the effect because another request recorded the key
   * first (another process, both having looked before either recorded;
   * PostgreSQL): the answer a retry gets, that request's answer if it was the
   * same request, else idempotency_error. Undefined for any other error.
   */
  async sendIfLost(reply: FastifyReply, error: unknown): Promise<FastifyReply | undefined> {
    const context = this.request.idempotency;
    if (this.recorded === undefined || context === null || !IdempotencyStore.lostTo(error, context.scope)) return undefined;
    let first;
    try {
      first = await context.records.winnerOf(context.scope);
    } finally {
      context.settled = true;
      context.release();
    }
    if (first === undefined) return undefined;
    const answer = await answerOnceRecorded(this.request, context, { statusCode: this.recorded.statusCode, contentType: JSON_CONTENT_TYPE, body: this.answered }, this.recorded.body, first);
    if (answer.replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(answer.statusCode).type(answer.contentType).send(answer.body);
  }
}
