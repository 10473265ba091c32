/**
 * The store's health at a glance, from the database alone (whichever
 * processes run what): the head, each projection partition's checkpoint,
 * lag and worker, dead letters, the webhook backlog, the last seal and, when
 * a replica is named, its lag. `daybook status` prints it; it is the same
 * state `/readyz` and `/metrics` report.
 *
 * @example
 * const report = await collectStatus({ store, readModels, clock: systemClock, maxLagSeconds: 30 });
 * report.healthy; // false with a reason per problem in report.problems
 */
import { readLastSeal } from '../audit/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import type { Clock } from '../kernel/index.ts';
import { webhookBacklog, type WebhookBacklog } from '../payments/index.ts';
import { builtinProjections } from '../projections/builtin/index.ts';
import { type ProjectionHealth, type ReadModelStore, type ReplicaStatus, sharedProjectionHealth } from '../projections/index.ts';

export interface StatusReport {
  backend: 'sqlite' | 'postgres';
  head: bigint;
  projections: ProjectionHealth[];
  deadLetters: { parked: number; blocking: number };
  webhooks: WebhookBacklog;
  lastSeal: { sequence: number; toPosition: bigint; sealedAt: string; ageSeconds: number } | null;
  /** Null when no replica was named. */
  replica: Pick<ReplicaStatus, 'up' | 'lagSeconds' | 'lagBytes'> | null;
  healthy: boolean;
  /** One sentence per problem (empty when healthy). */
  problems: string[];
}

export interface StatusContext {
  store: EventStore;
  readModels: ReadModelStore;
  clock: Clock;
  /** A projection further behind than this is a problem (DAYBOOK_PROJECTION_MAX_LAG_SECONDS). */
  maxLagSeconds: number;
  /** DAYBOOK_READ_DATABASE_URL's monitor, sampled once already. */
  replica?: { status(): Pick<ReplicaStatus, 'up' | 'lagSeconds' | 'lagBytes'> } | null;
}

export async function collectStatus(context: StatusContext): Promise<StatusReport> {
  const { store, readModels, clock } = context;
  const [head, health, webhooks, last] = await Promise.all([
    store.headPosition(),
    sharedProjectionHealth({ store, readModels, projections: builtinProjections(), clock, leased: store.backend === 'postgres' }, { maxLagSeconds: context.maxLagSeconds }),
    webhookBacklog(readModels),
    readLastSeal(store),
  ]);
  const problems: string[] = [];
  const deadLetters = { parked: 0, blocking: 0 };
  const counted = new Set<string>();
  for (const projection of health.projections) {
    for (const reason of projection.reasons) problems.push(`projection ${projection.name} (partition ${projection.partition}): ${reason}`);
    if (counted.has(projection.name)) continue;
    counted.add(projection.name);
    deadLetters.parked += projection.parked;
    deadLetters.blocking += projection.blocking;
  }
  if (deadLetters.parked > 0) problems.push(`${deadLetters.parked} parked dead letter(s): daybook dlq list`);
  if (webhooks.failed > 0) problems.push(`${webhooks.failed} webhook deliveries failed for good: daybook webhooks list-failed`);
  const replica = context.replica?.status() ?? null;
  if (replica !== null && !replica.up) problems.push('the read replica does not answer or is not a standby: reads go to the primary');
  const lastSeal = last === null ? null : {
    sequence: last.seal.sequence, toPosition: last.seal.toPosition, sealedAt: new Date(last.seal.sealedAtMs).toISOString(),
    ageSeconds: Math.max(0, (clock.nowMs() - last.seal.sealedAtMs) / 1000),
  };
  return { backend: store.backend, head, projections: health.projections, deadLetters, webhooks, lastSeal, replica, healthy: problems.length === 0, problems };
}

/** The report as an operator reads it: one line per fact. */
export function describeStatus(report: StatusReport): string {
  const lines = [`store: ${report.backend}, head at position ${report.head}`, 'projections:'];
  for (const p of report.projections) {
    lines.push(`  ${p.name}[${p.partition}]  ${p.state}  checkpoint ${p.checkpoint}  ${p.positionsBehind} behind (${p.secondsBehind.toFixed(1)} s)${p.ready ? '' : `  NOT READY: ${p.reasons.join('; ')}`}`);
  }
  lines.push(`dead letters: ${report.deadLetters.parked} parked, ${report.deadLetters.blocking} blocking`);
  lines.push(`webhooks: ${report.webhooks.pending} pending, ${report.webhooks.failed} failed`);
  lines.push(report.lastSeal === null ? 'last seal: none' : `last seal: #${report.lastSeal.sequence} through position ${report.lastSeal.toPosition}, at ${report.lastSeal.sealedAt} (${report.lastSeal.ageSeconds.toFixed(0)} s ago)`);
  if (report.replica !== null) {
    lines.push(report.replica.up ? `replica: up, ${report.replica.lagSeconds?.toFixed(3) ?? '?'} s behind (${report.replica.lagBytes ?? '?'} WAL bytes)` : 'replica: DOWN (or not a standby)');
  }
  lines.push(report.healthy ? 'status: healthy' : `status: UNHEALTHY\n${report.problems.map((problem) => `  - ${problem}`).join('\n')}`);
  return `${lines.join('\n')}\n`;
}
