/**
 * Sends the webhook deliveries the `payments_events` projection queued, signed
 * as Stripe signs them, and keeps their attempts.
 *
 * At-least-once: a delivery row exists once its event is committed past the
 * projection's checkpoint; it is claimed (a lease: its next attempt moved
 * past the timeout) before the POST and marked only after the answer, so a
 * crash anywhere means one more POST after the lease, never none. Receivers
 * deduplicate by the event id (`id` of the body).
 *
 * Headers: `Stripe-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
 * keyed with the endpoint's whole `whsec_…` secret (what
 * `stripe.webhooks.constructEvent` checks), `Content-Type: application/json`.
 * A 2xx answer is success; anything else (another status, a redirect, no
 * answer within the timeout, a refused connection, a refused target) fails
 * the attempt: the next one waits the schedule's next step (default about 3
 * days in all: 1 min, 5 min, 30 min, 1 h, 2 h, 4 h, 8 h, 16 h, 16 h, 16 h, 8 h;
 * DAYBOOK_WEBHOOK_RETRY_SCHEDULE), and past its end the delivery is `failed`:
 * the dead-letter list (`daybook webhooks list-failed`, `replay <event>`).
 * A disabled or deleted endpoint's pending deliveries end `skipped`.
 *
 * @example
 * const dispatcher = new WebhookDispatcher({ readModels, endpoints, render, schedule: [1000, 2000], timeoutMs: 5000, privateTargets: 'test' });
 * dispatcher.start();
 * engine.onBatchCommitted((batch) => { if (batch.projection === PAYMENT_EVENTS_PROJECTION_NAME) dispatcher.nudge(); });
 */
import { type Clock, isDaybookError, systemClock, WEBHOOK_ATTEMPTS_KEPT_MAX, WEBHOOK_DISPATCH_BATCH_MAX } from '../../kernel/index.ts';
import { mutateProjection, queryProjection, type ReadModelStore, signDaybookBody } from '../../projections/index.ts';
import type { WebhookEndpointState } from '../domain/webhookEndpoint.decider.ts';
import { PAY_EVENTS_TABLE, PAYMENT_EVENTS_PROJECTION_NAME, WEBHOOK_DELIVERIES_TABLE } from './paymentEvents.projection.ts';
import { type PaymentEventRow, toDelivery, toEvent, type WebhookAttempt, type WebhookDeliveryRow } from './paymentEvents.readModel.ts';
import { checkDeliveryTarget, type PrivateTargets } from './webhookTargets.ts';

/** 1 min, 5 min, 30 min, 1 h, 2 h, 4 h, 8 h, 16 h, 16 h, 16 h, 8 h: the last attempt about 71.6 h (3 days) after the first. */
export const WEBHOOK_RETRY_SCHEDULE_MS_DEFAULT: readonly number[] = [60, 300, 1800, 3600, 7200, 14_400, 28_800, 57_600, 57_600, 57_600, 28_800].map((s) => s * 1000);
export const WEBHOOK_TIMEOUT_MS_DEFAULT = 10_000;
/** How often the dispatcher looks for due retries when nothing nudges it. */
export const WEBHOOK_POLL_MS = 500;
/** Added to the timeout for a claim's lease: a crashed sender's claim lapses after it. */
const LEASE_MARGIN_MS = 1_000;

export interface WebhookDispatcherOptions {
  readModels: ReadModelStore;
  endpoint(mode: string, id: string): Promise<WebhookEndpointState>;
  /** The event's JSON body, exactly as signed and sent. */
  render(event: PaymentEventRow): Promise<string>;
  schedule?: readonly number[];
  timeoutMs?: number;
  privateTargets?: PrivateTargets;
  clock?: Clock;
  onError?(error: unknown): void;
}

type Claimed = { delivery: WebhookDeliveryRow; event: PaymentEventRow };
type Outcome = { ok: boolean; attempt: WebhookAttempt; skipped?: boolean };

export class WebhookDispatcher {
  private readonly schedule: readonly number[];
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private nudged = false;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.schedule = options.schedule ?? WEBHOOK_RETRY_SCHEDULE_MS_DEFAULT;
    this.timeoutMs = options.timeoutMs ?? WEBHOOK_TIMEOUT_MS_DEFAULT;
    this.clock = options.clock ?? systemClock;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** New deliveries may be due: look now rather than at the next poll. */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let sent = 0;
      try {
        sent = await this.runOnce();
      } catch (error) {
        this.options.onError?.(error);
      }
      if (sent >= WEBHOOK_DISPATCH_BATCH_MAX || !this.running) continue;
      if (this.nudged) {
        this.nudged = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, WEBHOOK_POLL_MS);
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
      this.wake = undefined;
      this.nudged = false;
    }
  }

  /** Claims what is due, sends it, records the outcomes; resolves with how many were claimed. */
  async runOnce(): Promise<number> {
    const claimed = await this.claimDue();
    await Promise.all(claimed.map(async (item) => this.record(item, await this.attempt(item))));
    return claimed.length;
  }

  private claimDue(): Promise<Claimed[]> {
    const nowMs = this.clock.nowMs();
    return mutateProjection(this.options.readModels, PAYMENT_EVENTS_PROJECTION_NAME, async (tx) => {
      const deliveries = tx.table(WEBHOOK_DELIVERIES_TABLE);
      const due = await tx.query<any>(`SELECT * FROM ${deliveries} WHERE status = 'pending' AND next_attempt_ms <= $1 ORDER BY next_attempt_ms, position, seq LIMIT $2`,
        [nowMs, WEBHOOK_DISPATCH_BATCH_MAX]);
      const claimed: Claimed[] = [];
      for (const row of due.map(toDelivery)) {
        const changed = await tx.execute(`UPDATE ${deliveries} SET next_attempt_ms = $1 WHERE mode = $2 AND endpoint_id = $3 AND event_id = $4 AND status = 'pending' AND next_attempt_ms = $5`,
          [nowMs + this.timeoutMs + LEASE_MARGIN_MS, row.mode, row.endpointId, row.eventId, row.nextAttemptMs]);
        if (changed !== 1) continue;
        const [event] = await tx.query<any>(`SELECT * FROM ${tx.table(PAY_EVENTS_TABLE)} WHERE mode = $1 AND id = $2`, [row.mode, row.eventId]);
        claimed.push({ delivery: row, event: toEvent(event) });
      }
      return claimed;
    });
  }

  private async attempt({ delivery, event }: Claimed): Promise<Outcome> {
    const startedMs = this.clock.nowMs();
    // One deadline for the whole attempt (endpoint, target check, render and the request), inside the lease taken at the claim: another process may take the delivery over once the lease ends.
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const result = (ok: boolean, statusCode: number | null, error: string | null, skipped = false): Outcome =>
      ({ ok, skipped, attempt: { atMs: startedMs, statusCode, error, durationMs: this.clock.nowMs() - startedMs } });
    const endpoint = await this.options.endpoint(delivery.mode, delivery.endpointId);
    if (endpoint.status !== 'active' || endpoint.disabled) return result(false, null, `the endpoint is ${endpoint.status === 'active' ? 'disabled' : 'deleted'}`, true);
    try {
      const target = await checkDeliveryTarget(endpoint.url, delivery.mode, this.options.privateTargets ?? 'test');
      const body = await this.options.render(event);
      const signature = signDaybookBody(body, endpoint.secret, Math.floor(this.clock.nowMs() / 1000));
      deadline.throwIfAborted();
      const response = await fetch(target, {
        method: 'POST', body, redirect: 'manual', signal: deadline,
        headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Daybook-Webhooks/1.0', 'stripe-signature': signature },
      });
      await response.body?.cancel().catch(() => {});
      const ok = response.status >= 200 && response.status <= 299;
      return result(ok, response.status, ok ? null : `HTTP ${response.status}`);
    } catch (error) {
      return result(false, null, describeFailure(error, this.timeoutMs));
    }
  }

  /** Fenced by the attempt count: if another process took the delivery over meanwhile, its outcome stands. */
  private async record({ delivery }: Claimed, outcome: Outcome): Promise<void> {
    const attempts = delivery.attempts + 1;
    const log = [...delivery.attemptLog, outcome.attempt].slice(-WEBHOOK_ATTEMPTS_KEPT_MAX);
    const wait = this.schedule[attempts - 1];
    const status = outcome.ok ? 'succeeded' : outcome.skipped ? 'skipped' : wait === undefined ? 'failed' : 'pending';
    const next = status === 'pending' ? outcome.attempt.atMs + wait! : outcome.attempt.atMs;
    await mutateProjection(this.options.readModels, PAYMENT_EVENTS_PROJECTION_NAME, (tx) => tx.execute(
      `UPDATE ${tx.table(WEBHOOK_DELIVERIES_TABLE)} SET status = $1, attempts = $2, next_attempt_ms = $3, last_attempt_ms = $4, last_status_code = $5, last_error = $6, attempt_log = $7
       WHERE mode = $8 AND endpoint_id = $9 AND event_id = $10 AND attempts = $11`,
      [status, attempts, next, outcome.attempt.atMs, outcome.attempt.statusCode, outcome.attempt.error, JSON.stringify(log), delivery.mode, delivery.endpointId, delivery.eventId, delivery.attempts]));
  }
}

/**
 * Queues an event's deliveries again, now, with a fresh schedule: the failed
 * ones (default), or every one (`all`), or one endpoint's. Resolves with how
 * many were queued. `daybook webhooks replay` and operators use it.
 */
export function requeueDeliveries(readModels: ReadModelStore, eventId: string, options: { all?: boolean; endpointId?: string; nowMs: number }): Promise<number> {
  return mutateProjection(readModels, PAYMENT_EVENTS_PROJECTION_NAME, (tx) => {
    const params: unknown[] = [options.nowMs, eventId];
    let sql = `UPDATE ${tx.table(WEBHOOK_DELIVERIES_TABLE)} SET status = 'pending', attempts = 0, next_attempt_ms = $1 WHERE event_id = $2`;
    if (!options.all) sql += " AND status IN ('failed', 'skipped')";
    if (options.endpointId !== undefined) {
      params.push(options.endpointId);
      sql += ` AND endpoint_id = $${params.length}`;
    }
    return tx.execute(sql, params);
  });
}

/** Deliveries waiting for an attempt (pending) and dead letters (failed). */
export interface WebhookBacklog {
  pending: number;
  failed: number;
}

/**
 * The webhook backlog, all processes: what `/metrics` and `daybook status`
 * report. Zero before the events projection has a read model.
 */
export async function webhookBacklog(readModels: ReadModelStore): Promise<WebhookBacklog> {
  try {
    return await queryProjection(readModels, PAYMENT_EVENTS_PROJECTION_NAME, async (tx) => {
      const rows = await tx.query<{ status: string; count: bigint }>(
        `SELECT status, count(*) AS count FROM ${tx.table(WEBHOOK_DELIVERIES_TABLE)} WHERE status IN ('pending', 'failed') GROUP BY status`);
      // A count of rows, never an amount.
      const count = (status: string): number => Number.parseInt(String(rows.find((row) => row.status === status)?.count ?? 0), 10);
      return { pending: count('pending'), failed: count('failed') };
    });
  } catch (error) {
    if (isDaybookError(error, 'projection_not_found')) return { pending: 0, failed: 0 };
    throw error;
  }
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: unknown })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: { code?: unknown } })?.cause;
  if (typeof cause?.code === 'string') return `cannot reach the endpoint (${cause.code})`;
  return error instanceof Error ? error.message : String(error);
}
