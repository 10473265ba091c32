/**
 * The operator's gauges beside the projection metrics, read when scraped:
 * the webhook backlog (all processes, from the database), the newest seal's
 * time, how the local sealer's last round went, and the read replica's lag.
 * `ops/grafana/daybook-dashboard.json` and `ops/prometheus/daybook-alerts.yml`
 * use them; a test checks every name they use is exported.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { readLastSeal, type SealerHealth } from '../audit/index.ts';
import type { EventStore } from '../eventstore/index.ts';
import { webhookBacklog } from '../payments/index.ts';
import type { ReadModelStore } from '../projections/index.ts';

/** What the replica gauges read (see `ReplicaMonitor`). */
export interface ReplicaLagSource {
  status(): { up: boolean; lagSeconds: number | null; lagBytes: bigint | null; reads: { replica: number; primary: number } };
}

export interface OpsMetricsSources {
  store: EventStore;
  readModels: ReadModelStore;
  /** The sealer this process runs, if any (roles all and projections, unless sealing is off). */
  sealer?: { lastRound(): SealerHealth } | null;
  /** DAYBOOK_READ_DATABASE_URL's monitor, when configured. */
  replica?: ReplicaLagSource | null;
}

/**
 * Registers `daybook_webhook_deliveries{status="pending"|"failed"}`,
 * `daybook_audit_last_seal_timestamp_seconds`, `daybook_audit_last_seal_ok`
 * (with a sealer) and `daybook_replica_up` / `daybook_replica_lag_seconds` /
 * `daybook_replica_lag_bytes` / `daybook_replica_reads_total{target}` (with a replica).
 *
 * @example
 * registerOpsMetrics(registry, { store, readModels, sealer, replica });
 */
export function registerOpsMetrics(registry: Registry, sources: OpsMetricsSources): void {
  new Gauge({
    name: 'daybook_webhook_deliveries',
    help: 'Webhook deliveries by status, all processes: pending (waiting for an attempt or a retry) and failed (retries used up: dead letters).',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const backlog = await webhookBacklog(sources.readModels);
        this.set({ status: 'pending' }, backlog.pending);
        this.set({ status: 'failed' }, backlog.failed);
      } catch {
        // The database does not answer: /readyz says so, the scrape still answers without this series.
      }
    },
  });
  new Gauge({
    name: 'daybook_audit_last_seal_timestamp_seconds',
    help: 'When the newest seal of the log was made (unix seconds); 0 when the log was never sealed.',
    registers: [registry],
    async collect() {
      try {
        const last = await readLastSeal(sources.store);
        this.set(last === null ? 0 : last.seal.sealedAtMs / 1000);
      } catch {
        this.reset();
      }
    },
  });
  const { sealer, replica } = sources;
  if (sealer) {
    new Gauge({
      name: 'daybook_audit_last_seal_ok',
      help: '1 when the sealer\'s last round in this process succeeded (or sealed nothing new), 0 when it failed: an event failing its hash, a missing position, or the store not answering.',
      registers: [registry],
      collect() { this.set(sealer.lastRound().ok ? 1 : 0); },
    });
  }
  if (replica) registerReplicaGauges(registry, replica);
}

function registerReplicaGauges(registry: Registry, replica: ReplicaLagSource): void {
  new Gauge({
    name: 'daybook_replica_up',
    help: '1 when the read replica (DAYBOOK_READ_DATABASE_URL) answers and is in recovery (a standby), else 0: reads then go to the primary.',
    registers: [registry],
    collect() { this.set(replica.status().up ? 1 : 0); },
  });
  new Gauge({
    name: 'daybook_replica_lag_seconds',
    help: 'How far the read replica is behind the primary, in seconds: 0 when it has replayed the primary\'s WAL position, else the age of its last replayed transaction.',
    registers: [registry],
    collect() {
      const { lagSeconds } = replica.status();
      if (lagSeconds === null) this.reset();
      else this.set(lagSeconds);
    },
  });
  new Gauge({
    name: 'daybook_replica_lag_bytes',
    help: 'WAL bytes between the primary\'s current position and the replica\'s replayed position.',
    registers: [registry],
    collect() {
      const { lagBytes } = replica.status();
      if (lagBytes === null) this.reset();
      else this.set(Number(lagBytes));
    },
  });
  new Counter({
    name: 'daybook_replica_reads_total',
    help: 'Read-model queries by where they ran: on the replica (caught up), or on the primary (the replica behind, down, or in conflict).',
    labelNames: ['target'] as const,
    registers: [registry],
    collect() {
      const { reads } = replica.status();
      this.reset();
      this.inc({ target: 'replica' }, reads.replica);
      this.inc({ target: 'primary' }, reads.primary);
    },
  });
}
